// Dashboard: the four linked views in one output. Each child is drawn by this bundle's own view
// function on the child's model (resolved with host.getModel), so it needs nothing from the host
// beyond model references.
import { h, ensureStyle } from "./common.js";
import heatmap from "./heatmap.js";
import headgrid from "./headgrid.js";
import rollout from "./rollout.js";
import graph from "./graph.js";

const VIEWS = { heatmap, headgrid, rollout, graph };

export default async function render({ model, el, host, signal }) {
  ensureStyle();
  const root = h("div", { class: "aw-dashboard", style: "display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px;align-items:start" });
  const notes = model.get("notes") ?? [];
  if (notes.length) {
    const box = h("div", { class: "aw-dashboard-notes", style: "font:12px system-ui,sans-serif;color:#9a6700;margin:0 0 6px" });
    for (const n of notes) box.append(h("div", { text: n }));
    el.replaceChildren(box, root);
  } else el.replaceChildren(root);
  const cleanups = [];
  for (const name of Object.keys(VIEWS)) {
    const ref = model.get(name);
    if (!ref) continue;
    const cell = h("div", { style: "min-width:0" });
    root.append(cell);
    const child = await host.getModel(ref);
    cleanups.push(await VIEWS[name]({ model: child, el: cell, host, signal }));
  }
  return () => { for (const c of cleanups) c?.(); el.replaceChildren(); };
}
