// @ts-check
// The gives / receives toggle, bound to the `direction` trait.
import { h } from "../../ui/dom.js";
import { setTrait } from "../../ui/controls.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */

/**
 * @param {WidgetModel} model
 * @param {HTMLElement} container
 * @param {AbortSignal} signal
 * @returns {(dir: string) => void}  Shows `dir` as the pressed button.
 */
export function directionToggle(model, container, signal) {
  const gives = h("button", { class: "aw-btn aw-dir-gives", text: "gives", title: "tint each token by how much the focus token attends to it" });
  const receives = h("button", { class: "aw-btn aw-dir-receives", text: "receives", title: "tint each token by how much it attends to the focus token" });
  gives.addEventListener("click", () => setTrait(model, "direction", "gives"), { signal });
  receives.addEventListener("click", () => setTrait(model, "direction", "receives"), { signal });
  container.append(h("label", {}, "focus token", gives, receives));
  return (dir) => {
    gives.setAttribute("aria-pressed", String(dir === "gives"));
    receives.setAttribute("aria-pressed", String(dir === "receives"));
  };
}
