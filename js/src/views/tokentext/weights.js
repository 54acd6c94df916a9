// @ts-check
// What the text is tinted by (pure: no DOM): the focus token's query row ("gives") or key column
// ("receives") of the displayed map, each tint's colours, and the words around them.
import { exactToken } from "../../lib/tokens.js";

/** @typedef {"gives" | "receives"} Direction */

/**
 * The focus token: the hovered token, else the pinned one, else the last token.
 * @param {number | null | undefined} hovered
 * @param {number | null | undefined} pinned
 * @param {number} nKey
 */
export function focusOf(hovered, pinned, nKey) {
  if (hovered !== null && hovered !== undefined) return hovered;
  if (pinned !== null && pinned !== undefined) return pinned;
  return nKey - 1;
}

/**
 * One weight per key token: what `focus` gives each token (its query row), or what each token
 * gives `focus` (its key column, over the tokens that are query rows). Zeros where there is none.
 * @param {Float32Array | null} values  The nQuery x nKey displayed map, or null.
 * @param {Direction} dir
 * @param {number} focus
 * @param {{ nQuery: number, nKey: number, offset: number }} dims
 */
export function focusWeights(values, dir, focus, { nQuery, nKey, offset }) {
  const weights = new Float32Array(nKey);
  if (!values) return weights;
  if (dir === "gives") {
    const qi = focus - offset;
    if (qi >= 0) for (let j = 0; j < nKey; j++) weights[j] = values[qi * nKey + j];
  } else {
    for (let q = 0; q < nQuery; q++) weights[q + offset] = values[q * nKey + focus];
  }
  return weights;
}

/**
 * The weight between the pinned token and token `j` in direction `dir` (NaN where the query is no
 * query row of the map).
 * @param {Float32Array} values
 * @param {Direction} dir
 * @param {number} pin
 * @param {number} j
 * @param {{ nKey: number, offset: number }} dims
 */
export function pinnedWeight(values, dir, pin, j, { nKey, offset }) {
  return dir === "gives" ? (pin - offset >= 0 ? values[(pin - offset) * nKey + j] : NaN)
    : (j - offset >= 0 ? values[(j - offset) * nKey + pin] : NaN);
}

/**
 * A token's tint at `t` (0..1 on the view's scale): the map's colour `rgb` at an opacity that
 * grows with `t`, and a text colour that reads on it blended over the page `bgRGB`.
 * @param {number[]} rgb
 * @param {number} t
 * @param {number[]} bgRGB
 * @returns {{ bg: string, fg: string }}
 */
export function tintOf(rgb, t, bgRGB) {
  const a = 0.15 + 0.8 * t;
  const mix = rgb.map((v, k) => a * v + (1 - a) * bgRGB[k]);
  return {
    bg: `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${a.toFixed(3)})`,
    fg: mix[0] * 0.299 + mix[1] * 0.587 + mix[2] * 0.114 > 140 ? "#000" : "#fff",
  };
}

/**
 * The view's title: the measure, the layer and head, and what the tints show.
 * @param {{ norms: boolean, measureName: string, layer: number, head: number | null, fusion: string,
 *   dir: Direction, focus: number, tokens: readonly string[] }} o
 */
export function titleText({ norms, measureName, layer, head, fusion, dir, focus, tokens }) {
  return `${norms ? "Text (value-weighted norms)" : measureName ? "Text (attention weights)" : "Text"} · layer ${layer} · ${head === null ? `${fusion} of heads` : `head ${head}`} · ` +
    (dir === "gives" ? `what ${focus} ${exactToken(tokens[focus])} attends to` : `what attends to ${focus} ${exactToken(tokens[focus])}`);
}

/**
 * The tooltip of token `j`: its index and text, its weight with the pinned token (the hovered
 * token is the focus, so its own tint says what it gives or receives), and what a click does.
 * @param {number} j
 * @param {readonly string[]} tokens
 * @param {Direction} dir
 * @param {number | null | undefined} pin
 * @param {Float32Array | null} values
 * @param {{ nKey: number, offset: number }} dims
 */
export function tipText(j, tokens, dir, pin, values, dims) {
  let tip = `${j} ${exactToken(tokens[j])}`;
  if (pin !== null && pin !== undefined && values && pin !== j) {
    const w = pinnedWeight(values, dir, pin, j, dims);
    if (Number.isFinite(w)) tip += `\n${dir === "gives" ? `pinned ${pin} → ${j}` : `${j} → pinned ${pin}`}: ${w.toPrecision(3)}`;
  }
  tip += `\nclick to pin${dir === "gives" ? "; the text shows what it attends to" : ""}`;
  return tip;
}
