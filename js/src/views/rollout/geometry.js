// @ts-check
// The bars' geometry (pure: no DOM): columns fit the slot, narrower columns and thinned labels
// before a scroll bar.
import { colorAt, cssColor } from "../../lib/colormap.js";

/**
 * The width of one token's column for a slot `width` px wide (0: not known yet).
 * @param {number} n  Number of tokens.
 * @param {number} width
 */
export function columnWidth(n, width) {
  return Math.max(4, Math.min(26, Math.floor(Math.min(640, width ? width - 24 : 640) / n)));
}

/**
 * Every how many columns a label is drawn, so labels about 13 px apart never overlap.
 * @param {number} colW
 */
export function labelEvery(colW) {
  return Math.max(1, Math.ceil(13 / colW));
}

/**
 * @typedef {object} BarGeometry  What the live bars and their export share; `fit` changes it.
 * @property {number} n  Number of tokens.
 * @property {number} barH  Height of the tallest bar.
 * @property {number} labelH  Band above the bars for the value printed over a cut bar.
 * @property {number} base  The bars' baseline (labelH + barH).
 * @property {number} colH  Height of a column: the bars and the labels under them.
 * @property {number} colW  Width of one column.
 * @property {number} every  Every how many columns a label is drawn.
 * @property {number} rowW  Width of all columns.
 */

/**
 * @param {number} n
 * @param {number} width  The slot's width (0: not known yet).
 * @param {{ barH: number, labelH: number }} sizes
 * @returns {BarGeometry}
 */
export function barGeometry(n, width, { barH, labelH }) {
  const colW = columnWidth(n, width);
  const base = labelH + barH;
  return { n, barH, labelH, base, colH: base + 60, colW, every: labelEvery(colW), rowW: n * colW };
}

/**
 * Give `geom` the columns for a new width; false when they stay as they were.
 * @param {BarGeometry} geom
 * @param {number} width
 */
export function fitGeometry(geom, width) {
  const w = columnWidth(geom.n, width);
  if (w === geom.colW) return false;
  geom.colW = w; geom.every = labelEvery(w); geom.rowW = geom.n * w;
  return true;
}

/**
 * A bar's height in px from its fraction of the tallest bar (lib/bars.js `barLayout`): at least
 * 1 px for any weight above 0.
 * @param {number} fraction
 * @param {number} barH
 */
export const barHeight = (fraction, barH) => (fraction > 0 ? Math.max(1, fraction * barH) : 0);

/**
 * Heights and colours of the bars: heights proportional to the value on the linear scale (a bar
 * that dwarfs the rest cut, the others drawn against the largest of them: `layout.fraction`);
 * colours the absolute weight on the view's scale, hidden tokens in `border`.
 * @param {Float32Array} values
 * @param {{ fraction: ArrayLike<number> }} layout  lib/bars.js `barLayout`.
 * @param {(v: number) => number} scale  Value to 0..1.
 * @param {{ hide: readonly number[], cmap: string, border: string, barH: number }} opts
 */
export function barPaint(values, layout, scale, { hide, cmap, border, barH }) {
  const n = values.length;
  const heights = new Float32Array(n), colours = new Array(n);
  for (let j = 0; j < n; j++) {
    heights[j] = barHeight(layout.fraction[j], barH);
    colours[j] = hide.includes(j) ? border : cssColor(colorAt(cmap, scale(values[j])));
  }
  return { heights, colours };
}
