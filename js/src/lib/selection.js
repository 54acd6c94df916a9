// Glue between a view and the shared selection model. No module globals: each call gets its own
// state, because each widget's ESM may be a separate module instance.

/**
 * Trailing throttle: calls fn at most once per `ms`, always with the latest arguments.
 */
export function throttle(fn, ms) {
  let timer = null, last = 0, pending = null;
  const run = () => {
    timer = null;
    last = Date.now();
    const args = pending;
    pending = null;
    fn(...args);
  };
  const wrapped = (...args) => {
    pending = args;
    if (timer) return;
    const wait = Math.max(0, ms - (Date.now() - last));
    timer = setTimeout(run, wait);
  };
  wrapped.cancel = () => { if (timer) clearTimeout(timer); timer = null; pending = null; };
  return wrapped;
}

/**
 * Resolve the view's selection model (an "anywidget:<id>" reference) through the host. Returns
 * an object with get/set/on for the selection; `set` updates linked views at once and sends to
 * the kernel at most every `ms` milliseconds (hover moves fast; the kernel needs only the latest).
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
 */
export function generationStepRow(nPrompt, step) {
  return nPrompt - 1 + step;
}
