// @ts-check
// The graph as a PNG: the title, the edges with the same path strings as the SVG (so the PNG
// matches what is on screen, focus included), the nodes and their shown labels, and the colour bar.
import { exportCanvas } from "../../ui/controls.js";
import { paintLegend, legendLines, paintLegendText } from "../../ui/legend.js";
import { DIM, LIT } from "./edges.js";
import { isOn } from "./focus.js";
import { currentFocus } from "./pointer.js";

/** @typedef {import("./state.js").GraphContext} GraphContext */
/** @typedef {import("./state.js").GraphState} GraphState */

/**
 * @param {GraphContext} ctx
 * @param {GraphState} g
 * @returns {HTMLCanvasElement}
 */
export function drawExport(ctx, g) {
  const Hh = ctx.height;
  const { canvas: out, ctx: cx } = /** @type {{ canvas: HTMLCanvasElement, ctx: CanvasRenderingContext2D }} */ (exportCanvas(g.width, Hh + 60));
  cx.fillStyle = "#1f2328"; cx.font = "600 13px system-ui,sans-serif";
  cx.fillText(ctx.ui.title.textContent ?? "", 8, 16);
  cx.translate(0, 26);
  const f = currentFocus(ctx);
  for (const { p, a, e } of g.edges.els) {
    cx.strokeStyle = p.getAttribute("stroke") ?? "";
    cx.lineWidth = Number(p.getAttribute("stroke-width"));
    cx.globalAlpha = isOn(e, f) ? LIT : DIM;
    cx.stroke(new Path2D(p.getAttribute("d") ?? ""));
    if (a) { cx.fillStyle = a.getAttribute("fill") ?? ""; cx.fill(new Path2D(a.getAttribute("d") ?? "")); }
  }
  cx.globalAlpha = 1;
  cx.font = "10px system-ui,sans-serif";
  const pos = g.pos;
  if (pos) {
    const arc = Array.prototype.every.call(pos.y, (/** @type {number} */ y) => y === pos.y[0]);
    for (const node of ctx.nodeLayer.children) {
      const i = Number(node.getAttribute("data-token-index"));
      cx.fillStyle = "#57606a";
      cx.beginPath(); cx.arc(pos.x[i], pos.y[i], 3.5, 0, 2 * Math.PI); cx.fill();
      const label = node.querySelector("text");
      if (!label || label.style.display === "none") continue;
      cx.save(); cx.fillStyle = "#1f2328";
      cx.translate(pos.x[i], pos.y[i]);
      if (arc) { cx.rotate(Math.PI / 3); cx.fillText(label.textContent ?? "", 7, 3); } else cx.fillText(label.textContent ?? "", 6, -5);
      cx.restore();
    }
  }
  if (g.scale) {
    paintLegend(cx, g.scale, ctx.model.get("colormap"), 10, Hh + 2, 200);
    paintLegendText(cx, legendLines(ctx.ui.legend).slice(0, 2), 220, Hh + 14);
  }
  return out;
}
