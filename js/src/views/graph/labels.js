// @ts-check
// The graph's nodes and their labels. Arc labels are thinned to fit; the hovered and pinned nodes
// are always labelled, and the thinned labels next to them give way (lib/rowlabels.js
// labelsWithFocus), so a neighbour's label is never read as theirs. Labels of thinned nodes are
// made on first need.
import { labelsWithFocus } from "../../lib/rowlabels.js";
import { displayToken } from "../../ui/dom.js";
import { svg } from "./svg.js";
import { labelEvery } from "./layout.js";

/** @typedef {import("./state.js").GraphContext} GraphContext */
/** @typedef {import("./state.js").Positions} Positions */

/** The nodes' labels: made ones, makers of those not made yet, and the ones shown. */
export class NodeLabels {
  /** @param {number} every  The label step (1: every node labelled). */
  constructor(every) {
    this.every = every;
    /** @type {Map<number, SVGTextElement | (() => void)>} */
    this.made = new Map();
    /** @type {Set<number>} */
    this.shown = new Set();
  }

  /**
   * Show the regular labels and those of the focus tokens (hovered, pinned), hiding the regular
   * ones next to them.
   * @param {(number | null | undefined)[]} focus
   * @param {number} nKey
   */
  focus(focus, nKey) {
    if (this.every <= 1) return;
    const { every, made, shown } = this;
    const regular = [];
    for (let i = 0; i < nKey; i += every) regular.push(i);
    const want = new Set(labelsWithFocus(regular, every, focus, { start: 0, end: nKey }));
    for (const i of shown) if (!want.has(i)) { const l = made.get(i); if (l && typeof l !== "function") l.style.display = "none"; }
    for (const i of want) {
      const m = made.get(i);
      if (typeof m === "function") m();
      const l = made.get(i);
      if (l && typeof l !== "function") l.style.display = "";
    }
    this.shown = want;
  }
}

/**
 * Draw the nodes in `ctx.nodeLayer`, each registered with `marks` (hover and pin classes).
 * No transform per node (each would be a layer of its own for the browser to sort on every
 * repaint): arc labels share one rotation, the node layer's, and every node is placed in its
 * frame, which is the page's turned back by 60 degrees.
 * @param {GraphContext} ctx
 * @param {{ pos: Positions, width: number, layout: string, hide: number[], ink: { fg: string, muted: string, border: string },
 *   marks: { add: (i: number, node: Element) => void }, tip: (i: number) => string }} options
 * @returns {NodeLabels}
 */
export function drawNodes(ctx, { pos, width, layout, hide, ink, marks, tip }) {
  const { nodeLayer } = ctx;
  const { nKey, tokens } = ctx.facts;
  const arc = layout === "arc";
  const labels = new NodeLabels(labelEvery(pos, nKey, width, arc));
  const every = labels.every;
  const cos = Math.cos(Math.PI / 3), sin = Math.sin(Math.PI / 3);
  if (arc) nodeLayer.setAttribute("transform", "rotate(60)"); else nodeLayer.removeAttribute("transform");
  for (let i = 0; i < nKey; i++) {
    const x = arc ? pos.x[i] * cos + pos.y[i] * sin : pos.x[i], y = arc ? pos.y[i] * cos - pos.x[i] * sin : pos.y[i];
    const g = svg("g", { class: "aw-tok aw-node", "data-token-index": i, style: "cursor:pointer" });
    const hidden = hide.includes(i);
    g.append(svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 4, fill: hidden ? ink.border : ink.muted }));
    const make = () => {
      const label = svg("text", { x: (x + (arc ? 7 : 6)).toFixed(1), y: (y + (arc ? 3 : -5)).toFixed(1), "font-size": 11, fill: ink.fg });
      // Position first, so repeated words and the arrows' ends can be told apart.
      const text = displayToken(tokens[i]);
      const pos = svg("tspan", { fill: ink.muted });
      label.append(pos, text.length > 14 ? text.slice(0, 13) + "…" : text);
      pos.textContent = `${i} `;
      if (hidden) label.setAttribute("text-decoration", "line-through");
      g.append(label);
      labels.made.set(i, label);
    };
    if (i % every === 0 || !arc) { make(); labels.shown.add(i); } else labels.made.set(i, make);
    g.dataset.tip = tip(i);
    nodeLayer.append(g);
    marks.add(i, g);
  }
  return labels;
}
