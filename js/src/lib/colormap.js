// @ts-check
// Colour maps and scales: value -> position in [0, 1] -> RGB. DOM-free.

/**
 * A scale from values to colour positions in [0, 1], carrying what it is: its kind, its
 * [lo, hi] domain, its gamma, its inverse, and (lib/weightscale.js) what it is anchored to.
 * @typedef {((v: number) => number) & { kind: string, domain: [number, number], gamma: number,
 *   invert: (t: number) => number, anchor?: "absolute" | "relative" }} Scale
 */

// Anchor colours sampled evenly along each map, interpolated linearly in RGB.
/** @type {Record<string, string[]>} */
const ANCHORS = {
  viridis: ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"],
  cividis: ["#00224e", "#123570", "#3b496c", "#575d6d", "#707173", "#8a8678", "#a59c74", "#c3b369", "#e1cc55", "#fee838"],
  magma: ["#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55064", "#fb8761", "#fec287", "#fcfdbf"],
  greys: ["#ffffff", "#000000"],
};
export const COLORMAPS = Object.keys(ANCHORS);
export const SCALES = ["linear", "log", "power"];
// Decades shown by the log scale below its maximum.
export const LOG_DECADES = 3;

/** @param {string} hex */
function hexToRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** @type {Record<string, Uint8Array>} */
const LUTS = {};
/**
 * 256 x RGB lookup table of a colour map, as a Uint8Array of length 768.
 * @param {string} name
 * @returns {Uint8Array}
 */
export function lut(name) {
  if (!ANCHORS[name]) throw new RangeError(`unknown colour map ${JSON.stringify(name)}; expected one of ${COLORMAPS.join(", ")}`);
  if (LUTS[name]) return LUTS[name];
  const anchors = ANCHORS[name].map(hexToRgb);
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (anchors.length - 1);
    const j = Math.min(anchors.length - 2, Math.floor(x));
    const f = x - j;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(anchors[j][c] * (1 - f) + anchors[j + 1][c] * f);
  }
  LUTS[name] = out;
  return out;
}

/**
 * RGB triple at position t in [0, 1] (clamped).
 * @param {string} name
 * @param {number} t
 * @returns {[number, number, number]}
 */
export function colorAt(name, t) {
  const table = lut(name);
  const i = Math.round(Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * 255);
  return [table[i * 3], table[i * 3 + 1], table[i * 3 + 2]];
}

/**
 * @param {ArrayLike<number>} rgb
 * @returns {string}
 */
export function cssColor(rgb) {
  return `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
}

/**
 * A scale from weights to [0, 1].
 * kind: "linear" (vmin..vmax), "log" (vmax / 10^LOG_DECADES .. vmax; 0 and anything below map to 0),
 * "power" (((v - vmin) / (vmax - vmin)) ** gamma). Returns a function with `kind`, `domain`, `gamma`
 * and `invert(t)` attached.
 * @param {string} kind
 * @param {{ vmax?: number, vmin?: number, gamma?: number }} [options]
 * @returns {Scale}
 */
export function makeScale(kind, { vmax = 1, vmin, gamma = 0.4 } = {}) {
  if (!SCALES.includes(kind)) throw new RangeError(`unknown scale ${JSON.stringify(kind)}; expected one of ${SCALES.join(", ")}`);
  if (!(vmax > 0) || !Number.isFinite(vmax)) vmax = 1;
  /** @type {(v: number) => number} */
  let f;
  /** @type {(t: number) => number} */
  let inv;
  // The bottom of the domain: for log, LOG_DECADES below the top unless a usable vmin is given.
  const lo = kind === "log"
    ? (vmin !== undefined && vmin > 0 && vmin < vmax ? vmin : vmax / Math.pow(10, LOG_DECADES))
    : (vmin !== undefined && vmin < vmax ? vmin : 0);
  if (kind === "log") {
    const a = Math.log10(lo), span = Math.log10(vmax) - a;
    f = (v) => (v > lo ? Math.min(1, (Math.log10(v) - a) / span) : 0);
    inv = (t) => Math.pow(10, a + t * span);
  } else {
    const span = vmax - lo;
    if (kind === "linear") {
      f = (v) => Math.min(1, Math.max(0, (v - lo) / span)) || 0;
      inv = (t) => lo + t * span;
    } else {
      if (!(gamma > 0)) throw new RangeError(`power scale needs gamma > 0, got ${gamma}`);
      f = (v) => Math.pow(Math.min(1, Math.max(0, (v - lo) / span)) || 0, gamma);
      inv = (t) => lo + Math.pow(t, 1 / gamma) * span;
    }
  }
  /** @type {[number, number]} */
  const domain = [lo, vmax];
  return Object.assign(f, { kind, domain, gamma, invert: inv });
}

/**
 * Tick values for a legend: decades for log, even steps in colour position otherwise.
 * @param {Scale} scale
 * @param {number} [count]
 * @returns {number[]}
 */
export function ticks(scale, count = 5) {
  const [lo, hi] = scale.domain;
  if (scale.kind === "log") {
    const out = [];
    const e0 = Math.ceil(Math.log10(lo) - 1e-9), e1 = Math.floor(Math.log10(hi) + 1e-9);
    // At most about five decade ticks, counted down from the top so the largest decade is kept.
    const every = Math.max(1, Math.ceil((e1 - e0 + 1) / 5));
    for (let e = e1; e >= e0; e -= every) out.unshift(Math.pow(10, e));
    if (!out.length || out[out.length - 1] < hi * 0.99) {
      // The maximum is always labelled; a decade tick too close to it would print on top of it.
      if (out.length && scale(hi) - scale(out[out.length - 1]) < 0.15) out.pop();
      out.push(hi);
    }
    return out;
  }
  const out = [];
  for (let i = 0; i < count; i++) out.push(scale.invert(i / (count - 1)));
  return out;
}

/**
 * Where to print tick labels on a colour bar so none is cut at its ends or printed over another:
 * `xs` are the ticks' centres, `widths` their labels' widths, [lo, hi] the room (CSS pixels).
 * Each label is centred on its tick and moved just enough to stay inside the room; the last
 * (the maximum) is always kept, then labels are kept from right to left when they leave `gap`
 * pixels to the one kept after them. Returns [{index, x}] in increasing order.
 * @param {number[]} xs
 * @param {number[]} widths
 * @param {number} lo
 * @param {number} hi
 * @param {number} [gap]
 * @returns {{ index: number, x: number }[]}
 */
export function placeLabels(xs, widths, lo, hi, gap = 4) {
  const kept = [];
  let limit = Infinity;
  for (let i = xs.length - 1; i >= 0; i--) {
    const w = widths[i];
    const x = Math.min(hi - w / 2, Math.max(lo + w / 2, xs[i]));
    if (x + w / 2 > limit - gap) continue;
    kept.unshift({ index: i, x });
    limit = x - w / 2;
  }
  return kept;
}

/**
 * Short number for labels: 0.25, 0.031, 1e-3.
 * @param {number} v
 * @returns {string}
 */
export function fmt(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 0.01) return String(Number(v.toPrecision(2)));
  return v.toExponential(0).replace("e-", "e-");
}

/**
 * One sentence for the legend: what the scale is and its range, and "absolute weight" when the
 * scale is anchored to it (lib/weightscale.js sets `scale.anchor`).
 * @param {Scale} scale
 * @param {number | null} [mark]
 * @returns {string}
 */
export function headline(scale, mark = null) {
  const s = describe(scale);
  return mark !== null && mark > 0 ? `${s}; white mark: uniform share ${fmt(mark)}` : s;
}

/**
 * What the scale is and its range (the first half of `headline`).
 * @param {Scale} scale
 * @returns {string}
 */
export function describe(scale) {
  const [lo, hi] = scale.domain;
  const by = scale.anchor === "absolute" ? " absolute weight" : "";
  // Anchored to absolute weight the floor is the only clamp worth a word; said in the headline's place.
  if (scale.kind === "log") return `log scale,${by} ${fmt(lo)} to ${fmt(hi)}` + (by ? "" : ` (smaller weights drawn as ${fmt(lo)})`);
  if (scale.kind === "power") return `power scale (gamma ${scale.gamma}),${by} ${fmt(lo)} to ${fmt(hi)}`;
  return `linear scale,${by} ${fmt(lo)} to ${fmt(hi)}`;
}
