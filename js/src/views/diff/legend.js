// @ts-check
// The diff's legend: the diverging colour bar from -vmax to +vmax, and what the colours and the grid mean.
import { h } from "../../ui/dom.js";
import { cssColor, fmt } from "../../lib/colormap.js";
import { divergingColor } from "../../lib/diverging.js";

/**
 * @param {HTMLElement} container
 * @param {{ vmax: number, tvMax: number, scale: string, nameA: string, nameB: string }} o
 */
export function drawDiffLegend(container, { vmax, tvMax, scale, nameA, nameB }) {
  const bar = /** @type {HTMLCanvasElement} */ (h("canvas"));
  const w = 180;
  bar.width = w; bar.height = 12; bar.style.cssText = `width:${w}px;height:12px;display:block;border:1px solid #8c959f`;
  const ctx = /** @type {CanvasRenderingContext2D} */ (bar.getContext("2d"));
  for (let x = 0; x < w; x++) { ctx.fillStyle = cssColor(divergingColor((x / (w - 1)) * 2 - 1)); ctx.fillRect(x, 0, 1, 12); }
  const ticks = h("div", { style: `display:flex;justify-content:space-between;width:${w}px` },
    h("span", { text: `−${fmt(vmax)}` }), h("span", { text: "0" }), h("span", { text: `+${fmt(vmax)}` }));
  const text = h("div", {},
    h("div", { text: `blue: more attention in ${nameA}; red: more in ${nameB}; ${scale} scale, full colour at ±${fmt(vmax)}` }),
    h("div", { text: `grid: total variation between ${nameA} and ${nameB} per head, 0 (same) to ${tvMax.toFixed(2)} (largest here); click a head to compare it` }));
  container.replaceChildren(h("div", {}, bar, ticks), text);
}
