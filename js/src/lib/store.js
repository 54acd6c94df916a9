// @ts-check
// The browser side of attnwidget/widgets/data.py: a view's handle on the shared data model that
// holds the coded maps of its attention. Each map is inflated and decoded once (per view: each
// widget's ESM is its own module instance) and the view is told when new maps arrive.
import { decodeMaps } from "./decode.js";

/** @typedef {import("./types.js").DecodedMaps} DecodedMaps */

/**
 * A data model's `_maps` state: the maps it holds (by key), and what they were made with.
 * @typedef {{ keys?: string[], total?: number, max_bytes?: number, factor?: number, hide?: number[],
 *   row_normalize?: boolean, precision?: string, maps?: import("./types.js").MapPayload[] }} HeldMaps
 */

/**
 * A view's handle on its data model (what `connectMaps` returns).
 * @typedef {object} MapsHandle
 * @property {import("./types.js").WidgetModel} model
 * @property {(key: string) => Float32Array | null} get
 * @property {() => number} precision
 * @property {() => HeldMaps} info
 * @property {(fn: () => void) => void} on
 * @param {number} layer
 * @param {number | null | undefined} head
 * @param {string} fusion
 * @returns {string}
 */

export function mapKey(layer, head, fusion) {
  return `${layer}/${head === null || head === undefined ? fusion : head}`;
}

/** What a held map's content depends on besides its key (pooled overviews carry options). */
/** @param {HeldMaps} info */
function version(info) {
  return `${info.factor ?? 1}|${(info.hide ?? []).join(",")}|${info.row_normalize ? 1 : 0}|${info.precision ?? ""}`;
}

/**
 * Decoded maps of one `_maps` state value: `{ keys, total, max_bytes, factor, hide, row_normalize,
 * precision, maps: [{coding, shape, data, ...}] }`. `cache` (key|version -> decoded) is reused
 * across updates, so an update decodes only the maps it adds.
 * @param {HeldMaps | null | undefined} info
 * @param {Map<string, DecodedMaps>} [cache]
 * @returns {Promise<Map<string, DecodedMaps>>}
 */
export async function decodeHeld(info, cache = new Map()) {
  const keys = info?.keys ?? [];
  const v = version(info ?? {});
  /** @type {Map<string, DecodedMaps>} */
  const next = new Map();
  await Promise.all(keys.map(async (key, i) => {
    const id = `${key}|${v}`;
    next.set(id, cache.get(id) ?? await decodeMaps(/** @type {import("./types.js").MapPayload[]} */ (info?.maps)[i]));
  }));
  return next;
}

/**
 * Resolve the view's data model (its `data` trait, an "anywidget:<id>" reference) and decode the
 * held maps. Returns `{ get(key), precision(), info(), on(fn) }`: `get` gives the decoded map
 * (Float32Array, rows x cols; masked cells 0, pooled blocks with no visible cell NaN) or null
 * when it is not held; `on(fn)` calls `fn` after each update has been decoded. `trait` names the
 * view's reference to the data model (`norms_data`: the value-weighted maps of the same text).
 * @param {import("./types.js").WidgetModel} model
 * @param {import("./types.js").Host | null | undefined} host
 * @param {{ signal?: AbortSignal, trait?: string }} [options]
 * @returns {Promise<MapsHandle>}
 */
export async function connectMaps(model, host, { signal, trait = "data" } = {}) {
  const ref = model.get(trait);
  if (!ref || !host || typeof host.getModel !== "function") {
    throw new Error("attnwidget: this view has no data model (anywidget >= 0.11 with host.getModel is needed)");
  }
  const data = await host.getModel(ref);
  let info = data.get("_maps") ?? {};
  let decoded = await decodeHeld(info);
  let seq = 0;
  /** @type {(() => void)[]} */
  const listeners = [];
  const update = async () => {
    const mine = ++seq;
    const next = data.get("_maps") ?? {};
    const maps = await decodeHeld(next, decoded);
    if (mine !== seq || signal?.aborted) return; // a newer update is on its way
    info = next;
    decoded = maps;
    for (const fn of listeners) fn();
  };
  data.on("change:_maps", update);
  signal?.addEventListener("abort", () => data.off("change:_maps", update));
  return {
    model: data,
    get(key) {
      const d = decoded.get(`${key}|${version(info)}`);
      return d ? d.values : null;
    },
    /** Relative error of a held weight (0 for float16 maps). */
    precision() {
      const first = decoded.values().next().value;
      return first ? first.precision : 0;
    },
    info: () => info,
    on(fn) { listeners.push(fn); },
  };
}

/**
 * Message shown when the selected map is not in the data model (exported page or kernel busy).
 * @param {HeldMaps} info
 * @param {string} key
 * @returns {string}
 */
export function missingMapText(info, key) {
  const mb = ((info.max_bytes ?? 0) / 2 ** 20).toFixed(2);
  return `The map for layer ${key.replace("/", ", head ")} is not in this page's data: it holds ${info.keys?.length ?? 0} ` +
    `of ${info.total ?? "?"} maps (max_bytes = ${mb} MB). With a running kernel it arrives in a moment; an exported ` +
    `page keeps the maps it was saved with (raise max_bytes to keep more).`;
}

/**
 * A weight as text: exact weights with three significant digits, coded ones with their precision.
 * @param {number} v
 * @param {number} [precision]
 * @returns {string}
 */
export function formatWeight(v, precision = 0) {
  if (!(v > 0)) return v === 0 ? "0" : String(v);
  // Below 1e-3, 6.95e-6 reads better than 0.00000695 (rollout bars reach 1e-8).
  const text = v < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
  if (!precision) return text;
  return `≈ ${text} (±${(precision * 100).toFixed(1)}%, coded)`;
}

/**
 * Coded payloads in a view's own traits (thumbnails, rollout), decoded once per payload object.
 * `ready(names)` decodes those the traits hold now; `get(payload)` gives the decoded
 * `{shape, values, precision, ...extras}`, or null while it is still being decoded.
 * @param {Pick<import("./types.js").WidgetModel, "get">} model
 * @returns {{ ready: (names: string[]) => Promise<void>, get: (p: any) => DecodedMaps | null }}
 */
export function payloadCache(model) {
  /** @type {WeakMap<object, DecodedMaps>} */
  const cache = new WeakMap();
  return {
    async ready(names) {
      for (const n of names) {
        const p = model.get(n);
        if (p && p.coding && !cache.has(p)) cache.set(p, await decodeMaps(p));
      }
    },
    get: (p) => (p ? cache.get(p) ?? null : null),
  };
}
