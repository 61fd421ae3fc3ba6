/**
 * One measurement process of `npm run bench`:
 *   node dist/cli/bench-worker.js <backend> <case key> fast|reference [--quick]
 * Times the forward and then the forward + backward of one case on one backend, printing each
 * result as soon as it is known, as a line `@bench {json}`. The parent stops a process that runs
 * past its time limit and keeps what was printed; a crash (e.g. wasm out of memory) stays here.
 */
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../backend";
import { CASES } from "./bench-cases";
import { disableKernels, forwardBackwardOnce, forwardOnce, measure, planFor } from "./bench-timing";

export const MARK = "@bench ";

export type WorkerEvent =
  | { event: "measured"; what: "fwd" | "fwd_bwd"; ms: number; reps: number }
  | { event: "leaked"; tensors: number }
  | { event: "too-large"; what: "fwd_bwd"; message: string }
  | { event: "error"; message: string };

const say = (e: WorkerEvent) => console.log(MARK + JSON.stringify(e));

async function main(argv: string[]): Promise<void> {
  const [backend, key, variant] = argv;
  const c = CASES.find((x) => x.key === key);
  if (!backend || !c || (variant !== "fast" && variant !== "reference")) {
    throw new Error(`usage: bench-worker <backend> <${CASES.map((x) => x.key).join("|")}> fast|reference [--quick]`);
  }
  await useBackend(backend, { quiet: true });
  if (variant === "reference" && !c.referenceIsKernel) disableKernels();
  const plan = planFor(argv.includes("--quick"), c.large);
  const before = tf.memory().numTensors;
  const prep = c.prepare();
  const f = variant === "fast" ? prep.fast : prep.reference;
  const fwd = await measure(() => forwardOnce(f, prep.inputs), plan);
  say({ event: "measured", what: "fwd", ...fwd });
  try {
    const fwdBwd = await measure(() => forwardBackwardOnce(f, prep.inputs, prep.r), plan);
    say({ event: "measured", what: "fwd_bwd", ...fwdBwd });
  } catch (e) {
    // A device whose buffers are too small for the backward at this size: the forward stands.
    const message = e instanceof Error ? e.message : String(e);
    if (!/storage buffer limit/.test(message)) throw e;
    say({ event: "too-large", what: "fwd_bwd", message: message.split("\n")[0] });
  }
  tf.dispose([...prep.inputs, prep.r, ...prep.extra]);
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) say({ event: "leaked", tensors: leaked });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e) => {
      say({ event: "error", message: (e instanceof Error ? e.message : String(e)).split("\n")[0] });
      process.exit(1);
    },
  );
}
