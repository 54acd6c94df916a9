// @ts-check
// The map's boxes: key labels on top, query labels on the left, the map's canvas and the pointer's
// overlay canvas on a stage, the axis note below. The map never grows wider than the slot it is
// drawn in (labels and padding included).
import { h } from "../../ui/dom.js";
import { info } from "../../ui/tips.js";

/** @typedef {import("./canvas.js").MapState} MapState */

const HELP = "Scroll on the map to zoom and drag to pan (or use + − fit). Hover a cell for its exact weight; click a row or column label to pin that token in every linked view.";

/**
 * Build the boxes into `ui.body` at the sizes `st` holds; `resize()` gives them `st`'s new sizes.
 * @param {object} parts
 * @param {{ body: HTMLElement }} parts.ui
 * @param {{ labelW: number, topH: number }} parts.bands
 * @param {MapState} parts.st
 * @param {AbortSignal} parts.signal
 */
export function mapFrame({ ui, bands: { labelW, topH }, st, signal }) {
  const { px, rowPx } = st;
  const grid = h("div", { style: `display:grid;grid-template-columns:${labelW}px ${px}px;grid-template-rows:${topH}px ${rowPx}px;gap:2px` });
  const top = h("div", { class: "aw-key-labels", style: "position:relative;overflow:hidden" });
  const left = h("div", { class: "aw-query-labels", style: "position:relative;overflow:hidden" });
  const stage = h("div", { style: `position:relative;width:${px}px;height:${rowPx}px` });
  const dpr = window.devicePixelRatio || 1;
  const canvas = /** @type {HTMLCanvasElement} */ (h("canvas", { class: "aw-map", style: `position:absolute;left:0;top:0;width:${px}px;height:${rowPx}px;outline:1px solid var(--aw-border)` }));
  canvas.width = Math.round(px * dpr); canvas.height = Math.round(rowPx * dpr);
  const overlay = /** @type {HTMLCanvasElement} */ (h("canvas", { class: "aw-overlay", style: `position:absolute;left:0;top:0;width:${px}px;height:${rowPx}px;cursor:crosshair;touch-action:none` }));
  overlay.width = Math.round(px * dpr); overlay.height = Math.round(rowPx * dpr);
  stage.append(canvas, overlay);
  const axisNote = h("div", { class: "aw-muted", style: `margin-left:${labelW + 2}px;min-width:${px}px;margin-top:2px`, text: "key (attended to) →" });
  const corner = h("div", { class: "aw-muted", style: "display:flex;flex-direction:column;align-items:flex-end;justify-content:flex-end;padding:0 4px 2px 0;text-align:right;line-height:1.2;font-size:11px;overflow:hidden" },
    h("span", { text: "key →" }), h("span", { text: "query ↓" }));
  grid.append(corner, top, left, stage);
  axisNote.append(" ", info(HELP, signal));
  ui.body.append(grid, axisNote);

  function resize() {
    const { px, rowPx } = st;
    grid.style.gridTemplateColumns = `${labelW}px ${px}px`;
    grid.style.gridTemplateRows = `${topH}px ${rowPx}px`;
    stage.style.width = `${px}px`; stage.style.height = `${rowPx}px`;
    for (const c of [canvas, overlay]) {
      c.style.width = `${px}px`; c.style.height = `${rowPx}px`;
      c.width = Math.round(px * dpr); c.height = Math.round(rowPx * dpr);
    }
    axisNote.style.minWidth = `${px}px`;
  }
  return { top, left, canvas, overlay, dpr, resize };
}
