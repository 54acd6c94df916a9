// @ts-check
// Zoom and pan of a rows x cols map shown in a fixed canvas, which tiles cover what is visible,
// and which token labels fit without overlapping. DOM-free.
//
// A view is { c0, r0, span }: the first visible column and row (fractional, in cells) and how many
// columns are visible. Cells stay square, so rows visible = span * rows / cols.

/** @typedef {{ c0: number, r0: number, span: number }} View */
/** @typedef {{ r0: number, r1: number, c0: number, c1: number }} CellRange */

/**
 * The whole map.
 * @param {number} cols
 * @returns {View}
 */
export function fullView(cols) {
  return { c0: 0, r0: 0, span: cols };
}

/**
 * Visible row count of `view`.
 * @param {View} view
 * @param {number} rows
 * @param {number} cols
 * @returns {number}
 */
export function rowSpan(view, rows, cols) {
  return (view.span * rows) / cols;
}

/**
 * Keep `view` inside the map: at most every column, at least `minSpan` columns (or all of them when
 * the map is narrower), and no blank margin past an edge.
 * @param {View} view
 * @param {number} rows
 * @param {number} cols
 * @param {number} [minSpan]
 * @returns {View}
 */
export function clampView(view, rows, cols, minSpan = 8) {
  const span = Math.min(cols, Math.max(Math.min(minSpan, cols), view.span));
  const rs = (span * rows) / cols;
  const c0 = Math.min(Math.max(0, view.c0), cols - span);
  const r0 = Math.min(Math.max(0, view.r0), Math.max(0, rows - rs));
  return { c0, r0, span };
}

/**
 * Zoom by `factor` (> 1 zooms in) keeping the cell under the anchor where it is. The anchor is a
 * fraction of the canvas (fx, fy in [0, 1]): the pointer for wheel zoom, the centre for buttons.
 * @param {View} view
 * @param {number} factor
 * @param {number} fx
 * @param {number} fy
 * @param {number} rows
 * @param {number} cols
 * @param {number} [minSpan]
 * @returns {View}
 */
export function zoomAt(view, factor, fx, fy, rows, cols, minSpan = 8) {
  if (!(factor > 0)) throw new RangeError(`zoom factor must be positive, got ${factor}`);
  const rs = rowSpan(view, rows, cols);
  const ax = view.c0 + fx * view.span, ay = view.r0 + fy * rs;
  const span = Math.min(cols, Math.max(Math.min(minSpan, cols), view.span / factor));
  const nrs = (span * rows) / cols;
  return clampView({ c0: ax - fx * span, r0: ay - fy * nrs, span }, rows, cols, minSpan);
}

/**
 * Drag by (dx, dy) CSS pixels on a canvas `width` pixels wide: the map follows the pointer.
 * @param {View} view
 * @param {number} dx
 * @param {number} dy
 * @param {number} width
 * @param {number} rows
 * @param {number} cols
 * @param {number} [minSpan]
 * @returns {View}
 */
export function panBy(view, dx, dy, width, rows, cols, minSpan = 8) {
  const perPx = view.span / width;
  return clampView({ c0: view.c0 - dx * perPx, r0: view.r0 - dy * perPx, span: view.span }, rows, cols, minSpan);
}

/**
 * The cell {i, j} under canvas point (x, y) of a width x height canvas, or null outside the map.
 * @param {View} view
 * @param {number} x
 * @param {number} y
 * @param {number} width
 * @param {number} height
 * @param {number} rows
 * @param {number} cols
 * @returns {{ i: number, j: number } | null}
 */
export function cellAt(view, x, y, width, height, rows, cols) {
  const j = Math.floor(view.c0 + (x / width) * view.span);
  const i = Math.floor(view.r0 + (y / height) * rowSpan(view, rows, cols));
  return i >= 0 && i < rows && j >= 0 && j < cols ? { i, j } : null;
}

/**
 * Integer cell range [r0, r1) x [c0, c1) that covers the view (partly visible cells included).
 * @param {View} view
 * @param {number} rows
 * @param {number} cols
 * @returns {CellRange}
 */
export function visibleRange(view, rows, cols) {
  return {
    r0: Math.max(0, Math.floor(view.r0)),
    r1: Math.min(rows, Math.ceil(view.r0 + rowSpan(view, rows, cols) - 1e-9)),
    c0: Math.max(0, Math.floor(view.c0)),
    c1: Math.min(cols, Math.ceil(view.c0 + view.span - 1e-9)),
  };
}

/**
 * Token positions to label in [start, end) when a cell is `cellPx` pixels: every `step`-th one,
 * with `step` the smallest of 1, 2, 5, 10, 20, 50... that keeps labels `minPx` apart. Labels are
 * multiples of `step`, so panning keeps the same tokens labelled and labels never overlap.
 * @param {number} start
 * @param {number} end
 * @param {number} cellPx
 * @param {number} minPx
 * @returns {{ step: number, indices: number[] }}
 */
export function labelIndices(start, end, cellPx, minPx) {
  const step = labelStep(cellPx, minPx);
  /** @type {number[]} */
  const out = [];
  for (let k = Math.ceil(start / step) * step; k < end; k += step) out.push(k);
  return { step, indices: out };
}

/**
 * The label step `labelIndices` uses: the smallest of 1, 2, 5, 10, 20, 50... keeping labels `minPx` apart.
 * @param {number} cellPx
 * @param {number} minPx
 * @returns {number}
 */
export function labelStep(cellPx, minPx) {
  const need = Math.max(1, minPx / Math.max(cellPx, 1e-9));
  for (let p = 1; ; p *= 10) {
    for (const m of [1, 2, 5]) if (m * p >= need) return m * p;
  }
}

/**
 * Tiles of `size` x `size` cells (aligned to multiples of `size`) that cover `range`.
 * @param {CellRange} range
 * @param {number} size
 * @returns {{ r0: number, c0: number, row: number, col: number }[]}
 */
export function tilesFor(range, size) {
  /** @type {{ r0: number, c0: number, row: number, col: number }[]} */
  const out = [];
  for (let r = Math.floor(range.r0 / size) * size; r < range.r1; r += size) {
    for (let c = Math.floor(range.c0 / size) * size; c < range.c1; c += size) {
      out.push({ r0: r, c0: c, row: r / size, col: c / size });
    }
  }
  return out;
}

/**
 * Whether the view needs full-resolution cells: true once a cell of the map is at least as wide as
 * `cellsPerPx` = 1 screen pixel, i.e. an overview pooled by `factor` > 1 would draw blocks wider
 * than a pixel.
 * @param {View} view
 * @param {number} width
 * @param {number} factor
 * @returns {boolean}
 */
export function needsFullResolution(view, width, factor) {
  return factor > 1 && view.span <= width;
}

/**
 * A least-recently-used map of at most `limit` entries.
 * @template K, V
 */
export class LRU {
  /** @param {number} limit */
  constructor(limit) {
    this.limit = limit;
    /** @type {Map<K, V>} */
    this.map = new Map();
  }
  /**
   * @param {K} key
   * @returns {V | undefined}
   */
  get(key) {
    if (!this.map.has(key)) return undefined;
    const v = /** @type {V} */ (this.map.get(key));
    this.map.delete(key); this.map.set(key, v);
    return v;
  }
  /** @param {K} key */
  has(key) { return this.map.has(key); }
  /**
   * @param {K} key
   * @param {V} value
   */
  set(key, value) {
    this.map.delete(key); this.map.set(key, value);
    while (this.map.size > this.limit) this.map.delete(/** @type {K} */ (this.map.keys().next().value));
  }
  clear() { this.map.clear(); }
  get size() { return this.map.size; }
}
