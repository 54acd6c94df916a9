// @ts-check
// A dashboard's one toolbar: what all of its views share. Layer, head and the generation step go
// through the shared selection; scale, γ, colours, hiding, the measure and row normalisation are set
// on every view's own model (setTrait on each), so one change moves every view and, in a live
// kernel, each view's Python side checks the value (a refused one is sent back, and the toolbar
// shows what the first view's model then holds). A "⋯" menu holds the rarer options and the PNGs.
import { MEASURE_OPTIONS, MEASURE_HELP } from "../lib/measure.js";
import { h } from "./dom.js";
import { select, checkbox, setTrait, stepControl, dropMenu, pngButton, scaleControls } from "./controls.js";

/** @typedef {import("../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {import("./controls.js").Selection} Selection */

const FUSIONS = ["mean", "max", "min"];

/**
 * The toolbar of `models` (the views' models, the first one's traits shown) linked by `sel` (the
 * shared selection, or null). Returns `{ node, menu }`: `menu.png(label, filename, draw)` is what
 * the views get to offer their PNG (`draw` returns a canvas), `menu.hide(indices)` hides
 * tokens in every view.
 * @param {{ sel: Selection | null, models: WidgetModel[], signal?: AbortSignal }} o
 */
export function toolbar({ sel, models, signal }) {
  const first = models[0];
  /** @param {WidgetModel} m @param {string} name */
  const has = (m, name) => m.get(name) !== undefined && m.get(name) !== null;
  /** @param {string} name @param {any} value */
  const every = (name, value) => { for (const m of models) if (has(m, name)) setTrait(m, name, value); };
  const node = h("div", { class: "aw-controls aw-toolbar" });
  node.setAttribute("role", "toolbar");
  /** @type {(() => void)[]} */
  const syncs = [];
  /** @type {string[]} */
  const tokens = first.get("_tokens") ?? [];

  if (sel) {
    /** @type {number[]} */
    const layers = first.get("_layer_ids") ?? [];
    /** @type {number[]} */
    const heads = first.get("_head_ids") ?? [];
    const layer = select("layer", layers.map((l) => [l, String(l)]), sel.get("layer"), (v) => sel.set({ layer: Number(v) }, { immediate: true }), signal);
    const headValue = () => (sel.get("head") === null ? sel.get("fusion") : sel.get("head"));
    const head = select("head", [...FUSIONS.map((f) => [f, `${f} of heads`]), ...heads.map((x) => [x, `head ${x}`])], headValue(), (v) => {
      if (FUSIONS.includes(v)) sel.set({ head: null, fusion: v }, { immediate: true });
      else sel.set({ head: Number(v) }, { immediate: true });
    }, signal);
    layer.node.classList.add("aw-tb-layer"); head.node.classList.add("aw-tb-head");
    node.append(layer.node, head.node);
    const sync = () => { layer.input.value = String(sel.get("layer")); head.input.value = String(headValue()); };
    sel.on(["layer", "head", "fusion"], sync);
    syncs.push(sync);
  }

  const more = dropMenu("⋯", "more options and PNG images", signal, "aw-more");
  const normed = models.filter((m) => has(m, "row_normalize"));
  const rowNorm = normed.length
    ? checkbox("row-normalise", normed[0].get("row_normalize"), (on) => { for (const m of normed) setTrait(m, "row_normalize", on); }, signal)
    : null;
  if (rowNorm) { rowNorm.node.title = "scale each query row of the heatmap to its own maximum"; more.body.append(rowNorm.node); }
  // Scale, γ, colours and hiding: the first view's values shown, a change written to every view.
  const syncScale = scaleControls(first, node, signal, { write: every, specialBox: more.body, tag: "aw-tb-" });

  // Weights or norms: only where a view holds both (aw.show(att, norms=...)).
  const measured = models.filter((m) => m.get("norms_data"));
  const measure = measured.length
    ? select("measure", MEASURE_OPTIONS, measured[0].get("measure"), (v) => { for (const m of measured) setTrait(m, "measure", v); }, signal)
    : null;
  if (measure) { measure.node.title = MEASURE_HELP; measure.node.classList.add("aw-measure"); node.append(measure.node); }

  const step = sel ? stepControl(sel, tokens, signal) : null;
  if (step) node.append(step.node);

  node.append(more.node);
  /** @type {HTMLElement | null} */
  let pngs = null;

  const sync = () => {
    syncScale();
    if (measure) measure.input.value = measured[0].get("measure");
    if (rowNorm) rowNorm.input.checked = normed[0].get("row_normalize");
    node.dataset.scale = first.get("scale");
    node.dataset.colormap = first.get("colormap");
  };
  /** @type {[WidgetModel, string[]][]} */
  const watched = [[first, ["scale", "gamma", "colormap", "hide"]],
    ...(measure ? [/** @type {[WidgetModel, string[]]} */ ([measured[0], ["measure"]])] : []),
    ...(rowNorm ? [/** @type {[WidgetModel, string[]]} */ ([normed[0], ["row_normalize"]])] : [])];
  for (const [m, names] of watched) {
    for (const n of names) m.on(`change:${n}`, sync);
    signal?.addEventListener("abort", () => { for (const n of names) m.off(`change:${n}`, sync); }, { once: true });
  }
  sync();
  for (const s of syncs) s();

  const menu = {
    /** Hide `indices` in every view (a view's sink line offers this). */
    hide: (/** @type {number[]} */ indices) => every("hide", [...new Set([...first.get("hide"), ...indices])].sort((a, b) => a - b)),
    /** @param {string} label @param {string} filename @param {() => HTMLCanvasElement} draw */
    png(label, filename, draw) {
      if (!pngs) { pngs = h("div", { class: "aw-menu-group" }, h("span", { class: "aw-muted", text: "save PNG:" })); more.body.append(pngs); }
      const b = pngButton(pngs, filename, draw, signal, label);
      b.addEventListener("click", () => more.close(), { signal });
      return b;
    },
  };
  return { node, menu };
}
