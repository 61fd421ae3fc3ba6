/**
 * 8-bit grayscale PNG files, written with node's own zlib (no image package needed: a grayscale
 * PNG is only a signature, an IHDR chunk, one IDAT chunk of deflated scanlines each led by filter
 * byte 0, and an IEND chunk, every chunk closed by a CRC-32), and a grid of digit panels for
 * showing completions next to their originals.
 */
import { writeFileAtomic } from "../atomic-write";
import { deflateSync } from "node:zlib";

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (the one of PNG and zlib's crc32) of the bytes. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data, CRC-32 over type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes width × height 8-bit gray pixels (row-major) as a PNG file. */
export function encodePng(gray: Uint8Array, width: number, height: number): Uint8Array {
  for (const [name, v] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) throw new Error(`encodePng: ${name} must be an integer in [1, 2^31 − 1], got ${v}`);
  }
  if (!(gray instanceof Uint8Array)) throw new Error(`encodePng: gray must be a Uint8Array, got ${String(gray)}`);
  if (gray.length !== width * height) throw new Error(`encodePng: gray must hold width · height = ${width * height} pixels, got ${gray.length}`);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: grayscale
  // compression 0 (deflate), filter method 0, no interlacing: bytes 10–12 stay 0
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(gray.subarray(y * width, (y + 1) * width), y * (width + 1) + 1); // filter byte 0 leads each row
  const parts = [SIGNATURE, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", new Uint8Array(0))];
  const png = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    png.set(p, off);
    off += p.length;
  }
  return png;
}

/** Writes the bytes to a temporary file beside `filePath`, then renames it into place. */
export function writePngAtomic(filePath: string, png: Uint8Array): void {
  writeFileAtomic(filePath, png);
}

export interface DigitRow {
  /** The full original image (784 pixels). */
  original: Uint8Array;
  /** How many leading pixels were given to the model. */
  prefixLength: number;
  /** The completed image (784 pixels); its first prefixLength pixels are the given ones. */
  completion: Uint8Array;
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const SEP = 2;
/** Separator lines between panels. */
const SEP_GRAY = 255;
/** Pixels the model was not given, in the prefix panel. */
const HIDDEN_GRAY = 96;

/**
 * One row of three 28×28 panels per example, 2-px separators between and around them: the
 * original; the prefix alone (pixels after it shown mid-grey); and the completion with the given
 * prefix drawn at half brightness, so the generated part stands out.
 */
export function digitGrid(rows: DigitRow[]): { pixels: Uint8Array; width: number; height: number } {
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`digitGrid: rows must be a non-empty array, got ${Array.isArray(rows) ? "[]" : String(rows)}`);
  const width = 3 * SIDE + 4 * SEP;
  const height = rows.length * SIDE + (rows.length + 1) * SEP;
  const pixels = new Uint8Array(width * height).fill(SEP_GRAY);
  rows.forEach((r, i) => {
    for (const k of ["original", "completion"] as const) {
      if (!(r[k] instanceof Uint8Array) || r[k].length !== PIXELS) throw new Error(`digitGrid: rows[${i}].${k} must be a Uint8Array of ${PIXELS} pixels, got ${r[k] instanceof Uint8Array ? `${r[k].length} pixels` : String(r[k])}`);
    }
    if (!Number.isInteger(r.prefixLength) || r.prefixLength < 0 || r.prefixLength > PIXELS) {
      throw new Error(`digitGrid: rows[${i}].prefixLength must be an integer in [0, ${PIXELS}], got ${r.prefixLength}`);
    }
    const top = SEP + i * (SIDE + SEP);
    const panel = (col: number, value: (p: number) => number) => {
      const left = SEP + col * (SIDE + SEP);
      for (let p = 0; p < PIXELS; p++) pixels[(top + Math.floor(p / SIDE)) * width + left + (p % SIDE)] = value(p);
    };
    panel(0, (p) => r.original[p]);
    panel(1, (p) => (p < r.prefixLength ? r.original[p] : HIDDEN_GRAY));
    panel(2, (p) => (p < r.prefixLength ? r.completion[p] >> 1 : r.completion[p]));
  });
  return { pixels, width, height };
}
