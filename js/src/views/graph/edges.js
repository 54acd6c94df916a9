// @ts-check
// The graph's edges: which pass the threshold (the kernel's exact ones while they match what is
// drawn), and their paths and arrowheads in the edge layer, indexed by token for the focus.
import { arrowHead } from "../../lib/layout.js";
import { edgesAbove, exactEdges } from "../../lib/maps.js";
import { decode } from "../../lib/decode.js";
import { svg } from "./svg.js";
import { edgePath } from "./layout.js";

/** @typedef {import("./state.js").GraphContext} GraphContext */
/** @typedef {import("./state.js").Positions} Positions */
/** @typedef {import("../../lib/maps.js").Edge} Edge */
/** @typedef {{ p: SVGPathElement, e: Edge, a: SVGPathElement | null }} DrawnEdge */

// One colour per overlaid head, told apart on light and dark pages (Tableau 10's first six).
export const HEAD_COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948"];
export const MAX_OVERLAY = HEAD_COLOURS.length;
// Edge opacity, and that of edges away from the focus token.
export const LIT = 0.85, DIM = 0.08;

/** The drawn edges and, per token, the indices of its edges. */
export class EdgeSet {
  /** @param {SVGGElement} layer */
  constructor(layer) {
    this.layer = layer;
    /** @type {DrawnEdge[]} */
    this.els = [];
    /** @type {Map<number, number[]>} */
    this.byToken = new Map();
  }

  clear() {
    this.layer.replaceChildren();
    this.els = [];
    this.byToken = new Map();
  }

  /**
   * @param {SVGPathElement} p
   * @param {Edge} e
   * @param {SVGPathElement | null} a
   */
  add(p, e, a) {
    const k = this.els.length;
    this.els.push({ p, e, a });
    for (const t of e.source === e.target ? [e.source] : [e.source, e.target]) {
      let list = this.byToken.get(t);
      if (!list) this.byToken.set(t, (list = []));
      list.push(k);
    }
    this.layer.append(p);
    if (a) this.layer.append(a);
  }
}

/**
 * Edges at the threshold: the kernel's, from exact weights, while they match what is drawn; else
 * from the coded weights (within 2.8%, so a weight near the threshold may land either side).
 * @param {GraphContext} ctx
 * @param {string} key
 * @param {Float32Array | null} values
 * @param {number} threshold
 * @param {number[]} hide
 * @returns {Edge[]}
 */
export function edgesOf(ctx, key, values, threshold, hide) {
  const { facts } = ctx;
  return exactEdges(ctx.model.get("_exact_edges"), { key, threshold, hide, measure: ctx.maps.measure(), offset: facts.offset, decode })
    ?? (values ? edgesAbove(values, facts.nQuery, facts.nKey, threshold) : []);
}

/**
 * Draw one edge and its arrowhead at the key end (the query attends to the key).
 * @param {EdgeSet} set
 * @param {Edge} e
 * @param {{ layout: string, pos: Positions, base: number, lift?: number, colour: string,
 *   width: number, tip: string, arrowEdge: string }} look  `lift`: see layout.js `edgePath`;
 *   `arrowEdge`: the arrowheads' outline colour.
 */
export function drawEdge(set, e, { layout, pos, base, lift = 0, colour, width, tip, arrowEdge }) {
  const { d, from } = edgePath(layout, pos, e, base, lift);
  const p = svg("path", { d, fill: "none", stroke: colour, "stroke-width": width.toFixed(2), "stroke-opacity": LIT, class: "aw-edge" });
  p.dataset.tip = tip;
  const head = arrowHead(from[0], from[1], pos.x[e.target], pos.y[e.target], 7 + 4 * e.weight, layout === "arc" ? 4 : 4.5);
  const a = head ? svg("path", { d: head, fill: colour, "fill-opacity": LIT, stroke: arrowEdge, "stroke-width": 0.6, class: "aw-arrow" }) : null;
  if (a) a.dataset.tip = tip;
  set.add(p, e, a);
}
