// @ts-check
// Head effects (aw.experiments.head_effects): each head's signed effect on log P(target), as the
// views show it. DOM-free; colours come from the diverging scale AttentionDiff uses.
import { divergingColor, signedPosition } from "./diverging.js";

/**
 * The `_effects` state of a view: each held head's effect on the answer, by layer and head.
 * @typedef {{ label: string, layers: number[], heads: number[], values: (number | null)[][] }} Effects
 */

/**
 * The effect of `layer`/`head` in an `_effects` state ({label, layers, heads, values}), or null
 * when there is none (no effects, heads fused, a head the effects do not hold, a non-finite value).
 * @param {Effects | null | undefined} effects
 * @param {number} layer
 * @param {number | null | undefined} head
 * @returns {number | null}
 */
export function effectAt(effects, layer, head) {
  if (!effects || head === null || head === undefined) return null;
  const li = effects.layers.indexOf(layer), hi = effects.heads.indexOf(head);
  if (li < 0 || hi < 0) return null;
  const v = effects.values[li]?.[hi];
  return Number.isFinite(v) ? v : null;
}

/**
 * A signed number as the titles write it: "+0.12", "-0.85" (two decimals, more for small ones).
 * @param {number} v
 * @returns {string}
 */
export function signed(v) {
  const a = Math.abs(v);
  const digits = a === 0 || a >= 0.01 ? 2 : 3;
  const s = a.toFixed(digits);
  return (v < 0 && Number(s) !== 0 ? "-" : v > 0 && Number(s) !== 0 ? "+" : "") + s;
}

/**
 * " · effect on log P(' Paris'): -0.85" for a title, or "" when the head has no effect.
 * @param {Effects | null | undefined} effects
 * @param {number} layer
 * @param {number | null | undefined} head
 * @returns {string}
 */
export function effectTitle(effects, layer, head) {
  const v = effectAt(effects, layer, head);
  return v === null || !effects ? "" : ` · ${effects.label}: ${signed(v)}`;
}

/**
 * The extent of signed values: {min, max, vmax = largest |value|} over finite ones (vmax 0 if none).
 * @param {Iterable<number>} values
 * @returns {{ min: number, max: number, vmax: number }}
 */
export function signedExtent(values) {
  let min = Infinity, max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { min: 0, max: 0, vmax: 0 };
  return { min, max, vmax: Math.max(Math.abs(min), Math.abs(max)) };
}

/**
 * RGB of a signed value on a scale centred at 0 whose full colour is ±vmax (blue below 0, red above).
 * @param {number} v
 * @param {number} vmax
 * @returns {[number, number, number]}
 */
export function signedColor(v, vmax) {
  return divergingColor(signedPosition(v, vmax));
}
