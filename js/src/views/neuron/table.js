// @ts-check
// Every key's q × k for the shown query: one canvas row per key (masked keys grey), the keys'
// tokens beside it and their attention weights as bars; the pointer reads one key and dimension.
import { h, tokenElement, exactToken } from "../../ui/dom.js";
import { cssColor } from "../../lib/colormap.js";
import { divergingColor, signedPosition } from "../../lib/diverging.js";
import { rotaryPartner } from "../../lib/dims.js";
import { showTip, hideTip } from "../../ui/tips.js";
import { markDims } from "./axis.js";
import { CELL, ROW, LABEL_W } from "./panel.js";

/** @typedef {import("../../ui/dom.js").TokenMarks} TokenMarks */

/**
 * @param {HTMLElement} table
 * @param {import("./vectors.js").HeadVectors | null} cur
 * @param {number} i  The query row.
 * @param {{ tokens: readonly string[], nKey: number, visible: (i: number, j: number) => boolean, rotary: string | null }} facts
 * @param {{ ui: { root: HTMLElement, tip: HTMLElement }, axis: HTMLElement, marks: TokenMarks,
 *   sel: { get: (name: string) => any, set: (values: object) => void }, signal: AbortSignal }} view
 */
export function drawTable(table, cur, i, { tokens, nKey, visible, rotary }, { ui, axis, marks, sel, signal }) {
  table.replaceChildren();
  marks.clear();
  if (!cur) return;
  const d = cur.d, k = cur.k;
  const q = cur.q.subarray(i * d, (i + 1) * d);
  const canvas = /** @type {HTMLCanvasElement} */ (h("canvas", { style: `position:absolute;left:${LABEL_W + 6}px;top:0;width:${d * CELL}px;height:${nKey * ROW}px;image-rendering:pixelated;cursor:crosshair` }));
  canvas.width = d; canvas.height = nKey;
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  const img = ctx.createImageData(d, nKey);
  let m = 0;
  for (let j = 0; j < nKey; j++) if (visible(i, j)) for (let x = 0; x < d; x++) m = Math.max(m, Math.abs(q[x] * k[j * d + x]));
  for (let j = 0; j < nKey; j++) for (let x = 0; x < d; x++) {
    const rgb = visible(i, j) ? divergingColor(signedPosition(q[x] * k[j * d + x], m)) : [234, 238, 242];
    img.data.set([rgb[0], rgb[1], rgb[2], 255], (j * d + x) * 4);
  }
  ctx.putImageData(img, 0, 0);
  const labels = h("div", { style: `position:relative;width:${LABEL_W}px;height:${nKey * ROW}px` });
  const bars = h("div", { style: `position:absolute;left:${LABEL_W + 12 + d * CELL}px;top:0` });
  for (let j = 0; j < nKey; j++) {
    const t = tokenElement(tokens, j);
    t.style.cssText = `position:absolute;right:2px;top:${j * ROW}px;line-height:${ROW}px;font-size:11px;max-width:${LABEL_W - 4}px;overflow:hidden;text-overflow:ellipsis`;
    labels.append(t); marks.add(j, t);
    const w = visible(i, j) ? cur.w[i * nKey + j] : 0;
    bars.append(h("div", { style: `position:absolute;top:${j * ROW + 3}px;height:${ROW - 6}px;width:${Math.max(0, w * 80).toFixed(1)}px;background:${cssColor(divergingColor(0.7))}`, title: `weight ${w.toPrecision(3)}` }));
  }
  table.style.height = `${nKey * ROW}px`;
  table.append(labels, canvas, bars);
  canvas.addEventListener("mousemove", (ev) => {
    const r = canvas.getBoundingClientRect();
    const j = Math.floor(((ev.clientY - r.top) / r.height) * nKey), x = Math.floor(((ev.clientX - r.left) / r.width) * d);
    if (j < 0 || j >= nKey || x < 0 || x >= d) { hideTip(ui.tip); markDims(axis, null, d, rotary); return; }
    const partner = rotaryPartner(x, d, rotary);
    showTip(ui.tip, ui.root, `key ${j} ${exactToken(tokens[j])}, dimension ${x}` + (partner === null ? "" : ` (turns with ${partner})`) +
      `\nq ${q[x].toPrecision(3)} × k ${k[j * d + x].toPrecision(3)} = ${(q[x] * k[j * d + x]).toPrecision(3)}`, ev);
    markDims(axis, x, d, rotary);
    sel.set({ hovered_token: j });
  }, { signal });
  canvas.addEventListener("mouseleave", () => { hideTip(ui.tip); markDims(axis, null, d, rotary); sel.set({ hovered_token: null }); }, { signal });
  marks.hovered = null; marks.pinned = null;
  marks.hover(sel.get("hovered_token")); marks.pin(sel.get("pinned_token"));
}
