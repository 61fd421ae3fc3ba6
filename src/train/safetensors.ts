/**
 * The safetensors container, written and read without any dependency:
 *   8 bytes       N, the header's length, unsigned 64-bit little-endian
 *   N bytes       UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] },
 *                 ..., "__metadata__": { "<key>": "<string>" } }, padded with spaces to a multiple of 8
 *   the rest      the tensors' raw little-endian bytes; offsets count from the first byte after the header
 *
 * Only F32 and I32 are written or read (the two dtypes checkpoints hold). Decoding parses the JSON
 * and copies bytes, nothing else, and checks the header before trusting it: every tensor's bytes in
 * bounds, the tensors back to back with no gap or overlap, each byte count matching its shape.
 */

/** The dtypes this module handles, with their safetensors names. */
export type SafetensorsDtype = "F32" | "I32";

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The tensor's bytes, little-endian, 4 per element. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  /** The header's "__metadata__" (string values only); {} when absent. */
  metadata: Record<string, string>;
  /** In the order of their bytes in the file; each `bytes` is a fresh, 4-byte-aligned copy. */
  tensors: SafetensorsEntry[];
}

const METADATA_KEY = "__metadata__";
/** A bound on the JSON header, far above any real checkpoint, so a corrupt length fails early. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const BYTES_PER_ELEMENT = 4;

const isNonNegInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;

/**
 * Lays `tensors` out one after another, in the order given, behind a header that names them;
 * `metadata` goes under "__metadata__".
 */
export function encodeSafetensors(tensors: readonly SafetensorsEntry[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new Error(`safetensors metadata["${k}"] must be a string, got ${typeof v}`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  let end = 0;
  for (const t of tensors) {
    if (typeof t.name !== "string" || t.name === "" || t.name === METADATA_KEY) {
      throw new Error(`safetensors tensor names must be non-empty and not "${METADATA_KEY}", got ${JSON.stringify(t.name)}`);
    }
    if (t.name in header) throw new Error(`safetensors tensor "${t.name}" is given twice`);
    if (t.dtype !== "F32" && t.dtype !== "I32") {
      throw new Error(`safetensors tensor "${t.name}": dtype must be F32 or I32, got ${t.dtype}`);
    }
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.bytes.length !== size * BYTES_PER_ELEMENT) {
      throw new Error(`safetensors tensor "${t.name}": ${t.bytes.length} bytes do not fit shape [${t.shape.join(", ")}]`);
    }
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [end, end + t.bytes.length] };
    end += t.bytes.length;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);

  const out = new Uint8Array(8 + json.length + end);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    out.set(t.bytes, at);
    at += t.bytes.length;
  }
  return out;
}

/** Parses and checks a safetensors file's bytes; `file` names it in error messages. */
export function decodeSafetensors(data: Uint8Array, file = "safetensors data"): SafetensorsFile {
  const fail = (message: string): never => {
    throw new Error(`${file} is not a valid safetensors file: ${message}`);
  };
  if (data.length < 8) fail(`it has ${data.length} bytes, fewer than the 8-byte header length`);
  const headerLength = new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, data.length - 8))) {
    fail(`the header length ${headerLength} runs past the end of the file (${data.length} bytes)`);
  }
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data.subarray(8, 8 + n)));
  } catch (e) {
    fail(`the header is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) fail(`the header must be a JSON object`);
  const dataStart = 8 + n;
  const dataLength = data.length - dataStart;

  let metadata: Record<string, string> = {};
  const spans: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (value === null || typeof value !== "object" || Array.isArray(value)) fail(`"${METADATA_KEY}" must be an object of strings`);
      for (const [k, v] of Object.entries(value as object)) {
        if (typeof v !== "string") fail(`"${METADATA_KEY}"["${k}"] must be a string, got ${JSON.stringify(v)}`);
      }
      metadata = { ...(value as Record<string, string>) };
      continue;
    }
    const where = `tensor "${name}"`;
    if (name === "") fail(`tensor names must be non-empty`);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      fail(`${where} must be an object { dtype, shape, data_offsets }`);
    }
    const e = value as Record<string, unknown>;
    if (e.dtype !== "F32" && e.dtype !== "I32") fail(`${where}: dtype must be "F32" or "I32", got ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every(isNonNegInt)) {
      fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
    }
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt) || offsets[1] < offsets[0]) {
      fail(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (end > dataLength) fail(`${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`);
    const shape = e.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== size * BYTES_PER_ELEMENT) {
      const needs = size * BYTES_PER_ELEMENT;
      fail(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${shape.join(", ")}] needs ${needs}`);
    }
    spans.push({ name, dtype: e.dtype as SafetensorsDtype, shape, begin, end });
  }
  // Back to back from offset 0 to the end of the file: no byte unaccounted for, none shared.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const s of spans) {
    if (s.begin !== expected) {
      fail(
        s.begin < expected
          ? `tensor "${s.name}" overlaps the tensor before it (it begins at ${s.begin}, before ${expected})`
          : `bytes ${expected}..${s.begin} before tensor "${s.name}" belong to no tensor`,
      );
    }
    expected = s.end;
  }
  if (expected !== dataLength) fail(`bytes ${expected}..${dataLength} at the end belong to no tensor`);

  const tensors = spans.map(({ name, dtype, shape, begin, end }) => {
    const bytes = new Uint8Array(end - begin); // a copy: the file's buffer may not be 4-byte aligned
    bytes.set(data.subarray(dataStart + begin, dataStart + end));
    return { name, dtype, shape, bytes };
  });
  return { metadata, tensors };
}
