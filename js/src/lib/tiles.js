// @ts-check
// The heatmap's full-resolution tiles, fetched from the kernel with custom messages: the browser
// half of AttentionHeatmap's tile protocol (attnwidget/widgets/heatmap.py `_on_msg`), pure.
//
//   request  {type: "tile", id, key, measure, r0, r1, c0, c1, hide, row_normalize}
//   reply    {type: "tile", id, key, r0, c0, dtype: "float16", shape: [rows, cols]} + one buffer
//            {type: "tile-error", id, message}
//   kept     the view's `_tiles` trait: [{dtype, shape, data, id, key, r0, c0}] (the tiles served
//            last, so an exported page keeps them)
//
// tests/widgets/test_js_parity.py sends these messages to the Python view and reads its replies.
import { decode } from "./decode.js";

/** @typedef {import("./types.js").BinaryData} BinaryData */

/** Tiles are TILE x TILE cells (the last row and column of tiles may be smaller). */
export const TILE = 256;

/**
 * What a tile's content depends on: the map, the measure and the display options.
 * @typedef {object} TileOptions
 * @property {string} key  The map key, "layer/head" or "layer/mean" (max, min) (store.js `mapKey`).
 * @property {string} measure  "weights" or "norms".
 * @property {number[]} hide  Hidden key positions.
 * @property {boolean} rowNormalize  Each query row scaled to its own maximum.
 */

/**
 * A decoded tile: rows r0..r0+rows and keys c0..c0+cols of a map, row-major.
 * @typedef {{ id: string, values: Float32Array, r0: number, c0: number, rows: number, cols: number }} Tile
 */

/**
 * The message asking for one tile.
 * @typedef {{ type: "tile", id: string, key: string, measure: string, r0: number, r1: number,
 *   c0: number, c1: number, hide: number[], row_normalize: boolean }} TileRequest
 */

/**
 * A reply of the kernel to a tile request, decoded: a tile, or the kernel's refusal.
 * @typedef {{ id: string, tile: Tile, error?: undefined } | { id: string, error: string, tile?: undefined }} TileReply
 */

/**
 * The origin of the tile holding cell (i, j).
 * @param {number} i  Query row.
 * @param {number} j  Key column.
 * @param {number} [size]
 * @returns {{ r0: number, c0: number }}
 */
export function tileOrigin(i, j, size = TILE) {
  return { r0: Math.floor(i / size) * size, c0: Math.floor(j / size) * size };
}

/**
 * The cache key of the tile at (r0, c0): one per map, measure and display options. Norm maps are
 * set apart by a prefix; weights keep the plain form (tiles kept in `_tiles` carry these ids).
 * @param {TileOptions} options
 * @param {number} r0
 * @param {number} c0
 * @returns {string}
 */
export function tileId({ key, measure, hide, rowNormalize }, r0, c0) {
  return `${measure === "norms" ? "norms|" : ""}${key}|${hide.join(",")}|${rowNormalize ? 1 : 0}|${r0},${c0}`;
}

/**
 * The message asking the kernel for the tile at (r0, c0) of an nQuery x nKey map.
 * @param {TileOptions} options
 * @param {number} r0
 * @param {number} c0
 * @param {{ nQuery: number, nKey: number, size?: number }} extent
 * @returns {TileRequest}
 */
export function tileRequest(options, r0, c0, { nQuery, nKey, size = TILE }) {
  return {
    type: "tile",
    id: tileId(options, r0, c0),
    key: options.key,
    measure: options.measure,
    r0,
    r1: Math.min(nQuery, r0 + size),
    c0,
    c1: Math.min(nKey, c0 + size),
    hide: options.hide,
    row_normalize: options.rowNormalize,
  };
}

/**
 * Whether a custom message is a reply to a tile request (the heatmap gets other replies too).
 * @param {any} msg
 * @returns {boolean}
 */
export function isTileReply(msg) {
  return !!msg && (msg.type === "tile" || msg.type === "tile-error");
}

/**
 * A tile payload (a reply's fields with its buffer as `data`, or an entry of `_tiles`) decoded.
 * @param {{ id: any, r0: number, c0: number, dtype: "float16" | "float32" | "uint8", shape: number[], data: BinaryData }} payload
 * @returns {Tile}
 */
export function tileFromPayload(payload) {
  const { id, r0, c0, dtype, shape, data } = payload;
  if (!Array.isArray(shape) || shape.length !== 2) {
    throw new RangeError(`attnwidget: a tile is rows x cols; got shape ${JSON.stringify(shape)}`);
  }
  const values = decode({ dtype, shape, data }).values;
  return { id: String(id), values, r0, c0, rows: shape[0], cols: shape[1] };
}

/**
 * A reply decoded: `{id, tile}`, or `{id, error}` with the kernel's message. Call it only on
 * messages `isTileReply` accepts.
 * @param {any} msg
 * @param {BinaryData[] | undefined} buffers  The message's binary buffers (a tile's values in the first).
 * @returns {TileReply}
 */
export function readTileReply(msg, buffers) {
  if (msg.type === "tile-error") return { id: String(msg.id), error: String(msg.message) };
  if (!buffers || !buffers.length) throw new TypeError(`attnwidget: tile ${msg.id} came without its buffer`);
  return { id: String(msg.id), tile: tileFromPayload({ ...msg, data: buffers[0] }) };
}

/**
 * The value of cell (i, j) from a tile holding it.
 * @param {Tile} tile
 * @param {number} i
 * @param {number} j
 * @returns {number}
 */
export function tileValue(tile, i, j) {
  return tile.values[(i - tile.r0) * tile.cols + (j - tile.c0)];
}
