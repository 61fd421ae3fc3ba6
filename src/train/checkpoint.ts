/**
 * Checkpoints as a pair of files next to each other:
 *   <path>.json                        manifest: { format, version: 2, config, meta, binary,
 *                                      byteLength, checksum } (checksum: hex SHA-256 of the whole
 *                                      tensor file, byteLength: its size)
 *   <path>.<hash>.safetensors          the tensors in the safetensors format (see safetensors.ts),
 *                                      F32 or I32, in save order; `binary` names it, and the name
 *                                      carries the first 16 hex digits of the checksum.
 * Any safetensors reader (Python's `safetensors`, or a few lines of struct and json) opens the
 * tensor file; config and training progress stay in the manifest.
 *
 * The manifest is the commit point. Saving writes the tensor file under its own new name, then
 * writes the manifest atomically (temporary file, then one rename over the old one), and only
 * then deletes the previous tensor file. A crash at any moment leaves either the old checkpoint or
 * the new one loadable, never a manifest pointing at a half-written file. Loading only parses JSON
 * and copies raw numbers, checking every field first (the tensor file must be a plain file name in
 * the manifest's folder, its size and checksum must match, its header must describe its bytes).
 *
 * Version 1 checkpoints (the manifest listed each tensor's offset in a raw `.bin` file) still
 * load; saving always writes version 2.
 */
import * as tf from "@tensorflow/tfjs";
import { createHash } from "node:crypto";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "../atomic-write";
import { decodeSafetensors, encodeSafetensors, SafetensorsDtype, SafetensorsEntry } from "./safetensors";

export const CHECKPOINT_FORMAT = "s4-mamba-checkpoint";
/** The version saving writes; loading also reads CHECKPOINT_VERSION_V1. */
export const CHECKPOINT_VERSION = 2;
export const CHECKPOINT_VERSION_V1 = 1;

export type CheckpointDtype = "float32" | "int32";

/** One tensor of a version 1 checkpoint: where its bytes lie in the `.bin` file. */
export interface CheckpointTensorEntry {
  name: string;
  shape: number[];
  dtype: CheckpointDtype;
  offset: number;
  length: number;
}

/** The manifest of a version 2 checkpoint (what saving writes). */
export interface CheckpointManifestV2 {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  config: unknown;
  meta: Record<string, unknown>;
  /** File name of the safetensors file, in the manifest's folder. */
  binary: string;
  byteLength: number;
  /** Hex SHA-256 of the whole safetensors file. */
  checksum: string;
}

/** The manifest of a version 1 checkpoint: a raw binary, its tensors listed here. */
export interface CheckpointManifestV1 {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION_V1;
  config: unknown;
  meta: Record<string, unknown>;
  tensors: CheckpointTensorEntry[];
  /** File name of the binary, in the manifest's folder. */
  binary: string;
  byteLength: number;
  checksum: string;
}

export type CheckpointManifest = CheckpointManifestV2 | CheckpointManifestV1;

export interface Checkpoint {
  /** Model configuration; anything JSON can represent. */
  config: unknown;
  /** Model parameters and optimizer state by name. */
  tensors: Record<string, tf.Tensor>;
  /** Training progress: epoch, step, random generator state and the like (JSON values). */
  meta?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  config: unknown;
  meta: Record<string, unknown>;
  /** Freshly created tensors; the caller disposes them. */
  tensors: Record<string, tf.Tensor>;
  /** The format version the files were written in (1 or 2). */
  version: number;
}

const LITTLE_ENDIAN_HOST = os.endianness() === "LE";
const TO_SAFETENSORS: Record<CheckpointDtype, SafetensorsDtype> = { float32: "F32", int32: "I32" };
/** What the tensor file's "__metadata__" says about it, for someone who finds it alone. */
const TENSOR_FILE_METADATA = { format: "pt", producer: CHECKPOINT_FORMAT, checkpoint_version: String(CHECKPOINT_VERSION) };

function manifestPath(p: string): string {
  return `${p}.json`;
}
/** The tensor file's name for a checkpoint at `p` with this checksum. */
function tensorFileName(p: string, checksum: string): string {
  return `${path.basename(p)}.${checksum.slice(0, 16)}.safetensors`;
}

/** Reverses the byte order of each 4-byte word in place (for big-endian hosts), with Node's Buffer.swap32. */
function swap32(bytes: Uint8Array): void {
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).swap32();
}

function toJsonValue(what: string, value: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new Error(`${what} must be JSON-serializable: ${(e as Error).message}`);
  }
  if (text === undefined) throw new Error(`${what} must be JSON-serializable, got ${typeof value}`);
  return JSON.parse(text);
}

async function removeQuietly(file: string): Promise<void> {
  try {
    await fsp.unlink(file);
  } catch {
    // already gone or never created
  }
}

/**
 * Saves `ckpt` as `<filePath>.json` and its safetensors file, replacing an earlier checkpoint at
 * the same path. Tensors must be float32 or int32; their values are read with `await data()`.
 */
export async function saveCheckpoint(filePath: string, ckpt: Checkpoint): Promise<void> {
  if (typeof filePath !== "string" || filePath === "") {
    throw new Error(`filePath must be a non-empty string, got ${JSON.stringify(filePath)}`);
  }
  if (!ckpt || typeof ckpt !== "object") throw new Error(`checkpoint must be { config, tensors, meta? }, got ${ckpt}`);
  const config = toJsonValue("checkpoint config", ckpt.config ?? null);
  const meta = toJsonValue("checkpoint meta", ckpt.meta ?? {});
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
    throw new Error(`checkpoint meta must be a plain object, got ${JSON.stringify(meta)}`);
  }
  const tensors = ckpt.tensors;
  if (!tensors || typeof tensors !== "object") throw new Error(`checkpoint tensors must be a Record<string, tf.Tensor>, got ${tensors}`);
  for (const [name, t] of Object.entries(tensors)) {
    if (name === "") throw new Error(`checkpoint tensor names must be non-empty`);
    if (name === "__metadata__") throw new Error(`checkpoint tensor name "__metadata__" is reserved by the safetensors format`);
    if (!(t instanceof tf.Tensor))
      throw new Error(`checkpoint tensors["${name}"] must be a tf.Tensor, got ${t === null ? "null" : typeof t}`);
    if (t.isDisposed) throw new Error(`checkpoint tensors["${name}"] is disposed`);
    if (t.dtype !== "float32" && t.dtype !== "int32") {
      throw new Error(`checkpoint tensors["${name}"] must have dtype float32 or int32, got ${t.dtype}`);
    }
  }

  // Read every value before touching the file system, so a failing read writes nothing.
  const entries: SafetensorsEntry[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const values = await t.data();
    const bytes = new Uint8Array(t.size * 4);
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, t.size * 4));
    if (!LITTLE_ENDIAN_HOST) swap32(bytes);
    entries.push({ name, dtype: TO_SAFETENSORS[t.dtype as CheckpointDtype], shape: [...t.shape], bytes });
  }
  const file = encodeSafetensors(entries, TENSOR_FILE_METADATA);

  const checksum = createHash("sha256").update(file).digest("hex");
  const binary = tensorFileName(filePath, checksum);
  const manifest: CheckpointManifestV2 = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config,
    meta: meta as Record<string, unknown>,
    binary,
    byteLength: file.length,
    checksum,
  };

  const dir = path.dirname(filePath);
  // The tensor file an earlier checkpoint at this path uses, deleted once the new manifest is in place.
  let previous: string | null = null;
  try {
    previous = (await readCheckpointManifest(filePath)).binary;
  } catch {
    previous = null; // no earlier checkpoint, or an unreadable one: nothing to clean up
  }
  const tensorFile = path.join(dir, binary);
  let committed = false;
  try {
    // Same content gives the same name: replacing it changes nothing the old manifest needs.
    writeFileAtomic(tensorFile, file);
    writeFileAtomic(manifestPath(filePath), JSON.stringify(manifest, null, 1)); // the commit point
    committed = true;
  } finally {
    if (!committed && binary !== previous) await removeQuietly(tensorFile);
  }
  if (previous && previous !== binary) await removeQuietly(path.join(dir, previous));
}

function fail(file: string, message: string): never {
  throw new Error(`checkpoint ${file} is invalid: ${message}`);
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0;
}

/** Checks the fields every version shares; returns the object. */
function validateCommon(file: string, m: unknown): Record<string, unknown> {
  if (m === null || typeof m !== "object" || Array.isArray(m)) fail(file, `expected a JSON object, got ${JSON.stringify(m)}`);
  const o = m as Record<string, unknown>;
  if (o.format !== CHECKPOINT_FORMAT) fail(file, `format must be "${CHECKPOINT_FORMAT}", got ${JSON.stringify(o.format)}`);
  if (o.version !== CHECKPOINT_VERSION && o.version !== CHECKPOINT_VERSION_V1) {
    throw new Error(
      `checkpoint ${file} has unsupported version ${JSON.stringify(o.version)}; this library reads versions ` +
        `${CHECKPOINT_VERSION_V1} and ${CHECKPOINT_VERSION} (a newer library may read it)`,
    );
  }
  if (!isNonNegInt(o.byteLength)) fail(file, `byteLength must be a non-negative integer, got ${JSON.stringify(o.byteLength)}`);
  if (typeof o.checksum !== "string" || !/^[0-9a-f]{64}$/.test(o.checksum)) {
    fail(file, `checksum must be a 64-digit hex SHA-256, got ${JSON.stringify(o.checksum)}`);
  }
  if (o.meta === null || typeof o.meta !== "object" || Array.isArray(o.meta))
    fail(file, `meta must be an object, got ${JSON.stringify(o.meta)}`);
  return o;
}

/** A version 2 manifest: the tensor file is a plain .safetensors name beside the manifest. */
function validateManifestV2(file: string, o: Record<string, unknown>): CheckpointManifestV2 {
  if (typeof o.binary !== "string" || !/^[^/\\]+\.safetensors$/.test(o.binary) || o.binary.startsWith(".")) {
    fail(file, `binary must be a plain file name ending in .safetensors in the manifest's folder, got ${JSON.stringify(o.binary)}`);
  }
  return o as unknown as CheckpointManifestV2;
}

/** A version 1 manifest: a raw .bin file, each tensor's place in it listed here. */
function validateManifestV1(file: string, o: Record<string, unknown>): CheckpointManifestV1 {
  if (typeof o.binary !== "string" || !/^[^/\\]+\.bin$/.test(o.binary) || o.binary.startsWith(".")) {
    fail(file, `binary must be a plain file name ending in .bin in the manifest's folder, got ${JSON.stringify(o.binary)}`);
  }
  if (!Array.isArray(o.tensors)) fail(file, `tensors must be an array, got ${JSON.stringify(o.tensors)}`);
  const byteLength = o.byteLength as number;
  const seen = new Set<string>();
  const spans: [number, number, string][] = [];
  (o.tensors as unknown[]).forEach((e, i) => {
    if (e === null || typeof e !== "object") fail(file, `tensors[${i}] must be an object, got ${JSON.stringify(e)}`);
    const t = e as Record<string, unknown>;
    if (typeof t.name !== "string" || t.name === "")
      fail(file, `tensors[${i}].name must be a non-empty string, got ${JSON.stringify(t.name)}`);
    const where = `tensor "${t.name}" (tensors[${i}])`;
    if (seen.has(t.name)) fail(file, `${where}: duplicate name`);
    seen.add(t.name);
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt)) {
      fail(file, `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
    }
    if (t.dtype !== "float32" && t.dtype !== "int32")
      fail(file, `${where}: dtype must be "float32" or "int32", got ${JSON.stringify(t.dtype)}`);
    if (!isNonNegInt(t.offset) || t.offset % 4 !== 0)
      fail(file, `${where}: offset must be a non-negative multiple of 4, got ${JSON.stringify(t.offset)}`);
    if (!isNonNegInt(t.length)) fail(file, `${where}: length must be a non-negative integer, got ${JSON.stringify(t.length)}`);
    const size = (t.shape as number[]).reduce((a, b) => a * b, 1);
    if (t.length !== size * 4)
      fail(file, `${where}: length ${t.length} does not match shape [${(t.shape as number[]).join(", ")}] (expected ${size * 4} bytes)`);
    if ((t.offset as number) + (t.length as number) > byteLength) {
      fail(
        file,
        `${where}: bytes ${t.offset}..${(t.offset as number) + (t.length as number)} run past the end of the binary (byteLength ${byteLength})`,
      );
    }
    spans.push([t.offset as number, (t.offset as number) + (t.length as number), t.name]);
  });
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(file, `tensors "${spans[i - 1][2]}" and "${spans[i][2]}" overlap in the binary`);
  }
  return o as unknown as CheckpointManifestV1;
}

/** Checks a parsed manifest field by field; returns it typed by version. */
function validateManifest(file: string, m: unknown): CheckpointManifest {
  const o = validateCommon(file, m);
  return o.version === CHECKPOINT_VERSION ? validateManifestV2(file, o) : validateManifestV1(file, o);
}

async function readOrExplain(file: string, what: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`checkpoint ${what} ${file} not found`);
    throw new Error(`checkpoint ${what} ${file} could not be read: ${(e as Error).message}`);
  }
}

/** Reads only the manifest of the checkpoint at `filePath` (either version), validated. */
export async function readCheckpointManifest(filePath: string): Promise<CheckpointManifest> {
  if (typeof filePath !== "string" || filePath === "") {
    throw new Error(`filePath must be a non-empty string, got ${JSON.stringify(filePath)}`);
  }
  const mFile = manifestPath(filePath);
  const text = (await readOrExplain(mFile, "manifest")).toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`checkpoint ${mFile} is not valid JSON: ${(e as Error).message}`);
  }
  return validateManifest(mFile, parsed);
}

/** A tensor from little-endian bytes (an aligned copy the caller hands over). */
function tensorFromBytes(bytes: Uint8Array, shape: number[], dtype: CheckpointDtype): tf.Tensor {
  if (!LITTLE_ENDIAN_HOST) swap32(bytes);
  const values =
    dtype === "float32"
      ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
      : new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return tf.tensor(values, shape, dtype);
}

/** The tensors of a version 1 binary, as its manifest lists them. */
function readTensorsV1(manifest: CheckpointManifestV1, bin: Uint8Array, into: Record<string, tf.Tensor>): void {
  for (const e of manifest.tensors) {
    const bytes = new Uint8Array(e.length); // a fresh, aligned copy: the file buffer may not be 4-byte aligned
    bytes.set(bin.subarray(e.offset, e.offset + e.length));
    into[e.name] = tensorFromBytes(bytes, e.shape, e.dtype);
  }
}

/** The tensors of a version 2 safetensors file, its header checked first. */
function readTensorsV2(file: string, bin: Uint8Array, into: Record<string, tf.Tensor>): void {
  let decoded;
  try {
    decoded = decodeSafetensors(bin, file);
  } catch (e) {
    throw new Error(`checkpoint ${(e as Error).message}`);
  }
  for (const t of decoded.tensors) into[t.name] = tensorFromBytes(t.bytes, t.shape, t.dtype === "F32" ? "float32" : "int32");
}

/**
 * Loads the checkpoint saved at `filePath` (`<filePath>.json` and the tensor file it names, of
 * either version) after checking the manifest, the tensor file's length and its SHA-256, and for
 * version 2 the safetensors header. Returns new tensors owned by the caller.
 */
export async function loadCheckpoint(filePath: string): Promise<LoadedCheckpoint> {
  const manifest = await readCheckpointManifest(filePath);
  const bFile = path.join(path.dirname(filePath), manifest.binary);
  const bin = await readOrExplain(bFile, "binary");
  if (bin.length !== manifest.byteLength) {
    throw new Error(`checkpoint ${bFile} is corrupt: size is ${bin.length} bytes, the manifest expects ${manifest.byteLength}`);
  }
  const got = createHash("sha256").update(bin).digest("hex");
  if (got !== manifest.checksum) {
    throw new Error(`checkpoint ${bFile} is corrupt: checksum mismatch (expected ${manifest.checksum}, got ${got})`);
  }
  const tensors: Record<string, tf.Tensor> = {};
  try {
    if (manifest.version === CHECKPOINT_VERSION) readTensorsV2(bFile, bin, tensors);
    else readTensorsV1(manifest, bin, tensors);
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw err;
  }
  return { config: manifest.config, meta: manifest.meta, tensors, version: manifest.version };
}

/**
 * Throws one error listing every missing, unexpected and mismatched name when `loaded` does not
 * have exactly the names and shapes in `expected`.
 */
export function checkShapes(expected: Record<string, readonly number[]>, loaded: Record<string, { shape: readonly number[] }>): void {
  if (!expected || typeof expected !== "object") throw new Error(`expected must be a Record<string, number[]>, got ${expected}`);
  if (!loaded || typeof loaded !== "object") throw new Error(`loaded must be a Record<string, tf.Tensor>, got ${loaded}`);
  const missing = Object.keys(expected).filter((k) => !(k in loaded));
  const extra = Object.keys(loaded).filter((k) => !(k in expected));
  const mismatched = Object.keys(expected)
    .filter((k) => k in loaded && !tf.util.arraysEqual([...loaded[k].shape], [...expected[k]]))
    .map((k) => `${k}: expected [${expected[k].join(", ")}], got [${loaded[k].shape.join(", ")}]`);
  const parts: string[] = [];
  if (missing.length) parts.push(`missing ${missing.join(", ")}`);
  if (extra.length) parts.push(`unexpected ${extra.join(", ")}`);
  if (mismatched.length) parts.push(`shape mismatch ${mismatched.join("; ")}`);
  if (parts.length) throw new Error(`checkpoint tensors do not match the model: ${parts.join("; ")}`);
}
