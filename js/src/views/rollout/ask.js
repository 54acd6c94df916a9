// @ts-check
// Long inputs: the state holds rows of some query tokens only; a button asks the kernel for others,
// and the status line says why a row is not drawn (or how far the kernel has got with it).
import { h } from "../../ui/dom.js";
import { pendingText } from "./rows.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */

/**
 * @typedef {object} RowAsk
 * @property {(q: number, data: { rows?: number[] | null, eager?: boolean }) => void} missing
 *   Row `q` is not in `data`: say why, and offer the button unless the kernel sends it by itself.
 * @property {() => void} drawn  The row is drawn: no status, no button.
 */

/**
 * @param {{ root: HTMLElement, status: HTMLElement }} ui
 * @param {WidgetModel} model
 * @param {readonly string[]} tokens
 * @param {() => number} query  The query token the view shows.
 * @param {AbortSignal} signal
 * @returns {RowAsk}
 */
export function rowAsk(ui, model, tokens, query, signal) {
  const ask = /** @type {HTMLButtonElement} */ (h("button", { class: "aw-btn aw-rollout-ask", text: "compute rollout", style: "display:none;margin-left:6px" }));
  ui.status.after(ask);
  /** @type {number | null} */
  let asked = null;
  ask.addEventListener("click", () => {
    asked = query();
    model.send({ type: "rollout-row", query: asked });
    ask.disabled = true;
    ask.textContent = "computing… (needs a running kernel)";
  }, { signal });
  return {
    missing(q, data) {
      // The kernel computes rows in a worker thread and reports how far the pass has got.
      const pending = model.get("_pending") ?? {};
      const { busy, text } = pendingText(q, data, tokens, pending);
      ui.root.dataset.progress = busy ? String(pending.done ?? 0) : "";
      ui.status.textContent = text;
      ask.style.display = data.eager || busy ? "none" : "";
      if (asked !== q) { ask.disabled = false; ask.textContent = `compute rollout into token ${q}`; }
    },
    drawn() {
      ui.status.textContent = "";
      ask.style.display = "none";
    },
  };
}
