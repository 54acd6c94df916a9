// @ts-check
// The pair panel: the query vector, the key vector and their element-wise product (the terms of
// the score) as strips of cells, and the score's sentence under them.
import { h } from "../../ui/dom.js";
import { divergingColor, signedPosition } from "../../lib/diverging.js";
import { absMax, scoreText } from "./vectors.js";

export const CELL = 7, ROW = 14, LABEL_W = 90;

/**
 * Paint `values` (length d) as one strip of cells on a diverging scale with full colour at vmax.
 * @param {ArrayLike<number>} values
 * @param {number} vmax
 */
function strip(values, vmax) {
  const c = /** @type {HTMLCanvasElement} */ (h("canvas", { style: `display:block;width:${values.length * CELL}px;height:${ROW}px` }));
  c.width = values.length; c.height = 1;
  const ctx = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d"));
  const img = ctx.createImageData(values.length, 1);
  Array.prototype.forEach.call(values, (/** @type {number} */ v, /** @type {number} */ x) => {
    const rgb = divergingColor(signedPosition(v, vmax));
    img.data.set([rgb[0], rgb[1], rgb[2], 255], x * 4);
  });
  ctx.putImageData(img, 0, 0);
  c.style.imageRendering = "pixelated";
  return c;
}

/**
 * @param {HTMLElement} panel
 * @param {import("./vectors.js").HeadVectors | null} cur
 * @param {number} i  The query row.
 * @param {number} j  The key.
 * @param {{ tokens: readonly string[], offset: number, nKey: number, visible: (i: number, j: number) => boolean }} facts
 */
export function drawPanel(panel, cur, i, j, { tokens, offset, nKey, visible }) {
  if (!cur) { panel.replaceChildren(); return; }
  const d = cur.d;
  const q = cur.q.subarray(i * d, (i + 1) * d), k = cur.k.subarray(j * d, (j + 1) * d);
  const prod = q.map((v, x) => v * k[x]);
  const dot = prod.reduce((s, v) => s + v, 0);
  const vecMax = Math.max(absMax(q), absMax(k)), prodMax = absMax(prod);
  /** @param {string} label @param {Float32Array} values @param {number} vmax @param {string} cls */
  const row = (label, values, vmax, cls) => h("div", { class: cls, style: "display:flex;align-items:center;gap:6px;margin:1px 0" },
    h("span", { text: label, style: `width:${LABEL_W}px;text-align:right;color:var(--aw-muted,#57606a);white-space:pre;overflow:hidden;text-overflow:ellipsis` }), strip(values, vmax));
  const vis = visible(i, j);
  const weight = vis ? cur.w[i * nKey + j] : 0;
  const summary = h("div", { class: "aw-neuron-score", style: "margin-top:4px" });
  summary.textContent = scoreText({ query: i + offset, key: j, tokens, visible: vis, dot, weight, facts: cur.facts });
  summary.dataset.query = String(i + offset); summary.dataset.key = String(j);
  summary.dataset.dot = String(dot); summary.dataset.weight = String(weight);
  panel.replaceChildren(
    row(`q ${tokens[i + offset]}`.slice(0, 14), q, vecMax, "aw-neuron-q"),
    row(`k ${tokens[j]}`.slice(0, 14), k, vecMax, "aw-neuron-k"),
    row("q × k", prod, prodMax, "aw-neuron-qk"),
    summary);
}
