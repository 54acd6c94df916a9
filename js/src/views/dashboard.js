// Dashboard: the linked views in one output, laid out to start on a laptop's first screen: token
// text across the top, the heatmap and rollout on the left, the head grid and graph on the right
// (one column while the output is narrow). Each child is drawn by this bundle's own view
// function on the child's model (resolved with host.getModel); one generation step control serves
// them all.
import { h, whenSized, onWidthChange } from "../ui/dom.js";
import { stepControl } from "../ui/controls.js";
import { connectSelection } from "../lib/selection.js";
import heatmap from "./heatmap.js";
import headgrid from "./headgrid.js";
import rollout from "./rollout.js";
import graph from "./graph.js";
import tokentext from "./tokentext.js";

const VIEWS = { tokentext, heatmap, headgrid, rollout, graph };
// Below this width the two columns would squeeze the maps: one column instead.
const WIDE_PX = 760;

export default async function render({ model, el, host, signal }) {
  const root = h("div", { class: "aw-dashboard" });
  el.replaceChildren(root);
  await whenSized(root);
  root.classList.toggle("aw-wide", root.clientWidth >= WIDE_PX || root.clientWidth === 0);
  // Two columns or one follow the output's width; each view then follows its slot's.
  onWidthChange(root, (w) => root.classList.toggle("aw-wide", w >= WIDE_PX), signal);
  const notes = model.get("notes") ?? [];
  if (notes.length) {
    const box = h("div", { class: "aw-dashboard-notes aw-span" });
    for (const n of notes) box.append(h("div", { text: n }));
    root.append(box);
  }
  const refs = Object.fromEntries(Object.keys(VIEWS).map((k) => [k, model.get(k)]));
  const children = {};
  for (const [name, ref] of Object.entries(refs)) if (ref) children[name] = await host.getModel(ref);
  const first = children.heatmap ?? Object.values(children)[0];
  if (first && model.get("selection")) {
    const sel = await connectSelection(model, host, { signal });
    const step = stepControl(sel, first.get("_tokens"), signal);
    if (step) { step.node.classList.add("aw-span", "attnwidget"); root.append(step.node); }
  }
  const slots = {};
  if (children.tokentext) root.append(slots.tokentext = h("div", { class: "aw-slot aw-span" }));
  const left = h("div", { class: "aw-col" }), right = h("div", { class: "aw-col" });
  root.append(left, right);
  for (const name of ["heatmap", "headgrid", "rollout", "graph"]) {
    if (!children[name]) continue;
    slots[name] = h("div", { class: "aw-slot" });
    (name === "heatmap" || name === "rollout" ? left : right).append(slots[name]);
  }
  const cleanups = [];
  for (const name of Object.keys(VIEWS)) {
    if (!children[name]) continue;
    cleanups.push(await VIEWS[name]({ model: children[name], el: slots[name], host, signal, embedded: true }));
  }
  return () => { for (const c of cleanups) c?.(); el.replaceChildren(); };
}
