/**
 * Executes notebooks headlessly through the tslab Jupyter kernel and saves each one, executed, as
 * `<out>/<name>.ipynb` and `<out>/<name>.html`.
 *
 *   npm run notebooks -- [names or paths...] [--size quick|cpu|gpu | --quick] [--all] [--lang en|cn]
 *                        [--out build/notebooks] [--timeout 1200] [--python /usr/bin/python3]
 *
 * With no names it runs every notebook in `notebooks/` (`cn/` with `--lang cn`); `npm start` runs
 * the main job, `notebooks/s4_in_depth.ipynb`. The size tier (S4_SIZE for the kernel, see
 * src/notebook/tier.ts) follows the backend unless `--size` (or S4_SIZE in the environment) says
 * otherwise: gpu on a GPU backend, cpu elsewhere. `--quick` is `--size quick`.
 * Jupyter does the work in `scripts/run_notebook.py` (nbclient + nbconvert); this file picks the
 * notebooks, finds the Python that has Jupyter and explains what to do when something is missing.
 *
 * Exit status: 0 every notebook ran clean; 1 a notebook failed; 2 bad arguments; 3 Jupyter or the
 * tslab kernel is not set up.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { chooseBackend } from "../backend";
import { SIZE_TIERS, SizeTier, sizeTier } from "../notebook/tier";
import { FlagError, ParsedFlags, parseFlags } from "./flags";

/** The repository root: this file runs as `dist/cli/notebooks.js`. */
export const ROOT = path.resolve(__dirname, "..", "..");
const HELPER = path.join(ROOT, "scripts", "run_notebook.py");
const LOCAL_BIN = path.join(ROOT, "node_modules", ".bin");
const KERNEL = "tslab";
const LANG_DIRS = { en: "notebooks", cn: "cn" } as const;
type Lang = keyof typeof LANG_DIRS;

export const EXIT = { ok: 0, failed: 1, usage: 2, setup: 3 } as const;

export interface Options {
  /** Notebook names (looked up in the language's folder) or paths. */
  targets: string[];
  /** The size tier to run; undefined: S4_SIZE if set, else what the backend allows. */
  size: SizeTier | undefined;
  all: boolean;
  lang?: Lang;
  /** Output folder, absolute. */
  out: string;
  /** Seconds one cell may run. */
  timeout: number;
  /** A Python to use instead of searching for one. */
  python?: string;
  help: boolean;
}

export interface NotebookJob {
  /** The .ipynb to execute, absolute. */
  file: string;
  /** Short name for progress lines and outputs: `s4_in_depth`, `cn/s4_in_depth`. */
  label: string;
  /** Where the executed .ipynb goes (the .html goes beside it). */
  output: string;
}

/** A mistake in the command line; main() prints it with the usage and exits 2. */
export class UsageError extends Error {}

/** A missing piece of the set-up (Jupyter, the kernel); main() prints it and exits 3. */
export class SetupError extends Error {}

const USAGE = `usage: npm run notebooks -- [names or paths...] [options]

  names or paths    notebooks to run: a name such as "s4_in_depth" (looked up in notebooks/,
                    or cn/ with --lang cn) or a path to an .ipynb file
                    (default: every notebook in ${LANG_DIRS.en}/, or ${LANG_DIRS.cn}/ with --lang cn)
  --all             run every .ipynb in notebooks/ and cn/ (only one of them with --lang)
  --size TIER       quick (seconds, what CI runs), cpu (a laptop: minutes, a real result) or gpu
                    (the anchor's sizes); sets S4_SIZE for the kernel (default: S4_SIZE if set,
                    else gpu on a GPU backend and cpu elsewhere)
  --quick           the same as --size quick
  --lang en|cn      the folder that names are looked up in (en: notebooks/, cn: cn/)
  --out DIR         where executed notebooks and HTML go (default: build/notebooks)
  --timeout SECS    limit for one cell (default: 1200)
  --python PATH     the Python that has Jupyter (default: S4_PYTHON, /usr/bin/python3, python3)
  -h, --help        show this help`;

/** Where relative paths on the command line start from: `npm run` moves to the root, INIT_CWD is the caller's folder. */
function callerDir(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} expects a positive whole number of seconds, got "${value}"`);
  return n;
}

/** Parses the command line; throws UsageError naming the flag that is wrong. */
export function parseArgs(argv: string[], cwd = callerDir()): Options {
  let parsed: ParsedFlags;
  try {
    parsed = parseFlags(
      argv,
      {
        quick: { type: "boolean" },
        size: { type: "string" },
        all: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        out: { type: "string" },
        timeout: { type: "string" },
        python: { type: "string" },
        lang: { type: "string" },
      },
      { allowPositionals: true },
    );
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    if (e.problem === "unknown") throw new UsageError(`unknown option "${e.flag}"`);
    if (e.problem === "unexpected-value") throw new UsageError(`${e.flag} takes no value, got "${e.flag}=${e.value}"`);
    throw new UsageError(e.message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const opts: Options = {
    targets: parsed.positionals,
    size: undefined,
    all: Boolean(values.all),
    out: path.join(ROOT, "build", "notebooks"),
    timeout: 1200,
    help: Boolean(values.help),
  };
  // --quick and --size both set the tier: the later one on the command line wins.
  for (const flag of parsed.order) {
    if (flag === "quick") opts.size = "quick";
    else if (flag === "size") {
      const size = values.size as string;
      if (!(SIZE_TIERS as readonly string[]).includes(size)) {
        throw new UsageError(`--size expects one of ${SIZE_TIERS.join(", ")}, got "${size}"`);
      }
      opts.size = size as SizeTier;
    }
  }
  if (typeof values.out === "string") opts.out = path.resolve(cwd, values.out);
  if (typeof values.timeout === "string") opts.timeout = positiveInt("--timeout", values.timeout);
  if (typeof values.python === "string") opts.python = values.python;
  if (typeof values.lang === "string") {
    if (!(values.lang in LANG_DIRS)) {
      throw new UsageError(`--lang expects one of ${Object.keys(LANG_DIRS).join(", ")}, got "${values.lang}"`);
    }
    opts.lang = values.lang as Lang;
  }
  if (opts.all && opts.targets.length)
    throw new UsageError(`--all runs every notebook; drop the names (${opts.targets.join(", ")}) or --all`);
  return opts;
}

/** Names outputs after the path under the root, minus `notebooks/`, so notebooks/x and cn/x do not collide. */
function jobFor(file: string, out: string): NotebookJob {
  let rel = path.relative(ROOT, file);
  if (rel.startsWith("..") || path.isAbsolute(rel)) rel = path.basename(file);
  else if (rel.startsWith(LANG_DIRS.en + path.sep)) rel = rel.slice(LANG_DIRS.en.length + 1);
  const label = rel
    .replace(/\.ipynb$/, "")
    .split(path.sep)
    .join("/");
  return { file, label, output: path.join(out, `${label}.ipynb`) };
}

function notebooksIn(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs)
    .filter((f) => f.endsWith(".ipynb"))
    .sort()
    .map((f) => path.join(abs, f));
}

/** Turns a name ("s4_in_depth") or a path into an existing .ipynb file. */
function resolveTarget(target: string, lang: Lang, cwd: string): string {
  const looksLikePath = target.includes("/") || target.includes(path.sep) || fs.existsSync(path.resolve(cwd, target));
  const file = looksLikePath
    ? path.resolve(cwd, target)
    : path.join(ROOT, LANG_DIRS[lang], target.endsWith(".ipynb") ? target : `${target}.ipynb`);
  if (!fs.existsSync(file)) {
    const known = notebooksIn(LANG_DIRS[lang]).map((f) => path.basename(f, ".ipynb"));
    const hint = known.length ? `; notebooks in ${LANG_DIRS[lang]}/: ${known.join(", ")}` : "";
    throw new UsageError(`notebook not found: ${target} (looked for ${path.relative(cwd, file) || file})${hint}`);
  }
  return file;
}

/** The notebooks that a command line asks for, in order. */
export function selectNotebooks(opts: Options, cwd = callerDir()): NotebookJob[] {
  let files: string[];
  if (opts.all) {
    const dirs = opts.lang ? [LANG_DIRS[opts.lang]] : Object.values(LANG_DIRS);
    files = dirs.flatMap(notebooksIn);
    if (!files.length) throw new UsageError(`--all found no .ipynb files in ${dirs.join("/, ")}/`);
  } else if (!opts.targets.length) {
    const dir = LANG_DIRS[opts.lang ?? "en"];
    files = notebooksIn(dir);
    if (!files.length) throw new UsageError(`found no .ipynb files in ${dir}/`);
  } else {
    files = opts.targets.map((t) => resolveTarget(t, opts.lang ?? "en", cwd));
  }
  return files.map((f) => jobFor(f, opts.out));
}

function hasJupyter(python: string): boolean {
  const probe = spawnSync(python, ["-c", "import nbclient, nbconvert, nbformat, jupyter_client"], { stdio: "ignore" });
  return probe.status === 0;
}

/** The command that registers the tslab kernel for `python`, starting this checkout's tslab. */
function registerCommand(python: string): string {
  return `npx tslab install --python=${python} --binary=${path.join(LOCAL_BIN, "tslab")}`;
}

function setupHint(python = "/usr/bin/python3"): string {
  return [
    "Set it up with one of:",
    "  bash scripts/setup.sh                 (installs everything; Debian as root gets Jupyter from apt)",
    "  apt-get install jupyter-nbconvert python3-nbclient jupyter-notebook python3-ipykernel   (Debian/Ubuntu)",
    "  pip install jupyterlab nbconvert nbclient                                               (elsewhere)",
    "then register the kernel:",
    `  ${registerCommand(python)}`,
  ].join("\n");
}

/** The first Python that can import nbclient and nbconvert; throws SetupError listing what was tried. */
export function findPython(preferred = process.env.S4_PYTHON || undefined): string {
  if (preferred) {
    if (hasJupyter(preferred)) return preferred;
    throw new SetupError(`${preferred} cannot import nbclient and nbconvert (Jupyter).\n${setupHint(preferred)}`);
  }
  const candidates = ["/usr/bin/python3", "python3", "python"];
  const found = candidates.find(hasJupyter);
  if (found) return found;
  throw new SetupError(`no Python with Jupyter (nbclient and nbconvert) found; tried ${candidates.join(", ")}.\n${setupHint()}`);
}

/** The environment of the kernel: the size tier, and the local tslab on PATH. */
function kernelEnv(size: SizeTier | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: "1" };
  env.PATH = [LOCAL_BIN, env.PATH].filter(Boolean).join(path.delimiter);
  // The flag decides, not whatever the caller's shell had exported.
  if (size !== undefined) {
    env.S4_SIZE = size;
    delete env.S4_QUICK;
  }
  return env;
}

/** Fails fast, with the fix, when the tslab kernel is not registered for this Python. */
function checkKernel(python: string): void {
  const check = spawnSync(python, [HELPER, "--check", "--kernel", KERNEL], { encoding: "utf8", env: kernelEnv(undefined) });
  if (check.status === 0) return;
  const why = (check.stderr || check.stdout || String(check.error ?? "")).trim();
  if (check.status !== EXIT.setup) throw new Error(`${HELPER} --check failed: ${why}`);
  throw new SetupError(
    `the ${KERNEL} Jupyter kernel is not ready: ${why}\n` +
      `Register it with:\n  ${registerCommand(python)}\nor run: bash scripts/setup.sh`,
  );
}

let stopping = false;

/** Runs one notebook through the Python helper; resolves to the helper's exit status. */
function runOne(python: string, job: NotebookJob, opts: Options): Promise<number> {
  const args = [HELPER, job.file, "--output", job.output, "--label", job.label, "--kernel", KERNEL, "--timeout", String(opts.timeout)];
  const child = spawn(python, args, { stdio: "inherit", env: kernelEnv(opts.size) });
  // A terminal's Ctrl-C reaches the child by itself; a SIGTERM (e.g. a test timeout) must be passed on
  // so that nbclient shuts the kernel down instead of leaving it running.
  const onTerm = (): void => {
    stopping = true;
    child.kill("SIGTERM");
  };
  const onInt = (): void => {
    stopping = true;
  };
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return new Promise((resolve) => {
    child.on("error", (e) => {
      console.error(`notebooks: cannot start ${python}: ${e.message}`);
      resolve(EXIT.setup);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : EXIT.failed)));
  }).finally(() => {
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onInt);
  }) as Promise<number>;
}

async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (opts.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const jobs = selectNotebooks(opts);
  const python = findPython(opts.python);
  checkKernel(python);

  // The same rule the notebooks apply, said once here for the whole run.
  const choice =
    opts.size !== undefined ? { tier: opts.size, reason: `--size ${opts.size}` } : sizeTier(await chooseBackend({ quiet: true }));
  const mode = `the ${choice.tier} size tier (${choice.reason})`;
  console.log(
    `notebooks: ${jobs.length} to run in ${mode}, python ${python}, kernel ${KERNEL}, out ${path.relative(callerDir(), opts.out) || "."}`,
  );
  const start = Date.now();
  const failed: string[] = [];
  let ran = 0;
  for (const job of jobs) {
    const status = await runOne(python, job, opts);
    ran++;
    if (status === EXIT.setup) throw new SetupError(`[${job.label}] the ${KERNEL} kernel did not start (see above).\n${setupHint(python)}`);
    if (status !== EXIT.ok) failed.push(job.label);
    if (stopping) break;
  }
  const secs = ((Date.now() - start) / 1000).toFixed(1);
  const list = failed.length ? ` (${failed.join(", ")})` : "";
  console.log(`notebooks: ${ran - failed.length} passed, ${failed.length} failed${list} in ${secs}s`);
  if (ran < jobs.length) console.log(`notebooks: stopped by a signal; ${jobs.length - ran} not run`);
  return failed.length || stopping ? EXIT.failed : EXIT.ok;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof UsageError) {
        console.error(`notebooks: ${e.message}\n(see: npm run notebooks -- --help)`);
        process.exit(EXIT.usage);
      }
      if (e instanceof SetupError) {
        console.error(`notebooks: ${e.message}`);
        process.exit(EXIT.setup);
      }
      console.error(e);
      process.exit(EXIT.failed);
    },
  );
}
