// Child process of reference-kernels.test.js (the kernel mode is read when the library loads, so
// each mode needs its own process): trains a few steps of each layer kind named on the command
// line on the cpu backend, with whatever S4_KERNELS says, and prints one JSON line with the mode,
// the hand-written kernels tfjs knows, and per layer the loss of every step, the summary and the
// tensor count before and after.
// Usage: node test/reference-run.js OUT_DIR LAYER...
const path = require("node:path");
const tf = require("@tensorflow/tfjs");
const lib = require("../dist");

async function main() {
  const [outDir, ...layers] = process.argv.slice(2);
  await lib.useBackend("cpu", { quiet: true });
  const names = lib.kernels.registeredKernelNames();
  const record = {
    mode: lib.kernels.kernelMode(),
    names,
    registered: names.filter((k) => ["cpu", "wasm", "webgpu"].some((b) => tf.getKernel(k, b))),
    runs: {},
  };
  for (const layer of layers) {
    const losses = [];
    const tensorsBefore = tf.memory().numTensors;
    const summary = await lib.train.fit(
      {
        task: "mnist-classification",
        layer: /** @type {import("../dist").nn.LayerKind} */ (layer),
        epochs: 2,
        bsz: 8,
        dModel: 4,
        nLayers: 2,
        n: 4,
        lr: 1e-2,
        dropout: 0.1,
        trainLimit: 16,
        valLimit: 8,
        testLimit: 8,
        seed: 11,
        out: path.join(outDir, layer),
      },
      { onStep: (info) => losses.push(info.loss) },
    );
    record.runs[layer] = { losses, summary, tensorsBefore, tensorsAfter: tf.memory().numTensors };
  }
  process.stdout.write(JSON.stringify(record) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
