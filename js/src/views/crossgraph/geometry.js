// @ts-check
// The cross graph's geometry and words (pure: no DOM). Tokens keep at least STEP px of their row:
// a long row is wider than the slot and scrolls sideways; PAD keeps the end labels inside; TIERS
// lines of focus labels beyond each row's own labels.
import { displayToken } from "../../lib/tokens.js";

export const STEP = 9, PAD = 36, TIERS = 4, LINE = 13, GAP = 4;
/** Opacity of the lines, and of the edge layer when a token is focused (relative to LIT). */
export const LIT = 0.85, DIM = 0.08;
export const LABEL_FONT = "11px system-ui,sans-serif";

/**
 * A token's label: its display text, cut to 12 characters.
 * @param {string} t
 */
export const short = (t) => { const s = displayToken(t); return s.length > 12 ? s.slice(0, 11) + "…" : s; };

/**
 * @typedef {object} GraphSize
 * @property {number} W  The visible width.
 * @property {number} CW  The drawn width (wider than W: scroll sideways).
 * @property {number} TOP  The target (query) row's y.
 * @property {number} BOTTOM  The source (key) row's y.
 * @property {number} Hh  The drawn height.
 */

/**
 * @param {number} nKey
 * @param {number} nQuery
 * @param {number} rootWidth  The view's width (0: not known, 900 px assumed).
 * @returns {GraphSize}
 */
export function graphSize(nKey, nQuery, rootWidth) {
  const slot = rootWidth ? rootWidth - 22 : 900;
  const nMost = Math.max(nKey, nQuery);
  const W = Math.max(280, Math.min(nMost * 40, slot));
  const CW = Math.max(W, 2 * PAD + (nMost - 1) * STEP);
  const TOP = 12 + TIERS * LINE, BOTTOM = TOP + 170, Hh = BOTTOM + 10 + TIERS * LINE;
  return { W, CW, TOP, BOTTOM, Hh };
}

/**
 * The caption: what the rows are, whether to scroll, and how many tokens of each row are labelled.
 * @param {{ nQuery: number, nKey: number, scrolls: boolean, shownQuery: number, shownKey: number }} o
 */
export function captionText({ nQuery, nKey, scrolls, shownQuery, shownKey }) {
  /** @param {number} shown @param {number} n */
  const every = (shown, n) => (shown === n ? "" : `${shown} of ${n} labelled`);
  const capText = ["target tokens (queries) above, source tokens (keys) below"];
  if (scrolls) capText.push(`${nQuery} × ${nKey} tokens: scroll sideways`);
  const thin = [every(shownQuery, nQuery) && `target ${every(shownQuery, nQuery)}`, every(shownKey, nKey) && `source ${every(shownKey, nKey)}`].filter(Boolean);
  if (thin.length) capText.push(`${thin.join(", ")}; hover a node for its label and its lines' ends`);
  return capText.join(" · ");
}

/** @typedef {{ i: number, j: number, w: number }} Edge */

/**
 * The lines: every visible (query row, key) pair weighing at least `threshold` (and above 0),
 * weakest first so the strongest are drawn last, on top.
 * @param {Float32Array | null} values  nQuery x nKey, or null.
 * @param {number} nQuery
 * @param {number} nKey
 * @param {(i: number, j: number) => boolean} visible
 * @param {number} threshold
 * @returns {Edge[]}
 */
export function crossEdges(values, nQuery, nKey, visible, threshold) {
  const edges = [];
  if (values) for (let i = 0; i < nQuery; i++) for (let j = 0; j < nKey; j++) {
    const w = values[i * nKey + j];
    if (visible(i, j) && w > 0 && w >= threshold) edges.push({ i, j, w });
  }
  edges.sort((a, b) => a.w - b.w);
  return edges;
}

/**
 * The far ends of the focus lines, strongest first.
 * @param {readonly number[]} list  Indices into `edges`.
 * @param {readonly Edge[]} edges
 */
export const strongest = (list, edges) => list.map((k) => edges[k]).sort((a, b) => b.w - a.w);
