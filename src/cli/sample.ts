/**
 * npm run sample -- --checkpoint <path> [--count 8] [--prefix 300] [--temperature 1] [--seed 0]
 *                   [--greedy] [--out <file.png>] [--backend <name>]
 *
 * Loads a sequence-model checkpoint, takes the first `count` MNIST test images, completes each
 * from its first `prefix` pixels in RNN mode and writes a PNG grid (original | prefix |
 * completion, one example per row; default <checkpoint dir>/samples.png). Prints the speed in
 * pixels per second. Exit status 2 on bad usage or an unusable checkpoint, 1 on other failures.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { BACKEND_ORDER, chooseBackend, useBackend } from "../backend";
import { loadMnist } from "../data";
import { digitGrid, encodePng, writePngAtomic } from "../viz/png";
import { DIGIT_PIXELS, SampleStats, completeDigits } from "../sample";
import { loadModelCheckpoint } from "../train/model-checkpoint";
import { FlagError, ParsedFlags, parseFlags } from "./flags";

const USAGE = `usage: npm run sample -- --checkpoint <path> [--count 8] [--prefix 300] [--temperature 1] [--seed 0] [--greedy] [--out <file.png>] [--backend <name>]
  --checkpoint <path>  a sequence-model checkpoint (task "sequence", 256 classes): its base
                       path or its .json manifest
  --count <n>          how many MNIST test images to complete (integer ≥ 1; default 8)
  --prefix <k>         how many leading pixels are given (integer in [0, 784]; default 300)
  --temperature <t>    softmax temperature (number > 0; default 1)
  --seed <s>           sampler seed (integer ≥ 0; default 0)
  --greedy             take the most likely pixel instead of sampling
  --out <file.png>     where to write the grid (default <checkpoint dir>/samples.png)
  --backend <name>     ${BACKEND_ORDER.join(", ")} (default: the best that works)`;

class UsageError extends Error {}

function usage(msg: string): never {
  throw new UsageError(msg);
}

interface Options {
  checkpoint: string;
  count: number;
  prefix: number;
  temperature: number;
  seed: number;
  greedy: boolean;
  out: string | null;
  backend: string | null;
}

function parseArgs(argv: string[]): Options {
  let values: ParsedFlags["values"];
  try {
    ({ values } = parseFlags(argv, {
      checkpoint: { type: "string" },
      count: { type: "string" },
      prefix: { type: "string" },
      seed: { type: "string" },
      temperature: { type: "string" },
      greedy: { type: "boolean" },
      out: { type: "string" },
      backend: { type: "string" },
      help: { type: "boolean", short: "h" },
    }));
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    usage(e.problem === "unknown" || e.problem === "positional" ? `unknown argument "${e.flag}"` : e.message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const str = (name: string): string | undefined => values[name] as string | undefined;
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = str(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      usage(`--${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? "∞" : max}], got "${v}"`);
    }
    return n;
  };
  const o: Options = {
    checkpoint: str("checkpoint") ?? "",
    count: int("count", 8, 1),
    prefix: int("prefix", 300, 0, DIGIT_PIXELS),
    seed: int("seed", 0, 0, 0xffffffff),
    temperature: 1,
    greedy: Boolean(values.greedy),
    out: str("out") ?? null,
    backend: str("backend") ?? null,
  };
  const temperature = str("temperature");
  if (temperature !== undefined) {
    const t = Number(temperature);
    if (temperature.trim() === "" || !Number.isFinite(t) || t <= 0) usage(`--temperature must be a number > 0, got "${temperature}"`);
    o.temperature = t;
  }
  if (o.backend !== null && !(BACKEND_ORDER as readonly string[]).includes(o.backend)) {
    usage(`--backend must be one of ${BACKEND_ORDER.join(", ")}, got "${o.backend}"`);
  }
  if (!o.checkpoint) usage("--checkpoint <path> is required");
  if (o.out !== null && !o.out.toLowerCase().endsWith(".png")) usage(`--out must name a .png file, got "${o.out}"`);
  return o;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  // A checkpoint is named by its base path (<base>.json holds the manifest); the manifest's own
  // name is accepted too.
  let ckpt = o.checkpoint;
  if (!existsSync(`${ckpt}.json`) && ckpt.endsWith(".json") && existsSync(ckpt)) ckpt = ckpt.slice(0, -".json".length);
  if (!existsSync(`${ckpt}.json`)) usage(`--checkpoint: no checkpoint at ${o.checkpoint} (expected its manifest ${ckpt}.json)`);
  const out = o.out ?? path.join(path.dirname(ckpt), "samples.png");
  if (!existsSync(path.dirname(path.resolve(out)))) usage(`--out: the folder of ${out} does not exist`);

  if (o.backend) await useBackend(o.backend);
  else await chooseBackend();

  let saved;
  try {
    saved = await loadModelCheckpoint(ckpt);
  } catch (e) {
    usage(`--checkpoint ${o.checkpoint} could not be loaded: ${(e as Error).message}`);
  }
  const { model, optimizerState } = saved;
  if (optimizerState) tf.dispose(Object.values(optimizerState.tensors));
  try {
    const { task, numClasses, l } = model.opts;
    if (task !== "sequence" || numClasses !== 256 || l !== DIGIT_PIXELS) {
      usage(
        `--checkpoint ${o.checkpoint} needs a sequence-model checkpoint (task "sequence", 256 classes, l = ${DIGIT_PIXELS}); this one has task "${task}", ${numClasses} classes, l = ${l}`,
      );
    }
    const data = loadMnist("test", { limit: o.count });
    if (data.n < o.count) usage(`--count ${o.count} is more than the ${data.n} test images`);
    const originals = data.images.subarray(0, o.count * DIGIT_PIXELS);
    let stats: SampleStats | null = null;
    const what = o.greedy ? "greedy" : `temperature ${o.temperature}, seed ${o.seed}`;
    console.log(`sample: completing ${o.count} test image(s) from ${o.prefix} of ${DIGIT_PIXELS} pixels (${what})`);
    const done = await completeDigits(model, originals, o.prefix, {
      temperature: o.temperature,
      seed: o.seed,
      greedy: o.greedy,
      onStats: (s) => {
        stats = s;
      },
    });
    const rows = Array.from({ length: o.count }, (_, i) => ({
      original: originals.slice(i * DIGIT_PIXELS, (i + 1) * DIGIT_PIXELS),
      prefixLength: o.prefix,
      completion: done.slice(i * DIGIT_PIXELS, (i + 1) * DIGIT_PIXELS),
    }));
    const grid = digitGrid(rows);
    writePngAtomic(out, encodePng(grid.pixels, grid.width, grid.height));
    const s = stats as SampleStats | null;
    if (s) console.log(`sample: ${s.batch}×${s.steps} pixels in ${s.seconds.toFixed(2)} s: ${Math.round(s.pixelsPerSecond)} pixels/s`);
    console.log(`sample: wrote ${out} (${grid.width}×${grid.height})`);
  } finally {
    model.dispose();
  }
}

main().catch((e) => {
  if (e instanceof UsageError) {
    console.error(`sample: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`sample: ${(e as Error)?.stack ?? e}`);
  process.exit(1);
});
