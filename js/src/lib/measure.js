// @ts-check
// Which measure a view draws (attnwidget/widgets/measure.py): attention weights, or the
// value-weighted norms of the same text when the view was given `norms=` (a second data model,
// `norms_data`). The view's `measure` trait picks the set; this reads from the one it names.
import { connectMaps } from "./store.js";

/** Options of the "measure" select: [value, label]. */
export const MEASURE_OPTIONS = [["weights", "weights"], ["norms", "norms ‖α·f(x)‖"]];
export const MEASURE_HELP = "attention weights, or value-weighted norms ‖α_ij f(x_j)‖ (each row divided by its sum)";
/** Legend note while norms are drawn. */
export const NORMS_NOTE = "norms ‖α_ij f(x_j)‖, each row divided by its sum";

/**
 * `connectMaps` for a view that may hold both measures. Returns `{ get, info, precision, on,
 * measure(), hasNorms }`: `get`, `info` and `precision` read the set `measure()` names; `on(fn)`
 * runs `fn` after either set updates and when the `measure` trait changes.
 * @param {import("./types.js").WidgetModel} model
 * @param {import("./types.js").Host | null | undefined} host
 * @param {{ signal?: AbortSignal }} [options]
 */
export async function connectMeasured(model, host, { signal } = {}) {
  const weights = await connectMaps(model, host, { signal });
  const norms = model.get("norms_data") ? await connectMaps(model, host, { signal, trait: "norms_data" }) : null;
  const measure = () => (norms && model.get("measure") === "norms" ? "norms" : "weights");
  const current = () => (norms && measure() === "norms" ? norms : weights);
  return {
    hasNorms: norms !== null,
    measure,
    get: (/** @type {string} */ key) => current().get(key),
    info: () => current().info(),
    precision: () => current().precision(),
    /** @param {() => void} fn */
    on(fn) {
      weights.on(fn);
      norms?.on(fn);
      model.on("change:measure", fn);
      signal?.addEventListener("abort", () => model.off("change:measure", fn));
    },
  };
}
