// A WebGPU kernel whose program the device rejects throws, naming the kernel and the device's
// message, instead of returning whatever its output buffer held.
const { describeWebGPU, tf, lib, assert } = require("./helpers");

describeWebGPU("WebGPU kernels: programs the device rejects", function () {
  const { registerWebGPUKernel, flatProgram, runKernel } = lib.kernels;

  it("a WGSL error throws with the kernel's name and the compiler's message", () => {
    registerWebGPUKernel("TestRejectedProgram", ["x"], (shapes) => [
      {
        program: flatProgram("testRejectedProgram", ["x"], shapes[0], "fn main(index : i32) { result[index] = notDeclared; }"),
        inputs: [0],
      },
    ]);
    const x = tf.ones([4]);
    try {
      assert.throws(
        () => runKernel("TestRejectedProgram", { x }),
        /TestRejectedProgram \(webgpu\): the device rejected a program: .*notDeclared/,
      );
    } finally {
      x.dispose();
      tf.unregisterKernel("TestRejectedProgram", "webgpu");
    }
  });

  it("a valid program after it runs as before", async () => {
    registerWebGPUKernel("TestDoubling", ["x"], (shapes) => [
      {
        program: flatProgram(
          "testDoubling",
          ["x"],
          shapes[0],
          "fn main(index : i32) { if (index < uniforms.size) { result[index] = 2.0 * x[index]; } }",
        ),
        inputs: [0],
      },
    ]);
    const x = tf.tensor1d([1, 2, 3]);
    try {
      // one output: runKernel returns a single tensor here
      const y = /** @type {import("@tensorflow/tfjs").Tensor} */ (runKernel("TestDoubling", { x }));
      assert.deepEqual(Array.from(await y.data()), [2, 4, 6]);
      y.dispose();
    } finally {
      x.dispose();
      tf.unregisterKernel("TestDoubling", "webgpu");
    }
  });
});
