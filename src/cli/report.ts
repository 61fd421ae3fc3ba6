/**
 * npm run report                         rewrites the generated tables of docs/results.md
 * npm run report -- --check              exits 1 when they differ from docs/runs (a test runs this)
 * npm run report -- --add RUN_DIR NAME   copies a finished run into docs/runs/NAME, then rewrites
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../atomic-write";
import { addRunRecord, readRunRecords, renderRunTables, spliceReport } from "../train/run-records";

const ROOT = path.resolve(__dirname, "..", "..");
const USAGE = "usage: npm run report -- [--check] [--add RUN_DIR NAME] [--docs DIR]";

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { check: { type: "boolean" }, add: { type: "boolean" }, docs: { type: "string" }, help: { type: "boolean" } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const docs = values.docs ?? path.join(ROOT, "docs");
  const recordsDir = path.join(docs, "runs");
  if (values.add) {
    if (positionals.length !== 2) throw new Error(`--add needs RUN_DIR and NAME, got ${JSON.stringify(positionals)}`);
    const rec = addRunRecord(positionals[0], recordsDir, positionals[1]);
    console.log(`recorded ${rec.name}: ${rec.command}`);
  } else if (positionals.length) {
    throw new Error(`unexpected arguments ${JSON.stringify(positionals)}`);
  }
  const resultsPath = path.join(docs, "results.md");
  const before = fs.readFileSync(resultsPath, "utf8");
  const after = spliceReport(before, renderRunTables(readRunRecords(recordsDir)));
  if (values.check) {
    if (after === before) {
      console.log(`${path.relative(process.cwd(), resultsPath)} matches its ${readRunRecords(recordsDir).length} run records`);
      return 0;
    }
    console.error(`${resultsPath}: the generated tables differ from docs/runs; run npm run report`);
    return 1;
  }
  if (after !== before) writeFileAtomic(resultsPath, after);
  console.log(`${after === before ? "unchanged" : "rewrote"} ${path.relative(process.cwd(), resultsPath)}`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`report: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  process.exitCode = 2;
}
