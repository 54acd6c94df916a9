// Dashboard: lays out the four linked child views through anywidget's host.getWidget.
import { h, ensureStyle } from "./common.js";

export default async function render({ model, el, host, signal }) {
  ensureStyle();
  const root = h("div", { class: "aw-dashboard", style: "display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:12px;align-items:start" });
  el.replaceChildren(root);
  if (!host || typeof host.getWidget !== "function") {
    root.textContent = "attnwidget: this notebook host cannot lay out child widgets (anywidget >= 0.11 needed); display the views one by one";
    return () => el.replaceChildren();
  }
  for (const name of ["heatmap", "headgrid", "rollout", "graph"]) {
    const ref = model.get(name);
    if (!ref) continue;
    const cell = h("div", { style: "min-width:0" });
    root.append(cell);
    const child = await host.getWidget(ref);
    await child.render({ el: cell, signal });
  }
  return () => el.replaceChildren();
}
