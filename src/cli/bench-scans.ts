/**
 * node dist/cli/bench-scans.js [--quick] [--json <file>] [--backend cpu|wasm|webgpu]
 *
 * Times the ways of running Mamba's selective SSM on one backend, at b=16, d=64, n=16, l=784
 * (--quick: a small size): the loop over time, the parallel scans built from tf ops (doubling,
 * tree, chunked; their gradients by the reverse scan) and the fused kernel `selectiveScan`.
 * For each: the forward time and the forward + backward time (the gradients of Σ y·r for fixed
 * random r with respect to u, Δ, A, B, C, D), each the median of at least three warm runs or,
 * where one run is too slow for that, a single run (marked in the table and the JSON), and both
 * as multiples of the fused kernel's. Prints a table and writes JSON (default
 * build/bench-scans.json). Exit status 1 when a variant fails, 2 on bad usage.
 */
import * as tf from "@tensorflow/tfjs";
import * as path from "node:path";
import { BackendName, chooseBackend, useBackend } from "../backend";
import { selectiveScan } from "../kernels/selective-scan";
import { selectiveSSMLoop, selectiveSSMParallel } from "../mamba";
import { mulberry32 } from "../random";
import type { Fn } from "./bench-cases";
import {
  MIN_WARM_RUNS,
  SINGLE_RUN,
  Timing,
  describePlan,
  forwardBackwardOnce,
  forwardOnce,
  isSingleRun,
  measure,
  planFor,
  textTable,
  writeJsonAtomic,
} from "./bench-timing";
import { exitWithUsage, parseFlagsOrExit } from "./flags";
import { runMain } from "./run-main";

const BACKENDS = ["cpu", "wasm", "webgpu"] as const;
const USAGE = `usage: node dist/cli/bench-scans.js [--quick] [--json <file>] [--backend ${BACKENDS.join("|")}]
  --quick           a small size (b=2 d=16 n=8 l=128) and fewer repetitions
  --json <file>     where to write the results (default build/bench-scans.json)
  --backend <name>  default: webgpu on a real GPU, else wasm, else cpu`;

function usage(msg: string): never {
  return exitWithUsage("bench-scans", USAGE, msg);
}

interface Options {
  quick: boolean;
  json: string;
  backend: BackendName | null;
}

function parseArgs(argv: string[]): Options {
  const values = parseFlagsOrExit("bench-scans", USAGE, argv, {
    quick: { type: "boolean" },
    json: { type: "string" },
    backend: { type: "string" },
  });
  const backend = values.backend as string | undefined;
  if (backend !== undefined && !(BACKENDS as readonly string[]).includes(backend)) {
    usage(`--backend must be one of ${BACKENDS.join(", ")}, got "${backend}"`);
  }
  return {
    quick: Boolean(values.quick),
    json: (values.json as string | undefined) ?? path.join("build", "bench-scans.json"),
    backend: (backend as BackendName | undefined) ?? null,
  };
}

// ---- The variants ------------------------------------------------------------------------------------

interface Sizes {
  b: number;
  d: number;
  n: number;
  l: number;
}

const FULL: Sizes = { b: 16, d: 64, n: 16, l: 784 };
const QUICK: Sizes = { b: 2, d: 16, n: 8, l: 128 };
const CHUNK = 64;

interface Variant {
  name: string;
  /** (u, delta, A, B, C, D) → y. */
  f: Fn;
  /** Timed with the plan for slow cases (planFor). */
  slow: boolean;
}

const yOnly = (r: { y: tf.Tensor; lastState: tf.Tensor }): tf.Tensor => {
  r.lastState.dispose();
  return r.y;
};

const VARIANTS: Variant[] = [
  { name: "sequential loop", slow: true, f: (u, dt, A, B, C, D) => yOnly(selectiveSSMLoop(u, dt, A, B, C, D)) },
  {
    name: "hillis-steele",
    slow: false,
    f: (u, dt, A, B, C, D) => yOnly(selectiveSSMParallel(u, dt, A, B, C, D, { method: "hillis-steele" })),
  },
  { name: "blelloch", slow: false, f: (u, dt, A, B, C, D) => yOnly(selectiveSSMParallel(u, dt, A, B, C, D, { method: "blelloch" })) },
  {
    name: "chunked",
    slow: false,
    f: (u, dt, A, B, C, D) => yOnly(selectiveSSMParallel(u, dt, A, B, C, D, { method: "chunked", chunk: CHUNK })),
  },
  { name: "fused kernel", slow: false, f: (u, dt, A, B, C, D) => yOnly(selectiveScan(u, dt, A, B, C, { D })) },
];

/** Seeded pseudo-normal values (sum of three uniforms). */
function randn(n: number, seed: number, scale = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => scale * 2 * (next() + next() + next() - 1.5));
}

/** Inputs as in a Mamba block: Δ in about (0.001, 0.1), A = −(1, 2, …, n) per channel (S4D-real). */
function makeInputs({ b, d, n, l }: Sizes): { inputs: tf.Tensor[]; r: tf.Tensor } {
  const next = mulberry32(6);
  const delta = Float32Array.from({ length: b * d * l }, () => Math.exp(Math.log(1e-3) + next() * Math.log(100)));
  return {
    inputs: [
      tf.tensor3d(randn(b * d * l, 1), [b, d, l]), // u (b, d, l)
      tf.tensor3d(delta, [b, d, l]), // delta (b, d, l)
      tf.tensor2d(
        Float32Array.from({ length: d * n }, (_, i) => -(1 + (i % n))),
        [d, n],
      ), // A (d, n)
      tf.tensor3d(randn(b * n * l, 3), [b, n, l]), // B (b, n, l)
      tf.tensor3d(randn(b * n * l, 4), [b, n, l]), // C (b, n, l)
      tf.tensor1d(randn(d, 5)), // D (d)
    ],
    r: tf.tensor3d(randn(b * d * l, 7), [b, d, l]), // loss weights, the shape of y
  };
}

// ---- Output -----------------------------------------------------------------------------------------------

interface Result {
  variant: string;
  fwd_ms: number;
  fwd_bwd_ms: number;
  /** Multiples of the fused kernel's times (> 1: slower than the kernel). */
  fwd_vs_fused: number;
  fwd_bwd_vs_fused: number;
  /** Warm runs behind each median; 1 for a single run. */
  reps: { fwd: number; fwd_bwd: number };
  /** The sides timed by a single (cold) run instead of a median: too slow to repeat. */
  single_run: ("fwd" | "fwd_bwd")[];
  /** max |y − y_fused|: every variant computes the same y. */
  max_abs_diff_y: number;
}

const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

/** Marks a time in the table that comes from a single run. */
const SINGLE_MARK = "*";

const cell = (r: Result, side: "fwd" | "fwd_bwd", ms: number) => fmtMs(ms) + (r.single_run.includes(side) ? SINGLE_MARK : "");

function table(results: Result[]): string {
  const head = ["variant", "fwd ms", "fwd+bwd ms", "fwd ×fused", "fwd+bwd ×fused", "reps", "max |Δy|"];
  const rows = results.map((r) => [
    r.variant,
    cell(r, "fwd", r.fwd_ms),
    cell(r, "fwd_bwd", r.fwd_bwd_ms),
    `${r.fwd_vs_fused.toFixed(1)}×`,
    `${r.fwd_bwd_vs_fused.toFixed(1)}×`,
    `${r.reps.fwd}/${r.reps.fwd_bwd}`,
    r.max_abs_diff_y.toExponential(1),
  ]);
  return textTable(head, rows, 1);
}

/** max |x − y|, read asynchronously (WebGPU cannot read synchronously in Node). */
async function maxAbsDiff(x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const m = tf.tidy(() => tf.max(tf.abs(tf.sub(x, y))));
  const [v] = await m.data();
  m.dispose();
  return v;
}

// ---- Main -----------------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  const started = performance.now();
  const choice = opts.backend
    ? await useBackend(opts.backend, { quiet: true })
    : await chooseBackend({ quiet: true, order: ["webgpu", "wasm", "cpu"] });
  const sizes = opts.quick ? QUICK : FULL;
  const { inputs, r } = makeInputs(sizes);
  const notes: string[] = [];
  const failures: string[] = [];

  // The fused kernel first: its y is what every variant is compared with, its times the unit.
  const ordered = [VARIANTS[VARIANTS.length - 1], ...VARIANTS.slice(0, -1)];
  const fusedY = tf.tidy(() => ordered[0].f(...inputs));
  const measured = new Map<string, { fwd: Timing; fwdBwd: Timing; diff: number }>();
  for (const v of ordered) {
    process.stderr.write(`bench-scans: ${v.name} on ${choice.name} … `);
    const t0 = performance.now();
    const before = tf.memory().numTensors;
    try {
      const plan = planFor(opts.quick, v.slow);
      const fwd = await measure(() => forwardOnce(v.f, inputs), plan);
      const fwdBwd = await measure(() => forwardBackwardOnce(v.f, inputs, r), plan);
      const y = tf.tidy(() => v.f(...inputs));
      const diff = await maxAbsDiff(y, fusedY);
      y.dispose();
      measured.set(v.name, { fwd, fwdBwd, diff });
      process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (e) {
      process.stderr.write("failed\n");
      failures.push(`${v.name}: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`);
    }
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) notes.push(`${v.name} left ${leaked} tensor(s) behind`);
  }
  tf.dispose([...inputs, r, fusedY]);

  const fused = measured.get("fused kernel");
  const results: Result[] = [];
  for (const v of VARIANTS) {
    const m = measured.get(v.name);
    if (!m || !fused) continue;
    results.push({
      variant: v.name,
      fwd_ms: m.fwd.ms,
      fwd_bwd_ms: m.fwdBwd.ms,
      fwd_vs_fused: m.fwd.ms / fused.fwd.ms,
      fwd_bwd_vs_fused: m.fwdBwd.ms / fused.fwdBwd.ms,
      reps: { fwd: m.fwd.reps, fwd_bwd: m.fwdBwd.reps },
      single_run: [...(isSingleRun(m.fwd) ? ["fwd" as const] : []), ...(isSingleRun(m.fwdBwd) ? ["fwd_bwd" as const] : [])],
      max_abs_diff_y: m.diff,
    });
  }
  const { b, d, n, l } = sizes;
  writeJsonAtomic(opts.json, { backend: choice.name, quick: opts.quick, sizes, chunk: CHUNK, results, notes, failures });

  console.log(`selective SSM, b=${b} d=${d} n=${n} l=${l}, backend ${choice.name}${opts.quick ? " (--quick)" : ""}\n`);
  console.log(table(results));
  const slowPlan = planFor(opts.quick, true),
    plan = planFor(opts.quick, false);
  console.log(
    [
      "",
      "fwd: median forward time; fwd+bwd: median time of the gradients of Σ y·r (fixed random r) with respect to u, Δ, A, B, C, D, forward included.",
      "×fused: the time as a multiple of the fused kernel's (selectiveScan). The parallel scans (hillis-steele, blelloch, chunked, chunk " +
        `${CHUNK}) are tf ops with the reverse-scan gradient; the sequential loop is l steps of tf ops differentiated by autodiff.`,
      `reps: warm runs behind each median (fwd/fwd+bwd): ${describePlan(plan)}.`,
      `The sequential loop is slow, so it is timed with fewer runs: ${describePlan(slowPlan)}.`,
      ...(results.some((x) => x.single_run.length)
        ? [
            `${SINGLE_MARK} ${SINGLE_RUN} (reps 1): too slow for a warm-up and ${MIN_WARM_RUNS} more` +
              " runs, so the first run, cold (one-time costs included), is the only sample.",
          ]
        : []),
      "max |Δy|: the largest difference from the fused kernel's y (float32 tf ops against the kernel's float64 host loop or WGSL).",
    ].join("\n"),
  );
  for (const note of notes) console.log(`note: ${note}`);
  for (const f of failures) console.log(`FAILED: ${f}`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s; results in ${opts.json}`);
  return failures.length ? 1 : 0;
}

runMain("bench-scans", () => main(process.argv.slice(2)));
