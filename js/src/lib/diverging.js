// @ts-check
// Diverging colours for signed differences: blue below zero, near-white at zero, red above. DOM-free.
// Anchors are the ColorBrewer RdBu scheme (reversed so that red means "more in b").

const NEG = ["#f7f7f7", "#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061"];
const POS = ["#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"];

/** @param {string} hex */
function hexToRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** @param {string[]} anchors */
function ramp(anchors) {
  const rgb = anchors.map(hexToRgb);
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (rgb.length - 1);
    const j = Math.min(rgb.length - 2, Math.floor(x));
    const f = x - j;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(rgb[j][c] * (1 - f) + rgb[j + 1][c] * f);
  }
  return out;
}

const NEG_LUT = ramp(NEG), POS_LUT = ramp(POS);

/**
 * Signed position in [-1, 1] of a difference `d` on a scale whose full colour is `vmax`:
 * "linear" is d / vmax, "power" is sign(d) * (|d| / vmax) ** gamma (lifts small differences).
 * Values past vmax clamp; NaN and a non-positive vmax give 0.
 * @param {number} d
 * @param {number} vmax
 * @param {string} [kind]
 * @param {number} [gamma]
 * @returns {number}
 */
export function signedPosition(d, vmax, kind = "linear", gamma = 0.4) {
  if (!(vmax > 0) || !Number.isFinite(d)) return 0;
  const r = Math.min(1, Math.abs(d) / vmax);
  const t = kind === "power" ? Math.pow(r, gamma) : r;
  return d < 0 ? -t : t;
}

/**
 * RGB triple for a signed position t in [-1, 1].
 * @param {number} t
 * @returns {[number, number, number]}
 */
export function divergingColor(t) {
  const c = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const table = c < 0 ? NEG_LUT : POS_LUT;
  const i = Math.round(Math.abs(c) * 255) * 3;
  return [table[i], table[i + 1], table[i + 2]];
}

/**
 * Largest |value| over cells where `visible(i, j)` holds, for a rows x cols array.
 * @param {ArrayLike<number>} values
 * @param {number} rows
 * @param {number} cols
 * @param {(i: number, j: number) => boolean} visible
 * @returns {number}
 */
export function maxAbs(values, rows, cols, visible) {
  let m = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (!visible(i, j)) continue;
      const v = Math.abs(values[i * cols + j]);
      if (v > m) m = v;
    }
  }
  return m;
}

/**
 * b - a, cell by cell, for two maps of the same size.
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 * @returns {Float32Array}
 */
export function difference(a, b) {
  if (a.length !== b.length) throw new RangeError(`maps differ in size: ${a.length} and ${b.length} cells`);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = b[i] - a[i];
  return out;
}
