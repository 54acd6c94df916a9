// @ts-check
// The hovered target row and source token, else the pinned ones: the edge layer dims as a whole
// and their lines are copied, full strength, into the layer above, with labels for the focused
// tokens and their lines' far ends. A hover touches one style, the focused lines and the labels
// they need: never every line or node.
import { crossFocus } from "../../lib/links.js";
import { focusRow } from "./labels.js";
import { strongest, LIT, DIM } from "./geometry.js";

/**
 * @typedef {{ hovered_token: number | null, pinned_token: number | null, hovered_query: number | null, pinned_query: number | null }} FocusState
 */

/**
 * Light the focused lines; null when the focus is the one already lit, else how many line ends
 * went without a label.
 * @param {FocusState} state
 * @param {import("./paint.js").Drawn} drawn  Its `lit` is updated.
 * @param {{ edgeLayer: SVGElement, litLayer: SVGElement, focusLayer: SVGElement }} layers
 * @param {{ query: import("./labels.js").LabelRow, token: import("./labels.js").LabelRow }} rows
 * @param {{ fg: string, bg: string }} ink
 * @returns {{ focus: { row: number | null, key: number | null } | null, dropped: number | null }}
 */
export function lightFocus(state, drawn, { edgeLayer, litLayer, focusLayer }, rows, ink) {
  const focus = crossFocus(state);
  const now = JSON.stringify(state);
  if (now === drawn.lit) return { focus, dropped: null };
  drawn.lit = now;
  const { edgeEls, edges, byRow, byKey } = drawn;
  const mine = new Set();
  if (focus && focus.row !== null) for (const k of byRow[focus.row] ?? []) mine.add(k);
  if (focus && focus.key !== null) for (const k of byKey[focus.key] ?? []) mine.add(k);
  edgeLayer.style.opacity = focus ? String(DIM / LIT) : "";
  litLayer.replaceChildren(...[...mine].sort((a, b) => a - b).map((k) => {
    const copy = /** @type {SVGElement} */ (edgeEls[k].p.cloneNode(false));
    copy.setAttribute("class", "aw-edge-lit");
    return copy;
  }));
  const rowEnds = focus && focus.key !== null ? strongest(byKey[focus.key] ?? [], edges).map((e) => e.i) : [];
  const keyEnds = focus && focus.row !== null ? strongest(byRow[focus.row] ?? [], edges).map((e) => e.j) : [];
  const top = focusRow(rows.query, "query", [state.hovered_query, state.pinned_query], rowEnds, ink);
  const bottom = focusRow(rows.token, "token", [state.hovered_token, state.pinned_token], keyEnds, ink);
  focusLayer.replaceChildren(...top.out, ...bottom.out);
  return { focus, dropped: top.dropped + bottom.dropped };
}
