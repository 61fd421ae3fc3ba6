// Browser code for test/jupyterlab-render.test.js, bundled with esbuild: renders the outputs of an
// executed notebook with JupyterLab's own output renderers (@jupyterlab/rendermime and its
// default factories), the way a JupyterLab notebook shows them after its cells have run.
import { OutputModel, RenderMimeRegistry, standardRendererFactories } from "@jupyterlab/rendermime";
import { Widget } from "@lumino/widgets";

/** Whether a mime type holds JSON, which nbformat never splits into lines. */
function isJSONMime(mime) {
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

/**
 * An output as JupyterLab receives it: on disk nbformat splits text into lists of lines, and
 * Jupyter Server's reader (nbformat's rejoin_lines) joins them back, with nothing between, before
 * the notebook reaches JupyterLab, whose renderers read each value as one string. Only lists of
 * strings are joined, and never JSON mime types.
 */
export function rejoinOutput(output) {
  const joined = JSON.parse(JSON.stringify(output));
  const isLines = (v) => Array.isArray(v) && v.every((line) => typeof line === "string");
  if (joined.output_type === "execute_result" || joined.output_type === "display_data") {
    for (const [mime, value] of Object.entries(joined.data ?? {})) {
      if (!isJSONMime(mime) && isLines(value)) joined.data[mime] = value.join("");
    }
  } else if (Array.isArray(joined.text)) {
    joined.text = joined.text.join("");
  }
  return joined;
}

/**
 * Renders every output of every code cell of `notebook` (nbformat 4 JSON) into `host`, trusted as
 * after running the cells, as JupyterLab's output area does: it picks the preferred mime type
 * (any factory, since the output is trusted), starts rendering, then attaches the widget.
 * Returns one entry per output: its cell, type and the mime type that rendered it.
 */
export async function renderNotebook(notebook, host) {
  const rendermime = new RenderMimeRegistry({ initialFactories: standardRendererFactories });
  const rendered = [];
  const cells = notebook.cells.filter((c) => c.cell_type === "code");
  for (const [cellIndex, cell] of cells.entries()) {
    const cellNode = document.createElement("div");
    cellNode.className = "test-cell";
    cellNode.dataset.cell = String(cellIndex);
    host.appendChild(cellNode);
    for (const output of cell.outputs ?? []) {
      const model = new OutputModel({ value: rejoinOutput(output), trusted: true });
      const mime = rendermime.preferredMimeType(model.data, model.trusted ? "any" : "ensure");
      rendered.push({ cell: cellIndex, type: output.output_type, mime: mime ?? null });
      if (!mime) continue;
      const widget = rendermime.createRenderer(mime);
      const done = widget.renderModel(model);
      Widget.attach(widget, cellNode);
      await done;
    }
  }
  return rendered;
}

window.renderNotebook = renderNotebook;
window.rejoinOutput = rejoinOutput;
