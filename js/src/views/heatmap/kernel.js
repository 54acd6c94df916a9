// @ts-check
// What the heatmap asks the kernel for: full-resolution tiles (lib/tiles.js protocol) and the exact
// weight of one cell. Without an answer within NO_KERNEL_MS the page has no kernel (an exported
// page) and nothing more is asked.
import { TILE, tileId, tileRequest, isTileReply, readTileReply, tileFromPayload } from "../../lib/tiles.js";
import { LRU } from "../../lib/viewport.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {import("../../lib/tiles.js").Tile} Tile */
/** @typedef {import("../../lib/tiles.js").TileOptions} TileOptions */

/** Decoded tiles kept. */
export const TILE_CACHE = 48;
/** Exact cell values kept. */
export const EXACT_CACHE = 4096;
/** Without an answer this long, the page has no kernel: say so instead of waiting. */
export const NO_KERNEL_MS = 2500;

export class KernelLink {
  /**
   * @param {WidgetModel} model
   * @param {object} wiring
   * @param {number} wiring.nQuery
   * @param {number} wiring.nKey
   * @param {(key: string) => TileOptions} wiring.options  What a map's tiles depend on now.
   * @param {() => void} wiring.onTiles  A tile arrived, or the kernel was found missing.
   * @param {(message: string) => void} wiring.onRefused  The kernel refused a tile.
   * @param {(id: string) => void} wiring.onValue  An exact value (or its refusal) arrived.
   * @param {AbortSignal} wiring.signal
   */
  constructor(model, { nQuery, nKey, options, onTiles, onRefused, onValue, signal }) {
    this.model = model;
    this.extent = { nQuery, nKey };
    this.options = options;
    this.signal = signal;
    /** @type {LRU<string, Tile>} */
    this.tiles = new LRU(TILE_CACHE);
    /** @type {Map<string, number>} tile id -> time requested */
    this.pending = new Map();
    /** @type {LRU<string, number>} */
    this.exact = new LRU(EXACT_CACHE);
    /** @type {string | null} the exact value asked for last */
    this.asked = null;
    this.kernelSeen = false;
    this.noKernel = false;
    /** @param {any} msg @param {any} buffers */
    const onMessage = (msg, buffers) => {
      if (isTileReply(msg)) {
        this.kernelSeen = true;
        const reply = readTileReply(msg, buffers);
        this.pending.delete(reply.id);
        if (reply.error !== undefined) { onRefused(reply.error); return; }
        this.tiles.set(reply.id, reply.tile);
        onTiles();
      } else if (msg && (msg.type === "value" || msg.type === "value-error")) {
        this.kernelSeen = true;
        if (this.asked === msg.id) this.asked = null;
        if (msg.type === "value") this.exact.set(msg.id, msg.value);
        onValue(msg.id);
      }
    };
    model.on("msg:custom", onMessage);
    signal.addEventListener("abort", () => model.off("msg:custom", onMessage));
    this.onTiles = onTiles;
  }

  /** Run `fn` after `ms` unless the view is removed first.
   * @param {() => void} fn @param {number} ms */
  later(fn, ms) {
    const timer = setTimeout(fn, ms);
    this.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }

  /** The id of cell (i, j) of map `key` (a tile's id at that origin, the form the kernel echoes).
   * @param {string} key @param {number} i @param {number} j */
  cellId(key, i, j) { return tileId(this.options(key), i, j); }

  /** The tile of map `key` at (r0, c0) if held.
   * @param {string} key @param {number} r0 @param {number} c0 @returns {Tile | undefined} */
  tile(key, r0, c0) { return this.tiles.get(this.cellId(key, r0, c0)); }

  /** Ask for the tile of map `key` at (r0, c0) once.
   * @param {string} key @param {number} r0 @param {number} c0 */
  requestTile(key, r0, c0) {
    const opts = this.options(key);
    const id = tileId(opts, r0, c0);
    if (this.tiles.has(id) || this.pending.has(id) || this.noKernel) return;
    this.pending.set(id, Date.now());
    this.model.send(tileRequest(opts, r0, c0, this.extent));
    this.later(() => {
      if (!this.kernelSeen && this.pending.has(id)) { this.noKernel = true; this.pending.clear(); this.onTiles(); }
    }, NO_KERNEL_MS);
  }

  /** Tiles the kernel served before (an exported page keeps them in `_tiles`).
   * @param {any[] | null | undefined} payloads */
  adopt(payloads) {
    for (const p of payloads ?? []) {
      if (this.tiles.has(p.id)) continue;
      this.tiles.set(p.id, tileFromPayload(p));
    }
  }

  /** The exact value of cell (i, j) of map `key` if the kernel sent it.
   * @param {string} key @param {number} i @param {number} j @returns {number | undefined} */
  exactValue(key, i, j) { return this.exact.get(this.cellId(key, i, j)); }

  /** Ask for the exact value of cell (i, j) of map `key` (one request per cell).
   * @param {string} key @param {number} i @param {number} j */
  askExact(key, i, j) {
    const id = this.cellId(key, i, j);
    if (this.noKernel || this.exact.has(id) || this.asked === id) return;
    this.asked = id;
    const { measure, hide, rowNormalize } = this.options(key);
    this.model.send({ type: "value", id, key, measure, i, j, hide, row_normalize: rowNormalize });
    this.later(() => { if (!this.kernelSeen && this.asked === id) this.noKernel = true; }, NO_KERNEL_MS);
  }
}

export { TILE };
