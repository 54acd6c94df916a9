// @ts-check
// DOM pieces every view uses: elements, the view's root, sizing to its slot, token elements with
// their hover and pin marks. Token text only ever goes through textContent.
import { displayName, displayToken, exactToken } from "../lib/tokens.js";

/**
 * Resolves once `node` has a width (it is in the page and laid out), so a view can size itself
 * to its slot; gives up after `ms` (a hidden tab) and the view falls back to its default sizes.
 * @param {Element} node
 * @param {number} [ms]
 * @returns {Promise<void>}
 */
export function whenSized(node, ms = 1500) {
  if (node.clientWidth > 0 || typeof ResizeObserver === "undefined") return Promise.resolve();
  return new Promise((/** @type {() => void} */ resolve) => {
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
 * @param {Element} node
 * @param {(width: number) => void} fn
 * @param {AbortSignal} [signal]
 * @param {number} [settleMs]
 */
export function onWidthChange(node, fn, signal, settleMs = 400) {
  if (typeof ResizeObserver === "undefined") return;
  let drawn = node.clientWidth, changedAt = 0, frame = 0;
  /** @type {number | null} */
  let before = null;
  /** @type {number | null} */
  let seen = null;
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

/**
 * An element with `props` (`class`, `text` as textContent, `style` as cssText, `data-*` as
 * attributes, anything else as a property) and `children` appended (falsy ones skipped).
 * @template {string} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {K extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[K] : HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const node = /** @type {any} */ (document.createElement(tag));
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

/**
 * The parts of a view's root: the title and controls of its header, its body, legend, status
 * line and tooltip.
 * @typedef {{ root: HTMLElement, title: HTMLElement, controls: HTMLElement, body: HTMLElement,
 *   legend: HTMLElement, status: HTMLElement, tip: HTMLElement }} ViewRoot
 */

/**
 * Root element with the DOM contract's classes, a header (title, controls) and a body.
 * @param {HTMLElement} el
 * @param {string} kind
 * @returns {ViewRoot}
 */
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

/**
 * A key token's element (`data-token-index`), its text for display and its exact text in the title.
 * @param {readonly string[]} tokens
 * @param {number} index
 * @param {string} [tag]
 * @param {string} [extraClass]
 */
export function tokenElement(tokens, index, tag = "span", extraClass = "") {
  const t = tokens[index];
  return h(tag, { class: `aw-tok ${extraClass}`.trim(), "data-token-index": String(index), text: displayToken(t), title: `${index}: ${exactToken(t)}` });
}

/** A query row's token of cross-attention (a target token): named by `data-query-index`, never by a
 * key position, so hover and pin reach the selection's query fields.
 * @param {readonly string[]} tokens
 * @param {number} index
 * @param {string} [tag]
 */
export function queryElement(tokens, index, tag = "span") {
  const t = tokens[index];
  return h(tag, { class: "aw-tok aw-query-tok", "data-query-index": String(index), text: displayToken(t), title: `${index}: ${exactToken(t)}` });
}

/** Tracks token elements by index so hover and pin classes move in O(changed elements). */
export class TokenMarks {
  constructor() {
    /** @type {Map<number, Element[]>} */
    this.byIndex = new Map();
    /** @type {number | null} */
    this.hovered = null;
    /** @type {number | null} */
    this.pinned = null;
  }
  clear() { this.byIndex.clear(); }
  /** @param {number} index @param {Element} node */
  add(index, node) {
    let nodes = this.byIndex.get(index);
    if (!nodes) this.byIndex.set(index, nodes = []);
    nodes.push(node);
    if (index === this.hovered) node.classList.add("aw-hovered");
    if (index === this.pinned) node.classList.add("aw-pinned");
  }
  /** @param {"hovered" | "pinned"} field @param {string} cls @param {number | null | undefined} index */
  _move(field, cls, index) {
    const old = this[field];
    if (old === index) return;
    for (const n of (old === null ? null : this.byIndex.get(old)) ?? []) n.classList.remove(cls);
    this[field] = index ?? null;
    for (const n of (index === null || index === undefined ? null : this.byIndex.get(index)) ?? []) n.classList.add(cls);
  }
  /** @param {number | null | undefined} index */
  hover(index) { this._move("hovered", "aw-hovered", index); }
  /** @param {number | null | undefined} index */
  pin(index) { this._move("pinned", "aw-pinned", index); }
}

export { displayName, displayToken, exactToken };

/**
 * Hover and click wiring for token elements inside `box` (delegated, one listener each).
 * @param {HTMLElement} box
 * @param {{ get: (name: string) => any, set: (values: object, opts?: { immediate?: boolean }) => void }} sel  The shared selection.
 * @param {AbortSignal} [signal]
 * @param {{ onClick?: (index: number, ev: MouseEvent) => boolean | void, query?: boolean }} [opts]
 *   `onClick` returns true when it handled the click (no pin then).
 */
export function wireTokens(box, sel, signal, { onClick, query = false } = {}) {
  // `query`: the elements are cross-attention's target rows (data-query-index, the query fields).
  const attr = query ? "data-query-index" : "data-token-index";
  const hovered = query ? "hovered_query" : "hovered_token", pinned = query ? "pinned_query" : "pinned_token";
  box.addEventListener("mouseover", (ev) => {
    const t = /** @type {Element} */ (ev.target).closest?.(`[${attr}]`);
    if (t) sel.set({ [hovered]: Number(t.getAttribute(attr)) });
  }, { signal });
  box.addEventListener("mouseleave", () => sel.set({ [hovered]: null }), { signal });
  box.addEventListener("click", (ev) => {
    const t = /** @type {Element} */ (ev.target).closest?.(`[${attr}]`);
    if (!t) return;
    const i = Number(t.getAttribute(attr));
    if (onClick && onClick(i, ev)) return;
    sel.set({ [pinned]: sel.get(pinned) === i ? null : i }, { immediate: true });
  }, { signal });
}
