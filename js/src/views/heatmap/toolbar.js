// @ts-check
// The heatmap's controls: layer, head or fusion of heads, measure, scale options, row
// normalisation and zoom; `sync` sets them, the title and the root's data attributes from the
// selection and the traits.
import { effectTitle } from "../../lib/effects.js";
import { MEASURE_OPTIONS, MEASURE_HELP } from "../../lib/measure.js";
import { h } from "../../ui/dom.js";
import { select, checkbox, setTrait, scaleControls } from "../../ui/controls.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {import("../../lib/facts.js").AttentionFacts} AttentionFacts */

const FUSIONS = ["mean", "max", "min"];

/**
 * @param {object} parts
 * @param {WidgetModel} parts.model
 * @param {any} parts.sel  The shared selection.
 * @param {{ measure: () => string, hasNorms: boolean }} parts.maps  The view's maps (lib/measure.js).
 * @param {Readonly<AttentionFacts>} parts.facts
 * @param {any} parts.ui  The view's root parts (ui/dom.js `makeRoot`).
 * @param {any} parts.ctl  Where the controls go (ui/controls.js `viewControls`).
 * @param {AbortSignal} parts.signal
 */
export function heatmapControls({ model, sel, maps, facts, ui, ctl, signal }) {
  const { measure } = maps;
  const layerSel = select("layer", facts.layerIds.map((l) => [l, String(l)]), sel.get("layer"), (/** @type {string} */ v) => sel.set({ layer: Number(v) }, { immediate: true }), signal);
  const headOptions = [...FUSIONS.map((f) => [f, `${f} of heads`]), ...facts.headIds.map((x) => [x, `head ${x}`])];
  const headValue = () => (sel.get("head") === null ? sel.get("fusion") : sel.get("head"));
  const headSel = select("head", headOptions, headValue(), (/** @type {string} */ v) => {
    if (FUSIONS.includes(v)) sel.set({ head: null, fusion: v }, { immediate: true });
    else sel.set({ head: Number(v) }, { immediate: true });
  }, signal);
  ctl.shared.append(layerSel.node, headSel.node);
  const measureSel = maps.hasNorms ? select("measure", MEASURE_OPTIONS, measure(), (/** @type {string} */ v) => setTrait(model, "measure", v), signal) : null;
  if (measureSel) {
    measureSel.node.title = MEASURE_HELP;
    measureSel.node.classList.add("aw-measure");
    ctl.shared.append(measureSel.node);
  }
  const syncScale = scaleControls(model, ctl.options, signal);
  const rowNorm = checkbox("row-normalise", model.get("row_normalize"), (/** @type {boolean} */ on) => setTrait(model, "row_normalize", on), signal);
  rowNorm.node.title = "scale each query row to its own maximum";
  ctl.options.append(rowNorm.node);
  const zoomIn = h("button", { class: "aw-btn aw-zoom-in", text: "+", title: "zoom in (or scroll on the map)" });
  const zoomOut = h("button", { class: "aw-btn aw-zoom-out", text: "−", title: "zoom out" });
  const zoomFit = h("button", { class: "aw-btn aw-zoom-fit", text: "fit", title: "show the whole map" });
  ui.controls.append(zoomIn, zoomOut, zoomFit);

  /** Controls, title and data attributes from the selection and the traits. */
  function sync() {
    const layer = sel.get("layer"), head = sel.get("head"), fusion = sel.get("fusion");
    ui.root.dataset.layer = String(layer);
    ui.root.dataset.head = head === null ? fusion : String(head);
    ui.root.dataset.measure = measure();
    if (measureSel) measureSel.input.value = measure();
    const what = measure() === "norms" ? "Value-weighted norms" : facts.cross ? "Cross-attention (target rows, source columns)" : maps.hasNorms ? "Attention weights" : "Attention";
    ui.title.textContent = `${what} · layer ${layer} · ${head === null ? `${fusion} of heads` : `head ${head}`}${effectTitle(model.get("_effects"), layer, head)}`;
    layerSel.input.value = String(layer);
    headSel.input.value = String(headValue());
    rowNorm.input.checked = model.get("row_normalize");
    syncScale();
  }
  return { buttons: { zoomIn, zoomOut, zoomFit }, sync };
}
