// @ts-check
// What the head grid's parts share: one state object per render (never a module global, as each
// widget's ESM may be its own module instance), read and written by the parts beside this file.

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {import("../../lib/types.js").DecodedMaps} DecodedMaps */
/** @typedef {import("../../lib/selection.js").SelectionHandle} SelectionHandle */
/** @typedef {ReturnType<typeof import("../../lib/facts.js").attentionFacts>} Facts */

/**
 * The view's root and its header, body and legend boxes (ui/dom.js `makeRoot`).
 * @typedef {{ root: HTMLElement, title: HTMLElement, controls: HTMLElement, body: HTMLElement,
 *   legend: HTMLElement, status: HTMLElement, tip: HTMLElement }} Ui
 */

/**
 * One thumbnail's place: its transparent cell (clicks, tooltip), layer and head index, position
 * in CSS pixels and its role badges' words.
 * @typedef {{ cell: HTMLElement, li: number, hi: number, x: number, y: number, words: string[] }} Cell
 */

/**
 * The thumbnails in colour and in grey at data resolution, each cell's colour-map level, and the
 * grids laid out from them at device resolution, each filled a layer at a time on first need.
 * @typedef {object} Atlas
 * @property {HTMLCanvasElement} colour
 * @property {HTMLCanvasElement} grey
 * @property {Uint8Array} level
 * @property {Uint8Array} built  1 for each layer whose rows of `colour`, `grey` and `level` are filled.
 * @property {(li: number) => void} fill  Fill layer `li`'s rows.
 * @property {{ colour: Uint8Array, grey: Uint8Array }} laidRows  1 for each layer laid out in `laid`.
 * @property {{ colour?: HTMLCanvasElement, grey?: HTMLCanvasElement, marks?: HTMLCanvasElement }} laid
 */

/**
 * What does not change while the view lives.
 * @typedef {object} GridContext
 * @property {WidgetModel} model
 * @property {SelectionHandle} sel
 * @property {Facts} facts
 * @property {Ui} ui
 * @property {boolean} embedded
 * @property {(i: number, j: number) => boolean} maskVis  Whether query row i sees key j.
 * @property {string[][]} labels  Role labels per layer and head (display text), or none.
 * @property {HTMLElement} gridBox  The scrolling box that holds the grid.
 * @property {HTMLCanvasElement} canvas  The one canvas every thumbnail is drawn on.
 * @property {number} dpr  Device pixels per CSS pixel.
 */

/**
 * What the parts draw from and update.
 * @typedef {object} GridState
 * @property {number} thumb  A thumbnail's side in CSS pixels.
 * @property {number} rowH  A row's height: the thumbnail and its tint bar.
 * @property {Cell[]} cells
 * @property {{ w: number, h: number, height: number }} full  The whole grid, in device and CSS pixels.
 * @property {number} tq  Thumbnail rows.
 * @property {number} tk  Thumbnail columns.
 * @property {DecodedMaps & { vmax?: number, fromMaps?: unknown } | null} thumbs
 * @property {number[]} thumbsHide  The hiding the drawn thumbnails were made with.
 * @property {string[]} missing  Keys of held heads whose map was not there (drawn blank).
 * @property {Float32Array | null} tint  One value per layer and head, or none.
 * @property {boolean} tintSigned  The tint is signed (head effects): drawn diverging about 0.
 * @property {Uint8Array | null} blockVis  1 where a thumbnail cell covers a visible cell.
 * @property {HTMLElement[]} headLabels
 * @property {HTMLElement[]} layerLabels
 * @property {Atlas | null} atlas
 * @property {any} scale  The weight scale (ui/controls.js `viewScale`).
 * @property {{ top: number, height: number } | null} view  The box's scroll and height; null: not read yet.
 * @property {number} boxH  The box's most height in CSS pixels (its view before one is read).
 * @property {{ from: number, to: number } | null} painted  The layers the canvas covers.
 * @property {string | null} lastSel  The selection last scrolled into view.
 * @property {WeakMap<HTMLElement, boolean>} marked  Whether a cell or label is drawn selected.
 * @property {string | null} effectKey  What the signed tint's bar was drawn for.
 */

/**
 * @param {number} thumb
 * @returns {GridState}
 */
export function gridState(thumb) {
  return {
    thumb, rowH: thumb, cells: [], full: { w: 1, h: 1, height: 1 }, tq: 0, tk: 0,
    thumbs: null, thumbsHide: [], missing: [], tint: null, tintSigned: false, blockVis: null,
    headLabels: [], layerLabels: [], atlas: null, scale: null, view: null, boxH: 520, painted: null,
    lastSel: null, marked: new WeakMap(), effectKey: null,
  };
}
