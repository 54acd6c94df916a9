// AttentionGraph: tokens as nodes, edges above a threshold, arc or force layout, in SVG.
// `render` wires the parts beside it: controls (threshold, layout, measure, overlay buttons), draw
// (one map, or heads overlaid), layout (node places, edge paths), edges, labels (nodes and their
// labels), pointer (the focus token's edges lit), focus (DOM-free focus and tooltips), export (PNG).
import { attentionFacts } from "../../lib/facts.js";
import { visibility } from "../../lib/maps.js";
import { connectSelection } from "../../lib/selection.js";
import { connectMeasured } from "../../lib/measure.js";
import { makeRoot, TokenMarks, wireTokens, whenSized, onWidthChange } from "../../ui/dom.js";
import { scaleControls, viewControls, stepControl, sinkBox } from "../../ui/controls.js";
import { wireTips } from "../../ui/tips.js";
import { onThemeChange } from "../../ui/theme.js";
import { svg } from "./svg.js";
import { EdgeSet } from "./edges.js";
import { graphControls } from "./controls.js";
import { drawMap, drawOverlay } from "./draw.js";
import { lightFocus } from "./pointer.js";
import { drawExport } from "./export.js";

export { HEAD_COLOURS } from "./edges.js";

export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "graph");
  const ctl = viewControls(ui, { embedded, menu, signal });
  await whenSized(ui.root);
  const sink = sinkBox();
  ui.body.before(sink);
  const sel = await connectSelection(model, host, { signal });
  const facts = attentionFacts(model);
  const { tokens, nKey } = facts;
  const maps = await connectMeasured(model, host, { signal });
  const marks = new TokenMarks();
  const syncControls = graphControls({ model, ui, maps, facts }, ctl.shared, signal);
  const syncScale = scaleControls(model, ctl.options, signal);
  ctl.png("graph", "attention-graph.png", () => drawExport(ctx, g));

  const step = embedded ? null : stepControl(sel, tokens, signal);
  if (step) ui.body.append(step.node);

  // As wide as the slot allows (never wider), shorter in a dashboard.
  const widthFor = (width) => Math.max(280, Math.min(900, nKey * 22, width ? width - 22 : 900));
  const W = widthFor(ui.root.clientWidth);
  const Hh = embedded ? 210 : 300;
  const root = svg("svg", { width: W, height: Hh, viewBox: `0 0 ${W} ${Hh}`, style: "display:block;font:11px system-ui,sans-serif" });
  ui.body.append(root);
  const edgeLayer = svg("g", { class: "aw-edges" }), litLayer = svg("g", { class: "aw-edges-lit" }), nodeLayer = svg("g", { class: "aw-nodes" });
  root.append(edgeLayer, litLayer, nodeLayer);
  wireTokens(root, sel, signal);

  const ctx = { model, sel, facts, ui, maps, visible: visibility(facts), root, nodeLayer, litLayer, height: Hh };
  const g = { width: W, pos: null, values: null, scale: null, edges: new EdgeSet(edgeLayer), labels: null, lit: null };
  const extras = { marks, sink, menu, signal };

  function onHover() {
    marks.hover(sel.get("hovered_token"));
    marks.pin(sel.get("pinned_token"));
    lightFocus(ctx, g);
  }

  function draw() {
    syncScale();
    syncControls();
    const overlay = model.get("overlay") ?? [];
    if (overlay.length) drawOverlay(ctx, g, overlay, extras);
    else drawMap(ctx, g, extras);
    onHover();
  }
  wireTips(root, ui, signal);

  sel.on(["layer", "head", "fusion"], draw);
  sel.on(["hovered_token", "pinned_token", "step"], onHover);
  maps.on(draw);
  for (const name of ["overlay", "threshold", "arrangement", "scale", "gamma", "colormap", "hide", "_exact_edges"]) model.on(`change:${name}`, draw);
  onThemeChange(draw, signal);
  // A new width places the nodes again across it; widths past the widest graph change nothing.
  onWidthChange(ui.root, (width) => {
    const w = widthFor(width);
    if (w === g.width) return;
    g.width = w;
    root.setAttribute("width", String(w));
    root.setAttribute("viewBox", `0 0 ${w} ${Hh}`);
    draw();
  }, signal);
  draw();
  return () => el.replaceChildren();
}
