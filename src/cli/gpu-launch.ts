/**
 * The program run.sh starts inside the GPU bundle, with the bundle's own Node:
 *   gpu-launch.js <train|sample|bench> [--allow-software-adapter] [flags of the tool]
 *
 * Points the Vulkan loader at the NVIDIA driver's manifest (unless VK_DRIVER_FILES or
 * VK_ICD_FILENAMES already say which driver), looks at the WebGPU adapter from a child process,
 * prints it, and refuses an adapter that runs on the CPU unless asked to accept one. Then runs the
 * tool on the webgpu backend with this same Node and exits with its status: 2 on bad usage, 3 when
 * there is no usable adapter.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "../atomic-write";
import { findNvidiaManifest, nvidiaManifestText, nvidiaVulkanLibrary } from "../nvidia-icd";
import { probeAdapterQuietly } from "../webgpu-adapter-probe";
import { runMain } from "./run-main";

export const TOOLS = ["train", "sample", "bench"] as const;
const ALLOW_FLAG = "--allow-software-adapter";
const ALLOW_ENV = "S4_ALLOW_SOFTWARE_ADAPTER";
const EXIT = { usage: 2, noAdapter: 3 };

const say = (line: string) => console.log(`gpu-bundle: ${line}`);

class LaunchError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The unpacked bundle: dist/cli/ (this file) sits two folders below it. */
const ROOT = path.resolve(__dirname, "..", "..");

/** What the builder recorded: the Node version and the commit the bundle was built from. */
function bundleLine(): string {
  try {
    const b = JSON.parse(fs.readFileSync(path.join(ROOT, "bundle.json"), "utf8"));
    const commit = b.commit ? `commit ${String(b.commit).slice(0, 12)}${b.dirty ? " with local changes" : ""}` : "no git commit";
    return `built ${b.built_at} from ${commit}`;
  } catch {
    return "no bundle.json beside the payload";
  }
}

/**
 * Chooses the Vulkan driver for the child processes (by setting VK_DRIVER_FILES in this process's
 * environment, which they inherit) and says which.
 */
function chooseVulkanDriver(): { text: string; nvidia: boolean } {
  for (const name of ["VK_DRIVER_FILES", "VK_ICD_FILENAMES"]) {
    if (process.env[name]) return { text: `${name}=${process.env[name]} (as set)`, nvidia: true };
  }
  const found = findNvidiaManifest();
  if (found.file) {
    process.env.VK_DRIVER_FILES = found.file;
    return { text: `NVIDIA driver manifest ${found.file}`, nvidia: true };
  }
  const library = nvidiaVulkanLibrary();
  if (library) {
    // The driver is installed without its manifest: write the one it ships, outside the bundle.
    const file = path.join(os.tmpdir(), `s4-gpu-bundle-${process.getuid?.() ?? "user"}`, "nvidia_icd.json");
    writeFileAtomic(file, nvidiaManifestText(library));
    process.env.VK_DRIVER_FILES = file;
    return { text: `no nvidia_icd.json found, but ${library} is installed: wrote the manifest ${file}`, nvidia: true };
  }
  const text = `no NVIDIA driver manifest (nvidia_icd.json) in ${found.searched.join(", ")}; ` + "the Vulkan loader's own search decides";
  return { text, nvidia: false };
}

function parse(argv: string[]): { tool: (typeof TOOLS)[number]; args: string[]; allowSoftware: boolean } {
  const [tool, ...rest] = argv;
  if (!(TOOLS as readonly string[]).includes(tool)) {
    const got = tool === undefined ? "nothing" : JSON.stringify(tool);
    throw new LaunchError(`the first argument must be a tool: ${TOOLS.join(", ")}; got ${got}`, EXIT.usage);
  }
  const env = process.env[ALLOW_ENV];
  if (env !== undefined && env !== "" && env !== "0" && env !== "1") {
    throw new LaunchError(`${ALLOW_ENV} must be 0 or 1, got ${JSON.stringify(env)}`, EXIT.usage);
  }
  const args = rest.filter((a) => a !== ALLOW_FLAG);
  return { tool: tool as (typeof TOOLS)[number], args, allowSoftware: env === "1" || args.length < rest.length };
}

/** Runs the adapter probe again with its stderr on ours: Dawn's and the Vulkan loader's own words. */
function showDawnMessages(): void {
  const probe = path.join(__dirname, "webgpu-adapter-probe.js");
  if (!fs.existsSync(probe)) return;
  say("no adapter; Dawn's and the Vulkan loader's messages follow (VK_LOADER_DEBUG=error,warn adds the loader's)");
  spawnSync(process.execPath, [probe], { stdio: ["ignore", "ignore", "inherit"], timeout: 30000 });
}

const NO_NVIDIA = 'No NVIDIA Vulkan driver was found (see the line above and docs/gpu.md, "Troubleshooting")';

async function checkAdapter(allowSoftware: boolean, nvidia: boolean, tool: string): Promise<void> {
  const seen = await probeAdapterQuietly();
  const a = seen.adapter;
  if (!a) {
    showDawnMessages();
    throw new LaunchError(
      `no WebGPU adapter: ${seen.error ?? "Dawn found no usable Vulkan device"}. ` +
        (nvidia ? 'See docs/gpu.md, "Troubleshooting".' : `${NO_NVIDIA}.`),
      EXIT.noAdapter,
    );
  }
  say(`adapter: vendor "${a.vendor}", architecture "${a.architecture}", device "${a.device}", description "${a.description}"`);
  if (!a.software) return;
  if (allowSoftware) {
    say(`the adapter runs on the CPU (software); going on because ${ALLOW_FLAG} or ${ALLOW_ENV}=1 asks to`);
    return;
  }
  throw new LaunchError(
    `refusing the software adapter "${a.description}": it runs shaders on the CPU, ` +
      `at CPU speed. ${nvidia ? "" : `${NO_NVIDIA}. `}` +
      `To run on it anyway: run.sh ${tool} ${ALLOW_FLAG} ... or ${ALLOW_ENV}=1 run.sh ${tool} ...`,
    EXIT.noAdapter,
  );
}

/** Runs one tool of the bundle with this Node; resolves to its exit status. */
function runTool(tool: string, args: string[]): Promise<number> {
  const env = {
    ...process.env,
    S4_BACKEND: "webgpu",
    // The run record looks for a git checkout above the code: there is none in a bundle.
    GIT_CEILING_DIRECTORIES: path.dirname(ROOT),
  };
  // bench measures every backend that works unless told which.
  const toolArgs = tool === "bench" && !args.includes("--backend") ? [...args, "--backend", "webgpu"] : args;
  const child = spawn(process.execPath, [path.join(__dirname, `${tool}.js`), ...toolArgs], { stdio: "inherit", env });
  // A signal to stop (Ctrl-C, a time limit's SIGTERM, a closed terminal) stops the tool; this
  // process then ends with the tool's status.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const passOn = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const s of signals) process.on(s, passOn);
  return new Promise<number>((resolve) => {
    child.on("error", (e) => {
      console.error(`gpu-bundle: cannot start ${tool}: ${e.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
  }).finally(() => {
    for (const s of signals) process.off(s, passOn);
  });
}

async function main(argv: string[]): Promise<number> {
  const { tool, args, allowSoftware } = parse(argv);
  say(`node ${process.version} at ${process.execPath}; bundle ${bundleLine()}`);
  if (process.env.S4_BACKEND && process.env.S4_BACKEND !== "webgpu") {
    say(`S4_BACKEND=${process.env.S4_BACKEND} is ignored: the bundle runs on webgpu`);
  }
  // A tool's --help needs no GPU.
  if (args.includes("--help") || args.includes("-h")) return runTool(tool, args);
  const driver = chooseVulkanDriver();
  say(`Vulkan driver: ${driver.text}`);
  await checkAdapter(allowSoftware, driver.nvidia, tool);
  return runTool(tool, args);
}

if (require.main === module) {
  runMain(
    "gpu-bundle",
    () => main(process.argv.slice(2)),
    (e) => (e instanceof LaunchError ? e.status : 1),
  );
}
