/**
 * Training configurations as JSON files a reader can open: one file per named preset in the
 * package's `configs/` folder (the anchor's runs, like its Hydra configs), or any file of the same
 * form. Each file holds a "description", the "source" it follows, and training options in the
 * vocabulary of TrainOptions (src/train/train-options.ts); `npm run train -- --preset NAME` or
 * `--config FILE` trains one, and the gpu size tier (presets.ts) is read from them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { TASK_NAMES, TaskName } from "../data";
import { LAYER_KINDS, LayerKind } from "../nn";
import type { TrainOptions } from "./train-options";

/** `configs/` at the package root: dist/train/configs.js and src/train/configs.ts both sit two folders below it. */
export const CONFIGS_DIR = path.join(__dirname, "..", "..", "configs");

/** The training options a config file may set: everything but where a run writes and how it was started. */
export type ConfigOptions = Partial<Omit<TrainOptions, "out" | "resume" | "command" | "preset" | "configFile">> & {
  task: TaskName;
  layer: LayerKind;
};

export interface LoadedConfig {
  /** The preset's name, or for another file its base name without ".json". */
  name: string;
  /** The file it was read from (absolute). */
  file: string;
  description: string;
  source: string;
  options: ConfigOptions;
}

/** What each option key accepts: a check that returns null when the value fits, else what was expected. */
type Check = (v: unknown) => string | null;
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const posInt: Check = (v) => (isNum(v) && Number.isInteger(v) && v > 0 ? null : "a positive integer");
const positive: Check = (v) => (isNum(v) && v > 0 ? null : "a number > 0");
const nonNegative: Check = (v) => (isNum(v) && v >= 0 ? null : "a number >= 0");
const bool: Check = (v) => (typeof v === "boolean" ? null : "true or false");

const OPTION_CHECKS: Record<keyof ConfigOptions, Check> = {
  task: (v) => ((TASK_NAMES as readonly unknown[]).includes(v) ? null : `one of ${TASK_NAMES.map((t) => `"${t}"`).join(", ")}`),
  layer: (v) => ((LAYER_KINDS as readonly unknown[]).includes(v) ? null : `one of ${LAYER_KINDS.map((k) => `"${k}"`).join(", ")}`),
  epochs: posInt,
  bsz: posInt,
  dModel: posInt,
  nLayers: posInt,
  n: posInt,
  lr: positive,
  weightDecay: nonNegative,
  ssmLrScale: nonNegative,
  expand: positive,
  dConv: posInt,
  conjugatePairs: bool,
  dropout: (v) => (isNum(v) && v >= 0 && v < 1 ? null : "a number in [0, 1)"),
  prenorm: bool,
  clipNorm: positive,
  recompute: bool,
  seed: (v) => (isNum(v) && Number.isInteger(v) ? null : "an integer"),
  trainLimit: posInt,
  valLimit: posInt,
  testLimit: posInt,
  evalBsz: posInt,
  logEvery: posInt,
  timeLimitMinutes: positive,
};

/** Keys that describe the file rather than the run. */
const TEXT_KEYS = ["description", "source"] as const;

/** The names of the presets in CONFIGS_DIR, sorted. */
export function configNames(): string[] {
  if (!fs.existsSync(CONFIGS_DIR)) return [];
  return fs
    .readdirSync(CONFIGS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

/** A path rather than a preset name: it has a folder separator or ends in ".json". */
function looksLikeFile(s: string): boolean {
  return s.includes("/") || s.includes("\\") || s.endsWith(".json");
}

/**
 * Reads and checks a preset (`nameOrFile` is one of configNames()) or a config file (a path,
 * relative to the working directory). Every key must be known and every value of the expected
 * kind; errors name the file, the key and what was expected.
 */
export function loadConfig(nameOrFile: string): LoadedConfig {
  if (typeof nameOrFile !== "string" || nameOrFile === "")
    throw new Error(`loadConfig: nameOrFile must be a preset name or a path to a .json file, got ${JSON.stringify(nameOrFile)}`);
  let file: string;
  const isFile = looksLikeFile(nameOrFile);
  if (isFile) {
    file = path.resolve(nameOrFile);
    if (!fs.existsSync(file)) throw new Error(`loadConfig: config file ${nameOrFile} does not exist`);
  } else {
    file = path.join(CONFIGS_DIR, `${nameOrFile}.json`);
    if (!fs.existsSync(file))
      throw new Error(
        `loadConfig: no preset named ${JSON.stringify(nameOrFile)}; the presets are ${configNames().join(", ")} (or give a path to a .json file)`,
      );
  }
  const where = isFile ? `config file ${nameOrFile}` : `preset ${nameOrFile} (configs/${nameOrFile}.json)`;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`loadConfig: ${where} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new Error(`loadConfig: ${where} must hold a JSON object, got ${Array.isArray(raw) ? "an array" : JSON.stringify(raw)}`);
  const obj = raw as Record<string, unknown>;
  const known = [...TEXT_KEYS, ...Object.keys(OPTION_CHECKS)];
  for (const [key, value] of Object.entries(obj)) {
    if (!known.includes(key))
      throw new Error(`loadConfig: ${where}: unknown key ${JSON.stringify(key)}; expected one of ${known.join(", ")}`);
    const expected = (TEXT_KEYS as readonly string[]).includes(key)
      ? typeof value === "string" && value.trim() !== ""
        ? null
        : "a non-empty string"
      : OPTION_CHECKS[key as keyof ConfigOptions](value);
    if (expected) throw new Error(`loadConfig: ${where}: "${key}" must be ${expected}, got ${JSON.stringify(value)}`);
  }
  for (const key of ["task", "layer", ...TEXT_KEYS]) if (!(key in obj)) throw new Error(`loadConfig: ${where}: "${key}" is missing`);
  if (obj.layer !== "mamba") {
    for (const key of ["expand", "dConv"])
      if (key in obj)
        throw new Error(`loadConfig: ${where}: "${key}" applies to layer "mamba" only, got layer ${JSON.stringify(obj.layer)}`);
  }
  if (obj.layer !== "s4" && "conjugatePairs" in obj)
    throw new Error(`loadConfig: ${where}: "conjugatePairs" applies to layer "s4" only, got layer ${JSON.stringify(obj.layer)}`);
  const { description, source, ...options } = obj;
  return {
    name: path.basename(file, ".json"),
    file,
    description: description as string,
    source: source as string,
    options: options as ConfigOptions,
  };
}
