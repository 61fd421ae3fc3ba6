// Run records and the results page: every table in docs/results.md is generated from the
// committed records in docs/runs/, and `npm run report -- --check` says when they differ.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { assert, lib } = require("./helpers");
const { REPORT_BEGIN, REPORT_END } = require("../dist/train/run-records");

const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "dist", "cli", "report.js");
const run = (...args) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: ROOT });

describe("run records and npm run report", function () {
  it("docs/results.md's tables match the committed run records", function () {
    const r = run("--check");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const records = lib.train.readRunRecords(path.join(ROOT, "docs", "runs"));
    assert.ok(records.length >= 2, `expected the cpu-tier records, found ${records.length}`);
    for (const { name, summary } of records) {
      assert.match(summary.run.commit, /^[0-9a-f]{40}$/, `${name}: commit`);
      for (const k of ["backend", "device", "started_at", "finished_at"]) assert.ok(summary.run[k], `${name}: run.${k}`);
      assert.ok(Number.isFinite(summary.wall_s) && summary.best_epoch >= 1, `${name}: wall time and best epoch`);
    }
  });

  it("adds a finished run, refuses a second copy, and --check catches an edited table", function () {
    const docs = fs.mkdtempSync(path.join(os.tmpdir(), "s4-report-"));
    const runDir = path.join(docs, "run");
    fs.mkdirSync(runDir);
    const summary = {
      task: "mnist-classification",
      layer: "s4",
      backend: "wasm",
      params: 1234,
      epochs: 1,
      steps: 10,
      wall_s: 90,
      best_epoch: 1,
      val_loss: 0.5,
      val_accuracy: 0.9,
      test_loss: 0.6,
      test_accuracy: 0.875,
      test_examples: 100,
      best: 0.9,
      out: "runs/x",
      resumed_from_epoch: null,
      stopped_by_time_limit: true,
      config: { layer: "s4", dModel: 8, nLayers: 2, n: 4, bsz: 16 },
      run: {
        commit: "a".repeat(40),
        dirty: false,
        backend: "wasm",
        device: "Some CPU, 2 cores",
        node: "v20",
        tfjs: "4.22.0",
        started_at: "2026-12-07T00:00:00.000Z",
        finished_at: "2026-12-07T00:01:30.000Z",
      },
      command: "npm run train -- --tier cpu",
      history: [{ epoch: 1 }],
    };
    fs.writeFileSync(path.join(runDir, "summary.json"), JSON.stringify(summary));
    fs.writeFileSync(path.join(runDir, "metrics.jsonl"), JSON.stringify({ epoch: 1 }) + "\n");
    fs.writeFileSync(path.join(docs, "results.md"), `# R\n\n${REPORT_BEGIN}\nold\n${REPORT_END}\n`);
    assert.equal(run("--docs", docs, "--check").status, 1, "old table differs from the records");
    let r = run("--docs", docs, "--add", runDir, "tiny-run");
    assert.equal(r.status, 0, r.stderr);
    for (const f of ["command.txt", "summary.json", "metrics.jsonl"]) assert.ok(fs.existsSync(path.join(docs, "runs", "tiny-run", f)), f);
    const page = fs.readFileSync(path.join(docs, "results.md"), "utf8");
    assert.match(
      page,
      /\| \[tiny-run\]\(runs\/tiny-run\/\) \| s4, dModel 8, 2 layers, N 4, batch 16, 1 234 params \| 10 steps, 1 epoch, stopped by its time limit \| 90\.00 % \(epoch 1\) \| \*\*87\.50 %\*\* on 100 images \| 1\.5 min \| wasm on Some CPU, 2 cores; `aaaaaaa`; 2026-12-07 \|/,
    );
    assert.match(page, /- `tiny-run`: `npm run train -- --tier cpu`/);
    assert.equal(run("--docs", docs, "--check").status, 0);
    r = run("--docs", docs, "--add", runDir, "tiny-run");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /tiny-run exists already/);
    fs.writeFileSync(path.join(docs, "results.md"), page.replace("87.50 %", "97.50 %"));
    r = run("--docs", docs, "--check");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /differ from docs\/runs; run npm run report/);
    assert.ok(!fs.readdirSync(path.join(docs, "runs")).some((f) => f.endsWith(".tmp")));
  });
});
