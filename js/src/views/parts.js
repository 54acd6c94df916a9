// Parts of an encoder-decoder result: a selector over the encoder dashboard, the decoder
// dashboard and the cross-attention heatmap, one drawn at a time (the others cost nothing until
// picked). A hovered or pinned token is carried between the parts where it appears: source tokens
// between the encoder and the cross keys, target tokens between the decoder and the cross query
// rows (lib/links.js says which selection field is which).
import { h } from "./common.js";
import { connectSelection } from "../lib/selection.js";
import { linkParts } from "../lib/links.js";
import dashboard from "./dashboard.js";
import heatmap from "./heatmap.js";
import crossgraph from "./crossgraph.js";

const VIEWS = { dashboard, heatmap, crossgraph };
const PARTS = [
  ["encoder", "encoder", "source tokens attending to source tokens"],
  ["decoder", "decoder", "target tokens attending to earlier target tokens"],
  ["cross", "cross", "target tokens (rows) attending to source tokens (columns)"],
];

export default async function render({ model, el, host, signal }) {
  const root = h("div", { class: "attnwidget aw-parts" });
  const bar = h("div", { class: "aw-controls aw-part-bar", role: "tablist" });
  bar.setAttribute("aria-label", "part");
  const slot = h("div", { class: "aw-part" });
  root.append(bar, slot);
  el.replaceChildren(root);
  const children = {};
  for (const [name] of PARTS) children[name] = await host.getModel(model.get(name));
  const graphRef = model.get("cross_graph");
  const crossGraph = graphRef ? await host.getModel(graphRef) : null;

  // Each part's selection, linked field by field to the others (source to source, target to target).
  const sels = {};
  for (const [name] of PARTS) sels[name] = await connectSelection(children[name], host, { signal });
  linkParts(sels);

  const buttons = {};
  bar.append(h("span", { class: "aw-part-label", text: "part " }));
  for (const [name, label, help] of PARTS) {
    const b = h("button", { class: "aw-btn aw-part-tab", text: label, title: help, role: "tab", "data-part": name });
    b.addEventListener("click", () => { if (model.get("part") !== name) { model.set("part", name); model.save_changes(); } }, { signal });
    buttons[name] = b;
    bar.append(b);
  }

  let shown = null, partCtl = null, cleanup = null;
  async function draw() {
    const name = model.get("part");
    if (name === shown) return;
    shown = name;
    if (partCtl) { partCtl.abort(); cleanup?.(); cleanup = null; }
    const ctl = (partCtl = new AbortController());
    for (const [n, b] of Object.entries(buttons)) {
      b.setAttribute("aria-pressed", String(n === name));
      b.setAttribute("aria-selected", String(n === name));
    }
    root.dataset.part = name;
    const box = h("div");
    slot.replaceChildren(box);
    const child = children[name];
    const view = VIEWS[child.get("_view_kind")];
    const dones = [await view({ model: child, el: box, host, signal: ctl.signal, embedded: true })];
    if (name === "cross" && crossGraph && !ctl.signal.aborted) {
      const below = h("div", { class: "aw-slot", style: "margin-top:8px" });
      slot.append(below);
      dones.push(await VIEWS[crossGraph.get("_view_kind")]({ model: crossGraph, el: below, host, signal: ctl.signal, embedded: true }));
    }
    const done = () => { for (const d of dones) d?.(); };
    if (ctl.signal.aborted) done();
    else cleanup = done;
  }
  const onPart = () => { draw(); };
  model.on("change:part", onPart);
  signal.addEventListener("abort", () => { model.off("change:part", onPart); partCtl?.abort(); cleanup?.(); });
  await draw();
  return () => { partCtl?.abort(); cleanup?.(); el.replaceChildren(); };
}
