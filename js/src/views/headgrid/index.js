// HeadGrid: every layer x head as a thumbnail; hovering a token draws its row in every one.
// `render` wires the parts beside it: thumbs (which thumbnails), layout (cells and labels), atlas
// (the painting: the rows in view first, the others after the paint), badges (role badges, tint bars, the signed tint's bar), pointer (clicks, tooltips,
// the selected head), viewport (the scrolled box), notes (the legend's notes) and export (PNG).
import { attentionFacts } from "../../lib/facts.js";
import { payloadCache, connectMaps } from "../../lib/store.js";
import { connectSelection } from "../../lib/selection.js";
import { visibility } from "../../lib/maps.js";
import { h, makeRoot, tokenElement, TokenMarks, displayName, exactToken, wireTokens, whenSized, onWidthChange } from "../../ui/dom.js";
import { scaleControls, select, setTrait, viewScale, viewControls } from "../../ui/controls.js";
import { drawLegend, hideNotes } from "../../ui/legend.js";
import { onThemeChange } from "../../ui/theme.js";
import { gridState } from "./state.js";
import { thumbSize } from "./geometry.js";
import { pickThumbs, readThumbs, thumbsMax } from "./thumbs.js";
import { layOut } from "./layout.js";
import { buildAtlas, buildRest, paintGrid } from "./atlas.js";
import { drawEffectLegend, tintRange } from "./badges.js";
import { markSelected, wirePointer } from "./pointer.js";
import { followScroll } from "./viewport.js";
import { gridNotes } from "./notes.js";
import { drawExport } from "./export.js";

export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "headgrid");
  const ctl = viewControls(ui, { embedded, menu, signal });
  await whenSized(ui.root);
  const sel = await connectSelection(model, host, { signal });
  const facts = attentionFacts(model);
  const { tokens, nKey, offset, layerIds: layers, headIds: heads } = facts;
  // Labels and names are the caller's text: invisible and direction-changing characters marked.
  const labels = model.get("_labels").map((row) => row.map(displayName));
  const gqa = new Set(facts.kvOfHead).size < heads.length;
  const g = gridState(thumbSize(ui.root.clientWidth, heads.length, gqa));
  const marks = new TokenMarks();
  // Heads whose full maps the shared data model holds: their thumbnails are pooled from those.
  const held = model.get("data") && (model.get("_thumb_maps") ?? []).length ? await connectMaps(model, host, { signal }) : null;
  const name = displayName(facts.llmName);
  // Beside a view that switches to norms, the grid says that its thumbnails are weights.
  const measureName = model.get("_measure_name") ?? "";
  ui.title.textContent = `Heads${measureName ? ` · ${measureName}` : ""}${name ? ` · ${name}` : ""} · ${layers.length} layers × ${heads.length} heads`;
  const syncScale = scaleControls(model, ctl.options, signal);
  const tintNames = Object.keys(model.get("_tints") ?? {});
  const tintSel = tintNames.length
    ? select("tint", [...tintNames.map((k) => [k, displayName(k)]), ["", "none"]], model.get("tint_label"), (v) => setTrait(model, "tint_label", v), signal)
    : null;
  if (tintSel) { tintSel.node.title = "colour bar under each head"; ui.controls.append(tintSel.node); }
  ctl.png("heads", "attention-heads.png", () => drawExport(ctx, g, paintHover({ all: true })));

  // Token strip (in a dashboard the token text above serves as the strip).
  const strip = h("div", { class: "aw-strip" });
  for (let i = 0; i < nKey; i++) {
    const t = tokenElement(tokens, i, "span");
    strip.append(t);
    marks.add(i, t);
  }
  wireTokens(strip, sel, signal);
  if (embedded) strip.style.display = "none";
  const gridBox = h("div", { class: "aw-grid", style: `max-height:${embedded ? 280 : 520}px;overflow:auto;margin-top:4px;position:relative` });
  // What a hovered token shows, said while it shows (the grid changes meaning on hover). Its box
  // keeps its size whatever it says, so a hover relays and repaints only this line.
  const hoverKey = h("div", { class: "aw-muted aw-hover-key" });
  ui.body.append(strip, hoverKey, gridBox);
  // A signed tint (head effects) gets its own diverging bar, centred at 0, under the legend.
  const effLegend = h("div", { class: "aw-legend aw-effect-legend", style: "display:none" });
  ui.legend.after(effLegend);
  const canvas = h("canvas", { style: "position:absolute;left:0;top:0;pointer-events:none" });
  const ctx = { model, sel, facts, ui, embedded, maskVis: visibility(facts), labels, gridBox, canvas, dpr: window.devicePixelRatio || 1 };
  // Thumbnails cross coded and deflated: decoded (asynchronously) once per payload.
  const coded = payloadCache(model);
  const THUMBS = ["_thumbs", "_thumbs_alt"];
  const whenDecoded = (fn) => () => coded.ready(THUMBS).then(() => { if (!signal.aborted) fn(); });
  const colours = new Map();

  function build() {
    if (!pickThumbs(ctx, g, coded, held)) return;
    readThumbs(ctx, g);
    ui.root.dataset.tintSigned = String(g.tintSigned);
    if (tintSel) tintSel.input.value = model.get("tint_label");
    layOut(ctx, g);
    paint();
  }

  // `all`: the whole grid on a canvas of its own (the PNG export), returned.
  function paintHover({ all = false } = {}) {
    const hov = sel.get("hovered_token");
    const row = hov !== null && hov >= offset ? Math.floor((hov - offset) / model.get("_pool")) : null;
    const target = paintGrid(ctx, g, colours, row, { all });
    const key = row === null
      ? "hover a token: its attention row in every head · click a head to select it"
      : `grey: each head's map · coloured bars: what ${hov} ${exactToken(tokens[hov])} attends to (height and colour by weight) · orange tick: its row`;
    if (hoverKey.textContent !== key) hoverKey.textContent = key;
    markSelected(ctx, g);
    return target;
  }

  function paint() {
    if (!pickThumbs(ctx, g, coded, held)) return;
    syncScale();
    const hide = model.get("hide");
    for (const [i, nodes] of marks.byIndex) for (const n of nodes) n.classList.toggle("aw-hidden-tok", hide.includes(i));
    g.scale = viewScale(model, thumbsMax(g.thumbs));
    buildAtlas(ctx, g);
    paintHover();
    buildRest(ctx, g, signal);
    const { tmin, tmax } = tintRange(g.tint);
    const notes = gridNotes(hideNotes(tokens, g.thumbsHide), {
      nKey, hide, thumbsHide: g.thumbsHide, missing: g.missing, pool: model.get("_pool"), sampled: model.get("_sampled_rows") ?? 0,
      tint: g.tint && !g.tintSigned ? { name: displayName(model.get("tint_label")) || "tint", min: tmin, max: tmax } : null,
      badges: labels.some((row) => row.some(Boolean)),
    });
    drawLegend(ui.legend, g.scale, model.get("colormap"), notes);
    drawEffectLegend(ctx, g, effLegend);
  }

  function onHover() {
    marks.hover(sel.get("hovered_token"));
    marks.pin(sel.get("pinned_token"));
    paintHover();
  }

  followScroll(ctx, g, paintHover, signal);
  wirePointer(ctx, signal);
  sel.on(["hovered_token", "pinned_token", "layer", "head"], onHover);
  for (const name of ["scale", "gamma", "colormap", "hide", "_thumbs_hide", "_thumbs_alt"]) model.on(`change:${name}`, whenDecoded(paint));
  for (const name of ["_thumbs", "order", "_tint", "_tints", "_tint_signed", "tint_label"]) model.on(`change:${name}`, whenDecoded(build));
  await coded.ready(THUMBS);
  onThemeChange(whenDecoded(build), signal);
  // A new width gives the thumbnails a new size (the grid is laid out again); widths past the
  // largest thumbnails change nothing.
  const relayout = whenDecoded(build);
  onWidthChange(ui.root, (width) => {
    const size = thumbSize(width, heads.length, gqa);
    if (size !== g.thumb) { g.thumb = size; relayout(); }
  }, signal);
  build();
  onHover();
  return () => el.replaceChildren();
}
