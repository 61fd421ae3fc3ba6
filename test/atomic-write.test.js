// The one atomic writer (src/atomic-write.ts): files, sync and async, and whole folders appear
// complete or not at all, replace what was there only on success, and leave no temporary files.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { writeFileAtomic, writeFileAtomicAsync, writeJsonAtomic, writeFolderAtomic } = require("../dist/atomic-write");

function tmpDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `s4-atomic-${tag}-`));
}

const leftovers = (dir) => fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"));

describe("atomic writes", function () {
  it("writeFileAtomic writes, replaces, creates parent folders and keeps the old file when a write fails", function () {
    const dir = tmpDir("sync");
    const file = path.join(dir, "a", "b", "x.txt");
    writeFileAtomic(file, "one");
    assert.equal(fs.readFileSync(file, "utf8"), "one");
    writeFileAtomic(file, new Uint8Array([116, 119, 111]));
    assert.equal(fs.readFileSync(file, "utf8"), "two");
    // @ts-expect-error -- deliberately wrong: a number is neither text nor bytes
    assert.throws(() => writeFileAtomic(file, 42));
    assert.equal(fs.readFileSync(file, "utf8"), "two", "a failed write leaves the old file");
    assert.deepEqual(leftovers(path.dirname(file)), []);
  });

  it("writeFileAtomicAsync does the same, and concurrent writes of one file leave one whole value", async function () {
    const dir = tmpDir("async");
    const file = path.join(dir, "sub", "y.bin");
    await writeFileAtomicAsync(file, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3]);
    // @ts-expect-error -- deliberately wrong: a number is neither text nor bytes
    await assert.rejects(writeFileAtomicAsync(file, 42));
    assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3]);
    const values = Array.from({ length: 8 }, (_, i) => String(i).repeat(10000));
    await Promise.all(values.map((v) => writeFileAtomicAsync(file, v)));
    assert.ok(values.includes(fs.readFileSync(file, "utf8")), "one of the values, whole");
    assert.deepEqual(leftovers(path.dirname(file)), []);
  });

  it("writeJsonAtomic writes indented JSON with a final newline", function () {
    const file = path.join(tmpDir("json"), "v.json");
    writeJsonAtomic(file, { a: [1, 2] });
    assert.equal(fs.readFileSync(file, "utf8"), '{\n  "a": [\n    1,\n    2\n  ]\n}\n');
  });

  it("writeFolderAtomic creates a folder whole, refuses an existing one, and leaves nothing when filling fails", function () {
    const dir = tmpDir("folder");
    const target = path.join(dir, "record");
    writeFolderAtomic(target, (tmp) => {
      assert.ok(tmp !== target && path.dirname(tmp) === dir && tmp.endsWith(".tmp"));
      fs.writeFileSync(path.join(tmp, "a.txt"), "a");
      fs.mkdirSync(path.join(tmp, "inner"));
      fs.writeFileSync(path.join(tmp, "inner", "b.txt"), "b");
    });
    assert.equal(fs.readFileSync(path.join(target, "a.txt"), "utf8"), "a");
    assert.equal(fs.readFileSync(path.join(target, "inner", "b.txt"), "utf8"), "b");
    assert.throws(() => writeFolderAtomic(target, () => {}), /record exists already/);
    const failed = path.join(dir, "failed");
    assert.throws(
      () =>
        writeFolderAtomic(failed, (tmp) => {
          fs.writeFileSync(path.join(tmp, "half.txt"), "half");
          throw new Error("filling failed");
        }),
      /filling failed/,
    );
    assert.ok(!fs.existsSync(failed));
    assert.deepEqual(leftovers(dir), []);
  });
});
