// @ts-check
// The two rows' labels: where they touch, only every k-th token is labelled (lib/rowlabels.js), and
// the focused tokens and the ends of their lines get labels of their own, in tiers away from the
// row. Label widths come from the font's metrics, once: no layout is read to place a label.
import { rowLabels, focusLabels } from "../../lib/rowlabels.js";
import { svg } from "./svg.js";
import { short, LABEL_FONT, GAP, TIERS, LINE } from "./geometry.js";

/**
 * One row of tokens and its labels.
 * @typedef {object} LabelRow
 * @property {ArrayLike<number>} xs  Each token's x.
 * @property {Float64Array} widths  Each label's width.
 * @property {readonly string[]} text  The tokens.
 * @property {(tier: number) => number} y  A focus label's y in `tier`.
 * @property {Map<number, SVGElement>} labels  The row's own labels, by token (set when drawn).
 * @property {number[]} shown  Tokens that have a row label.
 * @property {number[]} hidden  Row labels hidden for focus labels now.
 */

/** @param {readonly string[]} list */
function widthsOf(list) {
  const ctx = document.createElement("canvas").getContext("2d");
  const out = new Float64Array(list.length);
  if (ctx) ctx.font = LABEL_FONT;
  list.forEach((t, i) => { out[i] = ctx ? ctx.measureText(short(t)).width + 2 : 7 * short(t).length; });
  return out;
}

/**
 * @param {readonly string[]} text
 * @param {ArrayLike<number>} xs
 * @param {(tier: number) => number} y
 * @returns {LabelRow}
 */
export function labelRow(text, xs, y) {
  const widths = widthsOf(text);
  return { xs, widths, text, y, labels: new Map(), shown: rowLabels(xs, widths, GAP), hidden: [] };
}

/**
 * The target row above and the source row below.
 * @param {{ targets: readonly string[], tokens: readonly string[], xq: ArrayLike<number>, xk: ArrayLike<number>, TOP: number, BOTTOM: number }} o
 * @returns {{ query: LabelRow, token: LabelRow }}
 */
export function labelRows({ targets, tokens, xq, xk, TOP, BOTTOM }) {
  return {
    query: labelRow(targets, xq, (tier) => TOP - 8 - tier * LINE),
    token: labelRow(tokens, xk, (tier) => BOTTOM + 18 + tier * LINE),
  };
}

/**
 * One row's focus labels: the hovered and pinned tokens first, then the far ends of the focus
 * lines, strongest first. Only the labels they push aside are touched, not the whole row.
 * @param {LabelRow} row
 * @param {"query" | "token"} name
 * @param {(number | null | undefined)[]} first
 * @param {number[]} ends
 * @param {{ fg: string, bg: string }} ink
 * @returns {{ out: SVGElement[], dropped: number }}
 */
export function focusRow(row, name, first, ends, ink) {
  const seen = new Set(), items = [];
  for (const i of [...first, ...ends]) {
    if (i === null || i === undefined || seen.has(i)) continue;
    seen.add(i);
    items.push({ index: i, width: row.widths[i] });
  }
  const { placed, hidden, dropped } = focusLabels(items, row.xs, row.widths, row.shown, { tiers: TIERS, gap: GAP });
  for (const i of row.hidden) row.labels.get(i)?.removeAttribute("display");
  for (const i of hidden) row.labels.get(i)?.setAttribute("display", "none");
  row.hidden = hidden;
  const out = placed.map(({ index, tier }) => {
    const t = svg("text", { x: row.xs[index].toFixed(1), y: row.y(tier), "text-anchor": "middle", "font-size": 11, "font-weight": 600,
      fill: ink.fg, stroke: ink.bg, "stroke-width": 3, "paint-order": "stroke", class: "aw-focus-label", [`data-label-${name}`]: index });
    t.textContent = short(row.text[index]);
    return t;
  });
  return { out, dropped };
}
