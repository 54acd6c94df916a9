// @ts-check
// Painting the map: the colour of every cell into canvases, the overview (the whole map, or the
// kernel's max-pooled one for long inputs) scaled to the current view, full-resolution tiles on top.
import { lut } from "../../lib/colormap.js";
import { maxPool, poolFactor } from "../../lib/downsample.js";
import { displayMap, visibleMax } from "../../lib/maps.js";
import { sinkOfMap } from "../../lib/sink.js";
import { rowSpan, visibleRange, tilesFor, needsFullResolution } from "../../lib/viewport.js";
import { TILE } from "../../lib/tiles.js";
import { viewScale } from "../../ui/controls.js";
import { h } from "../../ui/dom.js";
import { theme } from "../../ui/theme.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {import("../../lib/tiles.js").Tile} Tile */
/** @typedef {import("./kernel.js").KernelLink} KernelLink */
/** @typedef {{ c0: number, r0: number, span: number }} View */
/** @typedef {(v: number) => number} Scale  A colour scale (ui/controls.js `viewScale`): value -> 0..1. */

/**
 * What is drawn: `values` holds the whole map (decoded in the browser), or `pooled` holds the
 * kernel's max-pooled overview and full resolution comes in tiles.
 * @typedef {object} Shown
 * @property {string} key
 * @property {Float32Array} [values]
 * @property {Float32Array} [pooled]
 * @property {number} factor  Cells per overview pixel, each way.
 * @property {HTMLCanvasElement} overview
 * @property {HTMLCanvasElement | null} fullCanvas
 * @property {Uint8Array} table  The colour map's lookup table.
 * @property {number[]} hide
 * @property {number[]} blank  The panel colour as [r, g, b].
 * @property {number} [labelStep]
 */

/**
 * The mutable state of one heatmap, shared by its parts.
 * @typedef {object} MapState
 * @property {View} view
 * @property {number} px  The map's width in CSS pixels.
 * @property {number} rowPx  Its height.
 * @property {number} minSpan
 * @property {Shown | null} shown
 * @property {any} scale  The colour scale (ui/controls.js `viewScale`).
 * @property {{ i: number, j: number } | null} cursor  The cell under the pointer.
 * @property {{ clientX: number, clientY: number } | null} lastPointer
 */

/**
 * Colour a rows x cols block into a canvas; NaN cells, `masked` cells and `hiddenCol` columns take
 * `blank` (the theme's panel colour, as [r, g, b]).
 * @param {HTMLCanvasElement} target
 * @param {ArrayLike<number>} values
 * @param {number} rows
 * @param {number} cols
 * @param {Scale} scale
 * @param {ArrayLike<number>} table
 * @param {((i: number, j: number) => boolean) | null} [masked]
 * @param {Uint8Array | null} [hiddenCol]
 * @param {number[]} [blank]
 */
export function paintCanvas(target, values, rows, cols, scale, table, masked = null, hiddenCol = null, blank = [243, 245, 247]) {
  target.width = cols; target.height = rows;
  const ctx = /** @type {CanvasRenderingContext2D} */ (target.getContext("2d"));
  const img = ctx.createImageData(cols, rows);
  const d = img.data;
  for (let k = 0; k < values.length; k++) {
    const v = values[k], o = k * 4;
    if (Number.isNaN(v) || (hiddenCol && hiddenCol[k % cols]) || (masked && masked(Math.floor(k / cols), k % cols))) {
      d[o] = blank[0]; d[o + 1] = blank[1]; d[o + 2] = blank[2];
    } else {
      const c = Math.round(scale(v) * 255) * 3;
      d[o] = table[c]; d[o + 1] = table[c + 1]; d[o + 2] = table[c + 2];
    }
    d[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return target;
}

/** The largest value, or 1 when none is positive.
 * @param {ArrayLike<number>} values */
export function finiteMax(values) {
  let m = 0;
  for (let k = 0; k < values.length; k++) if (values[k] > m) m = values[k];
  return m > 0 ? m : 1;
}

const newCanvas = () => /** @type {HTMLCanvasElement} */ (h("canvas"));

/**
 * Colour map `key` for the current traits: what is drawn, its scale, the legend's notes and the
 * attention sink line's arguments (null: no sink line for this map).
 * @param {object} at
 * @param {WidgetModel} at.model
 * @param {string} at.key
 * @param {Float32Array} at.raw  The map's values as the data model holds them.
 * @param {any} at.payload  The data model's map facts (`factor`, `hide`, `row_normalize` of the overview).
 * @param {{ nQuery: number, nKey: number }} at.facts
 * @param {(i: number, j: number) => boolean} at.visible
 * @param {number} at.px
 * @param {number[]} at.blank
 * @returns {{ shown: Shown, scale: any, notes: string[], sink: { values: any, what: string } | null }}
 */
export function colourMap({ model, key, raw, payload, facts: { nQuery, nKey }, visible, px, blank }) {
  const hide = model.get("hide"), rowNormalize = model.get("row_normalize");
  const factor = payload.factor ?? 1;
  const table = lut(model.get("colormap"));
  /** @type {string[]} */
  const notes = [];
  if (factor === 1) {
    const values = displayMap(raw, nQuery, nKey, { hide, rowNormalize, visible });
    const scale = viewScale(model, rowNormalize ? 1 : visibleMax(values, nQuery, nKey, visible), values, 6, { relative: rowNormalize });
    const sink = { values: rowNormalize ? null : sinkOfMap(values, nQuery, nKey, { visible, hide }), what: "this map's attention (mean over query rows)" };
    const f = poolFactor(nKey, px);
    const pooled = maxPool(values, nQuery, nKey, f, (i, j) => !visible(i, j));
    const hiddenCol = new Uint8Array(pooled.cols);
    if (f === 1) for (const x of hide) hiddenCol[x] = 1;
    const overview = paintCanvas(newCanvas(), pooled.values, pooled.rows, pooled.cols, scale, table, null, hiddenCol, blank);
    if (f > 1) notes.push(`${f}×${f} blocks max-pooled to fit; zoom in for every cell`);
    return { shown: { key, values, factor: f, overview, fullCanvas: f === 1 ? overview : null, table, hide, blank }, scale, notes, sink };
  }
  const rows = Math.ceil(nQuery / factor), cols = Math.ceil(nKey / factor);
  const scale = viewScale(model, rowNormalize ? 1 : finiteMax(raw), raw, 6, { relative: rowNormalize });
  const overview = paintCanvas(newCanvas(), raw, rows, cols, scale, table, null, null, blank);
  notes.push(`${nKey} tokens: a ${factor}×${factor} max-pooled overview; zoom in and full-resolution tiles ` +
    "come from the kernel");
  const want = [hide.join(","), rowNormalize].join("|");
  const have = [(payload.hide ?? []).join(","), !!payload.row_normalize].join("|");
  if (want !== have) notes.push("the overview was made with other hiding or row options; redrawing it needs the kernel");
  return { shown: { key, pooled: raw, factor, overview, fullCanvas: null, table, hide, blank }, scale, notes, sink: null };
}

/** The map's canvas: draws the current view of what `MapState.shown` holds. */
export class MapCanvas {
  /**
   * @param {object} parts
   * @param {HTMLCanvasElement} parts.canvas
   * @param {number} parts.dpr
   * @param {{ root: HTMLElement, status: HTMLElement }} parts.ui
   * @param {{ nQuery: number, nKey: number }} parts.facts
   * @param {(i: number, j: number) => boolean} parts.visible
   * @param {KernelLink} parts.kernel
   */
  constructor({ canvas, dpr, ui, facts, visible, kernel }) {
    this.canvas = canvas; this.dpr = dpr; this.ui = ui; this.visible = visible; this.kernel = kernel;
    this.nQuery = facts.nQuery; this.nKey = facts.nKey;
    /** @type {WeakMap<Tile, HTMLCanvasElement>} tiles coloured with the current scale */
    this.tileCanvases = new WeakMap();
  }

  /** Forget the tiles' colours (the scale or colours changed). */
  recolour() { this.tileCanvases = new WeakMap(); }

  /** @param {Tile} t @param {MapState} st @param {Shown} shown */
  tileCanvas(t, st, shown) {
    let c = this.tileCanvases.get(t);
    if (!c) {
      const { r0, c0 } = t;
      c = paintCanvas(newCanvas(), t.values, t.rows, t.cols, st.scale, shown.table, (i, j) => !this.visible(r0 + i, c0 + j), null, shown.blank);
      this.tileCanvases.set(t, c);
    }
    return c;
  }

  /** Draw the current view: the overview scaled up, full-resolution cells on top where held.
   * @param {MapState} st */
  paint(st) {
    const { view, px, rowPx, shown } = st, { nQuery, nKey, ui } = this;
    ui.root.dataset.view = `${view.c0.toFixed(2)},${view.r0.toFixed(2)},${view.span.toFixed(2)}`;
    const ctx = /** @type {CanvasRenderingContext2D} */ (this.canvas.getContext("2d"));
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = theme(ui.root).panel;
    ctx.fillRect(0, 0, px, rowPx);
    let resolution = "none";
    if (shown) {
      const rs = rowSpan(view, nQuery, nKey);
      const k = px / view.span; // CSS px per cell
      const f = shown.factor;
      ctx.drawImage(shown.overview, view.c0 / f, view.r0 / f, view.span / f, rs / f, 0, 0, px, rowPx);
      resolution = f === 1 ? "full" : "overview";
      if (needsFullResolution(view, px, f)) {
        if (shown.values && !shown.fullCanvas) {
          const hiddenCol = new Uint8Array(nKey);
          for (const x of shown.hide) hiddenCol[x] = 1;
          shown.fullCanvas = paintCanvas(newCanvas(), shown.values, nQuery, nKey, st.scale, shown.table, null, hiddenCol, shown.blank);
        }
        if (shown.fullCanvas) {
          ctx.drawImage(shown.fullCanvas, view.c0, view.r0, view.span, rs, 0, 0, px, rowPx);
          resolution = "full";
        } else {
          let all = true;
          for (const t of tilesFor(visibleRange(view, nQuery, nKey), TILE)) {
            const got = this.kernel.tile(shown.key, t.r0, t.c0);
            if (!got) { all = false; this.kernel.requestTile(shown.key, t.r0, t.c0); continue; }
            ctx.drawImage(this.tileCanvas(got, st, shown), (got.c0 - view.c0) * k, (got.r0 - view.r0) * k, got.cols * k, got.rows * k);
          }
          resolution = all ? "full" : "partial";
          if (!all && this.kernel.noKernel) {
            ui.status.textContent = `Zoomed past what this page holds: it keeps the ${f}×${f} max-pooled overview saved ` +
              "with it, so each block shows the largest weight of its cells. Full resolution needs a running kernel.";
          } else if (ui.status.textContent?.startsWith("Zoomed past")) ui.status.textContent = "";
        }
      } else if (ui.status.textContent?.startsWith("Zoomed past")) ui.status.textContent = "";
    }
    ui.root.dataset.resolution = resolution;
  }
}
