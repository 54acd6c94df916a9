// @ts-check
// The map's axis labels: the visible key tokens on top, the query rows on the left, thinned to a
// round step so they never overlap, with the hovered and pinned tokens and the cell under the
// pointer labelled whatever the thinning (lib/rowlabels.js labelsWithFocus).
import { labelsWithFocus } from "../../lib/rowlabels.js";
import { visibleRange, labelIndices } from "../../lib/viewport.js";
import { tokenElement, queryElement, TokenMarks, wireTokens } from "../../ui/dom.js";
import { setTrait } from "../../ui/controls.js";
import { FONT, MIN_LABEL_PX, labelFocus } from "./layout.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {import("../../lib/facts.js").AttentionFacts} AttentionFacts */
/** @typedef {import("./canvas.js").MapState} MapState */

export class AxisLabels {
  /**
   * @param {object} parts
   * @param {HTMLElement} parts.top  The key labels' box.
   * @param {HTMLElement} parts.left  The query labels' box.
   * @param {{ labelW: number, topH: number }} parts.bands
   * @param {Readonly<AttentionFacts>} parts.facts
   * @param {any} parts.sel  The shared selection (lib/selection.js).
   * @param {WidgetModel} parts.model
   * @param {AbortSignal} parts.signal
   */
  constructor({ top, left, bands, facts, sel, model, signal }) {
    this.top = top; this.left = left; this.bands = bands; this.facts = facts; this.sel = sel;
    this.marks = new TokenMarks();
    this.rowMarks = new TokenMarks(); // cross-attention's target row labels
    this.key = "";
    this.thinned = false;
    // Hover highlights row and column everywhere; click pins; Alt+click hides a key.
    // Cross-attention's row labels are target tokens: they set the query fields.
    if (facts.cross) wireTokens(left, sel, signal, { query: true });
    for (const box of facts.cross ? [top] : [top, left]) {
      wireTokens(box, sel, signal, {
        /** @param {number} idx @param {MouseEvent} ev */
        onClick(idx, ev) {
          if (!ev.altKey) return false;
          const hide = new Set(model.get("hide"));
          hide.has(idx) ? hide.delete(idx) : hide.add(idx);
          setTrait(model, "hide", [...hide].sort((a, b) => a - b));
          return true;
        },
      });
    }
  }

  /** The tokens labelled whatever the thinning, now.
   * @param {MapState} st */
  focus(st) {
    const s = this.sel;
    return labelFocus({
      cursor: st.cursor, hovered: s.get("hovered_token"), pinned: s.get("pinned_token"),
      hoveredQuery: s.get("hovered_query"), pinnedQuery: s.get("pinned_query"),
      offset: this.facts.offset, cross: this.facts.cross,
    });
  }

  /** Labels of the visible tokens only.
   * @param {MapState} st @param {number[]} hide */
  draw(st, hide) {
    const { view, px } = st, { tokens, rowTokens, nQuery, nKey, offset, cross } = this.facts;
    const range = visibleRange(view, nQuery, nKey);
    const k = px / view.span;
    const focus = this.focus(st);
    this.key = focus.key;
    this.marks.clear();
    const top = [], left = [];
    const keys = labelIndices(range.c0, range.c1, k, MIN_LABEL_PX + 2);
    for (const j of labelsWithFocus(keys.indices, keys.step, focus.cols, { start: range.c0, end: range.c1 })) {
      const t = tokenElement(tokens, j, "span");
      t.style.cssText = `position:absolute;left:${((j + 0.5 - view.c0) * k - (FONT + 2) / 2).toFixed(1)}px;bottom:0;writing-mode:vertical-rl;transform:rotate(180deg);font-size:${FONT}px;max-height:${this.bands.topH}px;overflow:hidden;text-overflow:ellipsis;line-height:${FONT + 2}px`;
      if (hide.includes(j)) t.classList.add("aw-hidden-tok");
      top.push(t);
      this.marks.add(j, t);
    }
    const queries = labelIndices(range.r0, range.r1, k, MIN_LABEL_PX + 2);
    this.thinned = keys.step > 1 || queries.step > 1;
    this.rowMarks.clear();
    for (const i of labelsWithFocus(queries.indices, queries.step, focus.rows, { start: range.r0, end: range.r1 })) {
      // Row i is token i + offset (attention of the last tokens only): it carries that position.
      const t = cross ? queryElement(rowTokens, i, "span") : tokenElement(tokens, i + offset, "span");
      t.style.cssText = `position:absolute;right:2px;top:${((i + 0.5 - view.r0) * k - (FONT + 2) / 2).toFixed(1)}px;font-size:${FONT}px;line-height:${FONT + 2}px;max-width:${this.bands.labelW - 4}px;overflow:hidden;text-overflow:ellipsis;text-align:right`;
      left.push(t);
      if (cross) this.rowMarks.add(i, t);
      else this.marks.add(i + offset, t);
    }
    this.top.replaceChildren(...top);
    this.left.replaceChildren(...left);
    this.marks.hovered = null; this.marks.pinned = null;
    this.rowMarks.hovered = null; this.rowMarks.pinned = null;
    this.mark();
    if (st.shown) st.shown.labelStep = keys.step;
  }

  /** Move the hover and pin marks to the selection's tokens. */
  mark() {
    const s = this.sel;
    this.marks.hover(s.get("hovered_token")); this.marks.pin(s.get("pinned_token"));
    if (this.facts.cross) { this.rowMarks.hover(s.get("hovered_query")); this.rowMarks.pin(s.get("pinned_query")); }
  }

  /** After a hover or pin: redraw the labels when thinning hides a focus token, else move the marks.
   * @param {MapState} st @param {number[]} hide */
  follow(st, hide) {
    if (this.thinned && this.focus(st).key !== this.key) this.draw(st, hide);
    else this.mark();
  }
}
