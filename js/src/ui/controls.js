// @ts-check
// Controls bound to traits and the shared selection: selects, checkboxes, the scale controls, the
// sink line, the PNG button and the generation step control.
import { SCALES, COLORMAPS } from "../lib/colormap.js";
import { weightScale } from "../lib/weightscale.js";
import { exactToken } from "../lib/tokens.js";
import { SINK_SHARE } from "../lib/sink.js";
import { generationStepRow } from "../lib/selection.js";
import { stepName } from "../lib/steps.js";
import { h } from "./dom.js";

/** @typedef {import("../lib/types.js").WidgetModel} WidgetModel */

/**
 * The shared selection as a control sees it (lib/selection.js `connectSelection`).
 * @typedef {{ get: (name: string) => any, set: (values: object, opts?: { immediate?: boolean }) => void,
 *   on: (names: string[], fn: () => void) => void }} Selection
 */
/**
 * A dashboard's menu, offered to an embedded view: its PNG entries and its hiding.
 * @typedef {{ png?: (label: string, filename: string, draw: () => HTMLCanvasElement) => void,
 *   hide?: (indices: number[]) => void }} Menu
 */

/**
 * Set a trait and send it to the kernel.
 * @param {Pick<WidgetModel, "set" | "save_changes">} model
 * @param {string} name
 * @param {any} value
 */
export function setTrait(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

/**
 * A labelled select of `options` ([value, label] pairs).
 * @param {string} labelText
 * @param {readonly (readonly (string | number)[])[]} options  [value, label] pairs.
 * @param {string | number} value
 * @param {(value: string) => void} onChange
 * @param {AbortSignal} [signal]
 */
export function select(labelText, options, value, onChange, signal) {
  const s = h("select");
  for (const [v, label] of options) s.append(h("option", { value: String(v), text: label }));
  s.value = String(value);
  s.addEventListener("change", () => onChange(s.value), { signal });
  return { node: h("label", {}, labelText, s), input: s };
}

/**
 * A labelled checkbox.
 * @param {string} labelText
 * @param {boolean} checked
 * @param {(checked: boolean) => void} onChange
 * @param {AbortSignal} [signal]
 */
export function checkbox(labelText, checked, onChange, signal) {
  const c = h("input", { type: "checkbox", checked });
  c.addEventListener("change", () => onChange(c.checked), { signal });
  return { node: h("label", {}, c, labelText), input: c };
}

/**
 * Scale, gamma, colour map and hide-first-token controls showing `model`'s traits. By default a
 * change is written to `model` itself; a dashboard's toolbar passes `write` to send it to every
 * view, `specialBox` to put "hide special tokens" in its menu, and `tag` to class the controls.
 * @param {WidgetModel} model
 * @param {HTMLElement} container
 * @param {AbortSignal} [signal]
 * @param {{ hideSpecial?: boolean, write?: (name: string, value: any) => void, specialBox?: HTMLElement,
 *   tag?: string }} [opts]
 * @returns {() => void}  Shows the traits' values again.
 */
export function scaleControls(model, container, signal, {
  hideSpecial = true, write = (name, value) => setTrait(model, name, value), specialBox = container, tag = "",
} = {}) {
  const scale = select("scale", SCALES.map((s) => [s, s]), model.get("scale"), (v) => write("scale", v), signal);
  const gamma = h("input", { type: "number", min: "0.05", max: "10", step: "0.05", value: String(model.get("gamma")), title: "power scale exponent" });
  gamma.addEventListener("change", () => {
    const g = Number(gamma.value);
    if (g > 0 && g <= 10) write("gamma", g);
    else gamma.value = String(model.get("gamma"));
  }, { signal });
  const gammaLabel = h("label", {}, "γ", gamma);
  const cmap = select("colours", COLORMAPS.map((c) => [c, c]), model.get("colormap"), (v) => write("colormap", v), signal);
  const tokens = model.get("_tokens");
  /** @type {boolean[]} */
  const special = model.get("_special") || [];
  /** @param {number[]} indices @param {boolean} on */
  const toggle = (indices, on) => {
    const set = new Set(model.get("hide"));
    for (const i of indices) on ? set.add(i) : set.delete(i);
    write("hide", [...set].sort((a, b) => a - b));
  };
  const first = checkbox("hide first token", model.get("hide").includes(0), (on) => toggle([0], on), signal);
  if (tokens?.length) first.node.title = `remove ${exactToken(tokens[0])} and renormalise every row over the other tokens`;
  const specials = special.map((s, i) => (s ? i : -1)).filter((i) => i >= 0);
  const spec = hideSpecial && specials.length ? checkbox("hide special tokens", specials.every((i) => model.get("hide").includes(i)), (on) => toggle(specials, on), signal) : null;
  if (tag) {
    scale.node.classList.add(`${tag}scale`); gammaLabel.classList.add(`${tag}gamma`);
    cmap.node.classList.add(`${tag}colours`); first.node.classList.add(`${tag}hide`);
  }
  container.append(scale.node, gammaLabel, cmap.node, first.node);
  if (spec) specialBox.append(spec.node);
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
 * @param {Pick<WidgetModel, "get">} model
 * @param {number} vmax
 * @param {ArrayLike<number> | null} [values]
 * @param {number} [decades]
 * @param {{ relative?: boolean }} [opts]
 */
export function viewScale(model, vmax, values = null, decades = 6, { relative = false } = {}) {
  // The log scale's floor follows the data (see lib/sink.js logFloor) when the values are given.
  return weightScale(model.get("scale"), { values, dataMax: vmax, gamma: model.get("gamma"), decades, relative });
}

/**
 * One line under a view's header when one key takes most of the attention it shows: which token,
 * how much, and a button that hides it and renormalises (or shows it again). `sink` is
 * `{ index, share }` or null; `what` names the attention ("this map", "the rollout").
 * @param {HTMLElement} box  From `sinkBox`.
 * @param {WidgetModel} model
 * @param {readonly string[]} tokens
 * @param {{ index: number, share: number } | null} sink
 * @param {string} what
 * @param {AbortSignal} [signal]
 * @param {{ menu?: Menu | null }} [opts]
 */
export function sinkLine(box, model, tokens, sink, what, signal, { menu = null } = {}) {
  // In a dashboard (`menu`, its toolbar's) hiding goes to every view; the first token has its own
  // checkbox there, so the line points to it instead of adding a button.
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
  if (menu?.hide && sink.index === 0) {
    box.append(text, h("span", { class: "aw-muted aw-sink-hint", text: "“hide first token” above renormalises without it." }));
    return;
  }
  const fix = h("button", { class: "aw-btn aw-sink-fix", text: "hide it, renormalise",
    title: `remove ${exactToken(tokens[sink.index])} and renormalise every row over the other tokens (undo with the hide boxes)` });
  fix.addEventListener("click", () => {
    if (menu?.hide) menu.hide([sink.index]);
    else setTrait(model, "hide", [...new Set([...hide, sink.index])].sort((a, b) => a - b));
  }, { signal });
  box.append(text, fix);
}

/** An empty sink line element, placed by the view. */
export function sinkBox() { return h("div", { class: "aw-sink", hidden: true }); }

/**
 * A "PNG" button that downloads `draw()`'s canvas.
 * @param {HTMLElement} container
 * @param {string} filename
 * @param {() => HTMLCanvasElement} draw
 * @param {AbortSignal} [signal]
 * @param {string} [text]
 */
export function pngButton(container, filename, draw, signal, text = "PNG") {
  const b = h("button", { class: "aw-btn aw-png", text, title: `save this view as a PNG image (${filename})` });
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

/**
 * An offscreen canvas of CSS size w x h at 2x for print, white, its context scaled to CSS pixels.
 * @param {number} w
 * @param {number} hgt
 * @param {number} [scale]
 * @returns {{ canvas: HTMLCanvasElement, ctx: CanvasRenderingContext2D }}
 */
export function exportCanvas(w, hgt, scale = 2) {
  const c = h("canvas");
  c.width = Math.ceil(w * scale); c.height = Math.ceil(hgt * scale);
  const ctx = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d"));
  ctx.scale(scale, scale);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, w, hgt);
  return { canvas: c, ctx };
}

/**
 * Generation step control for attention from `aw.generate`: a slider and buttons over the generated
 * tokens. A step lives in the shared selection (`step`) and pins the query row that produced that
 * token, so every linked view follows it. Returns null for attention that did not come from
 * generation (the selection's `_prompt_length` is 0). Steps are named as in Python (0-based), the
 * ordinal beside (lib/steps.js): "step 5 (6th of 8)".
 * @param {Selection} sel
 * @param {readonly string[]} tokens
 * @param {AbortSignal} [signal]
 * @returns {{ node: HTMLElement, sync: () => void } | null}
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
  /** @param {number} s */
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

/**
 * A button that opens a small menu below it (`body`, where controls are put); a click outside it
 * or Escape closes it. Controls in a closed menu take no room on the first screen.
 * @param {string} label
 * @param {string} title
 * @param {AbortSignal} [signal]
 * @param {string} [extraClass]
 */
export function dropMenu(label, title, signal, extraClass = "") {
  const button = h("button", { class: `aw-btn aw-menu-btn ${extraClass}`.trim(), text: label, title });
  button.setAttribute("aria-haspopup", "true");
  button.setAttribute("aria-expanded", "false");
  const body = h("div", { class: "aw-menu", hidden: true });
  const node = h("span", { class: "aw-menu-wrap" }, button, body);
  /** @param {boolean} open */
  const set = (open) => { body.hidden = !open; button.setAttribute("aria-expanded", String(open)); };
  button.addEventListener("click", () => set(Boolean(body.hidden)), { signal });
  // composedPath: inside a shadow root (marimo) the event's target is the host element.
  document.addEventListener("click", (ev) => { if (!body.hidden && !ev.composedPath().includes(node)) set(false); }, { signal });
  node.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !body.hidden) { set(false); button.focus(); } }, { signal });
  return { node, button, body, close: () => set(false) };
}

/**
 * Where a view puts the controls a dashboard's toolbar also holds. Embedded in a dashboard
 * (`embedded`), nowhere: they go to an element that is never shown (their syncs run unseen) and the
 * PNG is offered through the dashboard's `menu.png(label, filename, draw)`. Shown alone, `shared`
 * (layer, head) is the header's controls and `options` (scale, colours, hiding, row-normalise, PNG)
 * an "options ▾" menu at the header's end.
 * @param {{ controls: HTMLElement, legend: HTMLElement }} ui  ui/dom.js `makeRoot`'s parts.
 * @param {{ embedded?: boolean, menu?: Menu | null, signal?: AbortSignal }} [opts]
 * @returns {{ shared: HTMLElement, options: HTMLElement, png: (label: string, filename: string, draw: () => HTMLCanvasElement) => unknown }}
 */
export function viewControls(ui, { embedded = false, menu = null, signal } = {}) {
  if (embedded) {
    // The legend's notes fold into its ⓘ (ui/legend.js): one line under each picture.
    ui.legend.dataset.compact = "1";
    const off = h("div");
    return { shared: off, options: off, png: (label, filename, draw) => menu?.png?.(label, filename, draw) };
  }
  const m = dropMenu("options ▾", "scale, colours, hiding and PNG", signal, "aw-options");
  // Layer and head come first in the header (and in the page's order); the menu is shown last.
  const shared = h("span", { class: "aw-shared", style: "display:contents" });
  ui.controls.append(shared, m.node);
  return { shared, options: m.body, png: (label, filename, draw) => pngButton(m.body, filename, draw, signal, "save PNG") };
}
