// @ts-check
// Publication export: the current view with its labels as text beside it, the legend below.
import { visibleRange, labelIndices } from "../../lib/viewport.js";
import { displayToken } from "../../ui/dom.js";
import { exportCanvas } from "../../ui/controls.js";
import { paintLegend, legendLines, legendTextWidth, paintLegendText } from "../../ui/legend.js";
import { FONT, MIN_LABEL_PX } from "./layout.js";

/** @typedef {import("../../lib/facts.js").AttentionFacts} AttentionFacts */
/** @typedef {import("./canvas.js").MapState} MapState */

/** Labels in exported images are cut at 12 characters so they fit the margin.
 * @param {string} t */
export const short = (t) => { const d = displayToken(t); return d.length > 12 ? d.slice(0, 11) + "…" : d; };

/**
 * The PNG's canvas.
 * @param {object} at
 * @param {MapState} at.st
 * @param {HTMLCanvasElement} at.canvas  The map's canvas as drawn.
 * @param {{ title: HTMLElement, legend: HTMLElement }} at.ui
 * @param {{ labelW: number, topH: number }} at.bands
 * @param {Readonly<AttentionFacts>} at.facts
 * @param {string} at.colormap
 * @returns {HTMLCanvasElement}
 */
export function drawExport({ st, canvas, ui, bands: { labelW: LABEL_W, topH: TOP_H }, facts: { tokens, rowTokens, nQuery, nKey }, colormap }) {
  const { view, px, rowPx } = st;
  const lines = legendLines(ui.legend);
  const T = 28; // title band
  const W = Math.max(LABEL_W + px + 20, LABEL_W + 214 + legendTextWidth(lines) + 10);
  const Hh = T + TOP_H + rowPx + 30 + 14 * Math.max(2, lines.length);
  const { canvas: out, ctx } = exportCanvas(W, Hh);
  ctx.fillStyle = "#1f2328"; ctx.font = "600 13px system-ui,sans-serif";
  ctx.fillText(ui.title.textContent ?? "", 8, 18);
  ctx.imageSmoothingEnabled = false;
  if (st.shown) ctx.drawImage(canvas, LABEL_W, T + TOP_H, px, rowPx);
  ctx.font = `${FONT}px system-ui,sans-serif`;
  const k = px / view.span;
  const range = visibleRange(view, nQuery, nKey);
  ctx.textAlign = "right";
  for (const i of labelIndices(range.r0, range.r1, k, MIN_LABEL_PX + 2).indices) {
    ctx.fillText(short(rowTokens[i]), LABEL_W - 4, T + TOP_H + (i + 0.5 - view.r0) * k + FONT / 3);
  }
  for (const j of labelIndices(range.c0, range.c1, k, MIN_LABEL_PX + 2).indices) {
    ctx.save();
    ctx.translate(LABEL_W + (j + 0.5 - view.c0) * k + FONT / 3, T + TOP_H - 4);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "left";
    ctx.fillText(short(tokens[j]), 0, 0);
    ctx.restore();
  }
  if (st.scale) {
    paintLegend(ctx, st.scale, colormap, LABEL_W, T + TOP_H + rowPx + 8, 200);
    paintLegendText(ctx, lines, LABEL_W + 210, T + TOP_H + rowPx + 20);
  }
  return out;
}
