// The Chinese notes in cn/: every English notebook in notebooks/ has a twin cn/<same name>.ipynb
// whose code is the English code (only comments, string contents and an added `lang: "zh"` may
// differ), with the same headings, no outputs and the tslab kernel; cn/README.md and
// cn/glossary.md are there and say what they must. Plain file checks: no TensorFlow, no kernel.
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const EN_DIR = path.join(ROOT, "notebooks");
const CN_DIR = path.join(ROOT, "cn");
const MIN_GLOSSARY_ROWS = 25;

// ---------------------------------------------------------------------------------------------
// A small TypeScript tokenizer, just enough to compare two cells' code: comments and whitespace
// are dropped, every string's content becomes a placeholder, template literals keep their `${}`
// expressions (tokenized the same way) and lose their text.
// ---------------------------------------------------------------------------------------------

const PUNCTUATORS = [
  ">>>=",
  "...",
  "===",
  "!==",
  "**=",
  "<<=",
  ">>=",
  ">>>",
  "&&=",
  "||=",
  "??=",
  "=>",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "??",
  "?.",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "**",
  "<<",
  ">>",
];
/** After these keywords a `/` starts a regular expression, not a division. */
const REGEX_AFTER_WORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);
const ID_START = /[A-Za-z_$\u00c0-\uffff]/;
const ID_PART = /[\w$\u00c0-\uffff]/;

/** Can a `/` after token `prev` start a regular expression? */
function regexAllowed(prev) {
  if (!prev) return true;
  if (prev.type === "word") return REGEX_AFTER_WORDS.has(prev.value);
  if (prev.type === "punct") return ![")", "]", "}", "++", "--"].includes(prev.value);
  return false; // after a number, string, template or regex
}

/**
 * Tokens of `src` from `pos`; stops at an unmatched `}` when `inTemplate` (the end of a `${}`).
 * Returns { tokens, end } with `end` the index of that `}` (or src.length).
 */
function lex(src, pos = 0, inTemplate = false) {
  const tokens = [];
  let depth = 0;
  const fail = (what) => {
    throw new Error(`tokenizer: ${what} at offset ${pos}: ${JSON.stringify(src.slice(Math.max(0, pos - 20), pos + 20))}`);
  };
  while (pos < src.length) {
    const c = src[pos];
    const next = src[pos + 1];
    if (/\s/.test(c)) {
      pos++;
      continue;
    }
    if (c === "/" && next === "/") {
      while (pos < src.length && src[pos] !== "\n") pos++;
      continue;
    }
    if (c === "/" && next === "*") {
      const close = src.indexOf("*/", pos + 2);
      if (close < 0) fail("unterminated /* comment");
      pos = close + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = pos + 1;
      let value = "";
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\n") fail("newline in a string");
        if (src[j] === "\\") {
          value += src.slice(j, j + 2);
          j += 2;
          continue;
        }
        value += src[j++];
      }
      if (j >= src.length) fail("unterminated string");
      tokens.push({ type: "string", value });
      pos = j + 1;
      continue;
    }
    if (c === "`") {
      const parts = [];
      const exprs = [];
      let text = "";
      let j = pos + 1;
      for (;;) {
        if (j >= src.length) fail("unterminated template literal");
        if (src[j] === "\\") {
          text += src.slice(j, j + 2);
          j += 2;
          continue;
        }
        if (src[j] === "`") {
          j++;
          break;
        }
        if (src[j] === "$" && src[j + 1] === "{") {
          parts.push(text);
          text = "";
          const inner = lex(src, j + 2, true);
          exprs.push(inner.tokens);
          j = inner.end + 1;
          continue;
        }
        text += src[j++];
      }
      parts.push(text);
      tokens.push({ type: "template", parts, exprs });
      pos = j;
      continue;
    }
    if (c === "/" && regexAllowed(tokens[tokens.length - 1])) {
      let j = pos + 1;
      let inClass = false;
      for (;;) {
        if (j >= src.length || src[j] === "\n") fail("unterminated regular expression");
        const d = src[j];
        if (d === "\\") {
          j += 2;
          continue;
        }
        if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        j++;
      }
      j++;
      while (j < src.length && /[a-z]/i.test(src[j])) j++;
      tokens.push({ type: "regex", value: src.slice(pos, j) });
      pos = j;
      continue;
    }
    if (ID_START.test(c)) {
      let j = pos + 1;
      while (j < src.length && ID_PART.test(src[j])) j++;
      tokens.push({ type: "word", value: src.slice(pos, j) });
      pos = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(next ?? ""))) {
      const m = /^(?:0[xXbBoO][0-9a-fA-F_]+n?|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?n?)/.exec(src.slice(pos));
      tokens.push({ type: "number", value: m[0] });
      pos += m[0].length;
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") {
      if (inTemplate && depth === 0) return { tokens, end: pos };
      depth--;
    }
    const op = PUNCTUATORS.find((p) => src.startsWith(p, pos)) ?? c;
    tokens.push({ type: "punct", value: op });
    pos += op.length;
  }
  if (inTemplate) fail("unterminated ${ in a template literal");
  return { tokens, end: pos };
}

/** Drops every `lang: "zh"` property, with the comma that separates it from its neighbours. */
function dropLangZh(tokens) {
  const out = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const isLangZh =
      t.type === "word" &&
      t.value === "lang" &&
      tokens[i + 1]?.value === ":" &&
      tokens[i + 2]?.type === "string" &&
      tokens[i + 2].value === "zh";
    if (isLangZh) {
      if (tokens[i + 3]?.type === "punct" && tokens[i + 3].value === ",")
        i += 3; // `lang: "zh",`
      else {
        i += 2; // the last property: drop the comma before it
        if (out.length && out[out.length - 1].value === ",") out.pop();
      }
      continue;
    }
    out.push(t.type === "template" ? { ...t, exprs: t.exprs.map(dropLangZh) } : t);
  }
  return out;
}

/** The tokens as comparable strings: strings and template text become placeholders. */
function normalizeTokens(tokens) {
  return tokens.map((t) => {
    if (t.type === "string") return '"…"';
    if (t.type === "template") return "`…" + t.exprs.map((e) => "${" + normalizeTokens(e).join(" ") + "}…").join("") + "`";
    return t.value;
  });
}

/** Code with comments, whitespace and string contents gone; `lang: "zh"` removed when `chinese`. */
function normalizeCode(src, { chinese = false } = {}) {
  const { tokens } = lex(src);
  return normalizeTokens(chinese ? dropLangZh(tokens) : tokens);
}

/** Undefined when the two cells' code matches, else a message showing where they part. */
function codeDifference(english, chinese) {
  const a = normalizeCode(english);
  const b = normalizeCode(chinese, { chinese: true });
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return undefined;
  const around = (toks) => toks.slice(Math.max(0, i - 8), i + 8).join(" ");
  return `first difference at token ${i + 1}:\n  English: … ${around(a)} …\n  Chinese: … ${around(b)} …`;
}

// ---------------------------------------------------------------------------------------------
// Notebook helpers
// ---------------------------------------------------------------------------------------------

function readNotebook(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

function sourceOf(cell) {
  return Array.isArray(cell.source) ? cell.source.join("") : (cell.source ?? "");
}

function notebookNames(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb"))
    .sort();
}

/** Levels of the markdown headings #, ## and ### in order, outside fenced code blocks. */
function headingLevels(nb) {
  const levels = [];
  for (const cell of nb.cells.filter((c) => c.cell_type === "markdown")) {
    let fenced = false;
    for (const line of sourceOf(cell).split("\n")) {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      const m = !fenced && /^(#{1,3})\s+\S/.exec(line);
      if (m) levels.push(m[1].length);
    }
  }
  return levels;
}

const HAN = /[\u4e00-\u9fff]/;

const english = notebookNames(EN_DIR);
const chinese = notebookNames(CN_DIR);
const twins = english.filter((f) => chinese.includes(f));

// ---------------------------------------------------------------------------------------------

describe("cn/: code comparison used by the twin checks", function () {
  const same = (a, b) => assert.equal(codeDifference(a, b), undefined, `expected the same code:\n${a}\n${b}`);
  const differ = (a, b) => assert.notEqual(codeDifference(a, b), undefined, `expected a difference:\n${a}\n${b}`);

  it("ignores comments, whitespace and the contents of strings and template text", function () {
    same('const x = f(1, "a"); // one', "const   x=f( 1,\n 'b' ) ; /* 一 */ // 二");
    same("log(`epoch ${r.epoch}: loss ${r.loss.toFixed(4)}`);", "log(`第 ${r.epoch} 个 epoch：损失 ${r.loss.toFixed(4)}`);");
    same('const s = "http://x // not a comment"; y();', 'const s = "不是注释"; y();');
    same('t(`${a ? " (GPU)" : " (CPU)"} x`);', 't(`${a ? "（GPU）" : "（CPU）"} 某`);');
  });

  it('allows an added lang: "zh" wherever it stands in an options object', function () {
    same('plot(x, { title: "T" });', 'plot(x, { title: "标题", lang: "zh" });');
    same('plot(x, { title: "T" });', 'plot(x, { lang: "zh", title: "标题" });');
    same('plot(x, {\n  title: "T",\n});', 'plot(x, {\n  title: "标题", lang: "zh",\n});');
    same("plot(x, { title: `a ${n}` });", 'plot(x, { title: `甲 ${n}`, lang: "zh" });');
  });

  it("finds changed code, including inside template expressions, regexes and number literals", function () {
    differ("const x = f(1);", "const x = f(2);");
    differ("const x = f(a);", "const x = g(a);");
    differ("log(`${a.b}`);", "log(`${a.c}`);");
    differ("log(`${a} ${b}`);", "log(`${b} ${a}`);");
    differ("const r = /a+b/g;", "const r = /a+c/g;");
    differ("if (a) b();", "if (a) { b(); }");
    differ('plot(x, { title: "T" });', 'plot(x, { title: "T", lang: "en" });');
    differ('plot(x, { title: "T" });', 'plot(x, { title: "T", height: 300 });');
    differ("const x = a - b;", "const x = a / b;");
  });

  it("reads a regex with quotes and slashes, and division after a value", function () {
    same("const r = /[\"'/]+/g; const q = a / b / c;", "const r = /[\"'/]+/g; const q = a / b / c; // 注释");
    differ("const r = /[\"'/]+/g;", "const r = /[\"'/]*/g;");
  });

  it("counts headings outside fenced code only", function () {
    const nb = {
      cells: [
        { cell_type: "markdown", source: "# A\n## B\ntext #1\n```\n# not a heading\n```\n### C\n#### D" },
        { cell_type: "code", source: "# x" },
      ],
    };
    assert.deepEqual(headingLevels(nb), [1, 2, 3]);
  });
});

describe("cn/: Chinese twins of the notebooks", function () {
  it("every English notebook in notebooks/ has a twin in cn/", function () {
    const missing = english.filter((f) => !chinese.includes(f));
    assert.deepEqual(missing, [], `notebooks without a Chinese twin in cn/: ${missing.join(", ")}`);
  });

  it("every notebook in cn/ is the twin of an English one", function () {
    const orphans = chinese.filter((f) => !english.includes(f));
    assert.deepEqual(orphans, [], `notebooks in cn/ with no English original in notebooks/: ${orphans.join(", ")}`);
  });

  for (const name of twins) {
    describe(name, function () {
      const en = readNotebook(path.join(EN_DIR, name));
      const cn = readNotebook(path.join(CN_DIR, name));
      const enCode = en.cells.filter((c) => c.cell_type === "code");
      const cnCode = cn.cells.filter((c) => c.cell_type === "code");

      it('has the English code cells, differing only in comments, strings and lang: "zh"', function () {
        assert.equal(cnCode.length, enCode.length, `code cells: English ${enCode.length}, Chinese ${cnCode.length}`);
        const differences = [];
        enCode.forEach((cell, i) => {
          const why = codeDifference(sourceOf(cell), sourceOf(cnCode[i]));
          if (why) differences.push(`code cell ${i + 1} (id ${cell.id ?? "?"}): ${why}`);
        });
        assert.deepEqual(differences, [], `cn/${name} has drifted from notebooks/${name}:\n${differences.join("\n")}`);
      });

      it("has the same sections (markdown headings #, ##, ###)", function () {
        const a = headingLevels(en);
        const b = headingLevels(cn);
        assert.deepEqual(b, a, `heading levels: English [${a}], Chinese [${b}]`);
      });

      it("has Chinese prose in every markdown cell", function () {
        const untranslated = cn.cells
          .map((c, i) => ({ c, i }))
          .filter(({ c }) => c.cell_type === "markdown" && /[A-Za-z]/.test(sourceOf(c)) && !HAN.test(sourceOf(c)))
          .map(({ i }) => i + 1);
        assert.deepEqual(untranslated, [], `cn/${name}: markdown cells (numbered among all cells) with no Chinese text`);
      });

      it("carries no outputs or execution counts", function () {
        const dirty = cnCode
          .map((cell, i) => ({ i: i + 1, outputs: (cell.outputs ?? []).length, count: cell.execution_count ?? null }))
          .filter((c) => c.outputs > 0 || c.count !== null);
        assert.deepEqual(dirty, [], `cn/${name}: code cells with outputs or execution counts`);
      });

      it("has the tslab kernelspec and language info of the English notebook", function () {
        assert.equal(cn.metadata?.kernelspec?.name, "tslab", `cn/${name}: kernelspec ${JSON.stringify(cn.metadata?.kernelspec)}`);
        assert.equal(cn.metadata.kernelspec.language, "typescript");
        assert.deepEqual(cn.metadata.kernelspec, en.metadata.kernelspec);
        assert.deepEqual(cn.metadata.language_info, en.metadata.language_info);
        assert.equal(cn.nbformat, en.nbformat);
      });
    });
  }
});

describe("cn/: README and glossary", function () {
  const readme = path.join(CN_DIR, "README.md");
  const glossary = path.join(CN_DIR, "glossary.md");

  it("cn/README.md gives the quick start, the headless run and the learning path", function () {
    assert.ok(fs.existsSync(readme), "cn/README.md is missing");
    const text = fs.readFileSync(readme, "utf8");
    assert.ok(HAN.test(text), "cn/README.md has no Chinese text");
    for (const needle of [
      "bash scripts/setup.sh",
      "npm test",
      "npm run notebooks -- --lang cn",
      "jupyter notebook cn/",
      "fonts-noto-cjk",
      "2111.00396",
      "2008.07669",
      "2206.11893",
      "2312.00752",
      "glossary.md",
    ]) {
      assert.ok(text.includes(needle), `cn/README.md does not mention ${needle}`);
    }
    for (const name of english) {
      assert.ok(text.includes(name.replace(/\.ipynb$/, "")), `cn/README.md does not mention the notebook ${name}`);
    }
  });

  it(`cn/glossary.md has a table of at least ${MIN_GLOSSARY_ROWS} terms, each with Chinese, English and where it appears`, function () {
    assert.ok(fs.existsSync(glossary), "cn/glossary.md is missing");
    const rows = fs
      .readFileSync(glossary, "utf8")
      .split("\n")
      .filter((l) => /^\|.*\|\s*$/.test(l) && !/^\|[\s:|-]+\|\s*$/.test(l))
      .map((l) =>
        l
          .trim()
          .slice(1, -1)
          .split("|")
          .map((s) => s.trim()),
      );
    const body = rows.slice(1); // the first row is the header
    assert.ok(body.length >= MIN_GLOSSARY_ROWS, `only ${body.length} rows`);
    const header = rows[0].length;
    const bad = body.filter((r) => r.length !== header || !HAN.test(r[0]) || !/[A-Za-z]/.test(r[1]) || !r[2]);
    assert.deepEqual(bad, [], "rows need a Chinese term, an English term and where it first appears");
    const known = new Set(english.map((f) => f.replace(/\.ipynb$/, "")).concat(["mamba_in_depth"]));
    const unknown = body.filter((r) => ![...known].some((n) => r[2].includes(n)));
    assert.deepEqual(unknown, [], "each row names the notebook where the term first appears");
  });
});
