/**
 * Input checks for the figure builders. Each turns what the caller passed into plain arrays that
 * serialize to JSON as Plotly expects (typed arrays do not: JSON writes them as objects), or throws
 * an Error that names the function, the argument, what was expected and what came.
 * Non-finite numbers become `null`, which Plotly draws as a gap.
 */
import { LANGS, type Lang } from "./labels";
import type { FigureOptions, MatrixLike } from "./types";
import { checkPositiveInt } from "../checks";

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return `${typeof v} ${String(v)}`;
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "function") return "a function";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (isTensorLike(v)) return `a tensor of shape [${v.shape.join(", ")}] (read it first: await t.array() or await t.data())`;
  const keys = Object.keys(v as object);
  return `an object with keys {${keys.slice(0, 6).join(", ")}${keys.length > 6 ? ", …" : ""}}`;
}

function isTensorLike(v: unknown): v is { shape: number[] } {
  return (
    typeof v === "object" &&
    v !== null &&
    Array.isArray((v as { shape?: unknown }).shape) &&
    typeof (v as { dataSync?: unknown }).dataSync === "function"
  );
}

/** Tensors are objects too: stop one before it is read as a set of named series. */
export function rejectTensor(fn: string, name: string, v: unknown): void {
  if (isTensorLike(v)) throw new Error(`${fn}: ${name} must be plain numbers, got ${describe(v)}`);
}

/** True for plain arrays and typed arrays (not DataView). */
export function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}

/** A plain object (not an array, not null). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !isArrayLike(v);
}

/** True for an array-like whose entries are all numbers (an empty array counts). */
export function isNumbers(v: unknown): v is ArrayLike<number> {
  if (!isArrayLike(v)) return false;
  if (ArrayBuffer.isView(v)) return !(v instanceof BigInt64Array || v instanceof BigUint64Array);
  return Array.prototype.every.call(v, (x: unknown) => typeof x === "number");
}

/** Numbers as a plain array with non-finite values as null; `minLength` defaults to 1. */
export function numbers(fn: string, name: string, v: unknown, minLength = 1): (number | null)[] {
  if (!isArrayLike(v)) throw new Error(`${fn}: ${name} must be an array of numbers, got ${describe(v)}`);
  const out: (number | null)[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== "number") throw new Error(`${fn}: ${name}[${i}] must be a number, got ${describe(x)}`);
    out[i] = Number.isFinite(x) ? x : null;
  }
  if (out.length < minLength)
    throw new Error(`${fn}: ${name} must hold at least ${minLength} number${minLength === 1 ? "" : "s"}, got ${out.length}`);
  return out;
}

/** Axis coordinates: numbers, or strings for category axes; must have `length` entries. */
export function coordinates(fn: string, name: string, v: unknown, length: number): (number | string | null)[] {
  if (!isArrayLike(v)) throw new Error(`${fn}: ${name} must be an array of numbers or strings, got ${describe(v)}`);
  if (v.length !== length) throw new Error(`${fn}: ${name} must have ${length} entries (one per point), got ${v.length}`);
  return Array.from(v, (x, i) => {
    if (typeof x === "string") return x;
    if (typeof x === "number") return Number.isFinite(x) ? x : null;
    throw new Error(`${fn}: ${name}[${i}] must be a number or a string, got ${describe(x)}`);
  });
}

/** A non-empty rectangular matrix as nested plain arrays (rows × cols). */
export function matrix(fn: string, name: string, v: unknown): (number | null)[][] {
  rejectTensor(fn, name, v);
  let rows: unknown = v;
  if (isRecord(v) && typeof v.toNested === "function") rows = (v as { toNested(): unknown }).toNested();
  if (!isArrayLike(rows) || rows.length === 0) {
    throw new Error(`${fn}: ${name} must be a non-empty matrix (an array of rows of numbers), got ${describe(rows)}`);
  }
  const out = Array.from(rows, (row, i) => numbers(fn, `${name}[${i}]`, row));
  const cols = out[0].length;
  out.forEach((row, i) => {
    if (row.length !== cols) throw new Error(`${fn}: ${name} must be rectangular: row 0 has ${cols} entries, row ${i} has ${row.length}`);
  });
  return out;
}

/** Same as `matrix`, typed for callers that take MatrixLike. */
export function toMatrix(fn: string, name: string, v: MatrixLike): (number | null)[][] {
  return matrix(fn, name, v);
}

export function checkLang(fn: string, lang: unknown): Lang {
  if (lang === undefined) return "en";
  if (!LANGS.includes(lang as Lang))
    throw new Error(`${fn}: options.lang must be one of ${LANGS.map((l) => `"${l}"`).join(", ")}, got ${describe(lang)}`);
  return lang as Lang;
}

export function checkString(fn: string, name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new Error(`${fn}: ${name} must be a string, got ${describe(v)}`);
  return v;
}

export function checkPositiveNumber(fn: string, name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0)
    throw new Error(`${fn}: ${name} must be a finite number > 0, got ${describe(v)}`);
  return v;
}

/** An optional positive integer (the library's check, letting undefined through). */
export function checkOptionalPositiveInt(fn: string, name: string, v: unknown): number | undefined {
  return v === undefined ? undefined : checkPositiveInt(fn, name, v);
}

export function checkBoolean(fn: string, name: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new Error(`${fn}: ${name} must be true or false, got ${describe(v)}`);
  return v;
}

/** A [low, high] pair of finite numbers with low < high. */
export function checkRange(fn: string, name: string, v: unknown): [number, number] | undefined {
  if (v === undefined) return undefined;
  if (
    !isArrayLike(v) ||
    v.length !== 2 ||
    !Array.prototype.every.call(v, (x: unknown) => typeof x === "number" && Number.isFinite(x)) ||
    !((v[0] as number) < (v[1] as number))
  ) {
    throw new Error(
      `${fn}: ${name} must be [low, high] with finite low < high, got ${isArrayLike(v) ? JSON.stringify(Array.from(v)) : describe(v)}`,
    );
  }
  return [v[0] as number, v[1] as number];
}

/** Options must be an object (or absent); unknown keys are errors, so a typo does not go unnoticed. */
export function checkOptions<T extends object>(fn: string, options: unknown, known: readonly string[]): T {
  if (options === undefined) return {} as T;
  if (!isRecord(options)) throw new Error(`${fn}: options must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new Error(`${fn}: unknown option "${key}"; known options: ${known.join(", ")}`);
  }
  return options as T;
}

/** The keys of FigureOptions, which every builder accepts. */
export const FIGURE_OPTION_KEYS = [
  "title",
  "lang",
  "height",
  "width",
  "xTitle",
  "yTitle",
] as const satisfies readonly (keyof FigureOptions)[];

/** Smallest and largest finite entry of nested number arrays, or undefined when there is none. */
export function finiteExtent(values: Iterable<ArrayLike<number | null>>): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of values) {
    for (let i = 0; i < row.length; i++) {
      const x = row[i];
      if (x === null || !Number.isFinite(x)) continue;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  return lo <= hi ? [lo, hi] : undefined;
}
