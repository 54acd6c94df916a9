// @ts-check
// The heatmap's sizes and which tokens keep their labels: pure, so js/test/heatmap-layout.test.mjs
// checks them without a page.
import { displayToken } from "../../lib/tokens.js";
import { focusKey } from "../../lib/rowlabels.js";

/** Label text size in CSS pixels. */
export const FONT = 11;
/** Labels closer than this (plus a 2 px gap) are thinned. */
export const MIN_LABEL_PX = 10;
// In a dashboard the map's side stays small enough that the token text, the map and the head grid
// beside it fit a laptop's first screen (848 x 600 with the page's heading).
export const EMBEDDED_SIDE = 300;
export const ONE_COLUMN_SIDE = 190;
/** The map's side on its own page. */
export const PAGE_SIDE = 520;

/**
 * The widths of the label bands: the query labels' column on the left and the key labels' row on
 * top, from the longest token shown (sampled on long inputs, at most 14 characters counted).
 * @param {readonly string[]} tokens
 * @param {number} [font]
 * @returns {{ labelW: number, topH: number }}
 */
export function labelBands(tokens, font = FONT) {
  let longest = 1;
  const every = Math.max(1, Math.floor(tokens.length / 2000));
  for (let j = 0; j < tokens.length; j += every) longest = Math.max(longest, Math.min(14, displayToken(tokens[j]).length));
  const textPx = longest * font * 0.62;
  return {
    labelW: Math.round(Math.max(58, Math.min(100, textPx + 10))),
    topH: Math.round(Math.max(30, Math.min(76, textPx + 6))),
  };
}

/**
 * The map's side in CSS pixels for a root `width` px wide (0: not laid out), never wider than the
 * slot left beside the query labels.
 * @param {number} width
 * @param {{ nKey: number, labelW: number, embedded: boolean, oneColumn: boolean }} where
 *   `embedded`: in a dashboard; `oneColumn`: a dashboard in one column (a narrow output).
 * @returns {number}
 */
export function mapSide(width, { nKey, labelW, embedded, oneColumn }) {
  const slot = width ? width - 22 - labelW - 4 : PAGE_SIDE;
  const cap = !embedded ? PAGE_SIDE : oneColumn ? ONE_COLUMN_SIDE : EMBEDDED_SIDE;
  return Math.max(160, Math.min(cap, nKey * 14, slot));
}

/**
 * The map's box for a side: its height follows the rows, and the narrowest view (in cells) keeps
 * cells at most 24 px wide.
 * @param {number} side
 * @param {number} nQuery
 * @param {number} nKey
 * @returns {{ px: number, rowPx: number, minSpan: number }}
 */
export function mapSizes(side, nQuery, nKey) {
  return {
    px: side,
    rowPx: Math.round((side * nQuery) / nKey),
    minSpan: Math.min(nKey, Math.max(8, Math.ceil(side / 24))),
  };
}

/**
 * The positions labelled whatever the thinning: the cell under the pointer (its query row, its key
 * column) and the hovered and pinned tokens, as key columns and as query rows. Self-attention's
 * row of token t is t - offset; cross-attention's rows come from the selection's query fields.
 * @param {{ cursor: { i: number, j: number } | null, hovered: number | null, pinned: number | null,
 *   hoveredQuery?: number | null, pinnedQuery?: number | null, offset: number, cross: boolean }} at
 * @returns {{ cols: (number | null | undefined)[], rows: (number | null | undefined)[], key: string }}
 */
export function labelFocus({ cursor, hovered, pinned, hoveredQuery = null, pinnedQuery = null, offset, cross }) {
  /** @param {number | null | undefined} t */
  const asRow = (t) => (t === null || t === undefined ? null : t - offset);
  const cols = [cursor?.j, hovered, pinned];
  const rows = cross ? [cursor?.i, hoveredQuery, pinnedQuery] : [cursor?.i, asRow(hovered), asRow(pinned)];
  return { cols, rows, key: `${focusKey(cols)}|${focusKey(rows)}` };
}
