// @ts-check
// The thumbnails painted. Made again on each data/scale/colour-map change: the thumbnails in colour
// and in grey (shown under a hovered row) as two atlases at data resolution, and each cell's
// colour-map level. A layer's row of the atlases is filled when a paint first needs it (the rows in
// the box's view, so the first paint fills a few of thirty) or by `buildRest` in idle time after the
// paint. A hover then copies the laid-out grid from an atlas and draws one row of bars per head.
import { lut } from "../../lib/colormap.js";
import { canvasOf, context2d } from "./canvas.js";
import { theme } from "../../ui/theme.js";
import { laidMarks } from "./badges.js";
import { GAP, buildOrder, rowsInView } from "./geometry.js";
import { shownView } from "./viewport.js";

/** @typedef {import("./state.js").GridContext} GridContext */
/** @typedef {import("./state.js").GridState} GridState */
/** @typedef {import("./state.js").Atlas} Atlas */

/**
 * New, empty atlases of `g.thumbs` under `g.scale` and the model's colour map, into `g.atlas`:
 * each layer's row is filled by `fillLayers` when first needed.
 * @param {GridContext} ctx
 * @param {GridState} g
 */
export function buildAtlas(ctx, g) {
  const { thumbs, blockVis, tq, tk, scale } = g;
  if (!thumbs || !blockVis) return;
  const table = lut(ctx.model.get("colormap"));
  const ink = theme(ctx.ui.root);
  const blank = ink.panelRGB;
  const L = ctx.facts.layerIds.length, H = ctx.facts.headIds.length, per = tq * tk, W = H * tk;
  const values = thumbs.values;
  const level = new Uint8Array(L * H * per);
  // Hover mode: the map in faint greys on the theme's background, the hovered row in colour on top.
  const greyOf = new Uint8Array(256);
  for (let lv = 0; lv < 256; lv++) greyOf[lv] = Math.round(ink.dark ? 40 + (50 * lv) / 255 : 250 - (60 * lv) / 255);
  const colourCanvas = canvasOf(W, L * tq), greyCanvas = canvasOf(W, L * tq);
  /** @param {number} li */
  const fill = (li) => {
    const colour = new ImageData(W, tq), grey = new ImageData(W, tq);
    const cd = colour.data, gd = grey.data;
    for (let hi = 0; hi < H; hi++) {
      const base = (li * H + hi) * per;
      for (let r = 0; r < tq; r++) for (let c = 0; c < tk; c++) {
        const k = base + r * tk + c;
        const v = values[k];
        const o = (r * W + hi * tk + c) * 4;
        if (blockVis[r * tk + c] && !Number.isNaN(v)) {
          const lv = Math.round(scale(v) * 255);
          level[k] = lv;
          cd[o] = table[lv * 3]; cd[o + 1] = table[lv * 3 + 1]; cd[o + 2] = table[lv * 3 + 2];
          gd[o] = gd[o + 1] = gd[o + 2] = greyOf[lv];
        } else {
          level[k] = 0;
          cd[o] = gd[o] = blank[0]; cd[o + 1] = gd[o + 1] = blank[1]; cd[o + 2] = gd[o + 2] = blank[2];
        }
        cd[o + 3] = 255; gd[o + 3] = 255;
      }
    }
    context2d(colourCanvas).putImageData(colour, 0, li * tq);
    context2d(greyCanvas).putImageData(grey, 0, li * tq);
  };
  g.atlas = {
    colour: colourCanvas, grey: greyCanvas, level, built: new Uint8Array(L), fill,
    laidRows: { colour: new Uint8Array(L), grey: new Uint8Array(L) }, laid: {},
  };
}

/**
 * Fill the atlas rows of layers `[from, to)` not filled yet.
 * @param {Atlas} atlas
 * @param {number} from
 * @param {number} to
 */
export function fillLayers(atlas, from, to) {
  for (let li = from; li < to; li++) if (!atlas.built[li]) { atlas.fill(li); atlas.built[li] = 1; }
}

/**
 * Fill the atlas rows no paint has needed yet, in idle time after the paint (a layer or so a
 * turn, nearest the box's view first), so a scroll finds them ready. Stops when the atlas is
 * replaced or the view goes.
 * @param {GridContext} ctx
 * @param {GridState} g
 * @param {AbortSignal} signal
 */
export function buildRest(ctx, g, signal) {
  const atlas = g.atlas;
  if (!atlas) return;
  const L = ctx.facts.layerIds.length;
  const [from, to] = rowsInView(shownView(g), L, g.rowH + GAP);
  const order = buildOrder(L, from, to, ctx.facts.layerIds.indexOf(ctx.sel.get("layer")));
  let next = 0;
  const idle = typeof requestIdleCallback === "function";
  // A few milliseconds a turn, whatever the idle deadline offers: other views of the page may
  // still be drawing, and a long turn would hold up their next step.
  /** @param {IdleDeadline} [deadline] */
  const step = (deadline) => {
    if (signal.aborted || g.atlas !== atlas) return;
    const until = performance.now() + 4;
    while (next < order.length) {
      const li = order[next++];
      if (atlas.built[li]) continue;
      fillLayers(atlas, li, li + 1);
      if (performance.now() > until || (deadline && deadline.timeRemaining() < 4)) break;
    }
    if (next < order.length) schedule();
  };
  const schedule = () => { if (idle) requestIdleCallback(step, { timeout: 2000 }); else setTimeout(step, 16); };
  // Begin after the first paint.
  requestAnimationFrame(() => schedule());
}

/**
 * Every thumbnail of layers `[from, to)` copied to its place once per atlas, at device
 * resolution: a hover then redraws the grid with one drawImage instead of one per head.
 * @param {GridContext} ctx
 * @param {GridState} g
 * @param {Atlas} atlas
 * @param {"colour" | "grey"} which
 * @param {number} from
 * @param {number} to
 * @returns {HTMLCanvasElement}
 */
function laidOut(ctx, g, atlas, which, from, to) {
  let c = atlas.laid[which];
  if (!c) {
    c = canvasOf(g.full.w, g.full.h);
    atlas.laid[which] = c;
  }
  const rows = atlas.laidRows[which];
  let todo = false;
  for (let li = from; li < to; li++) todo ||= !rows[li];
  if (todo) {
    const cx = context2d(c);
    cx.setTransform(ctx.dpr, 0, 0, ctx.dpr, 0, 0);
    cx.imageSmoothingEnabled = false;
    for (const { li, hi, x, y } of g.cells) {
      if (li >= from && li < to && !rows[li]) cx.drawImage(atlas[which], hi * g.tk, li * g.tq, g.tk, g.tq, x, y, g.thumb, g.thumb);
    }
    for (let li = from; li < to; li++) rows[li] = 1;
  }
  return c;
}

/**
 * A colour-map level as a CSS colour, remembered per render.
 * @param {Map<string, string>} cache
 * @param {string} cmap
 * @param {number} k
 */
function cssAt(cache, cmap, k) {
  const key = `${cmap}:${k}`;
  let css = cache.get(key);
  if (!css) { const t = lut(cmap); css = `rgb(${t[k * 3]},${t[k * 3 + 1]},${t[k * 3 + 2]})`; cache.set(key, css); }
  return css;
}

/**
 * Paint the grid for thumbnail row `row` hovered (null: none): the layers in view on the shared
 * canvas, which moves with the box's scroll (a hover clears and paints a few layers, not the whole
 * grid), or with `all` the whole grid on a canvas of its own (the PNG export), returned.
 * @param {GridContext} ctx
 * @param {GridState} g
 * @param {Map<string, string>} colours  The render's cache of colour-map levels.
 * @param {number | null} row
 * @param {{ all?: boolean }} [options]
 * @returns {HTMLCanvasElement}
 */
export function paintGrid(ctx, g, colours, row, { all = false } = {}) {
  const { dpr, canvas } = ctx;
  const atlas = /** @type {Atlas} */ (g.atlas);
  const cmap = ctx.model.get("colormap");
  const pitch = g.rowH + GAP;
  const [from, to] = all ? [0, ctx.facts.layerIds.length] : rowsInView(shownView(g), ctx.facts.layerIds.length, pitch);
  // A row is filled before it is first drawn, whether or not its idle-time turn has come.
  fillLayers(atlas, from, to);
  const top = from * pitch;
  const full = g.full;
  const y0 = Math.min(full.h, Math.round(top * dpr)), hPx = Math.max(1, Math.min(full.h, Math.round(to * pitch * dpr)) - y0);
  let target = canvas;
  if (all) target = canvasOf(full.w, full.h);
  else {
    if (!g.painted || g.painted.from !== from || g.painted.to !== to) {
      canvas.height = hPx;
      canvas.style.top = `${top}px`;
      canvas.style.height = `${hPx / dpr}px`;
    }
    g.painted = { from, to };
  }
  const cx = context2d(target);
  cx.imageSmoothingEnabled = false;
  cx.setTransform(1, 0, 0, 1, 0, 0);
  cx.clearRect(0, 0, target.width, target.height);
  cx.drawImage(laidOut(ctx, g, atlas, row === null ? "colour" : "grey", from, to), 0, y0, full.w, hPx, 0, 0, full.w, hPx);
  cx.setTransform(dpr, 0, 0, dpr, 0, -y0);
  if (row !== null) {
    const per = g.tq * g.tk, bw = g.thumb / g.tk, nHeads = ctx.facts.headIds.length;
    // The hovered token's attention row as bars across the keys, coloured and sized by weight:
    // one path per colour level, so a hover sets a fill colour at most 256 times, not once a bar.
    /** @type {Map<number, Path2D>} */
    const bars = new Map();
    const ticks = new Path2D();
    for (const { li, hi, x, y } of g.cells) {
      if (li < from || li >= to) continue;
      const base = (li * nHeads + hi) * per + row * g.tk;
      for (let c = 0; c < g.tk; c++) {
        const lv = atlas.level[base + c];
        if (lv === 0) continue;
        let path = bars.get(lv);
        if (!path) bars.set(lv, (path = new Path2D()));
        const bh = Math.max(1, (lv / 255) * g.thumb);
        path.rect(x + c * bw, y + g.thumb - bh, Math.max(bw, 1), bh);
      }
      // A tick on the left edge marks where the hovered row sits in the map.
      ticks.rect(x, y + (row / g.tq) * g.thumb, 4, Math.max(1.5, g.thumb / g.tq));
    }
    for (const [lv, path] of bars) { cx.fillStyle = cssAt(colours, cmap, lv); cx.fill(path); }
    cx.fillStyle = "#fb8500";
    cx.fill(ticks);
  }
  cx.setTransform(1, 0, 0, 1, 0, 0);
  cx.drawImage(laidMarks(ctx, g, atlas), 0, y0, full.w, hPx, 0, 0, full.w, hPx);
  return target;
}
