/**
 * The command-line tools' flag reading: node:util's parseArgs splits the arguments into tokens
 * (`--flag value`, `--flag=value`, `-h`, positionals), and this file refuses what a tool does not
 * accept with an error that names the flag, in the words the tools' usage messages use.
 *
 * Why not parseArgs's strict mode alone: it refuses a value that starts with a dash after a space
 * (`--seed -1`, which these tools have always taken), and its messages ("Unknown option '--x'.
 * To specify a positional argument starting with a '-', ...") are not the tools' own. The checks
 * below are the same ones strict mode makes, with one difference: after a space, a value that
 * starts with a single dash is a value, and one that starts with "--" is the next flag.
 */
import { parseArgs } from "node:util";

/** One flag a tool accepts, as parseArgs describes it (the name is the key, without "--"). */
export interface FlagOption {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
}

export type FlagOptions = Record<string, FlagOption>;

/** What was wrong with the command line. */
export type FlagProblem = "unknown" | "missing-value" | "unexpected-value" | "positional";

/** A command line the tool cannot take; `flag` is the flag as typed (or the stray argument). */
export class FlagError extends Error {
  constructor(
    readonly problem: FlagProblem,
    readonly flag: string,
    readonly value?: string,
  ) {
    super(FlagError.describe(problem, flag, value));
  }

  /** The wording most of the tools use. */
  static describe(problem: FlagProblem, flag: string, value?: string): string {
    switch (problem) {
      case "unknown":
        return `unknown flag ${flag}`;
      case "missing-value":
        return `${flag} needs a value`;
      case "unexpected-value":
        return `${flag} takes no value, got "${value}"`;
      case "positional":
        return `unexpected argument "${flag}"`;
    }
  }
}

export interface ParsedFlags {
  /** Keyed by the option's name: a string or boolean, an array for `multiple`, undefined when absent. */
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
  /** The flags in command-line order, for tools where a later flag overrides an earlier other one. */
  order: string[];
}

/**
 * Reads `argv` against `options`; throws FlagError on the first flag the tool does not know, a
 * string flag without its value, a boolean flag given `=value`, or (unless `allowPositionals`)
 * an argument that is not a flag.
 */
export function parseFlags(argv: string[], options: FlagOptions, { allowPositionals = false } = {}): ParsedFlags {
  const { values, positionals, tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === "option-terminator") continue;
    if (t.kind === "positional") {
      if (!allowPositionals) throw new FlagError("positional", t.value);
      continue;
    }
    const spec = Object.prototype.hasOwnProperty.call(options, t.name) ? options[t.name] : undefined;
    if (!spec) throw new FlagError("unknown", t.rawName);
    if (spec.type === "boolean" && t.inlineValue) throw new FlagError("unexpected-value", t.rawName, t.value);
    if (spec.type === "string" && (t.value === undefined || (!t.inlineValue && t.value.startsWith("--")))) {
      throw new FlagError("missing-value", t.rawName);
    }
  }
  const order = tokens.flatMap((t) => (t.kind === "option" ? [t.name] : []));
  return { values: values as ParsedFlags["values"], positionals, order };
}

/** Every value of a repeatable string flag, each split at commas (`--backend cpu,wasm --backend webgpu`). */
export function commaList(v: ParsedFlags["values"][string]): string[] {
  const all = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return all.flatMap((x) => String(x).split(",")).filter(Boolean);
}

/**
 * parseFlags for a tool that exits on its command line: `--help`/`-h` (added to `options`) prints
 * `usage` and exits 0; a flag the tool does not take prints `<tool>: <what is wrong>` and the
 * usage on stderr and exits 2. Returns the values otherwise.
 */
export function parseFlagsOrExit(tool: string, usage: string, argv: string[], options: FlagOptions): ParsedFlags["values"] {
  let values: ParsedFlags["values"];
  try {
    ({ values } = parseFlags(argv, { ...options, help: { type: "boolean", short: "h" } }));
  } catch (e) {
    if (e instanceof FlagError) exitWithUsage(tool, usage, e.message);
    throw e;
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

/** Prints `<tool>: <msg>` and the usage on stderr and exits 2 (a bad command line). */
export function exitWithUsage(tool: string, usage: string, msg: string): never {
  console.error(`${tool}: ${msg}\n${usage}`);
  process.exit(2);
}
