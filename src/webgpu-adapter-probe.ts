/**
 * A look at the WebGPU adapter from a separate Node process. Dawn writes its driver warnings
 * (Vulkan loader messages, limits it lowers) straight to the process's stderr from native code,
 * where JavaScript cannot redirect them; in a child process they land in a pipe instead, and the
 * automatic backend choice stays quiet whether it keeps WebGPU or passes it over.
 *
 * Run as a script (node webgpu-adapter-probe.js) it prints one line: `@adapter {json}`.
 */
import { spawn } from "node:child_process";
import { importEsm } from "./esm-import";

const MARK = "@adapter ";
/** Dawn starts within a second or two; a driver that hangs longer is treated as unusable. */
const PROBE_LIMIT_MS = 30000;
/** Vulkan drivers that run on the CPU: Mesa's lavapipe (llvmpipe, softpipe) and SwiftShader. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader/i;

export interface AdapterSeen {
  /** Null when Dawn found no adapter, or when the probe failed (then `error` says why). */
  adapter: {
    description: string;
    /** The adapter's own fallback flag. */
    fallback: boolean;
    vendor: string;
    architecture: string;
    device: string;
    /** Shaders run on the CPU: the fallback flag, the "software" architecture or a known name. */
    software: boolean;
  } | null;
  error?: string;
}

async function lookInThisProcess(): Promise<AdapterSeen> {
  const webgpu = await importEsm("webgpu");
  const adapter = await webgpu.create([]).requestAdapter();
  if (!adapter) return { adapter: null };
  const info = adapter.info ?? {};
  const description = String(info.description || info.device || "unnamed adapter");
  const fallback = Boolean(info.isFallbackAdapter || adapter.isFallbackAdapter);
  const [vendor, architecture, device] = [info.vendor, info.architecture, info.device].map((v) => String(v ?? ""));
  const software = fallback || architecture === "software" || SOFTWARE_NAMES.test([vendor, device, description].join(" "));
  return { adapter: { description, fallback, vendor, architecture, device, software } };
}

/** Asks a child process what adapter Dawn finds here; its stderr is kept out of ours. */
export function probeAdapterQuietly(): Promise<AdapterSeen> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [__filename], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "",
      stderr = "",
      timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000); // the last lines say why it failed, if it did
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, PROBE_LIMIT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ adapter: null, error: `could not start the adapter probe: ${e.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith(MARK));
      if (line) return resolve(JSON.parse(line.slice(MARK.length)) as AdapterSeen);
      const lastLine = stderr.trim().split("\n").pop() ?? "";
      const ended = `ended with ${signal ?? `code ${code}`}`;
      const why = timedOut ? `no answer in ${PROBE_LIMIT_MS / 1000} s` : ended;
      const detail = lastLine ? `: ${lastLine.slice(0, 120)}` : "";
      resolve({ adapter: null, error: `the adapter probe ${why}${detail}` });
    });
  });
}

if (require.main === module) {
  lookInThisProcess().then(
    (seen) => {
      console.log(MARK + JSON.stringify(seen));
      process.exit(0);
    },
    (e) => {
      const error = (e instanceof Error ? e.message : String(e)).split("\n")[0];
      console.log(MARK + JSON.stringify({ adapter: null, error }));
      process.exit(0);
    },
  );
}
