// @ts-check
// The head grid: one cell per (layer, head) pair, coloured by the total variation between a and b;
// a click on a cell selects that layer and head.
import { h } from "../../ui/dom.js";
import { colorAt, cssColor } from "../../lib/colormap.js";

/**
 * @typedef {object} HeadGrid
 * @property {HTMLElement} node
 * @property {number} tvMax  The largest total variation.
 * @property {(cmap: string) => void} paint  Draw the cells in colour map `cmap`.
 * @property {(layer: number, head: number | null) => void} mark  Outline the selected pair's cell.
 */

/**
 * @param {{ summary: Float32Array, layers: readonly number[], heads: readonly number[],
 *   bLayers: readonly number[], bHeads: readonly number[], nameB: string }} facts
 * @param {(layer: number, head: number) => void} onPick
 * @param {AbortSignal} signal
 * @returns {HeadGrid}
 */
export function headGrid({ summary, layers, heads, bLayers, bHeads, nameB }, onPick, signal) {
  const node = h("div", { class: "aw-diff-grid", style: `display:grid;grid-template-columns:auto repeat(${heads.length},14px);gap:1px;align-content:start;font-size:10px;color:#57606a` });
  /** @type {Map<string, HTMLElement>} */
  const cells = new Map();
  let tvMax = 0;
  for (const v of summary) tvMax = Math.max(tvMax, v);
  /** @type {[number, number | null]} */
  let marked = [NaN, null];
  node.addEventListener("click", (/** @type {MouseEvent} */ ev) => {
    const c = /** @type {HTMLElement | null} */ (/** @type {Element} */ (ev.target).closest?.("[data-layer][data-head]"));
    if (c) onPick(Number(c.dataset.layer), Number(c.dataset.head));
  }, { signal });

  /** @type {HeadGrid["mark"]} */
  function mark(layer, head) {
    marked = [layer, head];
    for (const [k, c] of cells) c.style.outline = k === `${layer}/${head}` ? "2px solid #0969da" : "";
  }
  /** @type {HeadGrid["paint"]} */
  function paint(cmap) {
    node.replaceChildren(h("span"), ...heads.map((x) => h("span", { text: String(x), style: "text-align:center" })));
    cells.clear();
    layers.forEach((l, li) => {
      node.append(h("span", { text: `L${l}`, style: "padding-right:3px;text-align:right" }));
      heads.forEach((x, hi) => {
        const v = summary[li * heads.length + hi];
        const c = h("div", { class: "aw-cell", "data-layer": String(l), "data-head": String(x), style: `width:14px;height:12px;cursor:pointer;background:${cssColor(colorAt(cmap, tvMax > 0 ? v / tvMax : 0))}` });
        c.title = `layer ${l} head ${x}` + (bLayers[li] !== l || bHeads[hi] !== x ? ` (${nameB}: layer ${bLayers[li]} head ${bHeads[hi]})` : "") +
          `: total variation ${v.toFixed(3)} (0 same rows, 1 disjoint)`;
        c.dataset.tv = v.toFixed(4);
        cells.set(`${l}/${x}`, c);
        node.append(c);
      });
    });
    mark(...marked);
  }
  return { node, tvMax, paint, mark };
}
