// @ts-check
// The colour scale of attention weights, anchored to absolute weight: 1 is all of a row's
// attention on one token, whatever the map's own maximum. A map of near-uniform weights (1/n each)
// is then drawn low on the colour map, never in the colour of maximal attention. DOM-free.
import { makeScale, LOG_DECADES } from "./colormap.js";
import { logFloor } from "./sink.js";

/** The weight at the top of every view's colour map: all of a row's attention on one token. */
export const WEIGHT_MAX = 1;

/**
 * A scale (lib/colormap.js makeScale) for attention weights. By default its top is WEIGHT_MAX,
 * or `dataMax` when the data exceed 1 (not weights). `relative: true` runs it to `dataMax`
 * instead (rows already scaled to their own maximum). The log scale's floor is LOG_DECADES below
 * the top, or lower when `values` reach lower (lib/sink.js logFloor, `decades` below at most). The returned scale carries
 * `anchor`: "absolute" or "relative".
 * @param {string} kind
 * @param {{ values?: ArrayLike<number> | null, dataMax?: number, gamma?: number, decades?: number, relative?: boolean }} [options]
 * @returns {import("./colormap.js").Scale}
 */
export function weightScale(kind, { values = null, dataMax = WEIGHT_MAX, gamma = 0.4, decades = 6, relative = false } = {}) {
  const finite = Number.isFinite(dataMax) && dataMax > 0 ? dataMax : 0;
  const vmax = relative ? finite || WEIGHT_MAX : Math.max(WEIGHT_MAX, finite);
  // The log floor follows the data down (a sink head's other weights near 1e-5 keep their
  // structure) but never above LOG_DECADES below the top: a floor raised to a near-uniform map's
  // weights would draw that map in the bottom colour, and the same map would read differently in
  // two views. Without values, or relative, it is the plain LOG_DECADES floor.
  const cap = vmax / Math.pow(10, LOG_DECADES);
  const vmin = kind === "log" && values ? Math.min(cap, logFloor(values, vmax, { decades }) ?? cap) : undefined;
  const s = makeScale(kind, { vmax, vmin, gamma });
  s.anchor = relative ? "relative" : "absolute";
  return s;
}

/**
 * The weight each of `n` keys gets from a uniform row (0 when there are none).
 * @param {number} n
 * @returns {number}
 */
export function uniformShare(n) {
  return n > 0 ? 1 / n : 0;
}

/**
 * Legend note saying what the colours are anchored to and where a uniform row sits.
 * @param {import("./colormap.js").Scale} scale
 * @param {number} [n]
 * @returns {string}
 */
export function anchorNote(scale, n) {
  // Absolute scales say so in the legend's headline ("absolute weight", the uniform mark): no
  // second line, so the views keep their height on a laptop's first screen.
  if (scale.anchor === "relative") return "colours run to each row's own maximum, not to absolute weight";
  return "";
}
