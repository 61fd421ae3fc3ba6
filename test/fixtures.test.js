// Golden values from an independent float64 implementation (test/fixtures), through the
// library's fixture checker and through the `npm run check-fixtures` command.
const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");
const { FIXTURES, BACKENDS, forEachBackend, assert, tf } = require("./helpers");
const { FIXTURE_FNS, parseFixtureFile, runFixtureCase } = require("../dist/fixtures");

const ROOT = path.resolve(__dirname, "..");
const files = fs.existsSync(FIXTURES)
  ? fs
      .readdirSync(FIXTURES)
      .filter((f) => f.endsWith(".json"))
      .sort()
  : [];

describe("fixtures are present", () => {
  it(`finds the fixture files in ${path.relative(ROOT, FIXTURES)}`, () => {
    assert.ok(files.includes("s4-core.json"), `no s4-core.json in ${FIXTURES} (set S4_FIXTURES to the folder)`);
  });
});

forEachBackend("golden values", () => {
  for (const file of files) {
    const { cases } = parseFixtureFile(fs.readFileSync(path.join(FIXTURES, file), "utf8"), file);
    for (const c of cases) {
      it(`${file} :: ${c.name}`, async function () {
        // Cases for operations a later step of the roadmap adds (selective scan, Mamba) wait for it.
        if (!(c.fn in FIXTURE_FNS)) this.skip();
        const before = tf.memory().numTensors;
        const r = await runFixtureCase(c);
        assert.equal(tf.memory().numTensors, before, "the case leaked tensors");
        assert.ok(r.pass, r.error ?? `max|err| ${r.maxAbsErr}, ${r.worstRatio.toFixed(2)}× tolerance (atol ${c.atol}, rtol ${c.rtol})`);
      });
    }
  }
  for (const file of ["s4-core.json", "mamba.json"]) {
    it(`every case of ${file} has a known fn`, () => {
      const { cases } = parseFixtureFile(fs.readFileSync(path.join(FIXTURES, file), "utf8"), file);
      assert.deepEqual(
        cases.filter((c) => !(c.fn in FIXTURE_FNS)).map((c) => c.fn),
        [],
      );
    });
  }
});

describe("npm run check-fixtures", () => {
  const cli = path.join(ROOT, "dist", "cli", "check-fixtures.js");
  const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", cwd: ROOT });

  // mamba.json also runs on webgpu where the tests use it (S4_TEST_WEBGPU=1).
  /** @type {[string, string[]][]} */
  const cliRuns = [
    ["s4-core.json", ["cpu", "wasm"]],
    ["mamba.json", BACKENDS],
  ];
  for (const [file, backends] of cliRuns) {
    for (const backend of backends) {
      it(`passes every ${file} case on ${backend} and ends with "N passed, 0 failed"`, () => {
        const r = run("--backend", backend, path.join(FIXTURES, file));
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const lines = r.stdout.trim().split("\n");
        assert.match(lines[lines.length - 1], /^\d+ passed, 0 failed$/);
        assert.equal(lines.filter((l) => l.startsWith("pass ")).length, Number(lines[lines.length - 1].split(" ")[0]));
      });
    }
  }

  it("fails (exit 1) on an unknown fn, naming it", () => {
    const tmp = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "fx-")), "x.json");
    fs.writeFileSync(tmp, JSON.stringify({ cases: [{ name: "mystery", fn: "no_such_fn", args: {}, expected: 1, atol: 0, rtol: 0 }] }));
    const r = run("--backend", "cpu", tmp);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL x.json :: mystery {2}unknown fn "no_such_fn"/);
    assert.match(r.stdout, /0 passed, 1 failed\n$/);
  });

  it("fails on a wrong expected value, reporting the error size", () => {
    const tmp = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "fx-")), "y.json");
    fs.writeFileSync(
      tmp,
      JSON.stringify({
        cases: [
          {
            name: "hippo off by one",
            fn: "make_hippo",
            args: { N: 2 },
            expected: [
              [-1, 0],
              [-Math.sqrt(3), -1],
            ],
            atol: 1e-6,
            rtol: 1e-6,
          },
        ],
      }),
    );
    const r = run("--backend", "cpu", tmp);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL y.json :: hippo off by one {2}max\|err\| 1.00e\+0/);
  });

  it("rejects a corrupt file and bad usage clearly", () => {
    const tmp = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "fx-")), "bad.json");
    fs.writeFileSync(tmp, "{ not json");
    const r = run("--backend", "cpu", tmp);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /bad.json: not valid JSON/);
    const none = run();
    assert.equal(none.status, 2);
    assert.match(none.stderr, /check-fixtures: no fixture file given/);
    assert.match(run("--frobnicate", "x").stderr, /unknown flag --frobnicate/);
    assert.match(run("--backend", "tpu", tmp).stderr, /unknown backend "tpu"/);
  });
});
