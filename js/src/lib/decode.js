// Binary payloads from the kernel ({dtype, shape, data, ...}) to typed arrays: the one place that
// reads buffers. Kernels deliver DataViews; exported pages may deliver ArrayBuffers or typed arrays.

function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`attnwidget: expected binary data (DataView or ArrayBuffer), got ${typeof data}`);
}

const F16_EXP = new Float32Array(32);
for (let e = 0; e < 32; e++) F16_EXP[e] = Math.pow(2, e - 15);

/** One IEEE 754 half-precision bit pattern to a number. */
export function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * Math.pow(2, -24); // subnormal
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * F16_EXP[exp] * (1 + frac / 1024);
}

let HALF_TABLE = null;
function halfTable() {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) HALF_TABLE[i] = halfToFloat(i);
  }
  return HALF_TABLE;
}

function product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Decode a payload to `{ shape, values: Float32Array, ...extras }`.
 * uint8 payloads with `encoding: "sqrt"` decode each map as `scale * (q / 255) ** 2`, one scale
 * per leading index (`scale_shape`).
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

/** The `index`-th sub-array along the first axis (a view, not a copy). */
export function slice0(decoded, index) {
  const per = product(decoded.shape.slice(1));
  return decoded.values.subarray(index * per, (index + 1) * per);
}
