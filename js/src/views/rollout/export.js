// @ts-check
// The rollout as a PNG: title, bars, labels, caption and legend on a white canvas.
import { exportCanvas } from "../../ui/controls.js";
import { displayToken } from "../../ui/dom.js";
import { paintLegend } from "../../ui/legend.js";
import { colorAt, cssColor } from "../../lib/colormap.js";
import { barValue } from "../../lib/bars.js";
import { breakMark } from "./bars.js";
import { barHeight } from "./geometry.js";

/**
 * @typedef {object} DrawnRollout  What the live view last drew (null fields: nothing drawn yet).
 * @property {Float32Array | null} values  The rollout row.
 * @property {{ fraction: ArrayLike<number>, clipped: number } | null} layout  lib/bars.js `barLayout`.
 * @property {any} scale  The view's scale (ui/controls.js `viewScale`).
 */

/**
 * @param {DrawnRollout} drawn
 * @param {import("./geometry.js").BarGeometry} geom
 * @param {{ tokens: readonly string[], title: string, caption: string, cmap: string }} text
 * @returns {HTMLCanvasElement}
 */
export function drawRolloutExport({ values, layout, scale }, geom, { tokens, title, caption, cmap }) {
  if (!values || !layout) return exportCanvas(320, 40).canvas;
  const { n, colW, every, base: BASE, barH, labelH } = geom;
  const W = Math.max(320, n * colW + 40), Hh = BASE + 168;
  const { canvas: out, ctx } = exportCanvas(W, Hh);
  ctx.fillStyle = "#1f2328"; ctx.font = "600 13px system-ui,sans-serif";
  ctx.fillText(title, 8, 16);
  const top = 26, base = top + BASE, bw = colW - 2;
  for (let j = 0; j < n; j++) {
    const hj = barHeight(layout.fraction[j], barH);
    ctx.fillStyle = cssColor(colorAt(cmap, scale(values[j])));
    ctx.fillRect(20 + j * colW + 1, base - hj, bw, hj);
    if (j % every === 0) {
      ctx.save(); ctx.fillStyle = "#1f2328"; ctx.font = "10px system-ui,sans-serif";
      ctx.translate(20 + j * colW + colW / 2 + 3, base + 4); ctx.rotate(-Math.PI / 2); ctx.textAlign = "right";
      ctx.fillText(displayToken(tokens[j]).slice(0, 10), 0, 0); ctx.restore();
    }
  }
  const cut = layout.clipped;
  if (cut >= 0) {
    breakMark(ctx, 20 + cut * colW + 1, bw, top + labelH + 6, "#ffffff");
    ctx.fillStyle = "#1f2328"; ctx.font = "10px system-ui,sans-serif"; ctx.textAlign = "center";
    ctx.fillText(barValue(values[cut]), 20 + cut * colW + colW / 2, top + labelH - 3);
    ctx.textAlign = "left";
  }
  ctx.fillStyle = "#57606a"; ctx.font = "11px system-ui,sans-serif";
  ctx.fillText(caption, 8, base + 76);
  paintLegend(ctx, scale, cmap, 20, base + 94, 200);
  return out;
}
