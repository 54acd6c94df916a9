// @ts-check
// What a view draws from a raw map: hidden keys, renormalised rows, row-normalised display.
// DOM-free.

/** @typedef {{ source: number, target: number, weight: number }} Edge  A line from query token `source` to key `target`. */

/**
 * Visibility test for query row i (0-based among queries) and key j.
 * causal: queries are the last nQuery of nKey tokens. mask: optional decoded uint8 (Q x K).
 * @param {{ nQuery: number, nKey: number, causal?: boolean, mask?: ArrayLike<number> | null }} facts
 * @returns {(i: number, j: number) => boolean}
 */
export function visibility({ nQuery, nKey, causal, mask }) {
  const offset = nKey - nQuery;
  if (mask) return (i, j) => mask[i * nKey + j] !== 0;
  if (causal) return (i, j) => j <= i + offset;
  return () => true;
}

/**
 * Copy of a Q x K map with `hide` keys removed and each row renormalised over the keys left
 * (rows with nothing left become 0), then optionally each row scaled to its own maximum.
 * @param {ArrayLike<number>} values
 * @param {number} nQuery
 * @param {number} nKey
 * @param {{ hide?: readonly number[], rowNormalize?: boolean, visible?: (i: number, j: number) => boolean }} [options]
 * @returns {Float32Array}
 */
export function displayMap(values, nQuery, nKey, { hide = [], rowNormalize = false, visible = () => true } = {}) {
  const out = new Float32Array(values.length);
  const hidden = new Uint8Array(nKey);
  for (const h of hide) if (h >= 0 && h < nKey) hidden[h] = 1;
  const renorm = hide.length > 0;
  for (let i = 0; i < nQuery; i++) {
    const row = i * nKey;
    let sum = 0, max = 0;
    for (let j = 0; j < nKey; j++) {
      const v = hidden[j] || !visible(i, j) ? 0 : values[row + j];
      out[row + j] = v;
      sum += v;
    }
    const s = renorm ? (sum > 0 ? 1 / sum : 0) : 1;
    for (let j = 0; j < nKey; j++) {
      out[row + j] *= s;
      if (out[row + j] > max) max = out[row + j];
    }
    if (rowNormalize && max > 0) for (let j = 0; j < nKey; j++) out[row + j] /= max;
  }
  return out;
}

/**
 * Largest value among visible cells (1 when there is none).
 * @param {ArrayLike<number>} values
 * @param {number} nQuery
 * @param {number} nKey
 * @param {(i: number, j: number) => boolean} [visible]
 * @returns {number}
 */
export function visibleMax(values, nQuery, nKey, visible = () => true) {
  let m = 0;
  for (let i = 0; i < nQuery; i++) for (let j = 0; j < nKey; j++) {
    const v = values[i * nKey + j];
    if (v > m && visible(i, j)) m = v;
  }
  return m > 0 ? m : 1;
}

/**
 * Edges query -> key with weight >= threshold, strongest first, at most `limit`.
 * @param {ArrayLike<number>} values
 * @param {number} nQuery
 * @param {number} nKey
 * @param {number} threshold
 * @param {number} [limit]
 * @returns {Edge[]}
 */
export function edgesAbove(values, nQuery, nKey, threshold, limit = 5000) {
  const offset = nKey - nQuery;
  /** @type {Edge[]} */
  const edges = [];
  for (let i = 0; i < nQuery; i++) for (let j = 0; j < nKey; j++) {
    const w = values[i * nKey + j];
    if (w >= threshold && w > 0) edges.push({ source: i + offset, target: j, weight: w });
  }
  edges.sort((a, b) => b.weight - a.weight);
  return edges.length > limit ? edges.slice(0, limit) : edges;
}

/**
 * The kernel's exact edges of map `key` (graph `_exact_edges`), or null when they were computed
 * for another threshold, hiding or measure than the view now draws (the view then compares coded
 * weights). Edges come as a decoded float32 (edges, 3) array of query row, key and weight,
 * strongest first; `offset` turns a query row into its token position.
 * @param {{ maps?: Record<string, any>, threshold?: number, measure?: string, hide?: number[] } | null | undefined} state
 * @param {{ key: string, threshold: number, hide?: readonly number[], measure?: string, offset?: number, decode: (payload: any) => { values: ArrayLike<number> } }} options
 * @returns {Edge[] | null}
 */
export function exactEdges(state, { key, threshold, hide = [], measure = "weights", offset = 0, decode }) {
  if (!state || !state.maps || state.threshold !== threshold || state.measure !== measure) return null;
  const held = state.hide ?? [];
  if (held.length !== hide.length || held.some((h, k) => h !== hide[k])) return null;
  const payload = state.maps[key];
  if (!payload) return null;
  const triples = decode(payload).values;
  /** @type {Edge[]} */
  const edges = [];
  for (let e = 0; e + 2 < triples.length; e += 3) {
    edges.push({ source: triples[e] + offset, target: triples[e + 1], weight: triples[e + 2] });
  }
  return edges;
}
