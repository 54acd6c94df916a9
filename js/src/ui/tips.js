// @ts-check
// Tooltips by the pointer, and the ⓘ popover that holds a view's longer explanation.
import { h } from "./dom.js";

/** Gap in CSS pixels between the pointer and the tooltip's nearest corner. */
export const TIP_GAP = 8;

/**
 * Show `text` by the pointer: below-right of it, flipped left or up where it would leave the
 * view, and always inside the view's root (which is `position: relative`, so the tip's offsets
 * are the root's). Coordinates are divided by the root's rendered scale, so a zoomed or
 * transformed output cell still puts the tip at the pointer.
 * @param {HTMLElement} tip
 * @param {HTMLElement} root
 * @param {string} text
 * @param {{ clientX: number, clientY: number }} event
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

/** @param {HTMLElement} tip */
export function hideTip(tip) { tip.style.display = "none"; }

/** Show the `data-tip` text of whatever element under the pointer carries one (SVG marks drawn
 *  with their tooltip in `data-tip`), and hide it when the pointer leaves `root`.
 * @param {Element} root
 * @param {{ root: HTMLElement, tip: HTMLElement }} ui
 * @param {AbortSignal} [signal]
 */
export function wireTips(root, ui, signal) {
  root.addEventListener("mousemove", (/** @type {Event} */ ev) => {
    const t = /** @type {HTMLElement | SVGElement | null} */ (/** @type {Element} */ (ev.target).closest?.("[data-tip]"));
    if (t) showTip(ui.tip, ui.root, t.dataset.tip ?? "", /** @type {MouseEvent} */ (ev)); else hideTip(ui.tip);
  }, { signal });
  root.addEventListener("mouseleave", () => hideTip(ui.tip), { signal });
}

let INFO_ID = 0;
/**
 * A small "ⓘ" that holds a longer explanation: the text is its title (a hover shows it) and a
 * popover that a click or keyboard focus opens, so a view keeps one caption line on screen.
 * @param {string} text
 * @param {AbortSignal} [signal]
 */
export function info(text, signal) {
  const pop = h("span", { class: "aw-info-pop", role: "tooltip", id: `aw-info-${++INFO_ID}`, text, hidden: true });
  const mark = h("span", { class: "aw-info", text: "ⓘ", title: text, tabIndex: 0, role: "button" });
  mark.setAttribute("aria-describedby", pop.id);
  mark.setAttribute("aria-label", "more about this view");
  const node = h("span", { class: "aw-info-wrap" }, mark, pop);
  /** @param {boolean} open */
  const set = (open) => { pop.hidden = !open; node.classList.toggle("aw-open", open); };
  mark.addEventListener("click", (ev) => { ev.stopPropagation(); set(Boolean(pop.hidden)); }, { signal });
  mark.addEventListener("focus", () => set(true), { signal });
  mark.addEventListener("blur", () => set(false), { signal });
  mark.addEventListener("keydown", (ev) => { if (ev.key === "Escape") set(false); }, { signal });
  return node;
}
