// @ts-check
// Which tokens of a row of nodes carry a label, so that no two labels overlap. DOM-free: the
// caller gives each node's x (the label's centre) and its label's width in px.

/**
 * Labels of a whole row: every k-th token, k the smallest step at which the widest label fits
 * between two labelled nodes, then, walking left to right, any label that would still touch the
 * one kept before it is dropped (a label much wider than the rest). Returns sorted indices.
 * @param {ArrayLike<number>} xs
 * @param {ArrayLike<number>} widths
 * @param {number} [gap]
 * @returns {number[]}
 */
export function rowLabels(xs, widths, gap = 4) {
  const n = xs.length;
  if (!n) return [];
  const step = n > 1 ? Math.abs(xs[n - 1] - xs[0]) / (n - 1) : Infinity;
  let wide = 0;
  for (let i = 0; i < n; i++) wide = Math.max(wide, widths[i]);
  // A typical label decides the step; the widest ones are thinned by the walk below.
  const sorted = Array.from(widths).sort((a, b) => a - b);
  const typical = sorted[Math.floor(0.9 * (n - 1))];
  const every = step === Infinity ? 1 : Math.max(1, Math.ceil((typical + gap) / step));
  /** @type {number[]} */
  const out = [];
  let right = -Infinity;
  for (let i = 0; i < n; i += every) {
    const left = xs[i] - widths[i] / 2;
    if (left < right + gap) continue;
    out.push(i);
    right = xs[i] + widths[i] / 2;
  }
  return out;
}

/**
 * Labels that must be shown whatever the spacing (a focused token, the ends of its lines), in
 * priority order: `items` is [{index, width}], `xs` the row's node positions. Each goes on the
 * first tier (0 the row's own label line, 1.. further out) where it touches no label placed
 * before it; tier 0 also pushes aside the row's labels it touches (`regular`, sorted indices with
 * `widths`). Returns {placed: [{index, tier}], hidden: [regular indices to hide], dropped: count}.
 * @param {{ index: number, width: number }[]} items
 * @param {ArrayLike<number>} xs
 * @param {ArrayLike<number>} widths
 * @param {readonly number[]} regular
 * @param {{ tiers?: number, gap?: number }} [options]
 * @returns {{ placed: { index: number, tier: number }[], hidden: number[], dropped: number }}
 */
export function focusLabels(items, xs, widths, regular, { tiers = 4, gap = 4 } = {}) {
  /** @type {[number, number][][]} */
  const taken = Array.from({ length: tiers }, () => []);
  const touches = (/** @type {[number, number][]} */ list, /** @type {number} */ a, /** @type {number} */ b) => list.some(([l, r]) => a < r + gap && l < b + gap);
  /** @type {{ index: number, tier: number }[]} */
  const placed = [];
  /** @type {Set<number>} */
  const hidden = new Set();
  let dropped = 0;
  for (const { index, width } of items) {
    const a = xs[index] - width / 2, b = xs[index] + width / 2;
    const tier = taken.findIndex((list) => !touches(list, a, b));
    if (tier < 0) { dropped++; continue; }
    taken[tier].push([a, b]);
    placed.push({ index, tier });
    if (tier) continue;
    // The row's labels near this one: a binary search to the first that may touch, then on.
    let lo = 0, hi = regular.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = regular[mid];
      if (xs[r] + widths[r] / 2 + gap <= a) lo = mid + 1; else hi = mid;
    }
    for (let k = lo; k < regular.length; k++) {
      const r = regular[k];
      if (xs[r] - widths[r] / 2 >= b + gap) break;
      hidden.add(r);
    }
  }
  return { placed, hidden: [...hidden], dropped };
}

/**
 * The labels of an axis thinned to every `step`-th token (`indices`, sorted), with the `focus`
 * tokens (hovered, pinned, the key under the pointer; null, undefined and those outside
 * [start, end) ignored) always among them, whatever the length: a thinned label closer than
 * `step` tokens to a focus label gives way to it, so labels stay as far apart as before and the
 * eye never reads a neighbour's label for the focused token. Focus labels are all kept, even
 * next to each other. Returns sorted indices.
 * @param {Iterable<number> | ArrayLike<number>} indices
 * @param {number} step
 * @param {readonly (number | null | undefined)[]} focus
 * @param {{ start?: number, end?: number }} [options]
 * @returns {number[]}
 */
export function labelsWithFocus(indices, step, focus, { start = -Infinity, end = Infinity } = {}) {
  const keep = [...new Set(focus.filter(/** @returns {f is number} */ (f) => typeof f === "number" && Number.isInteger(f) && f >= start && f < end))];
  if (!keep.length) return Array.from(indices);
  const out = Array.from(indices).filter((i) => keep.every((f) => i === f || Math.abs(i - f) >= step));
  for (const f of keep) if (!out.includes(f)) out.push(f);
  return out.sort((a, b) => a - b);
}

/**
 * The focus tokens of a view, most important first, as a string that changes when they do.
 * @param {readonly unknown[]} focus
 * @returns {string}
 */
export function focusKey(focus) {
  return focus.map((f) => (Number.isInteger(f) ? f : "-")).join(",");
}
