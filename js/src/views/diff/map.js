// @ts-check
// The difference map: a canvas over aligned positions (k px a cell), labels above and beside it
// when cells are wide enough to read, a strip of the aligned tokens, and the bands that mark the
// pinned and hovered tokens and the cell under the pointer.
import { h, exactToken, displayToken } from "../../ui/dom.js";
import { pairLabel } from "../../lib/align.js";

const LABEL_W = 90, TOP_H = 70, MIN_LABEL_PX = 10;

/** @typedef {import("../../ui/dom.js").TokenMarks} TokenMarks */
/**
 * The aligned axes (lib/align.js `alignedAxes`).
 * @typedef {{ colsA: number[], colsB: number[], rows: number[], rowToken: (r: number) => number,
 *   colOf: Map<number, number>, rowOf: Map<number, number> }} Axes
 */

/**
 * @typedef {object} DiffMap
 * @property {HTMLElement} mapBox  The canvas with its labels.
 * @property {HTMLElement} strip  The aligned tokens in a line.
 * @property {HTMLCanvasElement} canvas
 * @property {(pixels: Uint8ClampedArray) => void} setPixels  The nRow x nCol picture to draw scaled up.
 * @property {(marks: { pinned: number | null | undefined, hovered: number | null | undefined,
 *   cursor: { i: number, j: number } | null }) => void} paint  Draw the picture and the bands.
 * @property {(ev: MouseEvent) => { i: number, j: number } | null} cellAt  The cell under the pointer.
 */

/**
 * @param {Axes} ax
 * @param {{ tokens: readonly string[], bTokens: readonly string[], nameA: string, nameB: string }} names
 * @param {TokenMarks} marks  Takes every label for the hover and pin marks.
 * @returns {DiffMap}
 */
export function diffMap(ax, { tokens, bTokens, nameA, nameB }, marks) {
  const { colsA, colsB } = ax;
  const nCol = colsA.length, nRow = ax.rows.length;
  const k = Math.max(3, Math.min(22, Math.floor(560 / Math.max(nCol, 1))));
  const W = k * nCol, Hh = k * nRow;
  const labels = k >= MIN_LABEL_PX;
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const canvas = /** @type {HTMLCanvasElement} */ (h("canvas", { style: `position:absolute;left:${labels ? LABEL_W : 0}px;top:${labels ? TOP_H : 0}px;width:${W}px;height:${Hh}px;cursor:crosshair` }));
  canvas.width = Math.ceil(W * dpr); canvas.height = Math.ceil(Hh * dpr);
  const topLabels = h("div", { style: `position:absolute;left:${LABEL_W}px;top:0;width:${W}px;height:${TOP_H}px` });
  const leftLabels = h("div", { style: `position:absolute;left:0;top:${TOP_H}px;width:${LABEL_W}px;height:${Hh}px` });
  const mapBox = h("div", { class: "aw-diff-map", style: `position:relative;width:${W + (labels ? LABEL_W : 0)}px;height:${Hh + (labels ? TOP_H : 0)}px` });
  if (labels) mapBox.append(topLabels, leftLabels);
  mapBox.append(canvas);
  // An aligned position's label: its token, or both tokens where a and b differ (text, never HTML).
  /** @param {number} c */
  const labelOf = (c) => {
    const ta = tokens[colsA[c]], tb = bTokens[colsB[c]];
    return h("span", {
      class: ta === tb ? "aw-tok" : "aw-tok aw-tok-changed", "data-token-index": String(colsA[c]), "data-b-index": String(colsB[c]),
      text: pairLabel(ta, tb, displayToken),
      title: ta === tb && colsA[c] === colsB[c] ? `${colsA[c]}: ${exactToken(ta)}` : `${nameA} ${colsA[c]}: ${exactToken(ta)} · ${nameB} ${colsB[c]}: ${exactToken(tb)}`,
    });
  };
  const strip = h("div", { class: "aw-strip" });
  for (let c = 0; c < nCol; c++) { const t = labelOf(c); strip.append(t); marks.add(colsA[c], t); }
  if (labels) {
    const font = Math.min(11, k - 1);
    for (let j = 0; j < nCol; j++) {
      const t = labelOf(j);
      t.style.cssText = `position:absolute;left:${(j * k + (k - font - 2) / 2).toFixed(1)}px;bottom:0;writing-mode:vertical-rl;transform:rotate(180deg);font-size:${font}px;line-height:${font + 2}px;max-height:${TOP_H}px;overflow:hidden`;
      topLabels.append(t); marks.add(colsA[j], t);
    }
    for (let i = 0; i < nRow; i++) {
      const t = labelOf(ax.rows[i]);
      t.style.cssText = `position:absolute;right:2px;top:${(i * k + (k - font - 2) / 2).toFixed(1)}px;font-size:${font}px;line-height:${font + 2}px;max-width:${LABEL_W - 4}px;overflow:hidden;text-overflow:ellipsis`;
      leftLabels.append(t); marks.add(ax.rowToken(i), t);
    }
  }

  const base = /** @type {HTMLCanvasElement} */ (h("canvas"));
  /** @type {DiffMap["setPixels"]} */
  function setPixels(pixels) {
    base.width = nCol; base.height = nRow;
    const ctx = /** @type {CanvasRenderingContext2D} */ (base.getContext("2d"));
    const img = ctx.createImageData(nCol, nRow);
    img.data.set(pixels);
    ctx.putImageData(img, 0, 0);
  }

  /** @type {DiffMap["paint"]} */
  function paint({ pinned, hovered, cursor }) {
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(base, 0, 0, W, Hh);
    // A token (a's position) marks its column and its row, where it has them.
    /** @param {number | null | undefined} index @param {string} color */
    const band = (index, color) => {
      if (index === null || index === undefined) return;
      const c = ax.colOf.get(index), r = ax.rowOf.get(index);
      ctx.strokeStyle = color; ctx.lineWidth = 1.5;
      if (c !== undefined) ctx.strokeRect(c * k, 0, k, Hh);
      if (r !== undefined) ctx.strokeRect(0, r * k, W, k);
    };
    band(pinned, "rgba(9,105,218,0.9)");
    if (cursor) {
      // The pointer reads one cell: its query row and the key column under it, not the column of
      // the hovered (query) token.
      ctx.strokeStyle = "rgba(255,140,0,0.95)"; ctx.lineWidth = 1.5;
      ctx.strokeRect(cursor.j * k, 0, k, Hh);
      ctx.strokeRect(0, cursor.i * k, W, k);
      canvas.dataset.crossQuery = String(ax.rowToken(cursor.i));
      canvas.dataset.crossKey = String(colsA[cursor.j]);
    } else {
      band(hovered, "rgba(255,140,0,0.95)");
      delete canvas.dataset.crossQuery; delete canvas.dataset.crossKey;
    }
  }

  /** @type {DiffMap["cellAt"]} */
  function cellAt(ev) {
    const r = canvas.getBoundingClientRect();
    const j = Math.floor(((ev.clientX - r.left) / r.width) * nCol), i = Math.floor(((ev.clientY - r.top) / r.height) * nRow);
    return i >= 0 && i < nRow && j >= 0 && j < nCol ? { i, j } : null;
  }
  return { mapBox, strip, canvas, setPixels, paint, cellAt };
}
