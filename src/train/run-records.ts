/**
 * Run records: what `docs/` publishes about a training run is a committed copy of the run's own
 * files under `docs/runs/<name>/` (command.txt, summary.json, metrics.jsonl; no checkpoints), and
 * the results tables are rendered from those copies only, so every published number can be traced
 * to the command, commit, backend and device that produced it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFolderAtomic } from "../atomic-write";
import type { TrainSummary } from "./train-summary";

export interface RunRecord {
  name: string;
  summary: TrainSummary;
  command: string;
}

const FILES = ["command.txt", "summary.json", "metrics.jsonl"];

/** Copies a finished run (`<runDir>/summary.json`, metrics.jsonl) to `<recordsDir>/<name>/`, whole or not at all. */
export function addRunRecord(runDir: string, recordsDir: string, name: string): RunRecord {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name))
    throw new Error(`addRunRecord: name must be lower-case letters, digits, ".", "_" or "-", got ${JSON.stringify(name)}`);
  const summaryPath = path.join(runDir, "summary.json");
  if (!fs.existsSync(summaryPath)) throw new Error(`addRunRecord: ${summaryPath} does not exist; expected a finished run folder`);
  const summary = JSON.parse(fs.readFileSync(summaryPath, "utf8")) as TrainSummary;
  if (!summary.command) throw new Error(`addRunRecord: ${summaryPath} has no command; record runs started with npm run train`);
  if (!summary.run?.commit) throw new Error(`addRunRecord: ${summaryPath} has no commit; record runs made from a git checkout`);
  const target = path.join(recordsDir, name);
  if (fs.existsSync(target)) throw new Error(`addRunRecord: ${target} exists already; pick another name`);
  writeFolderAtomic(target, (tmp) => {
    fs.writeFileSync(path.join(tmp, "command.txt"), summary.command + "\n");
    fs.copyFileSync(summaryPath, path.join(tmp, "summary.json"));
    fs.copyFileSync(path.join(runDir, "metrics.jsonl"), path.join(tmp, "metrics.jsonl"));
  });
  return readRunRecord(recordsDir, name);
}

/** Reads one record, checking that its three files are there and agree. */
export function readRunRecord(recordsDir: string, name: string): RunRecord {
  const dir = path.join(recordsDir, name);
  for (const f of FILES) if (!fs.existsSync(path.join(dir, f))) throw new Error(`run record ${dir} lacks ${f}`);
  const summary = JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8")) as TrainSummary;
  const command = fs.readFileSync(path.join(dir, "command.txt"), "utf8").trim();
  if (command !== summary.command) throw new Error(`run record ${dir}: command.txt and summary.json's command differ`);
  const lines = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").trim().split("\n").filter(Boolean);
  if (lines.length !== summary.history.length)
    throw new Error(`run record ${dir}: metrics.jsonl has ${lines.length} lines, the summary's history ${summary.history.length}`);
  return { name, summary, command };
}

/** Every record under `recordsDir`, by name. */
export function readRunRecords(recordsDir: string): RunRecord[] {
  if (!fs.existsSync(recordsDir)) return [];
  return fs
    .readdirSync(recordsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.endsWith(".tmp"))
    .map((e) => readRunRecord(recordsDir, e.name))
    .sort((a, b) => a.name.localeCompare(b.name));
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " ");

function sizes(s: TrainSummary): string {
  const c = s.config;
  const pairs = c.conjugatePairs ? " (conjugate pairs)" : "";
  return `${c.layer}, dModel ${c.dModel}, ${c.nLayers} layers, N ${c.n}${pairs}, batch ${c.bsz}, ${thousands(s.params)} params`;
}

function where(s: TrainSummary): string {
  const r = s.run;
  const commit = r.commit ? `\`${r.commit.slice(0, 7)}\`${r.dirty ? " (+ local changes)" : ""}` : "—";
  // host threads are recorded since the host kernels run on threads; older records ran on one
  const threads = r.host_threads === undefined ? "" : `, ${r.host_threads} host thread${r.host_threads === 1 ? "" : "s"}`;
  return `${r.backend} on ${r.device}${threads}; ${commit}; ${r.started_at.slice(0, 10)}`;
}

/** The markdown tables of the records: one per task, with the validation and test results. */
export function renderRunTables(records: RunRecord[]): string {
  const out: string[] = [];
  const tasks: [string, string, (s: TrainSummary) => [string, string]][] = [
    [
      "mnist-classification",
      "Sequential MNIST classification (784 pixels → 10 classes)",
      (s) => [pct(s.val_accuracy), `**${pct(s.test_accuracy)}**`],
    ],
    [
      "mnist",
      "MNIST next-pixel modeling (784 × 256-way), bits/dim",
      (s) => [(s.val_bits_per_dim ?? NaN).toFixed(3), `**${(s.test_bits_per_dim ?? NaN).toFixed(3)}**`],
    ],
  ];
  for (const [task, title, metric] of tasks) {
    const rows = records.filter((r) => r.summary.task === task);
    if (rows.length === 0) continue;
    out.push(`### ${title}`, "");
    out.push("| record | model | training | validation (best epoch) | test (evaluated once) | wall time | where and when |");
    out.push("|---|---|---|---|---|---|---|");
    for (const { name, summary: s } of rows) {
      const [val, test] = metric(s);
      const stop = s.stopped_by_time_limit ? ", stopped by its time limit" : "";
      const training = `${thousands(s.steps)} steps, ${s.history.length} epoch${s.history.length === 1 ? "" : "s"}${stop}`;
      out.push(
        `| [${name}](runs/${name}/) | ${sizes(s)} | ${training} | ${val} (epoch ${s.best_epoch}) | ${test} on ${thousands(s.test_examples)} images | ${minutes(s.wall_s)} | ${where(s)} |`,
      );
    }
    out.push("");
    for (const { name, command } of rows) out.push(`- \`${name}\`: \`${command}\``);
    out.push("");
  }
  return out.join("\n").trimEnd() + "\n";
}

export const REPORT_BEGIN = "<!-- report:begin (generated by npm run report from docs/runs; do not edit) -->";
export const REPORT_END = "<!-- report:end -->";

/** `doc` with the text between the report markers replaced by `tables`. */
export function spliceReport(doc: string, tables: string): string {
  const a = doc.indexOf(REPORT_BEGIN);
  const b = doc.indexOf(REPORT_END);
  if (a < 0 || b < a)
    throw new Error(`spliceReport: the document must contain the markers ${REPORT_BEGIN} and ${REPORT_END}, in that order`);
  return doc.slice(0, a + REPORT_BEGIN.length) + "\n\n" + tables + "\n" + doc.slice(b);
}
