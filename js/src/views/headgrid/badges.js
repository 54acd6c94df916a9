// @ts-check
// What is drawn over the thumbnails: outlines, role badges (one chip per word, coloured by role)
// and the tint bar under each head; and the diverging bar of a signed tint under the legend.
import { colorAt, cssColor } from "../../lib/colormap.js";
import { signed, signedColor, signedExtent } from "../../lib/effects.js";
import { h, displayName } from "../../ui/dom.js";
import { theme } from "../../ui/theme.js";
import { canvasOf, context2d } from "./canvas.js";

/** @typedef {import("./state.js").GridContext} GridContext */
/** @typedef {import("./state.js").GridState} GridState */
/** @typedef {import("./state.js").Atlas} Atlas */

// Role badges' colours (other labels in grey).
const BADGE = /** @type {Record<string, string>} */ ({ sink: "#6e7781", prev: "#0969da", ind: "#bc4c00" });

/**
 * The smallest and largest tint value.
 * @param {ArrayLike<number> | null} tint
 * @returns {{ tmin: number, tmax: number }}
 */
export function tintRange(tint) {
  let tmin = Infinity, tmax = -Infinity;
  if (tint) for (let i = 0; i < tint.length; i++) { tmin = Math.min(tmin, tint[i]); tmax = Math.max(tmax, tint[i]); }
  return { tmin, tmax };
}

/**
 * Outlines, role badges and tint bars over every thumbnail, drawn once per atlas at device
 * resolution.
 * @param {GridContext} ctx
 * @param {GridState} g
 * @param {Atlas} atlas
 * @returns {HTMLCanvasElement}
 */
export function laidMarks(ctx, g, atlas) {
  if (atlas.laid.marks) return atlas.laid.marks;
  const { tint, tintSigned, thumb, rowH } = g;
  const nHeads = ctx.facts.headIds.length;
  const c = canvasOf(g.full.w, g.full.h);
  const cx = context2d(c);
  cx.setTransform(ctx.dpr, 0, 0, ctx.dpr, 0, 0);
  const ink = theme(ctx.ui.root);
  const { tmin, tmax } = tintRange(tint);
  const { vmax: tabs } = tint && tintSigned ? signedExtent(tint) : { vmax: 0 };
  cx.strokeStyle = ink.border;
  cx.lineWidth = 1;
  cx.font = "600 9px system-ui,sans-serif";
  cx.textBaseline = "middle";
  for (const { li, hi, x, y, words } of g.cells) {
    cx.strokeRect(x - 0.5, y - 0.5, thumb + 1, rowH + 1);
    if (tint) {
      const v = tint[li * nHeads + hi];
      cx.fillStyle = cssColor(tintSigned ? signedColor(v, tabs) : colorAt("magma", tmax > tmin ? (v - tmin) / (tmax - tmin) : 0.5));
      cx.fillRect(x, y + thumb, thumb, rowH - thumb);
    }
    let bx = x + 1, by = y + 1;
    for (const word of words) {
      const w = Math.ceil(cx.measureText(word).width) + 4;
      if (bx > x + 1 && bx + w > x + thumb) { bx = x + 1; by += 12; }
      if (by + 11 > y + thumb) break;
      cx.fillStyle = BADGE[word] ?? "#57606a";
      cx.beginPath();
      cx.roundRect ? cx.roundRect(bx, by, w, 11, 3) : cx.rect(bx, by, w, 11);
      cx.fill();
      cx.fillStyle = "#fff";
      cx.fillText(word, bx + 2, by + 6);
      bx += w + 1;
    }
  }
  atlas.laid.marks = c;
  return c;
}

/**
 * The diverging bar of a signed tint in `box`: -max|value| (blue) to 0 (white) to +max|value|
 * (red); hidden when the tint is not signed. Drawn again only when what it shows changes.
 * @param {GridContext} ctx
 * @param {GridState} g
 * @param {HTMLElement} box
 */
export function drawEffectLegend(ctx, g, box) {
  if (!g.tintSigned || !g.tint) { box.style.display = "none"; box.replaceChildren(); return; }
  const { min, max, vmax } = signedExtent(g.tint);
  const key = `${ctx.model.get("tint_label")}:${vmax}:${min}:${max}`;
  box.style.display = "";
  if (g.effectKey === key) return;
  g.effectKey = key;
  const w = 180, bar = canvasOf(w, 12);
  bar.className = "aw-effect-bar";
  bar.style.cssText = `width:${w}px;height:12px;display:block;border:1px solid var(--aw-border)`;
  const cx = context2d(bar);
  for (let x = 0; x < w; x++) { cx.fillStyle = cssColor(signedColor(((x / (w - 1)) * 2 - 1) * vmax, vmax)); cx.fillRect(x, 0, 1, 12); }
  const ticks = h("div", { class: "aw-effect-ticks", style: `display:flex;justify-content:space-between;width:${w}px` },
    h("span", { class: "aw-effect-neg", text: vmax > 0 ? signed(-vmax) : "0" }), h("span", { text: "0" }),
    h("span", { class: "aw-effect-pos", text: vmax > 0 ? signed(vmax) : "0" }));
  const label = displayName(ctx.model.get("tint_label")) || "signed tint";
  const text = h("div", { class: "aw-note", text: `bar under each head: ${label} when the head is ablated, ${signed(min)} to ${signed(max)}; ` +
    "blue below 0 (removing the head lowers it: the head helps), red above 0 (the head works against it), white near 0" });
  box.replaceChildren(h("div", {}, bar, ticks), text);
}
