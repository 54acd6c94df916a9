// @ts-check
// The grid laid out: the head numbers over it (kv groups marked), a layer label per row, and one
// transparent cell per thumbnail over the shared canvas, carrying data-layer/data-head, clicks and
// the tooltip. The canvas draws the thumbnails (hundreds of canvases would make the browser's
// compositing the cost of a hover).
import { fmt } from "../../lib/colormap.js";
import { signed } from "../../lib/effects.js";
import { h, displayName } from "../../ui/dom.js";
import { EMBEDDED_LAYERS, GAP, LAYER_W, headOrder, headXs } from "./geometry.js";

/** @typedef {import("./state.js").GridContext} GridContext */
/** @typedef {import("./state.js").GridState} GridState */

/**
 * Lay the grid out again in `ctx.gridBox` for `g.thumb` and the tint read into `g`; fills
 * `g.cells`, `g.headLabels`, `g.layerLabels`, `g.rowH` and `g.full`, and sizes the canvas.
 * @param {GridContext} ctx
 * @param {GridState} g
 */
export function layOut(ctx, g) {
  const { model, facts, labels, gridBox, canvas, dpr } = ctx;
  const heads = facts.headIds, layers = facts.layerIds, kvOf = facts.kvOfHead;
  const thumb = g.thumb, tint = g.tint;
  const byTint = model.get("order") === "tint";
  const tintText = (/** @type {number} */ v) => (g.tintSigned ? signed(v) : fmt(v));
  // Grouped-query attention: heads sharing a kv head are drawn together.
  const grouped = new Set(kvOf).size < heads.length && !byTint;
  g.rowH = thumb + (tint ? 4 : 0);
  // In a dashboard the box shows six whole layers and a part of the next (their header included) without scrolling.
  if (ctx.embedded) gridBox.style.maxHeight = `${Math.round(20 + EMBEDDED_LAYERS * (g.rowH + GAP))}px`;
  g.boxH = parseFloat(gridBox.style.maxHeight) || g.boxH;
  const modelX = headXs(heads.map((_, k) => k), kvOf, grouped, thumb);
  const width = modelX[modelX.length - 1] + thumb + 2, height = layers.length * (g.rowH + GAP);
  gridBox.replaceChildren();
  g.cells = [];
  // Header: kv-head groups and head numbers (hidden when heads are reordered per layer).
  const head = h("div", { style: `position:sticky;top:0;background:var(--aw-bg);z-index:1;height:16px;width:${width}px` });
  g.headLabels = [];
  heads.forEach((hd, k) => {
    const lab = h("div", { class: "aw-head-label", "data-head": String(hd), style: `position:absolute;left:${modelX[k]}px;width:${thumb}px;text-align:center;color:var(--aw-muted);font-size:10px;white-space:nowrap;overflow:hidden;border-top:${grouped ? "2px solid " + ["var(--aw-muted)", "var(--aw-border)"][kvOf[k] % 2] : "none"}`, text: grouped ? (thumb >= 40 ? `h${hd} kv${kvOf[k]}` : `h${hd}`) : byTint ? "" : `h${hd}` });
    head.append(lab);
    g.headLabels.push(lab);
  });
  g.layerLabels = [];
  const box = h("div", { style: `position:relative;width:${width}px;height:${height}px;margin-top:2px` });
  g.full = { w: Math.round(width * dpr), h: Math.round(height * dpr), height };
  canvas.width = g.full.w; canvas.height = g.full.h;
  canvas.style.width = `${width}px`; canvas.style.height = `${height}px`; canvas.style.top = "0px";
  g.painted = null;
  box.append(canvas);
  const tintName = displayName(model.get("tint_label")) || "tint";
  layers.forEach((layer, li) => {
    const y = li * (g.rowH + GAP);
    const lab = h("div", { class: "aw-layer-label", "data-row-layer": String(layer), style: `position:absolute;left:0;top:${y + thumb / 2 - 7}px;width:${LAYER_W - 6}px;text-align:right;color:var(--aw-muted);font-size:11px;pointer-events:none`, text: `L${layer}` });
    box.append(lab);
    g.layerLabels.push(lab);
    const order = headOrder(heads.length, li, byTint ? tint : null);
    headXs(order, kvOf, grouped, thumb).forEach((x, pos) => {
      const hi = order[pos];
      // The cell is an empty box over the canvas, which draws its outline, role badges and
      // tint bar (drawn boxes would make every repaint walk a few hundred layers).
      const cell = h("div", {
        class: "aw-thumb", "data-layer": String(layer), "data-head": String(heads[hi]),
        style: `position:absolute;left:${x}px;top:${y}px;width:${thumb}px;height:${g.rowH}px;cursor:pointer`,
        title: `layer ${layer}, head ${heads[hi]} (kv head ${kvOf[hi]})` + (tint ? `\n${tintName}: ${tintText(tint[li * heads.length + hi])}` : "") + (labels.length ? `\n${labels[li][hi]}` : ""),
      });
      if (tint) cell.dataset.tint = String(tint[li * heads.length + hi]);
      const words = labels.length && labels[li][hi] ? labels[li][hi].split(/\s+/).filter(Boolean) : [];
      box.append(cell);
      g.cells.push({ cell, li, hi, x, y, words });
    });
  });
  gridBox.append(head, box);
  g.lastSel = null; // a new layout moves every row: scroll the selected one into view again
}
