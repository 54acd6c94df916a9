// @ts-check
// The lines and the nodes of one drawing: lines from each target token (above) to the source
// tokens (below) it weighs at least the threshold, and one node per token with its row label.
import { colorAt, cssColor } from "../../lib/colormap.js";
import { exactToken } from "../../ui/dom.js";
import { svg } from "./svg.js";
import { short, LIT } from "./geometry.js";

/** @typedef {import("./geometry.js").Edge} Edge */
/** @typedef {import("./labels.js").LabelRow} LabelRow */
/** @typedef {import("../../ui/dom.js").TokenMarks} TokenMarks */

/**
 * What one drawing holds, read when a hover lights lines: each line and its edge, the lines of
 * each query row and of each key, and the focus state last lit (JSON; null: none yet).
 * @typedef {object} Drawn
 * @property {{ p: SVGElement, e: Edge }[]} edgeEls
 * @property {Edge[]} edges  The edge of each line (`edgeEls[k].e === edges[k]`).
 * @property {number[][]} byRow
 * @property {number[][]} byKey
 * @property {string | null} lit
 */

/**
 * @param {SVGElement} layer
 * @param {Edge[]} edges  Weakest first.
 * @param {{ xq: ArrayLike<number>, xk: ArrayLike<number>, TOP: number, BOTTOM: number, nQuery: number, nKey: number,
 *   targets: readonly string[], tokens: readonly string[], cmap: string, scale: (v: number) => number, what: string }} o
 * @returns {Drawn}
 */
export function drawEdges(layer, edges, { xq, xk, TOP, BOTTOM, nQuery, nKey, targets, tokens, cmap, scale, what }) {
  /** @type {Drawn} */
  const drawn = { edgeEls: [], edges, byRow: Array.from({ length: nQuery }, () => []), byKey: Array.from({ length: nKey }, () => []), lit: null };
  for (const e of edges) {
    const p = svg("line", { x1: xq[e.i].toFixed(1), y1: TOP + 6, x2: xk[e.j].toFixed(1), y2: BOTTOM - 6, class: "aw-edge",
      stroke: cssColor(colorAt(cmap, scale(e.w))), "stroke-width": (0.5 + 4 * e.w).toFixed(2), "stroke-opacity": LIT });
    p.dataset.tip = `query (target) ${e.i} ${exactToken(targets[e.i])} → key (source) ${e.j} ${exactToken(tokens[e.j])}\n${what} ${e.w.toPrecision(3)}`;
    layer.append(p);
    drawn.byRow[e.i].push(drawn.edgeEls.length); drawn.byKey[e.j].push(drawn.edgeEls.length);
    drawn.edgeEls.push({ p, e });
  }
  return drawn;
}

/**
 * One node per token: target nodes (query rows, `data-query-index`) at `TOP`, source nodes (keys,
 * `data-token-index`) at `BOTTOM`, hidden keys greyed and struck through; each labelled node's
 * label goes into its row's `labels`.
 * @param {SVGElement} layer
 * @param {{ query: LabelRow, token: LabelRow }} rows
 * @param {{ TOP: number, BOTTOM: number, hide: readonly number[], ink: { fg: string, muted: string, border: string } }} o
 * @param {{ marks: TokenMarks, rowMarks: TokenMarks }} m  Take the source and the target nodes.
 */
export function drawNodes(layer, rows, { TOP, BOTTOM, hide, ink }, { marks, rowMarks }) {
  const labelled = { query: new Set(rows.query.shown), token: new Set(rows.token.shown) };
  const targets = rows.query.text, tokens = rows.token.text;
  for (let i = 0; i < targets.length; i++) {
    const g = svg("g", { class: "aw-tok aw-node aw-query-node", "data-query-index": i, transform: `translate(${rows.query.xs[i].toFixed(1)},${TOP})`, style: "cursor:pointer" });
    g.append(svg("circle", { r: 4, fill: ink.muted }));
    if (labelled.query.has(i)) {
      const label = svg("text", { y: -8, "text-anchor": "middle", "font-size": 11, fill: ink.fg });
      label.textContent = short(targets[i]);
      g.append(label);
      rows.query.labels.set(i, label);
    }
    g.dataset.tip = `query (target) ${i} ${exactToken(targets[i])}`;
    layer.append(g);
    rowMarks.add(i, g);
  }
  for (let j = 0; j < tokens.length; j++) {
    const g = svg("g", { class: "aw-tok aw-node", "data-token-index": j, transform: `translate(${rows.token.xs[j].toFixed(1)},${BOTTOM})`, style: "cursor:pointer" });
    g.append(svg("circle", { r: 4, fill: hide.includes(j) ? ink.border : ink.muted }));
    if (labelled.token.has(j)) {
      const label = svg("text", { y: 18, "text-anchor": "middle", "font-size": 11, fill: ink.fg });
      label.textContent = short(tokens[j]);
      if (hide.includes(j)) label.setAttribute("text-decoration", "line-through");
      g.append(label);
      rows.token.labels.set(j, label);
    }
    g.dataset.tip = `key (source) ${j} ${exactToken(tokens[j])}`;
    layer.append(g);
    marks.add(j, g);
  }
}
