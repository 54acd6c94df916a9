// @ts-check
// The pointer on the grid: a click on a thumbnail selects its layer and head, a hover shows its
// tooltip; and the selected head marked (its outline, the axes' labels) and scrolled into view.
import { exactToken } from "../../ui/dom.js";
import { showTip, hideTip } from "../../ui/tips.js";
import { HEADER_H } from "./geometry.js";

/** @typedef {import("./state.js").GridContext} GridContext */
/** @typedef {import("./state.js").GridState} GridState */

/**
 * The thumbnail cell under an event, if any.
 * @param {Event} ev
 * @returns {HTMLElement | null}
 */
function cellAt(ev) {
  const t = /** @type {Element | null} */ (ev.target);
  return t && typeof t.closest === "function" ? /** @type {HTMLElement | null} */ (t.closest("[data-layer]")) : null;
}

/**
 * Clicks and tooltips on the grid's cells.
 * @param {GridContext} ctx
 * @param {AbortSignal} signal
 */
export function wirePointer(ctx, signal) {
  const { gridBox, sel, ui, facts } = ctx;
  gridBox.addEventListener("click", (ev) => {
    const t = cellAt(ev);
    if (t) sel.set({ layer: Number(t.dataset.layer), head: Number(t.dataset.head) }, { immediate: true });
  }, { signal });
  gridBox.addEventListener("mousemove", (ev) => {
    const t = cellAt(ev);
    if (!t) { hideTip(ui.tip); return; }
    const hov = sel.get("hovered_token");
    showTip(ui.tip, ui.root, t.title + (hov !== null ? `\nrow of ${hov} ${exactToken(facts.tokens[hov])}` : ""), ev);
  }, { signal });
  gridBox.addEventListener("mouseleave", () => hideTip(ui.tip), { signal });
}

/**
 * Mark the selected layer and head: the head's outline, the axes' labels; and scroll it into the
 * grid's view when the selection changed. Nodes are restyled only when their state changes (this
 * runs on every hover: a style write per head per hover would restyle the grid).
 * @param {GridContext} ctx
 * @param {GridState} g
 */
export function markSelected(ctx, g) {
  const { sel, gridBox } = ctx;
  const layers = ctx.facts.layerIds, heads = ctx.facts.headIds;
  const layer = sel.get("layer"), headSel = sel.get("head");
  for (const { cell, li, hi } of g.cells) {
    const isSel = layers[li] === layer && heads[hi] === headSel;
    // A cell is laid out unselected: only a change from that is written.
    if ((g.marked.get(cell) ?? false) === isSel) continue;
    g.marked.set(cell, isSel);
    cell.classList.toggle("aw-selected", isSel);
    cell.style.outline = isSel ? "3px solid var(--aw-accent)" : "";
    cell.style.zIndex = isSel ? "2" : "";
  }
  const mark = (/** @type {HTMLElement} */ lab, /** @type {boolean} */ on) => {
    if ((g.marked.get(lab) ?? false) === on) return;
    g.marked.set(lab, on);
    lab.style.color = on ? "var(--aw-accent)" : "var(--aw-muted)";
    lab.style.fontWeight = on ? "700" : "";
  };
  for (const lab of g.layerLabels) mark(lab, Number(lab.dataset.rowLayer) === layer);
  for (const lab of g.headLabels) mark(lab, headSel !== null && Number(lab.dataset.head) === headSel);
  const key = `${layer}/${headSel}`;
  if (key === g.lastSel) return;
  g.lastSel = key;
  const target = g.cells.find(({ li, hi }) => layers[li] === layer && (headSel === null || heads[hi] === headSel));
  if (!target || !gridBox.clientHeight) return;
  const top = target.y + HEADER_H, bottom = top + g.rowH;
  if (top < gridBox.scrollTop + HEADER_H || bottom > gridBox.scrollTop + gridBox.clientHeight) {
    gridBox.scrollTop = Math.max(0, top - gridBox.clientHeight / 2 + g.rowH / 2);
  }
  const left = target.x, right = left + g.thumb;
  if (headSel !== null && (left < gridBox.scrollLeft || right > gridBox.scrollLeft + gridBox.clientWidth)) {
    gridBox.scrollLeft = Math.max(0, left - gridBox.clientWidth / 2);
  }
}
