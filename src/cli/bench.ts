/**
 * npm run bench -- [--only <op>] [--backend <name>] [--json <file>] [--quick] [--no-reference] [--peer]
 * npm run bench -- --step --preset NAME [...]: whole training steps instead (bench-step.ts)
 *
 * Times the hot ops of the library on each backend that works here: the forward time and the
 * forward + backward time (the gradients of Σ y·r for fixed random weights r, every gradient read
 * back so that GPU work has finished), each the median of at least three warm runs, next to the
 * same op built from plain tf ops (its reference) on the same backend. A side too slow for three
 * runs is timed by a single run, and the table and the JSON say so. Prints a table and writes the
 * numbers as JSON (default build/bench.json). Exit status 1 when a measurement fails, 2 on bad
 * usage.
 *
 * Each measurement runs in its own process (bench-worker.js) under a time limit: some references
 * take minutes at full size, and a backend that runs out of memory must not take the rest down.
 *
 * --peer also times each op with PyTorch on the CPU (bench/torch_peer.py), right after our row of
 * the fastest CPU backend measured, with as many threads as our host kernels use, and prints the
 * ratio of the two forward + backward times.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BACKEND_ORDER, BackendName, availableBackends, useBackend } from "../backend";
import { CASES, Case, OPS, OpName, Where } from "./bench-cases";
import { MIN_WARM_RUNS, SINGLE_RUN, Timing, describePlan, isSingleRun, planFor, textTable, writeJsonAtomic } from "./bench-timing";
import { MARK, WorkerEvent } from "./bench-worker";
import { benchStep } from "./bench-step";
import { commaList, exitWithUsage, parseFlagsOrExit } from "./flags";
import { runInfo } from "../train/run-info";
import { hostThreads } from "../kernels/host-threads";
import { runMain } from "./run-main";

/** The interpreter of the PyTorch peer unless S4_PEER_PYTHON names another. */
const DEFAULT_PEER_PYTHON = "/usr/bin/python3";

const USAGE = `usage: npm run bench -- [--only <op>] [--backend <name>] [--json <file>] [--quick] [--no-reference] [--peer]
  --only <op>       ${OPS.join(", ")} (repeatable, or a comma list); default: all
  --backend <name>  ${BACKEND_ORDER.join(", ")} (repeatable, or a comma list); default: cpu, wasm,
                    webgpu where an adapter exists, and tfjs-node where it is installed
  --json <file>     where to write the record: the command, the run (commit, machine, threads)
                    and the rows (default build/bench.json)
  --quick           fewer repetitions (still at least ${MIN_WARM_RUNS}), shorter time limits
  --no-reference    skip the plain-tf-ops references
  --peer            also time each op with PyTorch on the CPU (bench/torch_peer.py, run by
                    S4_PEER_PYTHON, default ${DEFAULT_PEER_PYTHON}) right after our fastest CPU
                    backend's row, with our thread count (S4_THREADS, else every core); skipped
                    with a note where PyTorch is not installed
  --step            measure whole training steps of a preset instead: npm run bench -- --step --help`;

function usage(msg: string): never {
  return exitWithUsage("bench", USAGE, msg);
}

interface Options {
  ops: OpName[];
  backends: BackendName[] | null;
  json: string;
  quick: boolean;
  reference: boolean;
  peer: boolean;
}

function parseArgs(argv: string[]): Options {
  const values = parseFlagsOrExit("bench", USAGE, argv, {
    only: { type: "string", multiple: true },
    backend: { type: "string", multiple: true },
    json: { type: "string" },
    quick: { type: "boolean" },
    "no-reference": { type: "boolean" },
    peer: { type: "boolean" },
  });
  const ops: OpName[] = [];
  for (const op of commaList(values.only)) {
    if (!(OPS as readonly string[]).includes(op)) usage(`--only: unknown op "${op}", expected one of ${OPS.join(", ")}`);
    if (!ops.includes(op as OpName)) ops.push(op as OpName);
  }
  const backends: BackendName[] = [];
  for (const b of commaList(values.backend)) {
    if (!(BACKEND_ORDER as readonly string[]).includes(b)) {
      usage(`--backend: unknown backend "${b}", expected one of ${BACKEND_ORDER.join(", ")}`);
    }
    if (!backends.includes(b as BackendName)) backends.push(b as BackendName);
  }
  return {
    ops: ops.length ? ops : [...OPS],
    backends: backends.length ? backends : null,
    json: (values.json as string | undefined) ?? path.join("build", "bench.json"),
    quick: Boolean(values.quick),
    reference: !values["no-reference"],
    peer: Boolean(values.peer),
  };
}

// ---- Measurement processes -----------------------------------------------------------------------

/** Wall-clock limits of one measurement process (start-up included), seconds. */
const LIMIT_S = { fast: { normal: 150, quick: 60 }, reference: { normal: 45, quick: 10 } };

interface Measured {
  fwd?: Timing;
  fwd_bwd?: Timing;
  /** Set when the process ran past its limit and was stopped. */
  stoppedAfterS?: number;
  /** Why forward + backward does not fit this device at this size (the forward was timed). */
  tooLarge?: string;
  error?: string;
  leaked?: number;
}

/** Runs one case on one backend in a child process, keeping whatever it reported before it ended. */
function runWorker(backend: BackendName, c: Case, variant: "fast" | "reference", quick: boolean): Promise<Measured> {
  const limitS = LIMIT_S[variant][quick ? "quick" : "normal"];
  const args = [path.join(__dirname, "bench-worker.js"), backend, c.key, variant, ...(quick ? ["--quick"] : [])];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Measured = {};
    let buffered = "",
      stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith(MARK)) continue;
        const e = JSON.parse(line.slice(MARK.length)) as WorkerEvent;
        if (e.event === "measured") out[e.what] = { ms: e.ms, reps: e.reps };
        else if (e.event === "leaked") out.leaked = e.tensors;
        else if (e.event === "too-large") out.tooLarge = e.message;
        else out.error = e.message;
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
    });
    const timer = setTimeout(() => {
      out.stoppedAfterS = limitS;
      child.kill("SIGKILL");
    }, limitS * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (!out.stoppedAfterS && !out.error && (code !== 0 || (!out.fwd_bwd && !out.tooLarge))) {
        // a crash before the worker could report: quote the error line of its stack trace
        const lines = stderr.split("\n").map((l) => l.trim());
        const why = lines.find((l) => /^\w*Error\b|Aborted/.test(l)) ?? lines.filter(Boolean).pop() ?? "";
        out.error = `measurement process ended with ${signal ?? `code ${code}`}${why ? `: ${why.slice(0, 200)}` : ""}`;
      }
      resolve(out);
    });
  });
}

// ---- The PyTorch peer ------------------------------------------------------------------------------

/** bench/torch_peer.py from dist/cli/ (the peer is a tool of the repository, not of the package). */
const PEER_SCRIPT = path.join(__dirname, "..", "..", "bench", "torch_peer.py");

/** Wall-clock limits of one peer process (Python and torch start-up included), seconds. */
const PEER_LIMIT_S = { normal: 150, quick: 60 };

/** The exit status of torch_peer.py when the interpreter has no torch. */
const PEER_NO_TORCH = 3;

/** One op's row as torch_peer.py prints it. */
interface PeerRow {
  op: string;
  shape: string;
  fwd_ms: number;
  fwd_bwd_ms: number;
  reps: { fwd: number; fwd_bwd: number };
  torch: string;
  device: string;
  threads: number;
  note?: string;
  error?: string;
}

/** What a peer run gave: a row, or why the peer cannot run here at all, or why this op failed. */
type PeerOutcome = { row: PeerRow } | { unavailable: string } | { failed: string };

/** A line of the peer's output as a row, or null for anything else. */
function parsePeerRow(line: string): PeerRow | null {
  if (!line.startsWith("{")) return null;
  try {
    return JSON.parse(line) as PeerRow;
  } catch {
    return null;
  }
}

/** Times one case with the PyTorch peer in its own process, at the case's sizes. */
function runPeer(python: string, c: Case, threads: number, quick: boolean): Promise<PeerOutcome> {
  if (!fs.existsSync(PEER_SCRIPT)) return Promise.resolve({ unavailable: `${PEER_SCRIPT} is missing` });
  const limitS = PEER_LIMIT_S[quick ? "quick" : "normal"];
  const dims = Object.entries(c.peerDims)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const args = [PEER_SCRIPT, "--only", c.op, "--dims", dims, "--threads", String(threads), ...(quick ? ["--quick"] : [])];
  return new Promise((resolve) => {
    const child = spawn(python, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "",
      stderr = "",
      stopped = false,
      spawnError: string | null = null;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-8000)));
    child.on("error", (e: NodeJS.ErrnoException) => {
      spawnError = e.code === "ENOENT" ? `the interpreter ${python} was not found` : `${python} could not be started: ${e.message}`;
    });
    const timer = setTimeout(() => {
      stopped = true;
      child.kill("SIGKILL");
    }, limitS * 1000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const lastLine =
        stderr
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean)
          .pop() ?? "";
      if (spawnError) return resolve({ unavailable: spawnError });
      if (code === PEER_NO_TORCH) {
        const why = stderr
          .split("\n")
          .find((l) => l.startsWith("torch_peer: "))
          ?.slice("torch_peer: ".length);
        return resolve({ unavailable: why ?? `PyTorch is not installed for ${python}` });
      }
      if (stopped) return resolve({ failed: `stopped at its ${limitS} s limit` });
      const row = stdout
        .split("\n")
        .map(parsePeerRow)
        .find((r) => r?.op === c.op);
      if (row && !row.error) return resolve({ row });
      resolve({ failed: row?.error ?? `ended with code ${code}${lastLine ? `: ${lastLine.slice(0, 200)}` : ""}` });
    });
  });
}

/** How the table and the JSON name the peer: "pytorch 1.13.0 cpu, 2 threads". */
const peerLabel = (row: PeerRow) => `pytorch ${row.torch} ${row.device}, ${row.threads} thread${row.threads === 1 ? "" : "s"}`;

// ---- Choosing backends ------------------------------------------------------------------------------

async function isRealGpu(): Promise<boolean> {
  interface AdapterInfo {
    isFallbackAdapter?: boolean;
    architecture?: string;
  }
  type Adapter = { info?: AdapterInfo; isFallbackAdapter?: boolean } | null;
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<Adapter> } } }).navigator?.gpu;
  const adapter = await gpu?.requestAdapter();
  if (!adapter) return false;
  const info = adapter.info ?? {};
  return !(info.isFallbackAdapter || adapter.isFallbackAdapter || info.architecture === "software");
}

/** The requested backends, or cpu, wasm, webgpu and tfjs-node where they work. */
async function pickBackends(requested: BackendName[] | null, notes: string[]): Promise<{ run: BackendName[]; where: Where }> {
  const found = await availableBackends();
  const works = new Map(found.map((b) => [b.name, b]));
  const ok = (name: BackendName) => works.get(name)?.ok ?? false;
  let run: BackendName[];
  if (requested) {
    for (const name of requested) {
      if (!ok(name)) throw new Error(`--backend ${name}: not available here: ${works.get(name)?.detail}`);
    }
    run = requested;
  } else {
    // tfjs-node and tfjs-node-gpu share tfjs's name "tensorflow": measure the GPU one when both load
    run = (["cpu", "wasm", "webgpu", "tensorflow", "tensorflow-gpu"] as BackendName[]).filter(ok);
    if (run.includes("tensorflow-gpu")) run = run.filter((b) => b !== "tensorflow");
    for (const b of found) if (!b.ok) notes.push(`backend ${b.name} not measured: ${b.detail}`);
  }
  let realGpu = false;
  if (run.includes("webgpu")) {
    await useBackend("webgpu", { quiet: true });
    realGpu = await isRealGpu();
    if (!realGpu) notes.push("webgpu runs on a software adapter here (Mesa lavapipe or similar): its times are CPU times");
  }
  const fastestCpu = (["tensorflow", "wasm", "cpu"] as BackendName[]).find(ok) ?? null;
  return { run, where: { fastestCpu, realGpu } };
}

// ---- Output -------------------------------------------------------------------------------------

interface Result {
  op: OpName;
  backend: BackendName;
  shape: string;
  fwd_ms: number;
  /** null where forward + backward does not fit the device at this size (a note says why). */
  fwd_bwd_ms: number | null;
  ref_fwd_ms?: number;
  ref_fwd_bwd_ms?: number;
  /** Warm runs behind each median; 1 for a single run. */
  reps: Partial<Record<Side, number>> & { fwd: number };
  /** The sides timed by a single (cold) run instead of a median: too slow to repeat. */
  single_run: Side[];
  /** Set when the reference ran past its time limit before finishing: its time exceeds this. */
  ref_stopped_after_s?: number;
  /** The PyTorch peer (--peer) on the same op and sizes, timed right after this row. */
  peer_fwd_ms?: number;
  peer_fwd_bwd_ms?: number;
  peer_reps?: { fwd: number; fwd_bwd: number };
  /** What the peer ran on, e.g. "pytorch 1.13.0 cpu, 2 threads". */
  peer?: string;
}

type Side = "fwd" | "fwd_bwd" | "ref_fwd" | "ref_fwd_bwd";

/** Marks a time in the table that comes from a single run. */
const SINGLE_MARK = "*";

const fmtMs = (ms: number | null | undefined, stoppedS?: number) =>
  ms === undefined || ms === null
    ? stoppedS
      ? `> ${stoppedS} s`
      : "-"
    : ms >= 100
      ? ms.toFixed(0)
      : ms >= 10
        ? ms.toFixed(1)
        : ms.toFixed(2);

const cell = (r: Result, side: Side, ms: number | null | undefined, stoppedS?: number) =>
  fmtMs(ms, stoppedS) + (r.single_run.includes(side) ? SINGLE_MARK : "");

/** Records one side's timing in a result. */
function record(r: Result, side: Side, t: Timing): void {
  r.reps[side] = t.reps;
  if (isSingleRun(t)) r.single_run.push(side);
}

function ratio(r: Result): string {
  if (r.fwd_bwd_ms === null) return "-";
  if (r.ref_fwd_bwd_ms !== undefined) return `${(r.ref_fwd_bwd_ms / r.fwd_bwd_ms).toFixed(2)}×`;
  // A reference stopped during forward + backward took at least its forward time.
  if (r.ref_fwd_ms !== undefined) return `> ${(r.ref_fwd_ms / r.fwd_bwd_ms).toFixed(2)}×`;
  return "-";
}

/** Our time over PyTorch's: < 1 where ours is faster. */
const peerRatio = (ours: number | null, peer: number | undefined) =>
  peer === undefined || ours === null ? "-" : `${(ours / peer).toFixed(2)}×`;

function table(results: Result[], withPeer: boolean): string {
  const head = [
    "op",
    "backend",
    "shape",
    "fwd ms",
    "fwd+bwd ms",
    "ref fwd ms",
    "ref fwd+bwd ms",
    "ref/fast fwd",
    "ref/fast fwd+bwd",
    "reps",
  ];
  if (withPeer) head.push("PyTorch fwd ms", "PyTorch fwd+bwd ms", "ours/PyTorch fwd+bwd");
  const rows = results.map((r) => {
    // a reference stopped during its forward shows "> N s" there and "-" for forward + backward
    const stoppedInBwd = r.ref_fwd_ms === undefined ? undefined : r.ref_stopped_after_s;
    const row = [
      r.op,
      r.backend,
      r.shape,
      cell(r, "fwd", r.fwd_ms),
      cell(r, "fwd_bwd", r.fwd_bwd_ms),
      cell(r, "ref_fwd", r.ref_fwd_ms, r.ref_stopped_after_s),
      cell(r, "ref_fwd_bwd", r.ref_fwd_bwd_ms, stoppedInBwd),
      r.ref_fwd_ms === undefined ? "-" : `${(r.ref_fwd_ms / r.fwd_ms).toFixed(2)}×`,
      ratio(r),
      [r.reps.fwd, r.reps.fwd_bwd ?? "-", r.reps.ref_fwd ?? "-", r.reps.ref_fwd_bwd ?? "-"].join("/"),
    ];
    if (withPeer) row.push(fmtMs(r.peer_fwd_ms), fmtMs(r.peer_fwd_bwd_ms), peerRatio(r.fwd_bwd_ms, r.peer_fwd_bwd_ms));
    return row;
  });
  return textTable(head, rows, 3);
}

// ---- Main -------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--step")) return benchStep(argv.filter((a) => a !== "--step"));
  const opts = parseArgs(argv);
  const started = performance.now();
  const notes: string[] = [];
  const failures: string[] = [];
  const { run, where } = await pickBackends(opts.backends, notes);
  const cases = CASES.filter((c) => opts.ops.includes(c.op));
  const results: Result[] = [];
  // The record: what ran (the command, the commit, the machine, the host threads) and the rows.
  const info = await runInfo();
  const benchRecord = () => ({ command: ["npm run bench --", ...argv].join(" "), run: { ...info, backend: run.join(", ") }, results });
  // The PyTorch peer runs beside the fastest CPU backend of this run, right after our row of each
  // op so that both are timed close together, on as many threads as our host kernels.
  const peerPython = process.env.S4_PEER_PYTHON || DEFAULT_PEER_PYTHON;
  const peerBackend = opts.peer ? ((["tensorflow", "wasm", "cpu"] as BackendName[]).find((b) => run.includes(b)) ?? null) : null;
  if (opts.peer && !peerBackend)
    notes.push("PyTorch peer skipped: it is compared with a CPU backend (tensorflow, wasm or cpu), and this run measures none");
  let peerOff: string | null = null;
  const peerDetails: string[] = [];
  for (const backend of run) {
    for (const c of cases) {
      const why = c.skip(backend, where);
      if (why) {
        notes.push(`${c.op} ${c.shape} on ${backend} skipped: ${why}`);
        continue;
      }
      const t0 = performance.now();
      process.stderr.write(`bench: ${c.op} ${c.shape} on ${backend} … `);
      const fast = await runWorker(backend, c, "fast", opts.quick);
      if (!fast.fwd || (!fast.fwd_bwd && !fast.tooLarge)) {
        process.stderr.write("failed\n");
        failures.push(`${c.op} ${c.shape} on ${backend}: ${fast.error ?? `stopped after ${fast.stoppedAfterS} s`}`);
        continue;
      }
      const r: Result = {
        op: c.op,
        backend,
        shape: c.shape,
        fwd_ms: fast.fwd.ms,
        fwd_bwd_ms: fast.fwd_bwd?.ms ?? null,
        reps: { fwd: fast.fwd.reps },
        single_run: [],
      };
      record(r, "fwd", fast.fwd);
      if (fast.fwd_bwd) record(r, "fwd_bwd", fast.fwd_bwd);
      else notes.push(`${c.op} ${c.shape} on ${backend}: forward only: ${fast.tooLarge}`);
      if (fast.leaked) notes.push(`${c.op} on ${backend}: ${fast.leaked} tensor(s) left behind`);
      if (opts.reference) {
        const ref = await runWorker(backend, c, "reference", opts.quick);
        if (ref.fwd) {
          r.ref_fwd_ms = ref.fwd.ms;
          record(r, "ref_fwd", ref.fwd);
        }
        if (ref.fwd_bwd) {
          r.ref_fwd_bwd_ms = ref.fwd_bwd.ms;
          record(r, "ref_fwd_bwd", ref.fwd_bwd);
        }
        if (ref.stoppedAfterS) {
          r.ref_stopped_after_s = ref.stoppedAfterS;
          notes.push(
            `${c.op} ${c.shape} on ${backend}: the reference was stopped at its ${ref.stoppedAfterS} s limit${ref.fwd ? " during forward + backward" : ""}`,
          );
        } else if (ref.error) {
          notes.push(`${c.op} ${c.shape} on ${backend}: the reference failed: ${ref.error}`);
        }
      }
      let peerTook = "";
      if (backend === peerBackend && !peerOff) {
        const p0 = performance.now();
        const got = await runPeer(peerPython, c, hostThreads(), opts.quick);
        if ("row" in got) {
          r.peer_fwd_ms = got.row.fwd_ms;
          r.peer_fwd_bwd_ms = got.row.fwd_bwd_ms;
          r.peer_reps = got.row.reps;
          r.peer = peerLabel(got.row);
          if (got.row.note) peerDetails.push(`${c.op} ${got.row.shape}: ${got.row.note}`);
          peerTook = `; PyTorch ${((performance.now() - p0) / 1000).toFixed(1)} s`;
        } else if ("unavailable" in got) {
          peerOff = got.unavailable;
          peerTook = "; PyTorch peer skipped";
        } else {
          notes.push(`the PyTorch peer failed on ${c.op} ${c.shape}: ${got.failed}`);
          peerTook = "; PyTorch failed";
        }
      }
      results.push(r);
      process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s${peerTook}\n`);
      writeJsonAtomic(opts.json, benchRecord()); // kept current, so an interrupted run keeps what it measured
    }
  }
  writeJsonAtomic(opts.json, { ...benchRecord(), run: { ...info, backend: run.join(", "), finished_at: new Date().toISOString() } });

  const peered = results.filter((r) => r.peer !== undefined);
  console.log(table(results, peered.length > 0));
  const singles = results.reduce((n, r) => n + r.single_run.length, 0);
  const refLimitS = LIMIT_S.reference[opts.quick ? "quick" : "normal"];
  console.log(
    [
      "",
      "fwd: median forward time; fwd+bwd: median time of the gradients of Σ y·r (fixed random r)" +
        " with respect to every input, forward included.",
      "ref: the same computation in plain tf ops on the same backend, with the hand-written" +
        " kernels switched off; ref/fast > 1: the library is faster.",
      "reps: warm runs behind each median (fwd/fwd+bwd/ref fwd/ref fwd+bwd)." +
        ` Small cases: ${describePlan(planFor(opts.quick, false))}.`,
      `The full S4 layer: ${describePlan(planFor(opts.quick, true))}.`,
      ...(singles
        ? [
            `${SINGLE_MARK} ${SINGLE_RUN} (reps 1; ${singles} in this table): too slow for a warm-up` +
              ` and ${MIN_WARM_RUNS} more runs within the time limit, so the first run, cold` +
              " (one-time costs included), is the only sample.",
          ]
        : []),
      `References are stopped after ${refLimitS} s (then "> N s").`,
      ...(peered.length
        ? [
            `PyTorch: bench/torch_peer.py on ${[...new Set(peered.map((r) => r.peer))].join("; ")} (${peerPython}),` +
              ` the same ops and sizes, timed right after our ${peerBackend} row of each op, medians of` +
              ` at least ${MIN_WARM_RUNS} warm runs; ours/PyTorch < 1: ours is faster. Its S4 layer keeps one` +
              " mode of each conjugate pair and evaluates L/2 + 1 frequencies (irfft), as the official S4" +
              " does, where ours sums all N modes at all L roots; its selective scan, alone and in its" +
              " Mamba block, is Mamba's Python-loop reference (selective_scan_ref).",
            ...peerDetails.map((d) => `PyTorch ${d}.`),
          ]
        : []),
    ].join("\n"),
  );
  const refs = [...new Set(cases.filter((c) => results.some((r) => r.op === c.op)).map((c) => `${c.op}: ${c.referenceName}`))];
  if (opts.reference && refs.length) console.log(`references: ${refs.join("; ")}`);
  for (const n of notes) console.log(`note: ${n}`);
  if (peerOff) {
    console.log(
      `note: PyTorch peer skipped: ${peerOff}; install PyTorch (Debian: apt-get install python3-torch)` +
        ` or set S4_PEER_PYTHON to a Python that has torch`,
    );
  }
  for (const f of failures) console.log(`FAILED: ${f}`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s; results in ${opts.json}`);
  return failures.length ? 1 : 0;
}

runMain("bench", () => main(process.argv.slice(2)));
