// Every notebook in notebooks/ and cn/ executes top to bottom in quick mode through the same runner
// as `npm run notebooks`, and committed notebooks carry no outputs.
// Needs Jupyter and the tslab kernel (`bash scripts/setup.sh`): without them these tests fail, on
// purpose, with the runner's message saying how to set them up.
const assert = require("node:assert/strict");
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const RUNNER = path.join(ROOT, "dist", "cli", "notebooks.js");
const OUT = path.join(ROOT, "build", "test-notebooks");
const NOTEBOOK_DIRS = ["notebooks", "cn"];
const MINUTES_PER_NOTEBOOK = 20;

function committedNotebooks() {
  return NOTEBOOK_DIRS.flatMap((dir) => {
    const abs = path.join(ROOT, dir);
    if (!fs.existsSync(abs)) return [];
    return fs
      .readdirSync(abs)
      .filter((f) => f.endsWith(".ipynb"))
      .sort()
      .map((f) => path.join(dir, f));
  });
}

function readNotebook(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function codeCells(nb) {
  return nb.cells.filter((c) => c.cell_type === "code");
}

function sourceOf(cell) {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Cells may show an error on purpose when tagged the Jupyter way. */
function expectsError(cell) {
  return (cell.metadata?.tags ?? []).includes("raises-exception");
}

/** The last lines of the runner's output, to put in a failure message. */
function tail(text, lines = 60) {
  return text.split("\n").slice(-lines).join("\n");
}

const notebooks = committedNotebooks();

describe("notebooks", function () {
  it("include the main job, notebooks/s4_in_depth.ipynb", function () {
    assert.ok(notebooks.includes(path.join("notebooks", "s4_in_depth.ipynb")), `found: ${notebooks.join(", ") || "none"}`);
  });

  describe("are committed clean (no outputs, no execution counts)", function () {
    for (const rel of notebooks) {
      it(rel, function () {
        const dirty = codeCells(readNotebook(path.join(ROOT, rel)))
          .map((cell, i) => ({ i: i + 1, outputs: (cell.outputs ?? []).length, count: cell.execution_count }))
          .filter((c) => c.outputs > 0 || c.count != null);
        assert.deepEqual(dirty, [], `${rel}: code cells with outputs or counts; clear them before committing`);
      });
    }
  });

  describe("carry the tslab kernelspec (TypeScript)", function () {
    for (const rel of notebooks) {
      it(rel, function () {
        const { metadata } = readNotebook(path.join(ROOT, rel));
        assert.deepEqual(metadata?.kernelspec, { display_name: "TypeScript", language: "typescript", name: "tslab" }, `${rel}: kernelspec`);
        assert.equal(metadata?.language_info?.name, "typescript", `${rel}: language_info.name`);
      });
    }
  });

  describe("execute in quick mode without errors", function () {
    this.timeout(MINUTES_PER_NOTEBOOK * 60 * 1000 + 30000);

    for (const rel of notebooks) {
      it(rel, function () {
        const run = spawnSync(process.execPath, [RUNNER, path.join(ROOT, rel), "--quick", "--out", OUT], {
          cwd: ROOT,
          encoding: "utf8",
          timeout: MINUTES_PER_NOTEBOOK * 60 * 1000,
          killSignal: "SIGTERM",
          maxBuffer: 64 * 1024 * 1024,
        });
        const output = `${run.stdout ?? ""}${run.stderr ?? ""}`;
        assert.equal(run.error, undefined, `runner did not finish: ${run.error}\n${tail(output)}`);
        assert.equal(run.status, 0, `runner exit status ${run.status} for ${rel}:\n${tail(output)}`);

        const label = rel.replace(/^notebooks[\\/]/, "").replace(/\.ipynb$/, "");
        const executed = readNotebook(path.join(OUT, `${label}.ipynb`));
        assert.ok(fs.existsSync(path.join(OUT, `${label}.html`)), "HTML export missing");
        for (const [i, cell] of codeCells(executed).entries()) {
          if (!sourceOf(cell).trim()) continue;
          assert.notEqual(cell.execution_count, null, `${rel}: code cell ${i + 1} did not run`);
          const errors = (cell.outputs ?? []).filter((o) => o.output_type === "error");
          if (!expectsError(cell)) assert.deepEqual(errors, [], `${rel}: code cell ${i + 1} has an error output`);
        }
      });
    }
  });
});

describe("notebook runner command line", function () {
  const cli = require(RUNNER);

  it("names the flag that is wrong", function () {
    assert.throws(() => cli.parseArgs(["--quik"]), /unknown option "--quik"/);
    assert.throws(() => cli.parseArgs(["--lang", "fr"]), /--lang expects one of en, cn, got "fr"/);
    assert.throws(() => cli.parseArgs(["--timeout", "0"]), /--timeout expects a positive whole number/);
    assert.throws(() => cli.parseArgs(["--out"]), /--out needs a value/);
    assert.throws(() => cli.parseArgs(["--quick=1"]), /--quick takes no value/);
    assert.throws(() => cli.parseArgs(["--size", "huge"]), /--size expects one of quick, cpu, gpu, got "huge"/);
    assert.throws(() => cli.parseArgs(["--full"]), /unknown option "--full"/);
    assert.throws(() => cli.parseArgs(["--all", "x"]), /--all runs every notebook/);
  });

  it("reads flags in both --flag value and --flag=value forms", function () {
    const opts = cli.parseArgs(["a", "--quick", "--out=x/y", "--timeout", "30", "--lang=cn"], "/tmp");
    assert.deepEqual(
      { targets: opts.targets, size: opts.size, out: opts.out, timeout: opts.timeout, lang: opts.lang },
      { targets: ["a"], size: "quick", out: path.resolve("/tmp", "x/y"), timeout: 30, lang: "cn" },
    );
  });

  it("runs every English notebook when no name is given, and leaves quick mode to the backend unless told", function () {
    const opts = cli.parseArgs([]);
    assert.equal(opts.size, undefined);
    assert.equal(cli.parseArgs(["--size=gpu"]).size, "gpu");
    assert.equal(cli.parseArgs(["--size", "cpu"]).size, "cpu");
    const files = cli.selectNotebooks(opts).map((j) => path.relative(ROOT, j.file));
    assert.deepEqual(
      files,
      notebooks.filter((f) => f.startsWith("notebooks")),
    );
  });

  it("names outputs after the notebook's folder so notebooks/ and cn/ do not collide", function () {
    const opts = cli.parseArgs(["--all", "--out", "/o"]);
    for (const job of cli.selectNotebooks(opts)) {
      const rel = path.relative(ROOT, job.file);
      const expected = rel.startsWith("cn") ? `/o/cn/${path.basename(rel)}` : `/o/${path.basename(rel)}`;
      assert.equal(job.output, expected);
    }
  });

  it("says which notebook it could not find", function () {
    assert.throws(() => cli.selectNotebooks(cli.parseArgs(["no_such_notebook"])), /notebook not found: no_such_notebook/);
  });
});
