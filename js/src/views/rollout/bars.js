// @ts-check
// The live bars: bars and labels are drawn on one canvas; over it, one light column per token
// carries the token's index, its tooltip and the hover and pin marks (a DOM bar and a rotated label
// per token made every hover restyle and re-layer a thousand elements on long inputs).
import { h, tokenElement, displayToken, exactToken } from "../../ui/dom.js";
import { theme } from "../../ui/theme.js";
import { fitGeometry } from "./geometry.js";

/** @typedef {import("./geometry.js").BarGeometry} BarGeometry */
/** @typedef {import("../../ui/dom.js").TokenMarks} TokenMarks */

/**
 * @typedef {object} Bars
 * @property {HTMLElement} row  The scrolling row: canvas, columns and the cut bar's value.
 * @property {HTMLElement[]} cols  One column per token.
 * @property {HTMLElement} cutLabel  The value of a cut bar, printed above it (text, so a reader and a test can read it).
 * @property {(heights: Float32Array | null, colours: string[] | null, cut?: number) => void} paint
 *   Paint bars (heights and colours per token) and labels; `cut` is the position of a bar cut at
 *   the top (a break mark across it), or -1. `null` heights: labels only.
 * @property {(width: number) => boolean} fit  Take the columns for a new width (false: unchanged).
 * @property {(q: number) => void} outline  Outline the query token's column only.
 * @property {(q: number, values: Float32Array) => void} label  Outline the query token's column and
 *   give each column its token and rollout as a tooltip.
 */

/**
 * @param {readonly string[]} tokens
 * @param {BarGeometry} geom  Shared with the export; `fit` changes it.
 * @param {HTMLElement} root  The view's root, whose colours the bars take.
 * @param {TokenMarks} marks  Takes each column for the hover and pin marks.
 * @returns {Bars}
 */
export function createBars(tokens, geom, root, marks) {
  const n = geom.n;
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const { base, colH, labelH } = geom;
  const row = h("div", { class: "aw-bars", style: "overflow-x:auto;padding-bottom:2px" });
  const inner = h("div", { style: `position:relative;width:${geom.rowW}px;height:${colH}px` });
  const canvas = /** @type {HTMLCanvasElement} */ (h("canvas", { class: "aw-bars-canvas", "data-baseline": String(base), "data-bar-height": String(geom.barH), width: Math.max(1, Math.round(geom.rowW * dpr)), height: Math.round(colH * dpr), style: `position:absolute;left:0;top:0;width:${geom.rowW}px;height:${colH}px;pointer-events:none` }));
  const colBox = h("div", { style: `position:absolute;left:0;top:0;display:flex;width:${geom.rowW}px;height:${colH}px` });
  /** @type {HTMLElement[]} */
  const cols = [];
  for (let i = 0; i < n; i++) {
    const col = tokenElement(tokens, i, "div", "aw-col");
    col.textContent = "";
    col.style.cssText = `flex:0 0 ${geom.colW}px;height:${colH}px;cursor:pointer`;
    colBox.append(col);
    cols.push(col);
    marks.add(i, col);
  }
  const cutLabel = h("span", { class: "aw-bar-value", hidden: true,
    style: `position:absolute;top:0;height:${labelH}px;line-height:${labelH}px;font-size:10px;white-space:nowrap;transform:translateX(-50%);pointer-events:none;color:var(--aw-fg)` });
  inner.append(canvas, colBox, cutLabel);
  row.append(inner);

  /** @type {Bars["paint"]} */
  function paint(heights, colours, cut = -1) {
    const { colW, every } = geom;
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    const ink = theme(root);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const bw = Math.max(2, colW - 2), x0 = (colW - bw) / 2;
    if (heights && colours) for (let j = 0; j < n; j++) {
      if (!(heights[j] > 0)) continue;
      ctx.fillStyle = colours[j];
      ctx.fillRect(j * colW + x0, base - heights[j], bw, heights[j]);
    }
    // On a dark background the low colours of the map nearly vanish: a light top edge marks each
    // bar's height (inside the bar, so the height is unchanged).
    if (heights && ink.dark) {
      ctx.fillStyle = ink.muted;
      for (let j = 0; j < n; j++) if (heights[j] > 0) ctx.fillRect(j * colW + x0, base - heights[j], bw, 1);
    }
    if (heights && cut >= 0) breakMark(ctx, cut * colW + x0, bw, labelH + 6);
    cutLabel.hidden = !(heights && cut >= 0);
    if (!cutLabel.hidden) cutLabel.style.left = `${cut * colW + colW / 2}px`;
    ctx.fillStyle = ink.fg;
    ctx.font = "11px system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif";
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let j = 0; j < n; j += every) {
      const text = displayToken(tokens[j]);
      if (!text) continue;
      ctx.save();
      ctx.beginPath(); ctx.rect(j * colW, base + 2, colW * every, 56); ctx.clip();
      ctx.translate(j * colW + colW / 2, base + 2);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(text.length > 9 ? text.slice(0, 8) + "…" : text, 0, 0);
      ctx.restore();
    }
  }

  // A new width gives the columns a new width: the boxes and the canvas take it and the labels are
  // painted again (the caller paints the bars). Widths past the widest columns change nothing.
  /** @type {Bars["fit"]} */
  function fit(width) {
    if (!fitGeometry(geom, width)) return false;
    for (const box of [inner, colBox]) box.style.width = `${geom.rowW}px`;
    canvas.style.width = `${geom.rowW}px`;
    canvas.width = Math.max(1, Math.round(geom.rowW * dpr));
    for (const c of cols) c.style.flexBasis = `${geom.colW}px`;
    paint(null, null);
    return true;
  }

  /** @type {Bars["outline"]} */
  function outline(q) {
    for (const c of cols) c.style.outline = "";
    if (cols[q]) cols[q].style.outline = "2px solid var(--aw-accent)";
  }

  /** @type {Bars["label"]} */
  function label(q, values) {
    for (let j = 0; j < n; j++) {
      cols[j].style.outline = j === q ? "2px solid var(--aw-accent)" : "";
      cols[j].title = `${j} ${exactToken(tokens[j])}: ${values[j].toPrecision(3)}`;
    }
  }

  return { row, cols, cutLabel, paint, fit, outline, label };
}

/**
 * The break mark across a cut bar: a slanted gap at `y` over the bar at `x`..`x + w`, cleared to
 * the background (the live canvas is transparent there) or painted in `fill` (an export's white).
 * @param {CanvasRenderingContext2D} ctx
 * @param {number} x
 * @param {number} w
 * @param {number} y
 * @param {string | null} [fill]
 */
export function breakMark(ctx, x, w, y, fill = null) {
  ctx.save();
  if (fill) ctx.fillStyle = fill;
  else ctx.globalCompositeOperation = "destination-out";
  ctx.beginPath();
  ctx.moveTo(x - 1, y + 2); ctx.lineTo(x + w + 1, y - 2); ctx.lineTo(x + w + 1, y + 1); ctx.lineTo(x - 1, y + 5);
  ctx.closePath();
  ctx.fill();
  ctx.restore();
}
