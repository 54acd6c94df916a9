// @ts-check
// The focus token under the pointer (or the generation step's query row): a focus dims every edge
// at once (the edge layer's opacity) and copies its own edges, full strength, into the layer
// above, so a hover touches one style and that token's edges, not every edge. A blank graph says
// why it is blank.
import { exactToken } from "../../ui/dom.js";
import { theme } from "../../ui/theme.js";
import { svg } from "./svg.js";
import { DIM, LIT } from "./edges.js";
import { emptyNote, focusOf, isOn } from "./focus.js";

/** @typedef {import("./state.js").GraphContext} GraphContext */
/** @typedef {import("./state.js").GraphState} GraphState */

/**
 * The selection's focus.
 * @param {GraphContext} ctx
 */
export function currentFocus(ctx) {
  const { sel } = ctx;
  return focusOf({ hovered: sel.get("hovered_token"), pinned: sel.get("pinned_token"), step: sel.get("step") });
}

/**
 * Light the focus token's edges (again only when the focus changed) and label it.
 * @param {GraphContext} ctx
 * @param {GraphState} g
 */
export function lightFocus(ctx, g) {
  const { sel, ui, facts } = ctx;
  g.labels?.focus([sel.get("hovered_token"), sel.get("pinned_token")], facts.nKey);
  const f = currentFocus(ctx);
  ui.root.dataset.focus = f.focus === null ? "" : String(f.focus);
  const key = `${f.focus}|${f.both}`;
  if (key === g.lit) return;
  g.lit = key;
  g.edges.layer.style.opacity = f.focus === null ? "" : String(DIM / LIT);
  /** @type {Element[]} */
  const bright = [];
  if (f.focus !== null) {
    for (const k of g.edges.byToken.get(f.focus) ?? []) {
      const { p, a, e } = g.edges.els[k];
      if (!isOn(e, f)) continue;
      const copy = /** @type {Element} */ (p.cloneNode(false));
      copy.setAttribute("class", "aw-edge-lit");
      bright.push(copy);
      if (a) { const ac = /** @type {Element} */ (a.cloneNode(false)); ac.setAttribute("class", "aw-arrow-lit"); bright.push(ac); }
    }
  }
  const threshold = ctx.model.get("threshold");
  const empty = emptyNote(g.edges.els.length, bright.length, f, threshold, f.focus === null ? "" : exactToken(facts.tokens[f.focus]));
  ui.root.dataset.empty = empty;
  if (empty) {
    const note = svg("text", { x: (g.width / 2).toFixed(1), y: 40, "text-anchor": "middle", "font-size": 12, fill: theme(ui.root).muted, class: "aw-graph-empty" });
    note.textContent = empty;
    bright.push(note);
  }
  ctx.litLayer.replaceChildren(...bright);
}
