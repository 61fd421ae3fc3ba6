// The command-line tools' flag reading (node:util parseArgs underneath) and the train command's
// progress display: flags in both forms, errors that name the flag, negative values after a space,
// a bar on a terminal and plain lines elsewhere.
const assert = require("node:assert/strict");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { FlagError, parseFlags, commaList } = require("../dist/cli/flags");
const { makeProgress } = require("../dist/cli/train-progress");

const CLI = path.join(__dirname, "..", "dist", "cli");
const run = (tool, args) =>
  spawnSync(process.execPath, [path.join(CLI, `${tool}.js`), ...args], { encoding: "utf8", env: { ...process.env, S4_BACKEND: "" } });

describe("command-line flags", function () {
  /** @type {import("../dist/cli/flags").FlagOptions} */
  const OPTIONS = {
    seed: { type: "string" },
    out: { type: "string" },
    backend: { type: "string", multiple: true },
    quick: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  };

  it("reads --flag value, --flag=value, short flags, repeats and comma lists", function () {
    const { values, positionals, order } = parseFlags(
      ["--seed", "3", "--out=a/b", "-h", "--backend", "cpu,wasm", "--backend=webgpu", "--quick"],
      OPTIONS,
    );
    assert.deepEqual({ ...values }, { seed: "3", out: "a/b", help: true, backend: ["cpu,wasm", "webgpu"], quick: true });
    assert.deepEqual(positionals, []);
    assert.deepEqual(order, ["seed", "out", "help", "backend", "backend", "quick"]);
    assert.deepEqual(commaList(values.backend), ["cpu", "wasm", "webgpu"]);
    assert.deepEqual(commaList(undefined), []);
  });

  it("takes a value that starts with one dash after a space, and an inline value that starts with two", function () {
    assert.equal(parseFlags(["--seed", "-3"], OPTIONS).values.seed, "-3");
    assert.equal(parseFlags(["--out=--odd"], OPTIONS).values.out, "--odd");
  });

  it("names the flag: unknown, a value missing, a value given to a switch, a stray argument", function () {
    /** @type {[string[], string, string, RegExp][]} */
    const cases = [
      [["--frobnicate"], "unknown", "--frobnicate", /^unknown flag --frobnicate$/],
      [["-x"], "unknown", "-x", /^unknown flag -x$/],
      [["--out"], "missing-value", "--out", /^--out needs a value$/],
      [["--out", "--quick"], "missing-value", "--out", /^--out needs a value$/],
      [["--quick=1"], "unexpected-value", "--quick", /^--quick takes no value, got "1"$/],
      [["--quick", "extra"], "positional", "extra", /^unexpected argument "extra"$/],
    ];
    for (const [argv, problem, flag, message] of cases) {
      assert.throws(
        () => parseFlags(argv, OPTIONS),
        (e) => {
          assert.ok(e instanceof FlagError, `${argv.join(" ")}: ${e}`);
          assert.deepEqual([e.problem, e.flag], [problem, flag], argv.join(" "));
          assert.match(e.message, message);
          return true;
        },
      );
    }
    assert.deepEqual(parseFlags(["a", "--quick", "b"], OPTIONS, { allowPositionals: true }).positionals, ["a", "b"]);
  });

  it("every tool takes --flag=value and names the wrong flag with exit status 2", function () {
    for (const [tool, args, message] of /** @type {[string, string[], RegExp][]} */ ([
      ["train", ["--epochs=two"], /train: flag --epochs must be an integer, got "two"/],
      ["train", ["--quick=yes"], /train: flag --quick takes no value, got "yes"/],
      ["train", ["--epochs"], /train: flag --epochs needs a value \(number of epochs/],
      ["sample", ["--checkpoint=x", "--prefix=900"], /sample: --prefix must be an integer in \[0, 784\], got "900"/],
      ["sample", ["--checkpoint", "x", "stray"], /sample: unknown argument "stray"/],
      ["bench", ["--only=fft"], /bench: --only: unknown op "fft"/],
      ["bench-scans", ["--backend=tpu"], /bench-scans: --backend must be one of cpu, wasm, webgpu, got "tpu"/],
      ["gpu-bundle", ["--out=x", "--node-version=20.x"], /gpu-bundle: --node-version must look like 20\.19\.0, got "20\.x"/],
      ["check-fixtures", ["--backend"], /check-fixtures: --backend needs a name/],
    ])) {
      const r = run(tool, args);
      assert.equal(r.status, 2, `${tool} ${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it("train: a negative seed after a space, and --flag=value, reach the options", function () {
    const r = run("train", ["--seed", "-3", "--epochs=2", "--task=mnist", "--dry-run"]);
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.deepEqual([o.seed, o.epochs, o.task], [-3, 2, "mnist"]);
  });
});

describe("train progress display", function () {
  /** A stream that keeps what is written; `isTTY` says whether it plays a terminal. */
  const sink = (isTTY) => ({
    isTTY,
    columns: 200,
    text: "",
    write(s) {
      this.text += s;
      return true;
    },
  });
  const step = (stepInEpoch) => ({ epoch: 0, stepInEpoch, stepsPerEpoch: 4, step: stepInEpoch, loss: 1, accuracy: 0.5, lr: 1e-3 });
  const epoch = { epoch: 1, step: 4, train_loss: 1, train_accuracy: 0.5, val_loss: 0.9, val_accuracy: 0.6, lr: 1e-3, wall_s: 1.5 };
  const DONE = "epoch 1 done: step 4 train loss 1.0000 acc 0.5000 | val loss 0.9000 acc 0.6000 | lr 1.00e-3 | 1.5s\n";

  it("writes plain lines where the output is not a terminal: first and last step, then the epoch", function () {
    const out = sink(false);
    const p = makeProgress(out);
    p.start();
    for (let i = 1; i <= 4; i++) p.onStep(step(i));
    p.onEpoch(epoch);
    p.stop();
    const lines = out.text.split("\n");
    assert.equal(lines.length, 4, out.text);
    assert.match(lines[0], /^epoch 1 1\/4 loss 1\.0000 acc 0\.500 [\d.]+ steps\/s ETA \S+$/);
    assert.match(lines[1], /^epoch 1 4\/4 loss 1\.0000 acc 0\.500 [\d.]+ steps\/s ETA 0s$/);
    assert.equal(`${lines[2]}\n`, DONE);
    // eslint-disable-next-line no-control-regex -- the escape character is what this looks for
    assert.doesNotMatch(out.text, /\x1b/, "no terminal escapes in plain output");
  });

  it("draws a bar in place on a terminal and ends its line before the epoch's summary", function () {
    const out = sink(true);
    const p = makeProgress(out);
    p.start();
    for (let i = 1; i <= 4; i++) p.onStep(step(i));
    p.onEpoch(epoch);
    p.stop();
    assert.match(out.text, /\[####################\] epoch 1 4\/4 loss 1\.0000 acc 0\.500 [\d.]+ steps\/s ETA 0s/);
    assert.ok(out.text.endsWith(`\n${DONE}`), JSON.stringify(out.text.slice(-200)));
    // eslint-disable-next-line no-control-regex -- the escape character is what this looks for
    assert.doesNotMatch(out.text, /\x1b\[\?(25|7)[lh]/, "leaves the cursor and line wrapping alone");
  });
});
