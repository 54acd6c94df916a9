// @ts-check
// The head grid's geometry, DOM-free: thumbnail size, where each head sits in a row, the order of
// a layer's heads, which thumbnail cells hold a visible cell, the rows in a scrolled view and the
// order the layers' thumbnails are made in.

export const GAP = 3, GROUP_GAP = 10, LAYER_W = 34;
// Layers a dashboard's head grid shows before it scrolls.
export const EMBEDDED_LAYERS = 6.25;
// The sticky head numbers' height over the grid, in CSS pixels.
export const HEADER_H = 18;

/**
 * @param {readonly unknown[]} a
 * @param {readonly unknown[]} b
 */
export function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Thumbnails shrink for many heads so a row fits a notebook column (scrolls below 24 px), and are
 * never wider than the slot they are drawn in.
 * @param {number} width  The view's width (0: not laid out yet).
 * @param {number} nHeads
 * @param {boolean} grouped  Grouped-query attention (kv groups take 2 px more each).
 * @returns {number}
 */
export function thumbSize(width, nHeads, grouped) {
  const slot = width ? width - 22 - LAYER_W - 14 : 560;
  return Math.max(24, Math.min(46, Math.floor(Math.min(560, slot) / nHeads) - GAP - (grouped ? 2 : 0)));
}

/**
 * The left edge of each head of `order` in a row; a new kv group starts a little further right
 * when `grouped`.
 * @param {readonly number[]} order  Head indices in drawing order.
 * @param {readonly number[]} kvOf  The kv head of each head index.
 * @param {boolean} grouped
 * @param {number} thumb
 * @returns {number[]}
 */
export function headXs(order, kvOf, grouped, thumb) {
  let x = LAYER_W;
  /** @type {number | null} */
  let prev = null;
  return order.map((hi) => {
    if (grouped && prev !== null && kvOf[hi] !== kvOf[prev]) x += GROUP_GAP - GAP;
    const at = x;
    x += thumb + GAP;
    prev = hi;
    return at;
  });
}

/**
 * A layer's head indices in drawing order: model order, or by tint (largest first) when `tint`.
 * @param {number} nHeads
 * @param {number} li
 * @param {ArrayLike<number> | null} tint  One value per layer and head, or null.
 * @returns {number[]}
 */
export function headOrder(nHeads, li, tint) {
  const idx = Array.from({ length: nHeads }, (_, k) => k);
  if (tint) idx.sort((a, b) => tint[li * nHeads + b] - tint[li * nHeads + a]);
  return idx;
}

/**
 * 1 for each thumbnail cell whose `pool` x `pool` block holds a visible cell (the others are drawn
 * as the heatmap draws masked cells).
 * @param {(i: number, j: number) => boolean} visible
 * @param {number} nQuery
 * @param {number} nKey
 * @param {number} pool
 * @param {number} tq
 * @param {number} tk
 * @returns {Uint8Array}
 */
export function blockVisibility(visible, nQuery, nKey, pool, tq, tk) {
  const out = new Uint8Array(tq * tk);
  for (let r = 0; r < tq; r++) for (let c = 0; c < tk; c++) {
    let any = 0;
    for (let i = r * pool; i < Math.min(nQuery, (r + 1) * pool) && !any; i++) {
      for (let j = c * pool; j < Math.min(nKey, (c + 1) * pool); j++) if (visible(i, j)) { any = 1; break; }
    }
    out[r * tk + c] = any;
  }
  return out;
}

/**
 * The layers `[from, to)` a scrolled box shows, with a row of margin each side (the sticky head
 * numbers take the box's top); every layer when `view` is null.
 * @param {{ top: number, height: number } | null} view
 * @param {number} nLayers
 * @param {number} pitch  A row's height and gap.
 * @returns {[number, number]}
 */
export function rowsInView(view, nLayers, pitch) {
  if (!view) return [0, nLayers];
  const top = view.top - HEADER_H - pitch, bottom = view.top + view.height + pitch;
  return [Math.max(0, Math.floor(top / pitch)), Math.min(nLayers, Math.ceil(bottom / pitch))];
}

/**
 * The order the layers' thumbnails are made in: the rows `[from, to)` in view, then the selected
 * layer (-1: none), then the others nearest the view first, the row below before the row above.
 * @param {number} nLayers
 * @param {number} from
 * @param {number} to
 * @param {number} selected  The selected layer's index, or -1.
 * @returns {number[]}
 */
export function buildOrder(nLayers, from, to, selected) {
  /** @type {number[]} */
  const out = [];
  const seen = new Uint8Array(nLayers);
  const add = (/** @type {number} */ li) => { if (li >= 0 && li < nLayers && !seen[li]) { seen[li] = 1; out.push(li); } };
  from = Math.max(0, Math.min(nLayers, from));
  to = Math.max(from, Math.min(nLayers, to));
  for (let li = from; li < to; li++) add(li);
  add(selected);
  for (let d = 1; out.length < nLayers; d++) { add(to - 1 + d); add(from - d); }
  return out;
}
