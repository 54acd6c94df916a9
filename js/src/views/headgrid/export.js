// @ts-check
// The head grid as a PNG: the title, the whole grid as drawn (the hovered row included), the
// layer numbers and the colour bar.
import { exportCanvas } from "../../ui/controls.js";
import { paintLegend } from "../../ui/legend.js";
import { GAP, LAYER_W } from "./geometry.js";

/** @typedef {import("./state.js").GridContext} GridContext */
/** @typedef {import("./state.js").GridState} GridState */

/**
 * @param {GridContext} ctx
 * @param {GridState} g
 * @param {HTMLCanvasElement} grid  The whole grid painted on a canvas of its own.
 * @returns {HTMLCanvasElement}
 */
export function drawExport(ctx, g, grid) {
  const { dpr } = ctx;
  const W = grid.width / dpr + 10, top = 30;
  const Hh = top + grid.height / dpr + 50;
  const { canvas: out, ctx: cx } = /** @type {{ canvas: HTMLCanvasElement, ctx: CanvasRenderingContext2D }} */ (exportCanvas(W, Hh));
  cx.fillStyle = "#1f2328"; cx.font = "600 13px system-ui,sans-serif";
  cx.fillText(ctx.ui.title.textContent ?? "", 6, 16);
  cx.drawImage(grid, 0, top, grid.width / dpr, grid.height / dpr);
  cx.font = "10px system-ui,sans-serif"; cx.fillStyle = "#57606a"; cx.textAlign = "right";
  ctx.facts.layerIds.forEach((l, li) => cx.fillText(`L${l}`, LAYER_W - 6, top + li * (g.rowH + GAP) + g.thumb / 2 + 3));
  if (g.scale) paintLegend(cx, g.scale, ctx.model.get("colormap"), LAYER_W, top + grid.height / dpr + 8, 200);
  return out;
}
