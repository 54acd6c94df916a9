// @ts-check
// The vectors of one head and the words around them (pure: no DOM): the query, key and weight rows
// of a "layer/head" key, which query and key the view shows, and the score's sentence.
import { decode, slice0 } from "../../lib/decode.js";
import { exactToken } from "../../lib/tokens.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */

/**
 * One head's vectors: queries (nQuery x d), keys (nKey x d), weights (nQuery x nKey), the head
 * size and the facts of its score (scaling, softcap, exact, kv_head).
 * @typedef {{ q: Float32Array, k: Float32Array, w: Float32Array, d: number,
 *   facts: { scaling: number, softcap?: number | null, exact?: boolean, kv_head?: number } }} HeadVectors
 */

/**
 * The vectors of a key ("layer/head"), decoded once per `_heads` payload; null when the payload
 * does not hold them.
 * @param {Pick<WidgetModel, "get">} model
 * @returns {(key: string) => HeadVectors | null}
 */
export function headCache(model) {
  /** @type {any} */
  let payload = null;
  /** @typedef {import("../../lib/types.js").DecodedArray | null} Decoded */
  /** @type {Decoded} */ let q = null;
  /** @type {Decoded} */ let k = null;
  /** @type {Decoded} */ let w = null;
  /** @type {Map<string, number>} */
  let index = new Map();
  return (key) => {
    const p = model.get("_heads");
    if (p !== payload) {
      payload = p;
      q = p?.q ? decode(p.q) : null; k = p?.k ? decode(p.k) : null; w = p?.w ? decode(p.w) : null;
      index = new Map((p?.keys ?? []).map((/** @type {string} */ x, /** @type {number} */ i) => [x, i]));
    }
    const i = index.get(key);
    if (!q || i === undefined) return null;
    return { q: slice0(q, i), k: slice0(/** @type {any} */ (k), i), w: slice0(/** @type {any} */ (w), i), d: q.shape[2], facts: payload.facts[i] };
  };
}

/**
 * The largest magnitude in `a` (0 when empty).
 * @param {ArrayLike<number>} a
 */
export function absMax(a) {
  let m = 0;
  for (let x = 0; x < a.length; x++) m = Math.max(m, Math.abs(a[x]));
  return m;
}

/**
 * The query row shown: the pinned token's row when it is a query, else the last row.
 * @param {number | null | undefined} pinned
 * @param {number} offset
 * @param {number} nQuery
 */
export function queryRowOf(pinned, offset, nQuery) {
  return pinned !== null && pinned !== undefined && pinned >= offset ? pinned - offset : nQuery - 1;
}

/**
 * The key shown for query row `i`: the hovered token, else the key it weighs most.
 * @param {number | null | undefined} hovered
 * @param {Float32Array} w
 * @param {number} i
 * @param {number} nKey
 */
export function keyOf(hovered, w, i, nKey) {
  if (hovered !== null && hovered !== undefined) return hovered;
  let best = 0;
  for (let j = 0; j < nKey; j++) if (w[i * nKey + j] > w[i * nKey + best]) best = j;
  return best;
}

/**
 * The sentence under the strips: q·k, the score, the attention weight (or that the key is masked).
 * @param {{ query: number, key: number, tokens: readonly string[], visible: boolean, dot: number, weight: number,
 *   facts: HeadVectors["facts"] }} o
 */
export function scoreText({ query, key, tokens, visible, dot, weight, facts: f }) {
  return `query ${query} ${exactToken(tokens[query])} · key ${key} ${exactToken(tokens[key])}: ` +
    (visible ? `q·k = ${dot.toPrecision(4)}, × ${f.scaling.toPrecision(3)} = score ${(dot * f.scaling).toPrecision(4)}` +
      `${f.softcap ? ` (soft-capped at ${f.softcap})` : ""}; attention weight ${weight.toPrecision(3)}` : "this key is masked for this query") +
    (f.exact ? "" : " (the model adds a bias or cap to this score)");
}

/**
 * Why a head's vectors are not drawn.
 * @param {number} layer
 * @param {number} head
 * @param {{ keys?: string[], total?: number } | null | undefined} heads  The model's `_heads`.
 */
export function missingText(layer, head, heads) {
  return `The vectors of layer ${layer}, head ${head} are not in this view's data ` +
    `(it holds ${heads?.keys?.length ?? 0} of ${heads?.total ?? "?"} heads); with a running kernel they arrive in a moment, ` +
    "an exported page keeps the heads it was saved with (raise max_bytes to keep more).";
}
