// @ts-check
// Glue between a view and the shared selection model. No module globals: each call gets its own
// state, because each widget's ESM may be a separate module instance.

/**
 * A view's handle on the shared selection.
 * @typedef {object} SelectionHandle
 * @property {import("./types.js").WidgetModel} model
 * @property {(name: string) => any} get
 * @property {(values: Record<string, any>, options?: { immediate?: boolean }) => void} set
 * @property {(names: string[], fn: () => void) => void} on
 */

/**
 * Trailing throttle: calls fn at most once per `ms`, always with the latest arguments.
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @returns {((...args: A) => void) & { cancel: () => void }}
 */
export function throttle(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  let last = 0;
  /** @type {A | null} */
  let pending = null;
  const run = () => {
    timer = null;
    last = Date.now();
    const args = pending;
    pending = null;
    if (args) fn(...args);
  };
  const wrapped = (/** @type {A} */ ...args) => {
    pending = args;
    if (timer) return;
    const wait = Math.max(0, ms - (Date.now() - last));
    timer = setTimeout(run, wait);
  };
  const cancel = () => { if (timer) clearTimeout(timer); timer = null; pending = null; };
  return Object.assign(wrapped, { cancel });
}

/**
 * Resolve the view's selection model (an "anywidget:<id>" reference) through the host. Returns
 * an object with get/set/on for the selection; `set` updates linked views at once and sends to
 * the kernel at most every `ms` milliseconds (hover moves fast; the kernel needs only the latest).
 * @param {import("./types.js").WidgetModel} model
 * @param {import("./types.js").Host | null | undefined} host
 * @param {{ ms?: number, signal?: AbortSignal }} [options]
 * @returns {Promise<SelectionHandle>}
 */
export async function connectSelection(model, host, { ms = 80, signal } = {}) {
  const ref = model.get("selection");
  if (!ref || !host || typeof host.getModel !== "function") {
    throw new Error("attnwidget: this view has no selection model (anywidget >= 0.11 with host.getModel is needed)");
  }
  const sel = await host.getModel(ref);
  const save = throttle(() => sel.save_changes(), ms);
  signal?.addEventListener("abort", () => save.cancel());
  return {
    model: sel,
    get: (name) => sel.get(name),
    set(values, { immediate = false } = {}) {
      let changed = false;
      for (const [k, v] of Object.entries(values)) {
        if (sel.get(k) !== v) { sel.set(k, v); changed = true; }
      }
      if (!changed) return;
      if (immediate) { save.cancel(); sel.save_changes(); } else save();
    },
    on(names, fn) {
      for (const n of names) sel.on(`change:${n}`, fn);
      signal?.addEventListener("abort", () => { for (const n of names) sel.off(`change:${n}`, fn); });
    },
  };
}

/**
 * The query row whose attention produced generated token `step` (0-based): the row of the token
 * before it. The same rule as Python's `aw.extraction.generation_step_row` (tests/widgets/test_js_parity.py).
 * @param {number} nPrompt
 * @param {number} step
 * @returns {number}
 */
export function generationStepRow(nPrompt, step) {
  return nPrompt - 1 + step;
}
