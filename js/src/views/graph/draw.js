// @ts-check
// The graph drawn: one map (a head, or a fusion of the layer's heads) with edges coloured by
// weight, or several heads of the layer overlaid, one colour each. Each gives the title, the
// status line, the nodes and the legend.
import { effectTitle } from "../../lib/effects.js";
import { colorAt, cssColor } from "../../lib/colormap.js";
import { sinkOfMap } from "../../lib/sink.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { displayMap } from "../../lib/maps.js";
import { mapKey, missingMapText } from "../../lib/store.js";
import { NORMS_NOTE } from "../../lib/measure.js";
import { h, exactToken } from "../../ui/dom.js";
import { viewScale, sinkLine } from "../../ui/controls.js";
import { drawLegend, hideNotes } from "../../ui/legend.js";
import { theme } from "../../ui/theme.js";
import { HEAD_COLOURS, drawEdge, edgesOf } from "./edges.js";
import { placeNodes, FORCE_MAX } from "./layout.js";
import { drawNodes } from "./labels.js";
import { nodeTip } from "./focus.js";

/** @typedef {import("./state.js").GraphContext} GraphContext */
/** @typedef {import("./state.js").GraphState} GraphState */
/** @typedef {{ add: (i: number, node: Element) => void, clear: () => void }} Marks */
/** @typedef {{ marks: Marks, sink: HTMLElement, menu: any, signal: AbortSignal }} Extras */

/**
 * "norm" or "weight": what an edge's number is.
 * @param {GraphContext} ctx
 */
const what = (ctx) => (ctx.maps.measure() === "norms" ? "norm" : "weight");

/**
 * Beside a view that switches to norms, the title names weights first, not only in its threshold.
 * @param {GraphContext} ctx
 */
const graphName = (ctx) => (ctx.model.get("_measure_name") && !ctx.maps.hasNorms ? `Graph of ${ctx.model.get("_measure_name")}` : "Graph");

/**
 * Remove every edge, node and lit copy.
 * @param {GraphContext} ctx
 * @param {GraphState} g
 * @param {Marks} marks
 */
function clear(ctx, g, marks) {
  g.edges.clear(); ctx.litLayer.replaceChildren(); ctx.nodeLayer.replaceChildren(); marks.clear();
  g.lit = null;
}

/**
 * The selected head (or fusion): edges above the threshold, width and colour by weight.
 * @param {GraphContext} ctx
 * @param {GraphState} g
 * @param {Extras} extras
 */
export function drawMap(ctx, g, { marks, sink, menu, signal }) {
  const { model, sel, ui, facts, maps, visible } = ctx;
  const { tokens, nQuery, nKey } = facts;
  const layer = sel.get("layer"), head = sel.get("head"), fusion = sel.get("fusion");
  const key = mapKey(layer, head, fusion);
  ui.title.textContent = `${graphName(ctx)} · layer ${layer} · ${head === null ? `${fusion} of heads` : `head ${head}`}${effectTitle(model.get("_effects"), layer, head)} · ${what(ctx)}s ≥ ${model.get("threshold")}`;
  ui.root.dataset.layer = String(layer);
  ui.root.dataset.head = head === null ? fusion : String(head);
  const raw = maps.get(key);
  clear(ctx, g, marks);
  const hide = model.get("hide");
  const values = raw ? displayMap(raw, nQuery, nKey, { hide, visible }) : null;
  g.values = values;
  sinkLine(sink, model, tokens, values ? sinkOfMap(values, nQuery, nKey, { visible, hide }) : null, "this map's attention (mean over query rows)", signal, { menu });
  const ink = theme(ui.root);
  ui.status.textContent = raw ? "" : missingMapText(maps.info(), key);
  const edges = raw ? edgesOf(ctx, key, values, model.get("threshold"), hide) : [];
  const notes = hideNotes(tokens, hide);
  const { layout, pos, base, capped } = placeNodes(model.get("arrangement"), nKey, edges, g.width, ctx.height);
  if (capped) notes.push(`force layout is limited to ${FORCE_MAX} tokens; showing arcs`);
  g.pos = pos;
  const scale = (g.scale = viewScale(model, 1));
  const cmap = model.get("colormap");
  // Weakest first so strong edges are drawn on top.
  for (const e of [...edges].reverse()) {
    drawEdge(g.edges, e, {
      layout, pos, base, colour: cssColor(colorAt(cmap, scale(e.weight))), width: 0.5 + 4 * e.weight, arrowEdge: ink.fg,
      tip: `query ${e.source} ${exactToken(tokens[e.source])} → key ${e.target} ${exactToken(tokens[e.target])}\n${what(ctx)} ${e.weight.toPrecision(3)}`,
    });
  }
  g.labels = drawNodes(ctx, { pos, width: g.width, layout, hide, ink, marks, tip: tipOf(ctx, g) });
  if (maps.hasNorms) notes.unshift(maps.measure() === "norms" ? NORMS_NOTE : "attention weights");
  notes.push(`${edges.length} edge${edges.length === 1 ? "" : "s"} ≥ ${model.get("threshold")}; width and colour by weight; ` +
    (layout === "arc" ? "each arc runs from a query to a key it attends to (arrowhead at the key)" : "arrows point from query to key; strongly attending tokens are pulled together"));
  notes.push(anchorNote(scale, nKey));
  // ui/legend.js is not type-checked: its `mark` parameter reads as null only.
  drawLegend(ui.legend, scale, cmap, notes, 180, null, /** @type {any} */ (uniformShare(nKey)));
}

/**
 * Several heads of the layer at once: each head's edges in its own colour, width by weight.
 * @param {GraphContext} ctx
 * @param {GraphState} g
 * @param {number[]} overlay  The heads, in model order.
 * @param {Extras} extras
 */
export function drawOverlay(ctx, g, overlay, { marks, sink, signal }) {
  const { model, sel, ui, facts, maps, visible } = ctx;
  const { tokens, nQuery, nKey } = facts;
  const layer = sel.get("layer"), hide = model.get("hide"), threshold = model.get("threshold");
  ui.title.textContent = `${graphName(ctx)} · layer ${layer} · heads ${overlay.join(", ")} overlaid · ${what(ctx)}s ≥ ${threshold}`;
  ui.root.dataset.layer = String(layer);
  ui.root.dataset.head = `overlay:${overlay.join(",")}`;
  clear(ctx, g, marks);
  g.values = null; g.scale = null; // colour means head here, not weight: no colour bar in the PNG
  sinkLine(sink, model, tokens, null, "", signal);
  const ink = theme(ui.root);
  /** @type {number[]} */
  const missing = [];
  /** @type {{ source: number, target: number, weight: number, head: number, k: number }[]} */
  const edges = [];
  overlay.forEach((hd, k) => {
    const raw = maps.get(mapKey(layer, hd, sel.get("fusion")));
    if (!raw) { missing.push(hd); return; }
    const v = displayMap(raw, nQuery, nKey, { hide, visible });
    for (const e of edgesOf(ctx, mapKey(layer, hd, sel.get("fusion")), v, threshold, hide)) edges.push({ ...e, head: hd, k });
  });
  ui.status.textContent = missing.length
    ? `Heads ${missing.join(", ")} of layer ${layer} are not in this view's data (raise max_bytes, or run the kernel).` : "";
  const { layout, pos, base } = placeNodes(model.get("arrangement"), nKey, edges, g.width, ctx.height);
  g.pos = pos;
  edges.sort((a, b) => a.weight - b.weight);
  for (const e of edges) {
    drawEdge(g.edges, e, {
      layout, pos, base, lift: 1 + 0.18 * e.k, colour: HEAD_COLOURS[e.k], width: 0.6 + 3.5 * e.weight, arrowEdge: ink.fg,
      tip: `head ${e.head}: query ${e.source} ${exactToken(tokens[e.source])} → key ${e.target} ${exactToken(tokens[e.target])}\n${what(ctx)} ${e.weight.toPrecision(3)}`,
    });
  }
  g.labels = drawNodes(ctx, { pos, width: g.width, layout, hide, ink, marks, tip: tipOf(ctx, g) });
  const key = h("div", { style: "display:flex;flex-wrap:wrap;gap:4px 10px;align-items:center" });
  overlay.forEach((hd, k) => key.append(h("span", { style: "display:inline-flex;align-items:center;gap:4px" },
    h("span", { style: `display:inline-block;width:14px;height:4px;border-radius:2px;background:${HEAD_COLOURS[k]}` }), `head ${hd}`)));
  const notes = hideNotes(tokens, hide).concat([`${edges.length} edges ≥ ${threshold}; colour by head, width by weight; arrowhead at the key`]);
  ui.legend.replaceChildren(h("div", {}, key, ...notes.map((/** @type {string} */ n) => h("div", { class: "aw-note", text: n }))));
}

/**
 * Node tooltips from the map drawn.
 * @param {GraphContext} ctx
 * @param {GraphState} g
 * @returns {(i: number) => string}
 */
function tipOf(ctx, g) {
  const { tokens, nQuery, nKey } = ctx.facts;
  return (i) => nodeTip(i, g.values, nQuery, nKey, (j) => exactToken(tokens[j]));
}
