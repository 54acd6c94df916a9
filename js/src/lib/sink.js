// @ts-check
// Attention sinks: one key taking most of a view's attention. DOM-free.

/** Share of attention above which a view says one key takes most of it. */
export const SINK_SHARE = 0.5;

/**
 * The key that takes the largest share of a Q x K map's attention, averaged over query rows that
 * can see it: `{ index, share }` (share in [0, 1]), or null when no row has any weight. Hidden
 * keys and invisible cells never count; each row's share is its weight on the key over the row's
 * total, so renormalised and raw maps read alike.
 * @param {ArrayLike<number>} values
 * @param {number} nQuery
 * @param {number} nKey
 * @param {{ visible?: (i: number, j: number) => boolean, hide?: number[] }} [options]
 * @returns {{ index: number, share: number } | null}
 */
export function sinkOfMap(values, nQuery, nKey, { visible = () => true, hide = [] } = {}) {
  const hidden = new Uint8Array(nKey);
  for (const h of hide) if (h >= 0 && h < nKey) hidden[h] = 1;
  const total = new Float64Array(nKey);
  const rows = new Float64Array(nKey);
  for (let i = 0; i < nQuery; i++) {
    const base = i * nKey;
    let sum = 0;
    for (let j = 0; j < nKey; j++) if (!hidden[j] && visible(i, j)) { const v = values[base + j]; if (v > 0) sum += v; }
    if (!(sum > 0)) continue;
    for (let j = 0; j < nKey; j++) {
      if (hidden[j] || !visible(i, j)) continue;
      const v = values[base + j];
      total[j] += v > 0 ? v / sum : 0;
      rows[j] += 1;
    }
  }
  let best = -1, share = 0;
  for (let j = 0; j < nKey; j++) {
    // Rows that cannot see a key do not dilute it, but a key seen by one row only (the last
    // token of a causal map) is not a sink for the map: it needs most rows.
    if (rows[j] < Math.max(1, nQuery / 2)) continue;
    const s = total[j] / rows[j];
    if (s > share) { share = s; best = j; }
  }
  return best < 0 ? null : { index: best, share };
}

/**
 * The largest entry of a vector of weights and its share of the vector's sum (hidden left out).
 * @param {ArrayLike<number>} values
 * @param {{ hide?: number[] }} [options]
 * @returns {{ index: number, share: number } | null}
 */
export function sinkOfVector(values, { hide = [] } = {}) {
  const hidden = new Set(hide);
  let sum = 0, best = -1, top = 0;
  for (let j = 0; j < values.length; j++) {
    if (hidden.has(j) || !(values[j] > 0)) continue;
    sum += values[j];
    if (values[j] > top) { top = values[j]; best = j; }
  }
  return best < 0 ? null : { index: best, share: top / sum };
}

/**
 * Floor of a log colour scale that follows the data: the 5th percentile of the positive weights
 * (sampled), kept between `decades` (6) and 1 decade below the largest. A sink head whose other
 * weights lie near 1e-5 then shows their structure instead of one flat colour.
 * @param {ArrayLike<number>} values
 * @param {number} vmax
 * @param {{ sample?: number, decades?: number }} [options]
 * @returns {number | undefined}
 */
export function logFloor(values, vmax, { sample = 20000, decades = 6 } = {}) {
  if (!(vmax > 0)) return undefined;
  const step = Math.max(1, Math.floor(values.length / sample));
  const pos = [];
  for (let k = 0; k < values.length; k += step) { const v = values[k]; if (v > 0 && v <= vmax) pos.push(v); }
  const hi = vmax / 10, lo = vmax / Math.pow(10, decades);
  if (!pos.length) return vmax / 1e3;
  pos.sort((a, b) => a - b);
  const p = pos[Math.floor(0.05 * (pos.length - 1))];
  return Math.min(hi, Math.max(lo, p));
}
