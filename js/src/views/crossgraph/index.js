// Cross-attention as a graph: target tokens (queries) in a row above, source tokens (keys) in a
// row below, a line from each target token to every source token it weighs at least `threshold`.
// Source nodes carry key positions (the selection's hovered_token / pinned_token), target nodes
// query rows (its hovered_query / pinned_query); hovering or pinning either sets the shared
// selection, and the lines of the focused tokens stay bright. The parts beside this file:
// geometry.js (sizes, lines and words, no DOM), labels.js (row and focus labels), paint.js (lines
// and nodes), focus.js (lighting the focused lines), pointer.js (hover and click), svg.js.
import { arcLayout } from "../../lib/layout.js";
import { displayMap, visibility } from "../../lib/maps.js";
import { attentionFacts } from "../../lib/facts.js";
import { connectSelection } from "../../lib/selection.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { mapKey, missingMapText } from "../../lib/store.js";
import { connectMeasured } from "../../lib/measure.js";
import { h, makeRoot, TokenMarks, whenSized } from "../../ui/dom.js";
import { setTrait, scaleControls, viewControls, viewScale } from "../../ui/controls.js";
import { drawLegend, hideNotes } from "../../ui/legend.js";
import { wireTips } from "../../ui/tips.js";
import { theme, onThemeChange } from "../../ui/theme.js";
import { graphSize, captionText, crossEdges, PAD } from "./geometry.js";
import { labelRows } from "./labels.js";
import { drawEdges, drawNodes } from "./paint.js";
import { lightFocus } from "./focus.js";
import { wireNodes } from "./pointer.js";
import { svg } from "./svg.js";

export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "graph");
  const ctl = viewControls(ui, { embedded, menu, signal });
  ui.root.classList.add("aw-cross-graph");
  await whenSized(ui.root);
  const sel = await connectSelection(model, host, { signal });
  const facts = attentionFacts(model);
  const { tokens, queryTokens: targets, nKey } = facts;
  const nQuery = targets.length;
  const visible = visibility({ nQuery, nKey, causal: false, mask: facts.mask });
  const maps = await connectMeasured(model, host, { signal });
  const what = () => (maps.measure() === "norms" ? "norm" : "weight");
  const marks = new TokenMarks(), rowMarks = new TokenMarks();

  const slider = h("input", { type: "range", min: "0", max: "1", step: "0.01", value: String(model.get("threshold")), style: "width:110px" });
  const sliderVal = h("span", { text: model.get("threshold").toFixed(2), style: "min-width:2.5em" });
  slider.addEventListener("input", () => { sliderVal.textContent = Number(slider.value).toFixed(2); }, { signal });
  slider.addEventListener("change", () => setTrait(model, "threshold", Number(slider.value)), { signal });
  ui.controls.append(h("label", {}, "threshold", slider, sliderVal));
  const syncScale = scaleControls(model, ctl.options, signal);

  // Every token keeps at least STEP px of its row: a long row is wider than the slot, and the
  // two rows, their lines and labels scroll sideways together in one SVG.
  const { W, CW, TOP, BOTTOM, Hh } = graphSize(nKey, nQuery, ui.root.clientWidth);
  const caption = h("div", { class: "aw-muted aw-cross-caption", style: "font-size:12px;margin:2px 0" });
  const scroller = h("div", { class: "aw-cross-scroll", style: `overflow-x:auto;overflow-y:hidden;max-width:100%;width:${W}px` });
  const root = svg("svg", { width: CW, height: Hh, viewBox: `0 0 ${CW} ${Hh}`, style: "display:block;font:11px system-ui,sans-serif" });
  scroller.append(root);
  ui.body.append(caption, scroller);
  const layers = { edgeLayer: svg("g", { class: "aw-edges" }), litLayer: svg("g", { class: "aw-edges-lit" }), focusLayer: svg("g", { class: "aw-focus-labels", "pointer-events": "none" }) };
  const nodeLayer = svg("g", { class: "aw-nodes" });
  root.append(layers.edgeLayer, layers.litLayer, nodeLayer, layers.focusLayer);
  wireNodes(root, sel, signal);
  const xq = arcLayout(nQuery, CW, PAD), xk = arcLayout(nKey, CW, PAD);
  const rows = labelRows({ targets, tokens, xq, xk, TOP, BOTTOM });
  const unlabelled = h("span", { class: "aw-unlabelled" });
  caption.append(captionText({ nQuery, nKey, scrolls: CW > W, shownQuery: rows.query.shown.length, shownKey: rows.token.shown.length }), unlabelled);
  let drawn = { edgeEls: [], edges: [], byRow: [], byKey: [], lit: null }, ink = theme(ui.root);

  function draw() {
    syncScale();
    slider.value = String(model.get("threshold"));
    sliderVal.textContent = model.get("threshold").toFixed(2);
    const key = mapKey(sel.get("layer"), sel.get("head"), sel.get("fusion"));
    ui.title.textContent = `Cross-attention graph · layer ${sel.get("layer")} · ${sel.get("head") === null ? `${sel.get("fusion")} of heads` : `head ${sel.get("head")}`} · ${what()}s ≥ ${model.get("threshold")}`;
    ui.root.dataset.layer = String(sel.get("layer"));
    const raw = maps.get(key);
    ui.status.textContent = raw ? "" : missingMapText(maps.info(), key);
    const hide = model.get("hide");
    const values = raw ? displayMap(raw, nQuery, nKey, { hide, visible }) : null;
    const threshold = model.get("threshold");
    const scale = viewScale(model, 1), cmap = model.get("colormap");
    ink = theme(ui.root);
    for (const layer of [layers.edgeLayer, layers.litLayer, nodeLayer, layers.focusLayer]) layer.replaceChildren();
    marks.clear(); rowMarks.clear();
    for (const row of Object.values(rows)) { row.labels.clear(); row.hidden = []; }
    const edges = crossEdges(values, nQuery, nKey, visible, threshold);
    drawn = drawEdges(layers.edgeLayer, edges, { xq, xk, TOP, BOTTOM, nQuery, nKey, targets, tokens, cmap, scale, what: what() });
    drawNodes(nodeLayer, rows, { TOP, BOTTOM, hide, ink }, { marks, rowMarks });
    if (scale) drawLegend(ui.legend, scale, cmap, hideNotes(tokens, hide).concat(
      [`${edges.length} lines ≥ ${threshold}, from each target token to the source tokens it attends to; width by ${what()}`,
        anchorNote(scale, nKey)]), 180, null, uniformShare(nKey));
    onHover();
  }

  function onHover() {
    const state = {};
    for (const k of ["hovered_token", "pinned_token", "hovered_query", "pinned_query"]) state[k] = sel.get(k);
    marks.hover(state.hovered_token);
    marks.pin(state.pinned_token);
    rowMarks.hover(state.hovered_query);
    rowMarks.pin(state.pinned_query);
    const { focus, dropped } = lightFocus(state, drawn, layers, rows, ink);
    ui.root.dataset.focus = focus ? `${focus.row ?? ""},${focus.key ?? ""}` : "";
    if (dropped === null) return;
    ui.root.dataset.unlabelled = String(dropped);
    unlabelled.textContent = dropped ? ` · ${dropped} line ends without a label here (their lines' tooltips name them)` : "";
  }

  // A token pinned from another view may lie outside the scrolled part: bring it in.
  function showPinned(name, xs) {
    const i = sel.get(name);
    if (i === null || i === undefined || CW <= W || !xs[i]) return;
    const left = scroller.scrollLeft, width = scroller.clientWidth || W;
    if (xs[i] < left + PAD || xs[i] > left + width - PAD) scroller.scrollLeft = Math.max(0, xs[i] - width / 2);
  }
  sel.on(["pinned_query"], () => showPinned("pinned_query", xq));
  sel.on(["pinned_token"], () => showPinned("pinned_token", xk));

  wireTips(root, ui, signal);
  sel.on(["layer", "head", "fusion"], draw);
  sel.on(["hovered_token", "pinned_token", "hovered_query", "pinned_query"], onHover);
  maps.on(draw);
  for (const name of ["threshold", "scale", "gamma", "colormap", "hide"]) model.on(`change:${name}`, draw);
  onThemeChange(draw, signal);
  draw();
  return () => el.replaceChildren();
}
