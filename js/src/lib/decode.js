// @ts-check
// Binary payloads from the kernel ({dtype, shape, data, ...}) to typed arrays: the one place that
// reads buffers. Kernels deliver DataViews; exported pages may deliver ArrayBuffers or typed arrays.

/** @typedef {import("./types.js").BinaryData} BinaryData */
/** @typedef {import("./types.js").ArrayPayload} ArrayPayload */
/** @typedef {import("./types.js").DecodedArray} DecodedArray */
/** @typedef {import("./types.js").MapPayload} MapPayload */
/** @typedef {import("./types.js").DecodedMaps} DecodedMaps */

/**
 * @param {unknown} data
 * @returns {Uint8Array}
 */
function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`attnwidget: expected binary data (DataView or ArrayBuffer), got ${typeof data}`);
}

const F16_EXP = new Float32Array(32);
for (let e = 0; e < 32; e++) F16_EXP[e] = Math.pow(2, e - 15);

/**
 * One IEEE 754 half-precision bit pattern to a number.
 * @param {number} h
 * @returns {number}
 */
export function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * Math.pow(2, -24); // subnormal
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * F16_EXP[exp] * (1 + frac / 1024);
}

/** @type {Float32Array | null} */
let HALF_TABLE = null;
function halfTable() {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) HALF_TABLE[i] = halfToFloat(i);
  }
  return HALF_TABLE;
}

/** @param {readonly number[]} shape */
function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Decode a payload to `{ shape, values: Float32Array, ...extras }`.
 * uint8 payloads with `encoding: "sqrt"` decode each map as `scale * (q / 255) ** 2`, one scale
 * per leading index (`scale_shape`).
 * @param {ArrayPayload} payload
 * @returns {DecodedArray}
 */
export function decode(payload) {
  if (!payload || typeof payload !== "object" || !Array.isArray(payload.shape)) {
    throw new TypeError("attnwidget: a payload needs {dtype, shape, data}");
  }
  const { dtype, shape, data, ...extras } = payload;
  const bytes = bytesOf(data);
  const n = product(shape);
  let values;
  if (dtype === "float16") {
    if (bytes.byteLength !== n * 2) throw new RangeError(`float16 payload of shape [${shape}] needs ${n * 2} bytes, got ${bytes.byteLength}`);
    const table = halfTable();
    // Copy when unaligned: Uint16Array views need an even byte offset.
    const src = bytes.byteOffset % 2 ? new Uint8Array(bytes) : bytes;
    const halves = new Uint16Array(src.buffer, src.byteOffset, n);
    values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = table[halves[i]];
  } else if (dtype === "float32") {
    if (bytes.byteLength !== n * 4) throw new RangeError(`float32 payload of shape [${shape}] needs ${n * 4} bytes, got ${bytes.byteLength}`);
    const src = bytes.byteOffset % 4 ? new Uint8Array(bytes) : bytes;
    values = new Float32Array(src.buffer.slice(src.byteOffset, src.byteOffset + n * 4));
  } else if (dtype === "uint8") {
    if (bytes.byteLength !== n) throw new RangeError(`uint8 payload of shape [${shape}] needs ${n} bytes, got ${bytes.byteLength}`);
    values = new Float32Array(n);
    if (extras.encoding === "sqrt") {
      const scales = extras.scale;
      if (!Array.isArray(scales) || !scales.length) throw new TypeError("attnwidget: a sqrt-encoded uint8 payload needs its `scale` list");
      const per = n / Math.max(1, scales.length);
      for (let i = 0; i < n; i++) {
        const q = bytes[i] / 255;
        values[i] = scales[Math.floor(i / per)] * q * q;
      }
    } else {
      for (let i = 0; i < n; i++) values[i] = bytes[i];
    }
  } else {
    throw new TypeError(`attnwidget: unknown payload dtype ${JSON.stringify(dtype)}`);
  }
  return { shape, values, ...extras };
}

/**
 * The `index`-th sub-array along the first axis (a view, not a copy).
 * @param {{ shape: number[], values: Float32Array }} decoded
 * @param {number} index
 * @returns {Float32Array}
 */
export function slice0(decoded, index) {
  const per = product(decoded.shape.slice(1));
  return decoded.values.subarray(index * per, (index + 1) * per);
}

// ------------------------------------------------------------------ coded maps
// The twin of attnwidget/widgets/payload.py: a map payload carries its own coding constants
// ({coding, floor, levels, cells, compression, shape, data}); nothing here repeats them.

/**
 * Inflate zlib ("deflate") or raw deflate ("deflate-raw") bytes with the browser's DecompressionStream.
 * @param {Uint8Array} bytes
 * @param {"deflate" | "deflate-raw"} [format]
 * @returns {Promise<Uint8Array>}
 */
export async function inflate(bytes, format = "deflate") {
  const stream = new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (bytes)]).stream().pipeThrough(new DecompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// How a joinable raw deflate stream ends (attnwidget/widgets/payload.py `deflate_joinable`): a sync
// flush's empty stored block, then an empty final block.
const JOINABLE_END = [0x00, 0x00, 0xff, 0xff, 0x03, 0x00];

/** @param {Uint8Array} bytes */
function joinable(bytes) {
  const n = bytes.length;
  return n >= 6 && JOINABLE_END.every((b, i) => bytes[n - 6 + i] === b);
}

/**
 * Cells a payload sends: every cell of its shape, or with `cells: "causal"` those of row i up to
 * key i + K - Q in each map.
 * @param {MapPayload} payload
 * @returns {number}
 */
export function sentCells(payload) {
  const shape = payload.shape;
  if (payload.cells !== "causal") return product(shape);
  const q = shape[shape.length - 2], k = shape[shape.length - 1];
  let perMap = 0;
  for (let i = 0; i < q; i++) perMap += Math.max(0, Math.min(k, i + k - q + 1));
  return product(shape.slice(0, -2)) * perMap;
}

/**
 * Inflated bytes of one payload's data.
 * @param {MapPayload} payload
 * @returns {Promise<Uint8Array>}
 */
async function inflatePayload(payload) {
  const raw = bytesOf(payload.data);
  const { compression } = payload;
  if (compression === "deflate" || compression === "deflate-raw") return inflate(raw, compression);
  if (compression) throw new TypeError(`attnwidget: unknown compression ${JSON.stringify(compression)}`);
  return raw;
}

/**
 * Inflated bytes of many map payloads. Joinable raw deflate streams (what payload.py writes) are
 * joined and inflated through one DecompressionStream: each inflate costs milliseconds of stream
 * setup whatever its size, and a data model holds hundreds of small maps. The others, and every
 * payload when the joined bytes do not split as the shapes say, are inflated one by one (so a
 * corrupt payload is named by its own error).
 * @param {MapPayload[]} payloads
 * @returns {Promise<Uint8Array[]>}
 */
export async function inflateMaps(payloads) {
  /** @type {(Uint8Array | Promise<Uint8Array> | null)[]} */
  const out = payloads.map(() => null);
  /** @type {{ i: number, bytes: Uint8Array, size: number }[]} */
  const parts = [];
  payloads.forEach((p, i) => {
    const bytes = p && typeof p === "object" && p.compression === "deflate-raw" ? bytesOf(p.data) : null;
    if (bytes && joinable(bytes) && Array.isArray(p.shape)) {
      parts.push({ i, bytes, size: sentCells(p) * (p.coding === "float16" ? 2 : 1) });
    } else {
      out[i] = inflatePayload(p);
    }
  });
  if (parts.length === 1) out[parts[0].i] = inflate(parts[0].bytes, "deflate-raw");
  else if (parts.length > 1) {
    const joined = new Uint8Array(parts.reduce((n, p) => n + p.bytes.length - 2, 2));
    let at = 0;
    for (const p of parts) {
      joined.set(p.bytes.subarray(0, p.bytes.length - 2), at);
      at += p.bytes.length - 2;
    }
    joined.set([0x03, 0x00], at);
    const raw = await inflate(joined, "deflate-raw").catch(() => null);
    if (raw && raw.length === parts.reduce((n, p) => n + p.size, 0)) {
      let from = 0;
      for (const p of parts) {
        out[p.i] = raw.subarray(from, from + p.size);
        from += p.size;
      }
    } else {
      for (const p of parts) out[p.i] = inflate(p.bytes, "deflate-raw");
    }
  }
  return Promise.all(/** @type {(Uint8Array | Promise<Uint8Array>)[]} */ (out));
}

/**
 * Value of each log8 code: 0 -> 0, k in 1..levels -> floor * step^(k-1), others NaN.
 * @param {number} floor
 * @param {number} levels
 * @returns {Float32Array}
 */
export function log8Table(floor, levels) {
  const step = Math.pow(1 / floor, 1 / (levels - 1));
  const table = new Float32Array(256).fill(NaN);
  table[0] = 0;
  for (let k = 1; k <= levels; k++) table[k] = floor * Math.pow(step, k - 1);
  return table;
}

/** @type {Map<string, Float32Array>} */
const LOG8_TABLES = new Map();

/**
 * `log8Table`, made once per (floor, levels): every map of a data model shares its constants.
 * @param {number} floor
 * @param {number} levels
 */
function cachedLog8Table(floor, levels) {
  const id = `${floor}|${levels}`;
  let table = LOG8_TABLES.get(id);
  if (!table) LOG8_TABLES.set(id, table = log8Table(floor, levels));
  return table;
}

/**
 * Half a log8 level either way, as a fraction of the value (what a coded weight may be off by).
 * @param {number} floor
 * @param {number} levels
 * @returns {number}
 */
export function log8Precision(floor, levels) {
  return Math.sqrt(Math.pow(1 / floor, 1 / (levels - 1))) - 1;
}

/**
 * A log8 payload's floor and number of levels; without them every code would decode to NaN.
 * @param {MapPayload} payload
 * @returns {[number, number]}
 */
function log8Constants({ floor, levels }) {
  if (!(typeof floor === "number" && floor > 0 && floor < 1) || !(Number.isInteger(levels) && Number(levels) > 1)) {
    throw new TypeError(`attnwidget: a log8 map payload needs floor in (0, 1) and levels > 1; got ${floor}, ${levels}`);
  }
  return [floor, Number(levels)];
}

/** Cell values of inflated bytes in the payload's coding. */
/**
 * @param {MapPayload} payload
 * @param {Uint8Array} raw
 * @returns {Float32Array}
 */
function cellValues(payload, raw) {
  if (payload.coding === "float16") {
    const table = halfTable();
    const src = raw.byteOffset % 2 ? new Uint8Array(raw) : raw;
    const halves = new Uint16Array(src.buffer, src.byteOffset, raw.byteLength >> 1);
    const out = new Float32Array(halves.length);
    for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]];
    return out;
  }
  if (payload.coding === "log8") {
    const table = cachedLog8Table(...log8Constants(payload));
    const out = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = table[raw[i]];
    return out;
  }
  throw new TypeError(`attnwidget: unknown map coding ${JSON.stringify(payload.coding)}`);
}

/**
 * Spread causal cells (row i holds keys 0..i+K-Q) back into full Q x K maps, masked cells 0.
 * @param {Float32Array} cells
 * @param {readonly number[]} shape
 * @returns {Float32Array}
 */
export function spreadCausal(cells, shape) {
  const q = shape[shape.length - 2], k = shape[shape.length - 1];
  const maps = product(shape.slice(0, -2));
  const out = new Float32Array(maps * q * k);
  let src = 0;
  for (let m = 0; m < maps; m++) {
    const base = m * q * k;
    for (let i = 0; i < q; i++) {
      const n = Math.max(0, Math.min(k, i + k - q + 1));
      out.set(cells.subarray(src, src + n), base + i * k);
      src += n;
    }
  }
  if (src !== cells.length) throw new RangeError(`causal map payload of shape [${shape}] needs ${src} cells, got ${cells.length}`);
  return out;
}

/**
 * The relative error of a payload's coded values: half a log8 level, 0 for float16.
 * @param {MapPayload} payload
 * @returns {number}
 */
export function mapPrecision(payload) {
  return payload.coding === "log8" ? log8Precision(...log8Constants(payload)) : 0;
}

/** @param {MapPayload} payload */
function checkMapPayload(payload) {
  if (!payload || typeof payload !== "object" || !Array.isArray(payload.shape) || !payload.coding) {
    throw new TypeError("attnwidget: a map payload needs {coding, shape, data}");
  }
}

/**
 * Refuse inflated bytes that do not hold the cells a payload's shape says (or an unknown coding),
 * before anything is drawn from them.
 * @param {MapPayload} payload
 * @param {Uint8Array} raw
 */
export function checkInflated(payload, raw) {
  checkMapPayload(payload);
  if (payload.coding === "log8") log8Constants(payload);
  else if (payload.coding !== "float16") throw new TypeError(`attnwidget: unknown map coding ${JSON.stringify(payload.coding)}`);
  const width = payload.coding === "float16" ? 2 : 1;
  const want = sentCells(payload);
  if (raw.length !== want * width) {
    throw new RangeError(`map payload of shape [${payload.shape}] needs ${want} cells, got ${Math.floor(raw.length / width)}`);
  }
}

/**
 * Decode a map payload from its inflated bytes (see `inflateMaps`) to `{ shape, values:
 * Float32Array, precision, ...extras }`.
 * @param {MapPayload} payload
 * @param {Uint8Array} raw
 * @returns {DecodedMaps}
 */
export function decodeInflated(payload, raw) {
  checkMapPayload(payload);
  const cells = cellValues(payload, raw);
  const shape = payload.shape;
  let values;
  if (payload.cells === "causal") values = spreadCausal(cells, shape);
  else if (cells.length !== product(shape)) throw new RangeError(`map payload of shape [${shape}] needs ${product(shape)} cells, got ${cells.length}`);
  else values = cells;
  const precision = mapPrecision(payload);
  const { data, coding, floor, levels, cells: _cells, compression, ...extras } = payload;
  return { ...extras, shape, values, precision };
}

/**
 * Decode a map payload to `{ shape, values: Float32Array, precision, ...extras }`, where
 * `precision` is the relative error of a coded value (0 for float16, which keeps three
 * significant digits) and `extras` are the payload's other fields (e.g. rollout `rows`).
 * @param {MapPayload} payload
 * @returns {Promise<DecodedMaps>}
 */
export async function decodeMaps(payload) {
  checkMapPayload(payload);
  return decodeInflated(payload, await inflatePayload(payload));
}
