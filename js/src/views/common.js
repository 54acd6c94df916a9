// DOM pieces every view uses: root and style, token elements and hover classes, controls, the
// colour legend and the PNG button. Token text only ever goes through textContent.
import { lut, ticks, fmt, headline, placeLabels, COLORMAPS, SCALES } from "../lib/colormap.js";
import { weightScale } from "../lib/weightscale.js";
import { displayName, displayToken, exactToken } from "../lib/tokens.js";
import { SINK_SHARE } from "../lib/sink.js";
import { generationStepRow } from "../lib/selection.js";
import { stepName } from "../lib/steps.js";

/**
 * The host's colours, from the CSS variables of `style.css` (anywidget's `_css`), as strings for
 * canvas drawing and as [r, g, b] for pixel buffers. Read when a view draws, so a canvas follows
 * the theme it is drawn under (JupyterLab, VS Code, or the reader's prefers-color-scheme).
 */
export function theme(node) {
  const cs = node && node.isConnected ? getComputedStyle(node) : null;
  const get = (name, fallback) => (cs && cs.getPropertyValue(name).trim()) || fallback;
  const t = {
    bg: get("--aw-bg", "#ffffff"), fg: get("--aw-fg", "#1f2328"), muted: get("--aw-muted", "#57606a"),
    border: get("--aw-border", "#d0d7de"), panel: get("--aw-panel", "#f3f5f7"), accent: get("--aw-accent", "#0969da"),
    hover: get("--aw-hover-bg", "#ffd33d"), warn: get("--aw-warn", "#9a6700"),
  };
  t.panelRGB = rgbOf(t.panel, [243, 245, 247]);
  t.bgRGB = rgbOf(t.bg, [255, 255, 255]);
  t.dark = t.bgRGB[0] * 0.299 + t.bgRGB[1] * 0.587 + t.bgRGB[2] * 0.114 < 128;
  return t;
}

const RGB_CACHE = new Map();
/** Any CSS colour as [r, g, b], resolved by the browser (one pixel of a canvas). */
export function rgbOf(color, fallback = [0, 0, 0]) {
  if (RGB_CACHE.has(color)) return RGB_CACHE.get(color);
  let out = fallback;
  try {
    const c = document.createElement("canvas");
    c.width = c.height = 1;
    const ctx = c.getContext("2d");
    ctx.fillStyle = "#010203";
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    out = [d[0], d[1], d[2]];
  } catch { /* no canvas (node tests): keep the fallback */ }
  RGB_CACHE.set(color, out);
  return out;
}

/**
 * Call `fn` when the host's theme changes (JupyterLab's theme menu, VS Code's theme, the system's
 * light/dark switch), so canvases drawn with `theme()` colours are drawn again.
 */
export function onThemeChange(fn, signal) {
  if (typeof window === "undefined") return;
  let frame = 0;
  const later = () => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; if (!signal?.aborted) fn(); }); };
  const media = window.matchMedia?.("(prefers-color-scheme: dark)");
  media?.addEventListener?.("change", later, { signal });
  if (typeof MutationObserver !== "undefined" && document.body) {
    const watch = new MutationObserver(later);
    watch.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-name", "data-jp-theme-light", "class"] });
    signal?.addEventListener("abort", () => watch.disconnect());
  }
}

/**
 * Resolves once `node` has a width (it is in the page and laid out), so a view can size itself
 * to its slot; gives up after `ms` (a hidden tab) and the view falls back to its default sizes.
 */
export function whenSized(node, ms = 1500) {
  if (node.clientWidth > 0 || typeof ResizeObserver === "undefined") return Promise.resolve();
  return new Promise((resolve) => {
    const ro = new ResizeObserver(() => { if (node.clientWidth > 0) { ro.disconnect(); clearTimeout(t); resolve(); } });
    const t = setTimeout(() => { ro.disconnect(); resolve(); }, ms);
    ro.observe(node);
  });
}

/**
 * Call `fn(width)` when `node`'s width changes after the view was first drawn (a side panel opened
 * or closed, the window resized, a dashboard switching to one column), so a view that lays out by
 * width follows its slot. At most one call per animation frame; none while the width is 0 (a
 * hidden tab keeps its last drawing). Height changes are ignored, so a redraw that makes the view
 * taller or shorter never calls `fn` again; a width that flips back within `settleMs` of the last
 * change (a page scroll bar coming and going as the view's height changes) is also left alone.
 */
export function onWidthChange(node, fn, signal, settleMs = 400) {
  if (typeof ResizeObserver === "undefined") return;
  let drawn = node.clientWidth, before = null, changedAt = 0, frame = 0, seen = null;
  const ro = new ResizeObserver((entries) => {
    // The observer reports height changes too: only a new width is worth a frame (the width is
    // read once then, when it changed, never on a hover).
    const w = entries[entries.length - 1].contentRect.width;
    if (w === seen) return;
    seen = w;
    if (!frame) frame = requestAnimationFrame(() => {
      frame = 0;
      if (signal?.aborted) return;
      const w = node.clientWidth;
      if (w === 0 || w === drawn) return;
      const now = performance.now();
      if (w === before && now - changedAt < settleMs) return;
      before = drawn; drawn = w; changedAt = now;
      fn(w);
    });
  });
  ro.observe(node);
  signal?.addEventListener("abort", () => { ro.disconnect(); if (frame) cancelAnimationFrame(frame); }, { once: true });
}

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

/** Root element with the DOM contract's classes, a header (title, controls) and a body. */
export function makeRoot(el, kind) {
  const root = h("div", { class: `attnwidget aw-${kind}` });
  const title = h("div", { class: "aw-title" });
  const controls = h("div", { class: "aw-controls" });
  const body = h("div", { class: "aw-body", style: "position:relative" });
  const legend = h("div", { class: "aw-legend" });
  const status = h("div", { class: "aw-status" });
  const tip = h("div", { class: "aw-tip" });
  root.append(h("div", { class: "aw-head" }, title, controls), body, legend, status, tip);
  el.replaceChildren(root);
  return { root, title, controls, body, legend, status, tip };
}

export function tokenElement(tokens, index, tag = "span", extraClass = "") {
  const t = tokens[index];
  return h(tag, { class: `aw-tok ${extraClass}`.trim(), "data-token-index": String(index), text: displayToken(t), title: `${index}: ${exactToken(t)}` });
}

/** A query row's token of cross-attention (a target token): named by `data-query-index`, never by a
 * key position, so hover and pin reach the selection's query fields. */
export function queryElement(tokens, index, tag = "span") {
  const t = tokens[index];
  return h(tag, { class: "aw-tok aw-query-tok", "data-query-index": String(index), text: displayToken(t), title: `${index}: ${exactToken(t)}` });
}

/** Tracks token elements by index so hover and pin classes move in O(changed elements). */
export class TokenMarks {
  constructor() { this.byIndex = new Map(); this.hovered = null; this.pinned = null; }
  clear() { this.byIndex.clear(); }
  add(index, node) {
    if (!this.byIndex.has(index)) this.byIndex.set(index, []);
    this.byIndex.get(index).push(node);
    if (index === this.hovered) node.classList.add("aw-hovered");
    if (index === this.pinned) node.classList.add("aw-pinned");
  }
  _move(field, cls, index) {
    const old = this[field];
    if (old === index) return;
    for (const n of this.byIndex.get(old) ?? []) n.classList.remove(cls);
    this[field] = index ?? null;
    for (const n of this.byIndex.get(index) ?? []) n.classList.add(cls);
  }
  hover(index) { this._move("hovered", "aw-hovered", index); }
  pin(index) { this._move("pinned", "aw-pinned", index); }
}

/** Read a trait and write it back to the kernel. */
export function setTrait(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

export function select(labelText, options, value, onChange, signal) {
  const s = h("select");
  for (const [v, label] of options) s.append(h("option", { value: String(v), text: label }));
  s.value = String(value);
  s.addEventListener("change", () => onChange(s.value), { signal });
  return { node: h("label", {}, labelText, s), input: s };
}

export function checkbox(labelText, checked, onChange, signal) {
  const c = h("input", { type: "checkbox", checked });
  c.addEventListener("change", () => onChange(c.checked), { signal });
  return { node: h("label", {}, c, labelText), input: c };
}

/** Scale, gamma, colour map and hide-first-token controls bound to the view's own traits. */
export function scaleControls(model, container, signal, { hideSpecial = true } = {}) {
  const scale = select("scale", SCALES.map((s) => [s, s]), model.get("scale"), (v) => setTrait(model, "scale", v), signal);
  const gamma = h("input", { type: "number", min: "0.05", max: "10", step: "0.05", value: String(model.get("gamma")), title: "power scale exponent" });
  gamma.addEventListener("change", () => {
    const g = Number(gamma.value);
    if (g > 0 && g <= 10) setTrait(model, "gamma", g);
    else gamma.value = String(model.get("gamma"));
  }, { signal });
  const gammaLabel = h("label", {}, "γ", gamma);
  const cmap = select("colours", COLORMAPS.map((c) => [c, c]), model.get("colormap"), (v) => setTrait(model, "colormap", v), signal);
  const tokens = model.get("_tokens");
  const special = model.get("_special") || [];
  const toggle = (indices, on) => {
    const set = new Set(model.get("hide"));
    for (const i of indices) on ? set.add(i) : set.delete(i);
    setTrait(model, "hide", [...set].sort((a, b) => a - b));
  };
  const first = checkbox("hide first token", model.get("hide").includes(0), (on) => toggle([0], on), signal);
  first.node.title = `remove ${exactToken(tokens[0])} and renormalise every row over the other tokens`;
  const specials = special.map((s, i) => (s ? i : -1)).filter((i) => i >= 0);
  const spec = hideSpecial && specials.length ? checkbox("hide special tokens", specials.every((i) => model.get("hide").includes(i)), (on) => toggle(specials, on), signal) : null;
  container.append(scale.node, gammaLabel, cmap.node, first.node);
  if (spec) container.append(spec.node);
  const sync = () => {
    scale.input.value = model.get("scale");
    gamma.value = String(model.get("gamma"));
    gammaLabel.style.display = model.get("scale") === "power" ? "" : "none";
    cmap.input.value = model.get("colormap");
    const hide = model.get("hide");
    first.input.checked = hide.includes(0);
    if (spec) spec.input.checked = specials.every((i) => hide.includes(i));
  };
  sync();
  return sync;
}

/**
 * The scale of a view from its traits, for data whose largest shown value is `vmax`. Its top is
 * absolute weight 1, not `vmax` (lib/weightscale.js: a uniform map is never drawn as maximal
 * attention), unless `relative` (rows scaled to their own maximum) or the data exceed 1.
 */
export function viewScale(model, vmax, values = null, decades = 6, { relative = false } = {}) {
  // The log scale's floor follows the data (see lib/sink.js logFloor) when the values are given.
  return weightScale(model.get("scale"), { values, dataMax: vmax, gamma: model.get("gamma"), decades, relative });
}

/**
 * One line under a view's header when one key takes most of the attention it shows: which token,
 * how much, and a button that hides it and renormalises (or shows it again). `sink` is
 * `{ index, share }` or null; `what` names the attention ("this map", "the rollout").
 */
export function sinkLine(box, model, tokens, sink, what, signal) {
  const hide = model.get("hide");
  box.replaceChildren();
  box.hidden = true;
  box.removeAttribute("data-sink");
  if (!sink || sink.share < SINK_SHARE) return;
  box.hidden = false;
  box.dataset.sink = String(sink.index);
  const pct = `${Math.round(sink.share * 100)}%`;
  const text = h("span", { class: "aw-sink-text", title: `${what}; the other tokens share the rest` });
  text.append(`Token ${sink.index} `, h("b", { text: exactToken(tokens[sink.index]) }),
    ` takes ${pct} of ${what.replace(/ \(.*\)$/, "")}${hide.length ? " after hiding" : ""}.`);
  const fix = h("button", { class: "aw-btn aw-sink-fix", text: "hide it, renormalise",
    title: `remove ${exactToken(tokens[sink.index])} and renormalise every row over the other tokens (undo with the hide boxes)` });
  fix.addEventListener("click", () => setTrait(model, "hide", [...new Set([...hide, sink.index])].sort((a, b) => a - b)), { signal });
  box.append(text, fix);
}

/** An empty sink line element, placed by the view. */
export function sinkBox() { return h("div", { class: "aw-sink", hidden: true }); }

/**
 * Legend: colour bar with ticks, the scale sentence, and notes (renormalised, pooled...). `ink`:
 * the view's `theme()` when it holds one (reading it again resolves the page's styles). `mark`:
 * a weight drawn as a white line across the bar (a uniform row's share), or null.
 */
export function drawLegend(container, scale, cmapName, notes = [], width = 180, ink = null, mark = null) {
  ink = ink ?? theme(container);
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const H = 30;
  const lines = [headline(scale, mark), ...notes.filter(Boolean)];
  // A hover redraws the legend often with the same scale: the bar is repainted only when what it
  // shows changes, and the existing canvas and lines are reused (a replaced subtree means new
  // layout and a new canvas layer in every frame).
  const key = JSON.stringify([scale.kind, scale.domain, scale.gamma, ticks(scale), cmapName, width, dpr, ink.muted, mark]);
  if (mark > 0) container.dataset.uniform = String(mark);
  else delete container.dataset.uniform;
  let bar = container.firstChild, text = bar?.nextSibling;
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
    paintLegend(scratch.getContext("2d"), scale, cmapName, 0, 0, width, dpr, ink.muted, mark);
    const ctx = bar.getContext("2d");
    ctx.clearRect(0, 0, bar.width, bar.height);
    ctx.drawImage(scratch, 0, 0);
  }
  const old = text.children;
  if (old.length === lines.length && lines.every((l, i) => old[i].textContent === l && old[i].className === (i ? "aw-note" : ""))) return;
  text.replaceChildren(...lines.map((l, i) => h("div", i ? { class: "aw-note", text: l } : { text: l })));
}

let SCRATCH = null;
/** A cleared canvas outside the document, `w` x `hgt` device pixels, reused between legends. */
function legendScratch(w, hgt) {
  if (!SCRATCH) SCRATCH = document.createElement("canvas");
  if (SCRATCH.width !== w || SCRATCH.height !== hgt) { SCRATCH.width = w; SCRATCH.height = hgt; }
  else SCRATCH.getContext("2d").clearRect(0, 0, w, hgt);
  return SCRATCH;
}

const STRIPS = new Map();
/** A 256 x 1 canvas of a colour map's levels (null where there is no canvas, as in node tests). */
function legendStrip(cmapName, table) {
  if (STRIPS.has(cmapName)) return STRIPS.get(cmapName);
  let c = null;
  try {
    c = document.createElement("canvas");
    c.width = 256; c.height = 1;
    const img = new ImageData(256, 1);
    for (let k = 0; k < 256; k++) {
      img.data[4 * k] = table[3 * k]; img.data[4 * k + 1] = table[3 * k + 1]; img.data[4 * k + 2] = table[3 * k + 2]; img.data[4 * k + 3] = 255;
    }
    c.getContext("2d").putImageData(img, 0, 0);
  } catch { c = null; }
  STRIPS.set(cmapName, c);
  return c;
}

/**
 * Paint a colour bar with ticks at (x, y), `width` CSS pixels wide and 30 tall; `mark`, when a
 * positive weight, is drawn as a white line with a dark edge across the bar where it falls.
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
  if (mark > 0) {
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

/** Legend sentences (scale, then notes) as plain strings, for PNG export. */
export function legendLines(container) {
  return [...container.querySelectorAll(":scope > div > div")].map((d) => d.textContent);
}

/** Draw legend sentences beside a colour bar; returns the width they need. */
export function paintLegendText(ctx, lines, x, y) {
  ctx.save();
  ctx.textAlign = "left"; ctx.fillStyle = "#57606a"; ctx.font = "11px system-ui,sans-serif";
  let w = 0;
  lines.forEach((line, k) => { ctx.fillText(line, x, y + 14 * k); w = Math.max(w, ctx.measureText(line).width); });
  ctx.restore();
  return w;
}

/** Width in CSS pixels that `lines` need at the legend font. */
export function legendTextWidth(lines) {
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = "11px system-ui,sans-serif";
  return Math.max(0, ...lines.map((l) => ctx.measureText(l).width));
}

/** Notes every legend shows when the data is not the raw attention. */
export function hideNotes(tokens, hide) {
  if (!hide.length) return [];
  const names = hide.slice(0, 6).map((i) => `${i} ${exactToken(tokens[i])}`).join(", ");
  return [`rows renormalised without token${hide.length > 1 ? "s" : ""} ${names}${hide.length > 6 ? ` and ${hide.length - 6} more` : ""}`];
}

/** A "PNG" button that downloads `draw()`'s canvas. */
export function pngButton(container, filename, draw, signal) {
  const b = h("button", { class: "aw-btn", text: "PNG", title: "save this view as a PNG image" });
  b.addEventListener("click", () => {
    const canvas = draw();
    const a = h("a", { download: filename, href: canvas.toDataURL("image/png") });
    document.body.append(a);
    a.click();
    a.remove();
  }, { signal });
  container.append(b);
  return b;
}

/** An offscreen canvas of CSS size w x h at 2x for print. */
export function exportCanvas(w, hgt, scale = 2) {
  const c = h("canvas");
  c.width = Math.ceil(w * scale); c.height = Math.ceil(hgt * scale);
  const ctx = c.getContext("2d");
  ctx.scale(scale, scale);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, hgt);
  return { canvas: c, ctx };
}

/** Gap in CSS pixels between the pointer and the tooltip's nearest corner. */
export const TIP_GAP = 8;

/**
 * Show `text` by the pointer: below-right of it, flipped left or up where it would leave the
 * view, and always inside the view's root (which is `position: relative`, so the tip's offsets
 * are the root's). Coordinates are divided by the root's rendered scale, so a zoomed or
 * transformed output cell still puts the tip at the pointer.
 */
export function showTip(tip, root, text, event) {
  tip.textContent = text;
  tip.style.display = "block";
  const r = root.getBoundingClientRect();
  const sx = root.offsetWidth ? r.width / root.offsetWidth : 1, sy = root.offsetHeight ? r.height / root.offsetHeight : 1;
  const border = root.clientLeft || 0, borderTop = root.clientTop || 0;
  const px = (event.clientX - r.left) / sx - border, py = (event.clientY - r.top) / sy - borderTop;
  const w = tip.offsetWidth, hh = tip.offsetHeight;
  const W = root.clientWidth, H = root.clientHeight;
  let x = px + TIP_GAP, y = py + TIP_GAP;
  if (x + w > W) x = px - TIP_GAP - w;
  if (y + hh > H) y = py - TIP_GAP - hh;
  x = Math.max(0, Math.min(x, W - w));
  y = Math.max(0, Math.min(y, H - hh));
  // A transform moves the tip without laying the view out again.
  tip.style.transform = `translate(${Math.round(x)}px,${Math.round(y)}px)`;
}

export function hideTip(tip) { tip.style.display = "none"; }

/** Show the `data-tip` text of whatever element under the pointer carries one (SVG marks drawn
 *  with their tooltip in `data-tip`), and hide it when the pointer leaves `root`. */
export function wireTips(root, ui, signal) {
  root.addEventListener("mousemove", (ev) => {
    const t = ev.target.closest?.("[data-tip]");
    if (t) showTip(ui.tip, ui.root, t.dataset.tip, ev); else hideTip(ui.tip);
  }, { signal });
  root.addEventListener("mouseleave", () => hideTip(ui.tip), { signal });
}

export { displayName, displayToken, exactToken };

/** Hover and click wiring for token elements inside `box` (delegated, one listener each). */
export function wireTokens(box, sel, signal, { onClick, query = false } = {}) {
  // `query`: the elements are cross-attention's target rows (data-query-index, the query fields).
  const attr = query ? "data-query-index" : "data-token-index";
  const hovered = query ? "hovered_query" : "hovered_token", pinned = query ? "pinned_query" : "pinned_token";
  box.addEventListener("mouseover", (ev) => {
    const t = ev.target.closest?.(`[${attr}]`);
    if (t) sel.set({ [hovered]: Number(t.getAttribute(attr)) });
  }, { signal });
  box.addEventListener("mouseleave", () => sel.set({ [hovered]: null }), { signal });
  box.addEventListener("click", (ev) => {
    const t = ev.target.closest?.(`[${attr}]`);
    if (!t) return;
    const i = Number(t.getAttribute(attr));
    if (onClick && onClick(i, ev)) return;
    sel.set({ [pinned]: sel.get(pinned) === i ? null : i }, { immediate: true });
  }, { signal });
}

/**
 * Generation step control for attention from `aw.generate`: a slider and buttons over the generated
 * tokens. A step lives in the shared selection (`step`) and pins the query row that produced that
 * token, so every linked view follows it. Returns null for attention that did not come from
 * generation (the selection's `_prompt_length` is 0). Steps are named as in Python (0-based), the
 * ordinal beside (lib/steps.js): "step 5 (6th of 8)".
 */
export function stepControl(sel, tokens, signal) {
  const nPrompt = sel.get("_prompt_length") || 0;
  const nSteps = tokens.length - nPrompt;
  if (!nPrompt || nSteps < 1) return null;
  const slider = h("input", { type: "range", min: "0", max: String(nSteps - 1), step: "1", value: "0", style: "width:140px", title: "generated token" });
  const prev = h("button", { class: "aw-btn aw-step-prev", text: "◀", title: "previous generated token" });
  const next = h("button", { class: "aw-btn aw-step-next", text: "▶", title: "next generated token" });
  const produced = h("span", { class: "aw-step-text" });
  const node = h("div", { class: "aw-step", style: "display:flex;align-items:center;gap:6px;margin:0 0 6px" },
    h("span", { class: "aw-muted", text: "generation step" }), prev, slider, next, produced);
  const go = (s) => {
    const step = Math.max(0, Math.min(nSteps - 1, s));
    sel.set({ step, pinned_token: generationStepRow(nPrompt, step) }, { immediate: true });
  };
  const current = () => sel.get("step");
  slider.addEventListener("input", () => go(Number(slider.value)), { signal });
  prev.addEventListener("click", () => go((current() ?? 1) - 1), { signal });
  next.addEventListener("click", () => go(current() === null || current() === undefined ? 0 : current() + 1), { signal });
  const sync = () => {
    const s = current();
    node.dataset.step = s === null || s === undefined ? "" : String(s);
    // Before a step is chosen the slider shows no thumb: a thumb at the left would read as step 1.
    slider.classList.toggle("aw-unset", s === null || s === undefined);
    if (s === null || s === undefined) {
      produced.textContent = `${nSteps} generated tokens; pick a step`;
      return;
    }
    slider.value = String(s);
    const row = generationStepRow(nPrompt, s);
    // Python's number (selection.step, 0-based), with the ordinal beside it: "step 5 (6th of 8)".
    produced.textContent = `${stepName(s, nSteps)}: query ${row} ${exactToken(tokens[row])} produced ${exactToken(tokens[nPrompt + s])}`;
  };
  sel.on(["step"], sync);
  // Pinning another token leaves the step (the kernel does the same).
  sel.on(["pinned_token"], () => {
    const s = current();
    if (s !== null && s !== undefined && sel.get("pinned_token") !== generationStepRow(nPrompt, s)) sel.set({ step: null }, { immediate: true });
  });
  sync();
  return { node, sync };
}
