// @ts-check
// Tints are painted on one canvas under the text, the size of the box and moved with its scroll:
// a hover repaints that canvas and restyles only the tokens whose text colour, focus or hiding
// changes, not every token. Each token's boxes (one per line it spans) are read when the box is
// laid out anew (a resize), never on a hover.
import { h } from "../../ui/dom.js";
import { colorAt } from "../../lib/colormap.js";
import { tintOf } from "./weights.js";

/**
 * What the tints are drawn from; `draw` keeps the last one for scrolling and resizing.
 * @typedef {object} TintState
 * @property {Float32Array} weights  One weight per token.
 * @property {(v: number) => number} scale  Weight to 0..1.
 * @property {Set<number>} hidden  Hidden tokens.
 * @property {number} focus  The focus token.
 * @property {string} cmap  The colour map's name.
 * @property {import("../../ui/theme.js").Ink} ink  The page's colours.
 */

/**
 * @typedef {object} Tints
 * @property {(state: TintState) => void} draw  Tint the tokens in the box's view (the others as they scroll into it).
 * @property {() => void} forget  Restyle every token at the next draw (the theme changed).
 */

/**
 * @param {HTMLElement} text  The scrolling box of token spans.
 * @param {HTMLElement[]} spans  One span per token.
 * @param {AbortSignal} signal
 * @returns {Tints}
 */
export function createTints(text, spans, signal) {
  const nKey = spans.length;
  const under = /** @type {HTMLCanvasElement} */ (h("canvas", { class: "aw-tints", style: "position:absolute;left:0;top:0;z-index:-1;pointer-events:none" }));
  text.prepend(under);
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  /** @type {string[]} */
  const fills = new Array(nKey).fill("");
  // Per token, the last text colour, hiding and focus written to it.
  /** @type {(string | null)[]} */
  const styled = new Array(nKey).fill(null);
  /** @type {number[][] | null} per token [x, y, w, h, ...] in the text's content box */
  let rects = null;
  /** @type {{ top: number, width: number, height: number } | null} */
  let box = null;
  /** @type {TintState | null} */
  let last = null;

  // One token's tint from the current weights: its fill for the canvas, and its weight (as
  // data-weight), text colour, focus and hiding, written only when they change.
  /** @param {TintState} s @param {number} j */
  function paintToken(s, j) {
    const node = spans[j];
    const t = s.scale(s.weights[j]), off = s.hidden.has(j);
    let bg = "", fg = "";
    // The map's colour at the weight, blended over the page: strong weights near opaque.
    if (t > 0 && !off) ({ bg, fg } = tintOf(colorAt(s.cmap, t), t, s.ink.bgRGB));
    fills[j] = bg;
    const weight = s.weights[j].toPrecision(3);
    if (node.dataset.weight !== weight) node.dataset.weight = weight;
    const state = `${fg}|${off}|${j === s.focus}`;
    if (styled[j] === state) return;
    styled[j] = state;
    node.classList.toggle("aw-hidden-tok", off);
    node.classList.toggle("aw-focus", j === s.focus);
    node.style.color = fg;
  }

  /** @param {number} j */
  const lastBottom = (j) => { const r = /** @type {number[][]} */ (rects)[j]; return r.length ? r[r.length - 3] + r[r.length - 1] : -Infinity; };
  // Tokens with a box in the text's view (all of them until the first layout).
  function inView() {
    if (!rects || !box || !box.height) return [0, nKey];
    let from = 0;
    while (from < nKey && lastBottom(from) < box.top) from++;
    let to = from;
    while (to < nKey && rects[to].length && rects[to][1] <= box.top + box.height) to++;
    // Tokens that draw no box (none) do not end the run.
    while (to < nKey && !rects[to].length) to++;
    return [from, to];
  }

  function measure() {
    const b = box = { top: text.scrollTop, width: text.clientWidth, height: text.clientHeight };
    const o = text.getBoundingClientRect();
    const ox = o.left + text.clientLeft - text.scrollLeft, oy = o.top + text.clientTop - text.scrollTop;
    rects = spans.map((node) => {
      const out = [];
      for (const r of node.getClientRects()) out.push(r.left - ox, r.top - oy, r.width, r.height);
      return out;
    });
    const w = Math.max(1, Math.round(b.width * dpr)), hh = Math.max(1, Math.round(b.height * dpr));
    if (under.width !== w || under.height !== hh) {
      under.width = w; under.height = hh;
      under.style.width = `${b.width}px`; under.style.height = `${b.height}px`;
    }
  }

  // The tints of the tokens in view on the canvas, which sits where the box is scrolled to.
  /** @param {TintState} s */
  function draw(s) {
    last = s;
    const [from, to] = inView();
    if (!rects || !box) { for (let j = from; j < to; j++) paintToken(s, j); return; }
    const ctx = /** @type {CanvasRenderingContext2D} */ (under.getContext("2d"));
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, under.width, under.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, -box.top * dpr);
    under.style.top = `${box.top}px`;
    for (let j = from; j < to; j++) {
      paintToken(s, j);
      if (!fills[j]) continue;
      ctx.fillStyle = fills[j];
      const r = rects[j];
      for (let k = 0; k < r.length; k += 4) {
        ctx.beginPath();
        if (ctx.roundRect) ctx.roundRect(r[k], r[k + 1], r[k + 2], r[k + 3], 2); else ctx.rect(r[k], r[k + 1], r[k + 2], r[k + 3]);
        ctx.fill();
      }
    }
  }
  const redraw = () => { if (last) draw(last); };
  text.addEventListener("scroll", () => { if (box) { box.top = text.scrollTop; redraw(); } }, { signal, passive: true });
  if (typeof ResizeObserver !== "undefined") {
    const ro = new ResizeObserver(() => { measure(); redraw(); });
    ro.observe(text);
    signal.addEventListener("abort", () => ro.disconnect());
  }
  // Web fonts arriving late wrap the text anew inside the same box.
  document.fonts?.ready?.then(() => { if (!signal.aborted && rects) { measure(); redraw(); } });

  return { draw, forget: () => styled.fill(null) };
}
