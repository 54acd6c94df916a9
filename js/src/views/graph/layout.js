// @ts-check
// Where the graph's nodes sit and the path of each edge between them, DOM-free: arcs over a
// baseline in reading order, or a force layout (for at most FORCE_MAX tokens).
import { arcLayout, arcPath, forceLayout } from "../../lib/layout.js";

/** @typedef {import("./state.js").Positions} Positions */
/** @typedef {{ source: number, target: number, weight: number }} Edge */

export const FORCE_MAX = 300;

/**
 * @param {string} arrangement  The `arrangement` trait: "arc" or "force".
 * @param {number} nKey
 * @param {Edge[]} edges  Pulled together by the force layout.
 * @param {number} width
 * @param {number} height
 * @returns {{ layout: string, pos: Positions, base: number, capped: boolean }}  `capped`: force
 *   was asked for more than FORCE_MAX tokens and arcs are drawn.
 */
export function placeNodes(arrangement, nKey, edges, width, height) {
  let layout = arrangement, capped = false;
  if (layout === "force" && nKey > FORCE_MAX) { layout = "arc"; capped = true; }
  const base = height - 70;
  // Arc labels slant right: keep room for the last one.
  const pos = layout === "arc" ? { x: arcLayout(nKey, width - 40, 16), y: new Float64Array(nKey).fill(base) }
    : forceLayout(nKey, edges, { width, height, seed: 11 });
  return { layout, pos, base, capped };
}

/**
 * An edge's SVG path and the point its arrowhead points from (the arc's top, or the query node).
 * `lift` > 0: an overlaid head's arc, `lift` (1 + 0.18 per head before it) times as high, so
 * shared edges of several heads stay apart.
 * @param {string} layout
 * @param {Positions} pos
 * @param {Edge} e
 * @param {number} base  The arcs' baseline.
 * @param {number} [lift]  0: one map's arc (lib/layout.js `arcPath`).
 * @returns {{ d: string, from: [number, number] }}
 */
export function edgePath(layout, pos, e, base, lift = 0) {
  const x1 = pos.x[e.source], y1 = pos.y[e.source], x2 = pos.x[e.target], y2 = pos.y[e.target];
  const line = `M${x1.toFixed(1)},${y1.toFixed(1)}L${x2.toFixed(1)},${y2.toFixed(1)}`;
  if (layout !== "arc") return { d: line, from: [x1, y1] };
  const mx = (x1 + x2) / 2;
  if (!lift) return { d: arcPath(x1, x2, base, -1, base - 14), from: [mx, base - 2 * Math.min(base - 14, Math.abs(x2 - x1) / 2)] };
  const hgt = Math.min(base - 14, Math.abs(x2 - x1) / 2) * lift;
  return { d: `M${x1.toFixed(1)},${base}Q${mx.toFixed(1)},${(base - 2 * hgt).toFixed(1)} ${x2.toFixed(1)},${base}`, from: [mx, base - 2 * hgt] };
}

/**
 * Arc labels are rotated 60 degrees: one needs about 14 px of the axis (11 px text / sin 60 plus a
 * little air). The spacing is that of the nodes as placed, inside the margins, not width / nKey.
 * Gives the label step: every node's label is drawn when 1.
 * @param {Positions} pos
 * @param {number} nKey
 * @param {number} width
 * @param {boolean} arc
 * @returns {number}
 */
export function labelEvery(pos, nKey, width, arc) {
  const spacing = nKey > 1 ? Math.abs(pos.x[nKey - 1] - pos.x[0]) / (nKey - 1) : width;
  return arc ? Math.max(1, Math.ceil(14 / spacing)) : 1;
}
