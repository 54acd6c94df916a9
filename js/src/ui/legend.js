// @ts-check
// The colour legend: a bar with ticks and the scale sentence, on the page and in PNG exports.
import { lut, ticks, fmt, headline, placeLabels } from "../lib/colormap.js";
import { exactToken } from "../lib/tokens.js";
import { h } from "./dom.js";
import { info } from "./tips.js";
import { theme } from "./theme.js";

/** @typedef {import("../lib/colormap.js").Scale} Scale */
/** A canvas or element that remembers what it last showed. @typedef {{ _awKey?: string, _awLines?: string }} Remembers */

/**
 * Legend: colour bar with ticks, the scale sentence, and notes (renormalised, pooled...). `ink`:
 * the view's `theme()` when it holds one (reading it again resolves the page's styles). `mark`:
 * a weight drawn as a white line across the bar (a uniform row's share), or null.
 * @param {HTMLElement} container
 * @param {Scale} scale
 * @param {string} cmapName
 * @param {(string | null | undefined | false)[]} [notes]  Falsy notes are left out.
 * @param {number} [width]
 * @param {import("./theme.js").Ink | null} [inkGiven]
 * @param {number | null} [mark]
 */
export function drawLegend(container, scale, cmapName, notes = [], width = 180, inkGiven = null, mark = null) {
  const ink = inkGiven ?? theme(container);
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const H = 30;
  const lines = [headline(scale, mark), .../** @type {string[]} */ (notes.filter(Boolean))];
  // A hover redraws the legend often with the same scale: the bar is repainted only when what it
  // shows changes, and the existing canvas and lines are reused (a replaced subtree means new
  // layout and a new canvas layer in every frame).
  const key = JSON.stringify([scale.kind, scale.domain, scale.gamma, ticks(scale), cmapName, width, dpr, ink.muted, mark]);
  if (mark !== null && mark > 0) container.dataset.uniform = String(mark);
  else delete container.dataset.uniform;
  let bar = /** @type {(HTMLCanvasElement & Remembers) | null} */ (container.firstChild);
  let text = /** @type {(HTMLElement & Remembers) | null} */ (bar?.nextSibling ?? null);
  if (!(bar instanceof HTMLCanvasElement) || !text || container.childNodes.length !== 2) {
    bar = h("canvas");
    text = h("div");
    container.replaceChildren(bar, text);
  }
  if (bar._awKey !== key) {
    bar._awKey = key;
    if (bar.width !== width * dpr || bar.height !== H * dpr) {
      bar.width = width * dpr; bar.height = H * dpr;
      bar.style.width = `${width}px`; bar.style.height = `${H}px`;
    }
    // Drawn on a canvas outside the page, then copied: text on a canvas in the page makes the
    // browser resolve the page's pending styles first (on a hover, those of every restyled token).
    const scratch = legendScratch(bar.width, bar.height);
    paintLegend(/** @type {CanvasRenderingContext2D} */ (scratch.getContext("2d")), scale, cmapName, 0, 0, width, dpr, ink.muted, mark);
    const ctx = /** @type {CanvasRenderingContext2D} */ (bar.getContext("2d"));
    ctx.clearRect(0, 0, bar.width, bar.height);
    ctx.drawImage(scratch, 0, 0);
  }
  const old = text.children;
  // Compact (a view in a dashboard): the scale sentence stays, the notes go into an ⓘ beside it
  // (still in the page, so PNG export and search read them).
  const compact = container.dataset.compact === "1" && lines.length > 1;
  if (text._awLines === JSON.stringify([compact, lines]) && old.length === lines.length) return;
  text._awLines = JSON.stringify([compact, lines]);
  text.replaceChildren(...lines.map((l, i) => h("div", i ? { class: compact ? "aw-note aw-folded" : "aw-note", text: l } : { text: l })));
  if (compact) /** @type {HTMLElement} */ (text.firstChild).append(" ", info(lines.slice(1).join("\n")));
}

/** @type {HTMLCanvasElement | null} */
let SCRATCH = null;
/**
 * A cleared canvas outside the document, `w` x `hgt` device pixels, reused between legends.
 * @param {number} w
 * @param {number} hgt
 */
function legendScratch(w, hgt) {
  if (!SCRATCH) SCRATCH = document.createElement("canvas");
  if (SCRATCH.width !== w || SCRATCH.height !== hgt) { SCRATCH.width = w; SCRATCH.height = hgt; }
  else /** @type {CanvasRenderingContext2D} */ (SCRATCH.getContext("2d")).clearRect(0, 0, w, hgt);
  return SCRATCH;
}

/** @type {Map<string, HTMLCanvasElement | null>} */
const STRIPS = new Map();
/**
 * A 256 x 1 canvas of a colour map's levels (null where there is no canvas, as in node tests).
 * @param {string} cmapName
 * @param {ArrayLike<number>} table  256 [r, g, b] levels.
 * @returns {HTMLCanvasElement | null}
 */
function legendStrip(cmapName, table) {
  const known = STRIPS.get(cmapName);
  if (known !== undefined) return known;
  /** @type {HTMLCanvasElement | null} */
  let c = null;
  try {
    c = document.createElement("canvas");
    c.width = 256; c.height = 1;
    const img = new ImageData(256, 1);
    for (let k = 0; k < 256; k++) {
      img.data[4 * k] = table[3 * k]; img.data[4 * k + 1] = table[3 * k + 1]; img.data[4 * k + 2] = table[3 * k + 2]; img.data[4 * k + 3] = 255;
    }
    /** @type {CanvasRenderingContext2D} */ (c.getContext("2d")).putImageData(img, 0, 0);
  } catch { c = null; }
  STRIPS.set(cmapName, c);
  return c;
}

/**
 * Paint a colour bar with ticks at (x, y), `width` CSS pixels wide and 30 tall; `mark`, when a
 * positive weight, is drawn as a white line with a dark edge across the bar where it falls.
 * @param {CanvasRenderingContext2D} ctx
 * @param {Scale} scale
 * @param {string} cmapName
 * @param {number} x
 * @param {number} y
 * @param {number} width
 * @param {number} [dpr]
 * @param {string} [ink]
 * @param {number | null} [mark]
 */
export function paintLegend(ctx, scale, cmapName, x, y, width, dpr = 1, ink = "#57606a", mark = null) {
  ctx.save();
  ctx.scale(dpr, dpr);
  const table = lut(cmapName);
  const barH = 10, pad = 6, inner = width - 2 * pad;
  // The colour bar is one strip of the map's 256 levels, stretched without smoothing: one draw
  // instead of a fill colour per pixel column.
  const strip = legendStrip(cmapName, table);
  if (strip) {
    const smooth = ctx.imageSmoothingEnabled;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(strip, x + pad, y + 2, inner, barH);
    ctx.imageSmoothingEnabled = smooth;
  } else {
    for (let i = 0; i < inner; i++) {
      const k = Math.round((i / Math.max(1, inner - 1)) * 255) * 3;
      ctx.fillStyle = `rgb(${table[k]},${table[k + 1]},${table[k + 2]})`;
      ctx.fillRect(x + pad + i, y + 2, 1, barH);
    }
  }
  ctx.strokeStyle = "#8c959f";
  ctx.lineWidth = 1;
  ctx.globalAlpha = 1;
  ctx.strokeRect(x + pad - 0.5, y + 1.5, inner + 1, barH + 1);
  if (mark !== null && mark > 0) {
    const mx = Math.round(x + pad + scale(mark) * (inner - 1));
    ctx.fillStyle = "#1f2328";
    ctx.fillRect(mx - 2, y, 4, barH + 4);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(mx - 1, y, 2, barH + 4);
  }
  ctx.fillStyle = ink;
  ctx.font = "11px system-ui,sans-serif";
  ctx.textAlign = "center";
  const values = ticks(scale);
  const xs = values.map((v) => x + pad + scale(v) * (inner - 1));
  for (const tx of xs) ctx.fillRect(tx, y + barH + 2, 1, 3);
  const labels = values.map(fmt);
  for (const { index, x: lx } of placeLabels(xs, labels.map((l) => ctx.measureText(l).width), x, x + width)) {
    ctx.fillText(labels[index], lx, y + barH + 15);
  }
  ctx.restore();
}

/**
 * Legend sentences (scale, then notes) as plain strings, for PNG export.
 * @param {HTMLElement} container
 * @returns {string[]}
 */
export function legendLines(container) {
  const text = /** @type {(Element & Remembers) | undefined} */ (container.children[1]);
  if (text?._awLines) return JSON.parse(text._awLines)[1];
  return [...container.querySelectorAll(":scope > div > div")].map((d) => d.textContent ?? "");
}

/**
 * Draw legend sentences beside a colour bar; returns the width they need.
 * @param {CanvasRenderingContext2D} ctx
 * @param {readonly string[]} lines
 * @param {number} x
 * @param {number} y
 */
export function paintLegendText(ctx, lines, x, y) {
  ctx.save();
  ctx.textAlign = "left"; ctx.fillStyle = "#57606a"; ctx.font = "11px system-ui,sans-serif";
  let w = 0;
  lines.forEach((line, k) => { ctx.fillText(line, x, y + 14 * k); w = Math.max(w, ctx.measureText(line).width); });
  ctx.restore();
  return w;
}

/**
 * Width in CSS pixels that `lines` need at the legend font.
 * @param {readonly string[]} lines
 */
export function legendTextWidth(lines) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (document.createElement("canvas").getContext("2d"));
  ctx.font = "11px system-ui,sans-serif";
  return Math.max(0, ...lines.map((l) => ctx.measureText(l).width));
}

/**
 * Notes every legend shows when the data is not the raw attention.
 * @param {readonly string[]} tokens
 * @param {readonly number[]} hide
 * @returns {string[]}
 */
export function hideNotes(tokens, hide) {
  if (!hide.length) return [];
  const names = hide.slice(0, 6).map((i) => `${i} ${exactToken(tokens[i])}`).join(", ");
  return [`rows renormalised without token${hide.length > 1 ? "s" : ""} ${names}${hide.length > 6 ? ` and ${hide.length - 6} more` : ""}`];
}
