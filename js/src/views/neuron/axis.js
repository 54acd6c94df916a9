// @ts-check
// The dimension axis under the strips: ticks every few dimensions and, for rotary models, which
// dimensions turn together (lib/dims.js); a hovered dimension and its rotary partner marked on it.
import { h } from "../../ui/dom.js";
import { dimTicks, rotaryPartner } from "../../lib/dims.js";
import { CELL, LABEL_W } from "./panel.js";

/** Where every strip, the axis and the key table start. */
export const X0 = LABEL_W + 6;

/**
 * @param {HTMLElement} axis
 * @param {number | null} d  The head size (null: no vectors, an empty axis).
 * @param {string | null} rotary  The rotary style ("half", "pairs") or null.
 */
export function drawAxis(axis, d, rotary) {
  axis.replaceChildren();
  if (d === null) return;
  const { ticks } = dimTicks(d, CELL);
  const line = "var(--aw-border,#d0d7de)";
  axis.dataset.dims = String(d);
  axis.append(h("span", { text: "dimension", style: `position:absolute;left:0;top:3px;width:${LABEL_W}px;text-align:right` }),
    h("div", { style: `position:absolute;left:${X0}px;top:0;width:${d * CELL}px;border-top:1px solid ${line}` }));
  for (const x of ticks) {
    axis.append(h("div", { class: "aw-neuron-tick", "data-dim": String(x), text: String(x),
      style: `position:absolute;left:${X0 + x * CELL}px;top:0;padding:3px 0 0 2px;border-left:1px solid ${line};line-height:10px;height:10px` }));
  }
  let height = 16;
  const partner0 = rotaryPartner(0, d, rotary);
  if (partner0 !== null) {
    // rotate_half: the two halves of the head, dimension i of the first turning with i + d/2.
    const half = d / 2;
    const band = h("div", { class: "aw-neuron-rotary", "data-style": rotary, "data-half": String(half),
      style: `position:absolute;left:${X0}px;top:${height}px;width:${d * CELL}px;height:14px;display:flex` });
    /** @param {string} text */
    const seg = (text) => h("div", { text, style: `flex:1;border:1px solid ${line};border-top:none;text-align:center;line-height:12px;overflow:hidden;white-space:nowrap` });
    band.append(seg(rotary === "half" ? `0–${half - 1}: i` : "pairs (2i, 2i + 1)"), ...(rotary === "half" ? [seg(`${half}–${d - 1}: i + ${half}, turns with i`)] : []));
    axis.append(band, h("span", { text: "rotary", style: `position:absolute;left:0;top:${height + 1}px;width:${LABEL_W}px;text-align:right` }));
    height += 16;
  }
  axis.style.height = `${height}px`;
}

/**
 * Mark dimension `x` on the axis, and the dimension that turns with it (null: no mark).
 * @param {HTMLElement} axis
 * @param {number | null} x
 * @param {number | null} d
 * @param {string | null} rotary
 */
export function markDims(axis, x, d, rotary) {
  for (const m of axis.querySelectorAll(".aw-neuron-dim-mark")) m.remove();
  if (x === null || d === null) return;
  const partner = rotaryPartner(x, d, rotary);
  for (const [dim, cls] of /** @type {[number | null, string][]} */ ([[x, "aw-neuron-dim-mark"], [partner, "aw-neuron-dim-mark aw-neuron-dim-partner"]])) {
    if (dim === null) continue;
    axis.append(h("div", { class: cls, "data-dim": String(dim), title: dim === x ? `dimension ${dim}` : `dimension ${dim}, which turns with ${x}`,
      style: `position:absolute;left:${X0 + dim * CELL}px;top:-1px;width:${CELL}px;height:3px;background:var(--aw-accent,#0969da)` }));
  }
}
