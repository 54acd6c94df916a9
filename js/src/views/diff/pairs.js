// @ts-check
// The pairs of maps a diff compares and the words around them (no DOM): the (a, b) maps of a
// layer and head, the picture of b - a, what was aligned with what, and a cell's tooltip.
import { decode, slice0 } from "../../lib/decode.js";
import { divergingColor, signedPosition } from "../../lib/diverging.js";
import { unpairedLine } from "../../lib/align.js";
import { exactToken } from "../../lib/tokens.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {{ a: Float32Array, b: Float32Array }} MapPair */

/**
 * The (a, b) maps of a key ("layer/head" or "layer/fusion"), decoded once per `_maps` payload;
 * null when the payload does not hold them.
 * @param {Pick<WidgetModel, "get">} model
 * @returns {(key: string) => MapPair | null}
 */
export function pairCache(model) {
  /** @type {any} */
  let payload = null;
  /** @type {import("../../lib/types.js").DecodedArray | null} */
  let decoded = null;
  /** @type {Map<string, number>} */
  let index = new Map();
  return (key) => {
    const p = model.get("_maps");
    if (p !== payload) {
      payload = p;
      decoded = p && p.shape ? decode(p) : null;
      index = new Map((p?.keys ?? []).map((/** @type {string} */ k, /** @type {number} */ i) => [k, i]));
    }
    const at = index.get(key);
    if (!decoded || at === undefined) return null;
    const both = slice0(decoded, at);
    const n = both.length / 2;
    return { a: both.subarray(0, n), b: both.subarray(n) };
  };
}

/**
 * RGBA pixels of the nRow x nCol difference: diverging colours where visible, a pale grey where
 * masked, a paler one for every cell when there is no difference to draw.
 * @param {Float32Array | null} diff
 * @param {number} nRow
 * @param {number} nCol
 * @param {(i: number, j: number) => boolean} visible
 * @param {number} vmax
 * @param {string} kind  The scale ("linear" or "power").
 * @param {number} gamma
 */
export function diffPixels(diff, nRow, nCol, visible, vmax, kind, gamma) {
  const data = new Uint8ClampedArray(nRow * nCol * 4);
  for (let i = 0; i < nRow; i++) for (let j = 0; j < nCol; j++) {
    const p = (i * nCol + j) * 4;
    const rgb = !diff ? [246, 248, 250] : visible(i, j) ? divergingColor(signedPosition(diff[i * nCol + j], vmax, kind, gamma)) : [234, 238, 242];
    data[p] = rgb[0]; data[p + 1] = rgb[1]; data[p + 2] = rgb[2]; data[p + 3] = 255;
  }
  return data;
}

/**
 * What was compared with what: the rule, the changed tokens, and every position with no partner.
 * @param {{ method: string, onlyA: number[], onlyB: number[] }} ax  lib/align.js `alignedAxes`.
 * @param {{ tokens: readonly string[], bTokens: readonly string[], nameA: string, nameB: string, nCol: number, changed: number }} o
 * @returns {string[]}
 */
export function alignNotes(ax, { tokens, bTokens, nameA, nameB, nCol, changed }) {
  const rule = ax.method === "positions" ? "position by position" : ax.method === "given" ? "by the pairs given" : `by ${ax.method}`;
  const notes = [];
  if (changed || ax.method !== "positions" || ax.onlyA.length || ax.onlyB.length) {
    notes.push(`${nameA} and ${nameB} compared ${rule}: ${nCol} aligned positions` + (changed ? `, ${changed} with different tokens (labelled ${nameA}→${nameB})` : ""));
  }
  for (const [only, toks, side, other] of /** @type {const} */ ([[ax.onlyA, tokens, nameA, nameB], [ax.onlyB, bTokens, nameB, nameA]])) {
    const line = unpairedLine(only, /** @type {string[]} */ (toks), side, other, exactToken);
    if (line) notes.push(line);
  }
  return notes;
}

/**
 * Why the maps of a layer and head are not drawn.
 * @param {number} layer
 * @param {number | null} head
 * @param {string} fusion
 * @param {{ keys?: string[], total?: number } | null | undefined} maps  The model's `_maps`.
 */
export function missingText(layer, head, fusion, maps) {
  return `The maps for layer ${layer}, ${head === null ? fusion : `head ${head}`} are not in this view's data ` +
    `(it holds ${maps?.keys?.length ?? 0} of ${maps?.total ?? "?"}); with a running kernel they arrive in a moment, ` +
    "an exported page keeps the pairs it was saved with (raise max_bytes to keep more).";
}

/**
 * The tooltip of cell (i, j): its query and key (both tokens where a and b differ) and the two
 * weights and their difference.
 * @param {number} i
 * @param {number} j
 * @param {{ rows: number[], colsA: number[], colsB: number[] }} ax
 * @param {{ tokens: readonly string[], bTokens: readonly string[], nameA: string, nameB: string, nCol: number,
 *   visible: boolean, pair: MapPair | null }} o
 */
export function cellTip(i, j, ax, { tokens, bTokens, nameA, nameB, nCol, visible, pair }) {
  /** @param {number} col */
  const side = (col) => {
    const pa = ax.colsA[col], pb = ax.colsB[col];
    return tokens[pa] === bTokens[pb] && pa === pb ? `${pa} ${exactToken(tokens[pa])}`
      : `${nameA} ${pa} ${exactToken(tokens[pa])} · ${nameB} ${pb} ${exactToken(bTokens[pb])}`;
  };
  let text = `query ${side(ax.rows[i])}\nkey ${side(j)}\n`;
  if (!visible) text += "masked";
  else if (!pair) text += "not loaded";
  else {
    const a = pair.a[i * nCol + j], b = pair.b[i * nCol + j], d = b - a;
    text += `${nameA} ${a.toPrecision(3)}\n${nameB} ${b.toPrecision(3)}\n${nameB} − ${nameA} ${d >= 0 ? "+" : ""}${d.toPrecision(3)}`;
  }
  return text;
}
