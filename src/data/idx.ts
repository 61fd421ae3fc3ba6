/**
 * Reader for the IDX format used by the MNIST files: a 4-byte magic number (two zero bytes, a
 * type code, the number of dimensions), one big-endian uint32 per dimension, then the values in
 * row-major order. Only the unsigned-byte type (code 0x08) is supported, which is what MNIST uses.
 */
import { readFileSync } from "node:fs";

/** A parsed IDX array: its dimensions and its values in row-major order. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const IDX_TYPE_NAMES: Record<number, string> = {
  0x08: "unsigned byte",
  0x09: "signed byte",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};

/**
 * Parses an IDX buffer of unsigned bytes. `source` names the buffer's origin (usually a file path)
 * in error messages. The returned data is a view into `buffer`, not a copy.
 */
export function parseIdx(buffer: Uint8Array, source: string): IdxArray {
  if (!(buffer instanceof Uint8Array)) {
    throw new TypeError(`parseIdx: buffer for ${source} must be a Uint8Array, got ${typeof buffer}`);
  }
  if (buffer.length < 4) {
    throw new Error(`IDX file ${source}: ${buffer.length} byte(s) is too short for the 4-byte magic number`);
  }
  if (buffer[0] !== 0 || buffer[1] !== 0) {
    const magic = Array.from(buffer.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    throw new Error(`IDX file ${source}: bad magic number 0x${magic}; expected its first two bytes to be zero (e.g. 0x00000803)`);
  }
  const type = buffer[2];
  if (type !== 0x08) {
    const name = IDX_TYPE_NAMES[type] ?? "unknown type";
    throw new Error(
      `IDX file ${source}: type code 0x${type.toString(16).padStart(2, "0")} (${name}) is not supported; expected 0x08 (unsigned byte)`,
    );
  }
  const ndims = buffer[3];
  if (ndims < 1) {
    throw new Error(`IDX file ${source}: number of dimensions is 0; expected at least 1`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (buffer.length < headerBytes) {
    throw new Error(
      `IDX file ${source}: ${buffer.length} byte(s) is too short for a header with ${ndims} dimension(s) (${headerBytes} bytes)`,
    );
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const expected = headerBytes + count;
  if (buffer.length !== expected) {
    const what = buffer.length < expected ? "truncated" : "over-long";
    throw new Error(
      `IDX file ${source}: ${what}: expected ${expected} bytes (${headerBytes}-byte header + ${count} values for dims [${dims.join(", ")}]), got ${buffer.length}`,
    );
  }
  return { dims, data: new Uint8Array(buffer.buffer, buffer.byteOffset + headerBytes, count) };
}

/** Reads and parses an unsigned-byte IDX file. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`IDX file ${path}: cannot be read (${(e as Error).message})`);
  }
  return parseIdx(bytes, path);
}
