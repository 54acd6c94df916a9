// @ts-check
// The browser side of attnwidget/widgets/data.py: a view's handle on the shared data model that
// holds the coded maps of its attention, and the view is told when new maps arrive. The maps of
// one `_maps` value are inflated together (one DecompressionStream, see decode.js `inflateMaps`)
// once per module instance: the views a dashboard draws share one instance, so they share the
// inflated bytes. A map is decoded to floats when a view first asks for it.
import { checkInflated, decodeInflated, inflateMaps, mapPrecision } from "./decode.js";

/** @typedef {import("./types.js").DecodedMaps} DecodedMaps */
/** @typedef {import("./types.js").MapPayload} MapPayload */

/**
 * One held map: its payload and inflated bytes until first asked for, then its decoded values.
 * @typedef {{ payload: MapPayload | null, raw: Uint8Array | null, precision: number,
 *   decoded: DecodedMaps | null }} HeldMap
 */

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

// Held maps by the `_maps` value they were read from. Keyed by the value, not the model: every
// view of a data model reads the same value object (whatever proxy of the model it holds), and a
// value a newer update replaced is dropped with it. A cache of what a value holds, not shared
// state: views still hear of updates through their own model listeners.
/** @type {WeakMap<object, Promise<Map<string, HeldMap>>>} */
const HELD = new WeakMap();

/**
 * The held maps of one `_maps` state value (`{ keys, total, max_bytes, factor, hide,
 * row_normalize, precision, maps: [{coding, shape, data, ...}] }`), by `key|version`, inflated
 * but not yet decoded. `cache` (the previous value's maps) is reused, so an update inflates only
 * the maps it adds; every caller with the same value gets the same promise.
 * @param {HeldMaps | null | undefined} info
 * @param {Map<string, HeldMap>} [cache]
 * @returns {Promise<Map<string, HeldMap>>}
 */
export function heldMaps(info, cache = new Map()) {
  if (!info || typeof info !== "object") return Promise.resolve(new Map());
  let held = HELD.get(info);
  if (!held) {
    held = readHeld(info, cache);
    HELD.set(info, held);
  }
  return held;
}

/**
 * @param {HeldMaps} info
 * @param {Map<string, HeldMap>} cache
 * @returns {Promise<Map<string, HeldMap>>}
 */
async function readHeld(info, cache) {
  const keys = info.keys ?? [];
  const v = version(info);
  /** @type {Map<string, HeldMap>} */
  const next = new Map();
  /** @type {[string, MapPayload][]} */
  const fresh = [];
  keys.forEach((key, i) => {
    const id = `${key}|${v}`;
    const old = cache.get(id);
    if (old) next.set(id, old);
    else fresh.push([id, /** @type {MapPayload[]} */ (info.maps)[i]]);
  });
  const raws = await inflateMaps(fresh.map(([, payload]) => payload));
  fresh.forEach(([id, payload], i) => {
    checkInflated(payload, raws[i]);
    next.set(id, { payload, raw: raws[i], precision: mapPrecision(payload), decoded: null });
  });
  return next;
}

/**
 * The decoded values of a held map (decoded on first use).
 * @param {HeldMap} held
 * @returns {DecodedMaps}
 */
export function decodedOf(held) {
  if (!held.decoded) {
    held.decoded = decodeInflated(/** @type {MapPayload} */ (held.payload), /** @type {Uint8Array} */ (held.raw));
    held.payload = null;
    held.raw = null;
  }
  return held.decoded;
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
  let held = await heldMaps(info);
  let seq = 0;
  /** @type {(() => void)[]} */
  const listeners = [];
  const update = async () => {
    const mine = ++seq;
    const next = data.get("_maps") ?? {};
    const maps = await heldMaps(next, held);
    if (mine !== seq || signal?.aborted) return; // a newer update is on its way
    info = next;
    held = maps;
    for (const fn of listeners) fn();
  };
  data.on("change:_maps", update);
  signal?.addEventListener("abort", () => data.off("change:_maps", update));
  return {
    model: data,
    get(key) {
      const h = held.get(`${key}|${version(info)}`);
      return h ? decodedOf(h).values : null;
    },
    /** Relative error of a held weight (0 for float16 maps). */
    precision() {
      const first = held.values().next().value;
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

// Coded payloads of views' own traits, inflated once per payload object by this module instance
// and decoded when first asked for (a grid's thumbnails for the other hiding may never be drawn).
/** @type {WeakMap<object, HeldMap>} */
const INFLATED = new WeakMap();
/** @type {WeakMap<object, Promise<void>>} */
const INFLATING = new WeakMap();

/**
 * Coded payloads in a view's own traits (thumbnails, rollout), decoded once per payload object.
 * `ready(names)` inflates those the traits hold now (together); `get(payload)` gives the decoded
 * `{shape, values, precision, ...extras}`, or null while it is still being inflated.
 * @param {Pick<import("./types.js").WidgetModel, "get">} model
 * @returns {{ ready: (names: string[]) => Promise<void>, get: (p: any) => DecodedMaps | null }}
 */
export function payloadCache(model) {
  return {
    async ready(names) {
      const held = names.map((n) => model.get(n)).filter((p) => p && typeof p === "object" && p.coding);
      const fresh = held.filter((p) => !INFLATED.has(p) && !INFLATING.has(p));
      if (fresh.length) {
        const done = inflateMaps(fresh).then((raws) => {
          fresh.forEach((p, i) => {
            checkInflated(p, raws[i]);
            INFLATED.set(p, { payload: p, raw: raws[i], precision: mapPrecision(p), decoded: null });
          });
        });
        for (const p of fresh) INFLATING.set(p, done);
      }
      await Promise.all(held.filter((p) => !INFLATED.has(p)).map((p) => INFLATING.get(p)));
    },
    get(p) {
      const held = p ? INFLATED.get(p) : undefined;
      return held ? decodedOf(held) : null;
    },
  };
}
