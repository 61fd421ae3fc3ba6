/** Text tables that line up in a monospace font, CJK text included. */

/** Columns a string takes in a monospace font: CJK characters and full-width forms take two. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const c of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(c) ? 2 : 1;
  return w;
}

/** Rows under a header as aligned text: the first `leftColumns` columns flush left, the rest (numbers) flush right. */
export function textTable(head: string[], rows: (string | number)[][], leftColumns = 1): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  for (const [i, r] of cells.entries()) {
    if (r.length !== head.length) throw new Error(`textTable: row ${i - 1} has ${r.length} cells, the header ${head.length}`);
  }
  const widths = head.map((_, j) => Math.max(...cells.map((r) => displayWidth(r[j]))));
  const pad = (c: string, j: number) => " ".repeat(widths[j] - displayWidth(c));
  const line = (r: string[]) =>
    r
      .map((c, j) => (j < leftColumns ? c + pad(c, j) : pad(c, j) + c))
      .join("  ")
      .trimEnd();
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** Prints `textTable(head, rows)`. */
export function printTable(head: string[], rows: (string | number)[][], leftColumns = 1): void {
  console.log(textTable(head, rows, leftColumns));
}
