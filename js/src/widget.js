// Entry point: anywidget calls render(); the `_view_kind` trait picks which view draws.
import heatmap from "./views/heatmap/index.js";
import headgrid from "./views/headgrid/index.js";
import rollout from "./views/rollout/index.js";
import graph from "./views/graph/index.js";
import dashboard from "./views/dashboard/index.js";
import diff from "./views/diff/index.js";
import neuron from "./views/neuron/index.js";
import tokentext from "./views/tokentext/index.js";
import parts from "./views/parts/index.js";
import crossgraph from "./views/crossgraph/index.js";

const VIEWS = { heatmap, headgrid, rollout, graph, dashboard, diff, neuron, tokentext, parts, crossgraph };

async function render({ model, el, host, signal }) {
  const kind = model.get("_view_kind");
  const view = VIEWS[kind];
  if (!view) {
    el.textContent = `attnwidget: unknown view kind ${JSON.stringify(kind)}`;
    return () => {};
  }
  try {
    return await view({ model, el, host, signal: signal ?? new AbortController().signal });
  } catch (err) {
    // A view that cannot draw says why in place of a blank cell.
    const box = document.createElement("div");
    box.className = "attnwidget";
    box.style.cssText = "color:#cf222e;font:12px system-ui,sans-serif;padding:8px;border:1px solid #cf222e;border-radius:6px";
    box.textContent = `attnwidget ${kind}: ${err && err.message ? err.message : err}`;
    el.replaceChildren(box);
    console.error(err);
    return () => el.replaceChildren();
  }
}

export default { render };
