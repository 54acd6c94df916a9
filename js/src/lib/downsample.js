// @ts-check
// Max-pooling for maps larger than the pixels they get. DOM-free.

/**
 * Smallest integer factor that fits `n` cells into `pixels` (at least 1).
 * @param {number} n
 * @param {number} pixels
 * @returns {number}
 */
export function poolFactor(n, pixels) {
  return Math.max(1, Math.ceil(n / Math.max(1, pixels)));
}

/**
 * Max-pool a row-major rows x cols map by `factor` in both directions. Max, not mean: one strong
 * weight must survive the reduction. Cells where `skip(i, j)` is true (masked) are ignored; a block
 * with only skipped cells gets NaN so the caller can draw it as masked.
 * @param {Float32Array} values
 * @param {number} rows
 * @param {number} cols
 * @param {number} factor
 * @param {((i: number, j: number) => boolean) | null} [skip]
 * @returns {{ values: Float32Array, rows: number, cols: number }}
 */
export function maxPool(values, rows, cols, factor, skip = null) {
  if (factor === 1 && !skip) return { values, rows, cols };
  const r = Math.ceil(rows / factor), c = Math.ceil(cols / factor);
  const out = new Float32Array(r * c).fill(NaN);
  for (let i = 0; i < rows; i++) {
    const bi = Math.floor(i / factor) * c;
    for (let j = 0; j < cols; j++) {
      if (skip && skip(i, j)) continue;
      const v = values[i * cols + j];
      const k = bi + Math.floor(j / factor);
      if (!(out[k] >= v)) out[k] = v;
    }
  }
  return { values: out, rows: r, cols: c };
}
