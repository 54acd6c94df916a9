// @ts-check
// The grid scrolls in a box a few rows tall, and its canvas covers only the layers in view and a
// viewport's margin each side. The box's scroll and size are read in their own events, never on a
// hover (a read there forces a layout); the canvas is painted again when they bring rows it does
// not cover into view (rows whose thumbnails are not made yet are made then).
import { GAP, rowsInView } from "./geometry.js";

/** @typedef {import("./state.js").GridContext} GridContext */
/** @typedef {import("./state.js").GridState} GridState */

/**
 * The box's scroll and height as last read, or before the first read (the box not laid out yet,
 * or hidden) the top of a box of its most height: the first paint covers the rows a box shows
 * unscrolled, not every layer.
 * @param {GridState} g
 * @returns {{ top: number, height: number }}
 */
export function shownView(g) {
  return g.view ?? { top: 0, height: g.boxH };
}

/**
 * Keep `g.view` up to date with the box and call `repaint` when the painted rows no longer cover it.
 * @param {GridContext} ctx
 * @param {GridState} g
 * @param {() => void} repaint
 * @param {AbortSignal} signal
 */
export function followScroll(ctx, g, repaint, signal) {
  const { gridBox } = ctx;
  const refresh = () => {
    if (!g.painted || !g.atlas) return;
    const [from, to] = rowsInView(shownView(g), ctx.facts.layerIds.length, g.rowH + GAP);
    if (!(g.painted.from <= from && to <= g.painted.to)) repaint();
  };
  gridBox.addEventListener("scroll", () => {
    g.view = { top: gridBox.scrollTop, height: g.view?.height ?? (gridBox.clientHeight || g.boxH) };
    refresh();
  }, { signal, passive: true });
  if (typeof ResizeObserver !== "undefined") {
    const ro = new ResizeObserver(() => {
      g.view = gridBox.clientHeight > 0 ? { top: gridBox.scrollTop, height: gridBox.clientHeight } : g.view && { ...g.view, height: g.boxH };
      refresh();
    });
    ro.observe(gridBox);
    signal.addEventListener("abort", () => ro.disconnect());
  }
}
