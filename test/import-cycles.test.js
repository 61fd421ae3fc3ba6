// No import circles in src/, not even type-only ones: every module can be read, tested and
// bundled on its own, in an order.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const SRC = path.resolve(__dirname, "..", "src");

/** Every .ts file under dir. */
function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

/** The relative modules a file imports or re-exports (type-only ones included), as file paths. */
function importsOf(file) {
  const text = fs.readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+["'](\.[^"']*)["']/g)].map((m) => m[1]);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+["'](\.[^"']*)["']/g)) specs.push(m[1]);
  return specs
    .map((spec) => {
      const base = path.resolve(path.dirname(file), spec);
      for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(candidate)) return candidate;
      return null;
    })
    .filter(Boolean);
}

/** The cycles of the import graph: each strongly connected component with more than one file. */
function cycles(files) {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  let counter = 0;
  const index = new Map(),
    low = new Map(),
    stack = [],
    onStack = new Set(),
    found = [];
  function visit(v) {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(path.relative(SRC, w));
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  }
  for (const f of files) if (!index.has(f)) visit(f);
  return found;
}

describe("src/ imports", function () {
  it("form no circles, type-only imports included", function () {
    const found = cycles(sources(SRC));
    assert.deepEqual(found, [], `import circles:\n${found.map((c) => `  ${c.join(" ↔ ")}`).join("\n")}`);
  });
});
