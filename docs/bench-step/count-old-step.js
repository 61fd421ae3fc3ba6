// Counts one training step of the library as it was at an older commit (a checkout of it, built,
// is argv[3]) with the counters of this checkout: the step of that commit's training loop —
// forward, gradients, AdamW, then its two reads of loss and accuracy. Used for the "before" rows
// of docs/benchmarks.md, with the presets annotated-s4-classification and mamba-classification at
// batch 8. OLD_CHECKOUT must use this checkout's node_modules (a symlink), so that both share one tfjs:
//   node docs/bench-step-before/count-old-step.js wasm|webgpu OLD_CHECKOUT s4|mamba
const tf = require(require.resolve("@tensorflow/tfjs", { paths: [process.argv[3]] }));
const { countDeviceTraffic, countKernels } = require("../../dist/train/step-counters");
(async () => {
  const backend = process.argv[2], lib = require(require("node:path").resolve(process.argv[3], "dist", "index.js"));
  const layer = process.argv[4] || "s4";
  await lib.useBackend(backend, { quiet: true });
  const task = lib.makeTask("mnist-classification", "train", { limit: 64 });
  const model = new lib.StackedModel(layer === "mamba"
    ? { task: "classification", layerKind: "mamba", dModel: 120, nLayers: 4, n: 16, l: 784, numClasses: 10, dropout: 0.25, seed: 0 }
    : { task: "classification", layerKind: "s4", dModel: 128, nLayers: 4, n: 64, l: 784, numClasses: 10, prenorm: true, dropout: 0.25, seed: 0 });
  const opt = new lib.AdamW(model.parameters(), lib.paramGroupsFor(layer), { lr: 5e-3, weightDecay: 0.01 });
  const params = model.parameters();
  const idx = [0, 1, 2, 3, 4, 5, 6, 7];
  const step = async () => {
    const { x, y } = task.makeBatch(idx);
    let correct;
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(x, { training: true });
      const flat = tf.reshape(logits, [-1, 10]);
      const yy = tf.reshape(y, [-1]);
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(flat), tf.oneHot(tf.cast(yy, "int32"), 10)), 1)));
      correct = tf.keep(tf.mean(tf.cast(tf.equal(tf.argMax(flat, 1), tf.cast(yy, "int32")), "float32")));
      return loss;
    }, Object.values(params));
    const named = {};
    for (const [n, v] of Object.entries(params)) named[n] = grads[v.name];
    opt.step(named, 1e-3);
    await value.data(); await correct.data();
    tf.dispose([x, y, value, correct, ...Object.values(grads)]);
  };
  await step(); await step();
  const t = await countDeviceTraffic(() => step());
  const k = await countKernels(() => step());
  const times = [];
  for (let i = 0; i < 3; i++) { const t0 = performance.now(); await step(); times.push(performance.now() - t0); }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ backend, layer, kernels: k.counts.kernels, ...t.traffic, upload_sizes: undefined, median_ms: times[1] }));
})();
