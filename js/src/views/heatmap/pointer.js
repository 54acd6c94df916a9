// @ts-check
// The pointer on the map: the crosshair overlay (hovered, pinned, the cell under the pointer), the
// cell's tooltip, hover and pin through the shared selection, zoom (wheel, buttons) and pan (drag).
import { formatWeight } from "../../lib/store.js";
import { tileOrigin, tileValue } from "../../lib/tiles.js";
import { fullView, zoomAt, panBy, cellAt } from "../../lib/viewport.js";
import { exactToken } from "../../ui/dom.js";
import { hideTip } from "../../ui/tips.js";

/** @typedef {import("../../lib/facts.js").AttentionFacts} AttentionFacts */
/** @typedef {import("./canvas.js").MapState} MapState */
/** @typedef {import("./kernel.js").KernelLink} KernelLink */

const PIN = "rgba(9,105,218,0.9)", HOVER = "rgba(255,140,0,0.95)";

/**
 * Draw the crosshair: the pinned and hovered tokens' key column (and query row), or the row and
 * column of the cell under the pointer, and that cell.
 * @param {HTMLCanvasElement} overlay
 * @param {number} dpr
 * @param {MapState} st
 * @param {any} sel  The shared selection.
 * @param {{ offset: number, cross: boolean }} facts
 */
export function drawCrosshair(overlay, dpr, st, sel, { offset, cross }) {
  const { view, px, rowPx, cursor } = st;
  const ctx = /** @type {CanvasRenderingContext2D} */ (overlay.getContext("2d"));
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, px, rowPx);
  const k = px / view.span;
  /** @param {number} j */
  const x = (j) => (j - view.c0) * k;
  /** @param {number} i */
  const y = (i) => (i - view.r0) * k;
  /** @param {number | null | undefined} index @param {string} color */
  const band = (index, color) => {
    if (index === null || index === undefined) return;
    ctx.strokeStyle = color; ctx.lineWidth = 1.5;
    ctx.strokeRect(x(index), 0, Math.max(k, 1), rowPx); // key column
    const qi = index - offset;
    if (!cross && qi >= 0) ctx.strokeRect(0, y(qi), px, Math.max(k, 1)); // query row
  };
  /** @param {number | null | undefined} i @param {string} color */
  const rowBand = (i, color) => { // a target row of cross-attention
    if (i === null || i === undefined) return;
    ctx.strokeStyle = color; ctx.lineWidth = 1.5;
    ctx.strokeRect(0, y(i), px, Math.max(k, 1));
  };
  band(sel.get("pinned_token"), PIN);
  if (cross) rowBand(sel.get("pinned_query"), PIN);
  if (cursor && !cross) {
    // The pointer reads one cell: outline its query row and its key column, not the column of
    // the hovered (query) token.
    ctx.strokeStyle = HOVER; ctx.lineWidth = 1.5;
    ctx.strokeRect(x(cursor.j), 0, Math.max(k, 1), rowPx);
    ctx.strokeRect(0, y(cursor.i), px, Math.max(k, 1));
  } else band(sel.get("hovered_token"), HOVER);
  if (cross) rowBand(sel.get("hovered_query"), HOVER);
  if (cursor) {
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 1;
    ctx.strokeRect(x(cursor.j), y(cursor.i), Math.max(k, 2), Math.max(k, 2));
  }
}

/**
 * The weight of cell (i, j) as the tooltip says it: exact when the cell is held (coded maps ask the
 * kernel for the exact weight, one request per cell), else the pooled block's maximum.
 * @param {object} at
 * @param {MapState} at.st
 * @param {number} at.i
 * @param {number} at.j
 * @param {number[]} at.hide
 * @param {number} at.nKey
 * @param {(i: number, j: number) => boolean} at.visible
 * @param {() => number | null | undefined} at.precision  The coded map's relative error (none: exact).
 * @param {KernelLink} at.kernel
 * @returns {string}
 */
export function weightText({ st, i, j, hide, nKey, visible, precision, kernel }) {
  const { shown } = st;
  if (!visible(i, j)) return "masked";
  if (hide.includes(j)) return "hidden";
  if (!shown) return "not loaded";
  if (shown.values) {
    const coded = precision();
    if (!coded) return shown.values[i * nKey + j].toPrecision(3);
    const exact = kernel.exactValue(shown.key, i, j);
    if (exact !== undefined) return `${exact.toPrecision(4)} (exact, from the kernel)`;
    kernel.askExact(shown.key, i, j);
    return formatWeight(shown.values[i * nKey + j], coded);
  }
  const { r0, c0 } = tileOrigin(i, j);
  const t = kernel.tile(shown.key, r0, c0);
  if (t) return tileValue(t, i, j).toPrecision(3);
  const f = shown.factor, cols = Math.ceil(nKey / f);
  const v = /** @type {Float32Array} */ (shown.pooled)[Math.floor(i / f) * cols + Math.floor(j / f)];
  return `≤ ${v.toPrecision(3)} (largest in its ${f}×${f} block; zoom in for this cell)`;
}

/**
 * Wire the pointer, the wheel and the zoom buttons to the map.
 * @param {object} parts
 * @param {HTMLCanvasElement} parts.overlay
 * @param {{ zoomIn: HTMLElement, zoomOut: HTMLElement, zoomFit: HTMLElement }} parts.buttons
 * @param {MapState} parts.st
 * @param {any} parts.sel
 * @param {Readonly<AttentionFacts>} parts.facts
 * @param {HTMLElement} parts.tip
 * @param {(at: { clientX: number, clientY: number }) => void} parts.showCellTip  The tooltip of `st.cursor`.
 * @param {() => void} parts.schedule  Draw again on the next frame.
 * @param {() => void} parts.onHover  The selection's hover changed here.
 * @param {AbortSignal} parts.signal
 */
export function wirePointer({ overlay, buttons, st, sel, facts, tip, showCellTip, schedule, onHover, signal }) {
  const { nQuery, nKey, offset, cross } = facts;
  /** @param {MouseEvent} ev */
  const pointerCell = (ev) => {
    const r = overlay.getBoundingClientRect();
    return cellAt(st.view, ((ev.clientX - r.left) / r.width) * st.px, ((ev.clientY - r.top) / r.height) * st.rowPx, st.px, st.rowPx, nQuery, nKey);
  };
  /** @type {{ x: number, y: number, view: import("./canvas.js").View, moved: boolean } | null} */
  let drag = null;
  overlay.addEventListener("pointerdown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, view: st.view, moved: false };
    overlay.setPointerCapture?.(ev.pointerId);
  }, { signal });
  overlay.addEventListener("pointermove", (ev) => {
    if (drag && ev.buttons) {
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        const r = overlay.getBoundingClientRect();
        st.view = panBy(drag.view, (dx * st.px) / r.width, (dy * st.px) / r.width, st.px, nQuery, nKey, st.minSpan);
        overlay.style.cursor = "grabbing";
        hideTip(tip);
        schedule();
        return;
      }
    }
    st.cursor = pointerCell(ev);
    if (!st.cursor) { hideTip(tip); return; }
    const { i, j } = st.cursor;
    st.lastPointer = { clientX: ev.clientX, clientY: ev.clientY };
    // Linked views first: the tooltip measures itself, which lays the page out once, after
    // every view has written its hover.
    sel.set(cross ? { hovered_token: j, hovered_query: i } : { hovered_token: i + offset });
    onHover();
    showCellTip(st.lastPointer);
  }, { signal });
  const endDrag = () => { overlay.style.cursor = "crosshair"; };
  overlay.addEventListener("pointerup", endDrag, { signal });
  overlay.addEventListener("pointercancel", () => { drag = null; endDrag(); }, { signal });
  overlay.addEventListener("mouseleave", () => {
    st.cursor = null; hideTip(tip);
    sel.set(cross ? { hovered_token: null, hovered_query: null } : { hovered_token: null });
    onHover();
  }, { signal });
  overlay.addEventListener("click", (ev) => {
    const dragged = drag && drag.moved;
    drag = null;
    if (dragged) return; // the end of a drag is not a click
    const c = pointerCell(ev);
    if (!c) return;
    if (cross) { // a cell pins its target row and source column together
      const again = sel.get("pinned_token") === c.j && sel.get("pinned_query") === c.i;
      sel.set({ pinned_token: again ? null : c.j, pinned_query: again ? null : c.i }, { immediate: true });
      return;
    }
    const at = c.i + offset;
    sel.set({ pinned_token: sel.get("pinned_token") === at ? null : at }, { immediate: true });
  }, { signal });
  overlay.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = overlay.getBoundingClientRect();
    const factor = Math.exp(-Math.max(-200, Math.min(200, ev.deltaY)) * 0.004);
    st.view = zoomAt(st.view, factor, (ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height, nQuery, nKey, st.minSpan);
    schedule();
  }, { signal, passive: false });
  /** @param {number} factor */
  const zoomBy = (factor) => { st.view = zoomAt(st.view, factor, 0.5, 0.5, nQuery, nKey, st.minSpan); schedule(); };
  buttons.zoomIn.addEventListener("click", () => zoomBy(2), { signal });
  buttons.zoomOut.addEventListener("click", () => zoomBy(0.5), { signal });
  buttons.zoomFit.addEventListener("click", () => { st.view = fullView(nKey); schedule(); }, { signal });
}

/**
 * The tooltip's text for cell (i, j): its query and key tokens and its weight.
 * @param {Readonly<AttentionFacts>} facts
 * @param {number} i
 * @param {number} j
 * @param {string} what  "weight" or "norm".
 * @param {string} weight
 */
export function cellTipText({ tokens, rowTokens, offset, cross }, i, j, what, weight) {
  const rowText = cross ? `query (target) ${i} ${exactToken(rowTokens[i])}` : `query ${i + offset} ${exactToken(tokens[i + offset])}`;
  const keyText = cross ? `key (source) ${j} ${exactToken(tokens[j])}` : `key ${j} ${exactToken(tokens[j])}`;
  return `${rowText}\n${keyText}\n${what} ${weight}`;
}

