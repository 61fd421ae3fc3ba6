/**
 * Autoregressive generation of MNIST digits with a trained sequence model in RNN mode.
 *
 * The model predicts pixel t from pixels < t. Generation feeds the 0 start token, then the given
 * prefix pixels one by one (teacher forcing, so the state after the prefix is the one the
 * convolutional view would compute), and from there on draws each pixel from
 * softmax(logits / temperature) and feeds it back, until all 784 pixels are known. The batch of
 * images advances together, one position per step.
 *
 * Sampling happens on the host with a seeded generator: the logits of each generated position are
 * read back anyway (the drawn pixel is the next input), and a host sampler gives the same pixels
 * for the same seed and logits on every backend.
 */
import * as tf from "@tensorflow/tfjs";
import { StackedModel, disposeState, LayerState } from "./nn";
import { mulberry32 } from "./random";
import { formatShape } from "./shape-format";

/** Pixels in one MNIST image (28 × 28). */
export const DIGIT_PIXELS = 784;

export interface SampleStats {
  /** Images in the batch. */
  batch: number;
  /** Positions stepped (always 784). */
  steps: number;
  /** Positions that were drawn rather than copied from the prefix, per image. */
  sampledSteps: number;
  /** Wall-clock seconds of the whole completion (recurrence setup included). */
  seconds: number;
  /** batch · 784 / seconds: every stepped pixel of every image counts. */
  pixelsPerSecond: number;
}

export interface SampleOptions {
  /** Divides the logits before the softmax; > 0. Default 1. */
  temperature?: number;
  /** Seed of the host sampler (integer ≥ 0). Default 0. */
  seed?: number;
  /** Take the most likely pixel instead of drawing one. Default false. */
  greedy?: boolean;
  /**
   * Rebuild the RNN matrices from the current parameters first (default true). Pass false when
   * `model.setupRecurrence()` has already been awaited and the parameters have not changed.
   */
  setup?: boolean;
  /**
   * Called after every step with t and the logits (b · 256, row-major) that predict pixel t. The
   * prefix part is read back only when this is given (it costs one read per step).
   */
  onStep?: (t: number, logits: Float32Array) => void;
  /** Receives the timing of the completion. */
  onStats?: (stats: SampleStats) => void;
}

function checkSequenceModel(fn: string, model: StackedModel): void {
  if (!(model instanceof StackedModel)) throw new Error(`${fn}: model must be a StackedModel, got ${String(model)}`);
  if (model.opts.task !== "sequence")
    throw new Error(`${fn}: model must be a sequence model (task "sequence"), got task "${model.opts.task}"`);
  if (model.opts.numClasses !== 256)
    throw new Error(`${fn}: model must predict 256 pixel values (numClasses 256), got numClasses ${model.opts.numClasses}`);
  if (model.opts.l !== DIGIT_PIXELS)
    throw new Error(`${fn}: model must have sequence length l = ${DIGIT_PIXELS} (28×28 images), got l = ${model.opts.l}`);
}

/** The prefixes as host bytes (b · 784) and the batch size. */
async function prefixPixels(fn: string, prefixes: Uint8Array | tf.Tensor): Promise<{ pixels: Uint8Array; b: number }> {
  if (prefixes instanceof tf.Tensor) {
    if (prefixes.rank !== 2 || prefixes.shape[1] !== DIGIT_PIXELS || prefixes.shape[0] < 1) {
      throw new Error(`${fn}: prefixes must be a tensor of shape (b ≥ 1, ${DIGIT_PIXELS}), got ${formatShape(prefixes.shape)}`);
    }
    if (prefixes.dtype !== "int32") throw new Error(`${fn}: a prefixes tensor must have dtype int32, got ${prefixes.dtype}`);
    const data = (await prefixes.data()) as Int32Array;
    const pixels = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      if (data[i] < 0 || data[i] > 255) throw new Error(`${fn}: prefixes must hold pixels in 0..255, got ${data[i]} at index ${i}`);
      pixels[i] = data[i];
    }
    return { pixels, b: prefixes.shape[0] };
  }
  if (!(prefixes instanceof Uint8Array))
    throw new Error(
      `${fn}: prefixes must be a Uint8Array (b · ${DIGIT_PIXELS}) or an int32 tensor (b, ${DIGIT_PIXELS}), got ${String(prefixes)}`,
    );
  if (prefixes.length === 0 || prefixes.length % DIGIT_PIXELS !== 0) {
    throw new Error(`${fn}: prefixes must hold b · ${DIGIT_PIXELS} pixels for some b ≥ 1, got ${prefixes.length}`);
  }
  return { pixels: prefixes.slice(), b: prefixes.length / DIGIT_PIXELS };
}

/** Draws one index of each row of logits (b, k) into out[row·stride + t]. */
function drawPixels(
  logits: Float32Array,
  b: number,
  k: number,
  temperature: number,
  greedy: boolean,
  rand: () => number,
  out: Uint8Array,
  t: number,
): void {
  const p = new Float64Array(k);
  for (let i = 0; i < b; i++) {
    const row = logits.subarray(i * k, (i + 1) * k);
    let best = 0;
    for (let j = 1; j < k; j++) if (row[j] > row[best]) best = j;
    if (greedy) {
      out[i * DIGIT_PIXELS + t] = best;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < k; j++) {
      p[j] = Math.exp((row[j] - row[best]) / temperature);
      sum += p[j];
    }
    // One uniform per image and step, drawn even when the row is degenerate, so that the
    // sequence of draws (and hence the result) depends only on the seed.
    let u = rand() * sum;
    let pick = best;
    if (Number.isFinite(sum)) {
      for (let j = 0; j < k; j++) {
        u -= p[j];
        if (u < 0) {
          pick = j;
          break;
        }
      }
    }
    out[i * DIGIT_PIXELS + t] = pick;
  }
}

/**
 * Completes b images from their first `prefixLength` pixels: pixels before prefixLength are kept,
 * the rest are generated in RNN mode. → the b · 784 completed pixels (row-major, image after image).
 */
/** RNN steps queued at most before the host waits for the device. */
const SYNC_EVERY = 16;

export async function completeDigits(
  model: StackedModel,
  prefixes: Uint8Array | tf.Tensor,
  prefixLength: number,
  opts: SampleOptions = {},
): Promise<Uint8Array> {
  const fn = "completeDigits";
  checkSequenceModel(fn, model);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > DIGIT_PIXELS) {
    throw new Error(`${fn}: prefixLength must be an integer in [0, ${DIGIT_PIXELS}], got ${prefixLength}`);
  }
  const greedy = opts.greedy ?? false;
  const temperature = opts.temperature ?? 1;
  if (!greedy && !(typeof temperature === "number" && Number.isFinite(temperature) && temperature > 0)) {
    throw new Error(`${fn}: temperature must be a finite number > 0 (or pass greedy: true), got ${temperature}`);
  }
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`${fn}: seed must be an integer ≥ 0, got ${seed}`);
  const { pixels: out, b } = await prefixPixels(fn, prefixes);

  const start = performance.now();
  if (opts.setup ?? true) await model.setupRecurrence();
  const rand = mulberry32(seed);
  const k = model.opts.numClasses;
  let states: LayerState[] = model.initState(b);
  let input = tf.zeros([b], "int32");
  try {
    for (let t = 0; t < DIGIT_PIXELS; t++) {
      const r = model.stepModel(states, input);
      disposeState(states);
      states = r.states;
      input.dispose();
      try {
        if (t >= prefixLength || opts.onStep) {
          const logits = (await r.logits.data()) as Float32Array;
          opts.onStep?.(t, logits);
          if (t >= prefixLength) drawPixels(logits, b, k, temperature, greedy, rand, out, t);
        } else if (t % SYNC_EVERY === SYNC_EVERY - 1) {
          // Through a long prefix nothing is read back; waiting now and then keeps a GPU's queue
          // bounded (Dawn on lavapipe crashes after some hundred unsynchronized steps).
          await r.logits.data();
        }
      } finally {
        r.logits.dispose();
      }
      const next = new Int32Array(b);
      for (let i = 0; i < b; i++) next[i] = out[i * DIGIT_PIXELS + t];
      input = tf.tensor1d(next, "int32");
    }
  } finally {
    input.dispose();
    disposeState(states);
  }
  const seconds = (performance.now() - start) / 1000;
  opts.onStats?.({
    batch: b,
    steps: DIGIT_PIXELS,
    sampledSteps: DIGIT_PIXELS - prefixLength,
    seconds,
    pixelsPerSecond: (b * DIGIT_PIXELS) / seconds,
  });
  return out;
}

/** Generates `count` images from scratch (a completion from an empty prefix). */
export async function sampleDigits(model: StackedModel, count: number, opts: SampleOptions = {}): Promise<Uint8Array> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`sampleDigits: count must be an integer ≥ 1, got ${count}`);
  return completeDigits(model, new Uint8Array(count * DIGIT_PIXELS), 0, opts);
}
