// @ts-check
// The graph's own controls: the threshold slider, the layout menu, the measure menu (beside a view
// with norms) and the overlay buttons (several heads of the layer at once, one colour each).
import { MEASURE_OPTIONS, MEASURE_HELP } from "../../lib/measure.js";
import { h } from "../../ui/dom.js";
import { select, setTrait } from "../../ui/controls.js";
import { HEAD_COLOURS, MAX_OVERLAY } from "./edges.js";
import { toggleOverlay } from "./focus.js";

/** @typedef {import("./state.js").GraphContext} GraphContext */

/**
 * Make the controls in `ctx.ui.controls` (the measure menu in `shared`); returns `sync`, which
 * shows the traits' values in them.
 * @param {Pick<GraphContext, "model" | "ui" | "maps" | "facts">} ctx
 * @param {HTMLElement} shared  The toolbar part shared by linked views.
 * @param {AbortSignal} signal
 * @returns {() => void}
 */
export function graphControls({ model, ui, maps, facts }, shared, signal) {
  const slider = /** @type {HTMLInputElement} */ (h("input", { type: "range", min: "0", max: "1", step: "0.01", value: String(model.get("threshold")), style: "width:110px" }));
  const sliderVal = h("span", { text: model.get("threshold").toFixed(2), style: "min-width:2.5em" });
  slider.addEventListener("input", () => { sliderVal.textContent = Number(slider.value).toFixed(2); }, { signal });
  slider.addEventListener("change", () => setTrait(model, "threshold", Number(slider.value)), { signal });
  const layoutSel = select("layout", [["arc", "arc"], ["force", "force"]], model.get("arrangement"), (/** @type {string} */ v) => setTrait(model, "arrangement", v), signal);
  ui.controls.append(h("label", {}, "threshold", slider, sliderVal), layoutSel.node);
  const measureSel = maps.hasNorms ? select("measure", MEASURE_OPTIONS, maps.measure(), (/** @type {string} */ v) => setTrait(model, "measure", v), signal) : null;
  if (measureSel) {
    measureSel.node.title = MEASURE_HELP;
    measureSel.node.classList.add("aw-measure");
    shared.append(measureSel.node);
  }
  const headIds = facts.headIds;
  const overlayBox = h("span", { class: "aw-overlay-heads", style: "display:inline-flex;flex-wrap:wrap;align-items:center;gap:2px" },
    h("span", { class: "aw-muted", text: "overlay heads", title: `draw up to ${MAX_OVERLAY} heads of the layer together, one colour each` }));
  const overlayBtns = headIds.map((hd) => {
    const b = h("button", { class: "aw-btn aw-overlay-head", text: String(hd), "data-head": String(hd), style: "padding:0 5px;min-width:1.8em" });
    b.addEventListener("click", () => setTrait(model, "overlay", toggleOverlay(model.get("overlay"), hd, headIds, MAX_OVERLAY)), { signal });
    overlayBox.append(b);
    return b;
  });
  ui.controls.append(overlayBox);
  return () => {
    slider.value = String(model.get("threshold"));
    sliderVal.textContent = model.get("threshold").toFixed(2);
    layoutSel.input.value = model.get("arrangement");
    const overlay = model.get("overlay") ?? [];
    overlayBtns.forEach((b, k) => {
      const on = overlay.indexOf(headIds[k]);
      b.setAttribute("aria-pressed", String(on >= 0));
      b.style.background = on >= 0 ? HEAD_COLOURS[on] : "";
      b.style.color = on >= 0 ? "#fff" : "";
      b.style.borderColor = on >= 0 ? HEAD_COLOURS[on] : "";
    });
    ui.root.dataset.measure = maps.measure();
    if (measureSel) measureSel.input.value = maps.measure();
  };
}
