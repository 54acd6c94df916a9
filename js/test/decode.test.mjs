import test from "node:test";
import assert from "node:assert/strict";
import { decode, halfToFloat, slice0 } from "../src/lib/decode.js";

// Half-precision bit patterns of known values (IEEE 754 binary16).
const HALVES = [[0x0000, 0], [0x3c00, 1], [0x3800, 0.5], [0xc000, -2], [0x0001, 2 ** -24], [0x7bff, 65504], [0x2e66, 0.0999755859375]];

test("halfToFloat decodes normal, subnormal and signed values", () => {
  for (const [bits, want] of HALVES) assert.equal(halfToFloat(bits), want);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test("float16 payload from a DataView at an odd byte offset", () => {
  const raw = new Uint8Array(1 + HALVES.length * 2);
  const dv = new DataView(raw.buffer, 1, HALVES.length * 2);
  HALVES.forEach(([bits], i) => dv.setUint16(i * 2, bits, true));
  const out = decode({ dtype: "float16", shape: [HALVES.length], data: dv });
  assert.deepEqual(Array.from(out.values), HALVES.map(([, v]) => Math.fround(v)));
});

test("float32 payload keeps extras and slices along the first axis", () => {
  const src = new Float32Array([1, 2, 3, 4, 5, 6]);
  const out = decode({ dtype: "float32", shape: [3, 2], data: new DataView(src.buffer), keys: ["a", "b", "c"] });
  assert.deepEqual(out.keys, ["a", "b", "c"]);
  assert.deepEqual(Array.from(slice0(out, 1)), [3, 4]);
});

test("uint8 sqrt encoding decodes as scale * (q/255)^2 with one scale per map", () => {
  const q = new Uint8Array([0, 255, 51, 255, 0, 128, 255, 255]);
  const out = decode({ dtype: "uint8", shape: [2, 2, 2], data: q.buffer, encoding: "sqrt", scale: [1, 0.5] });
  const want = [0, 1, (51 / 255) ** 2, 1, 0, 0.5 * (128 / 255) ** 2, 0.5, 0.5];
  out.values.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-7, `cell ${i}: ${v} vs ${want[i]}`));
});

test("a payload whose byte length disagrees with its shape is refused", () => {
  assert.throws(() => decode({ dtype: "float16", shape: [3], data: new ArrayBuffer(4) }), /needs 6 bytes, got 4/);
  assert.throws(() => decode({ dtype: "int64", shape: [1], data: new ArrayBuffer(8) }), /unknown payload dtype/);
  assert.throws(() => decode({ dtype: "float32", shape: [1], data: [1, 2] }), /expected binary data/);
});

// ------------------------------------------------------------------ coded maps, inflated together
import zlib from "node:zlib";
import { decodeMaps, inflateMaps, sentCells, checkInflated } from "../src/lib/decode.js";
import { countingInflates } from "./helpers/inflates.mjs";

/** A joinable raw deflate stream, as attnwidget/widgets/payload.py `deflate_joinable` writes it. */
function joinableDeflate(bytes) {
  const body = zlib.deflateRawSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return new Uint8Array([...body, 0x03, 0x00]);
}

/** log8 payload of `codes` (one byte per cell). */
function log8(codes, shape, cells = "all", compression = "deflate-raw") {
  const raw = Uint8Array.from(codes);
  const data = compression === "deflate-raw" ? joinableDeflate(raw) : compression === "deflate" ? zlib.deflateSync(raw) : raw;
  return { coding: "log8", floor: 1e-6, levels: 254, cells, compression, shape, data: new DataView(data.buffer, data.byteOffset, data.byteLength) };
}

test("many joinable map payloads are inflated through one DecompressionStream", async () => {
  const payloads = Array.from({ length: 50 }, (_, m) => log8([0, m % 254 + 1, 254, 7, 9, 1], [3, 3], "causal"));
  payloads.push(log8([254, 1, 0, 2], [2, 2], "all", "deflate")); // zlib, as older pages hold: on its own
  payloads.push(log8([5, 6], [1, 2], "all", null)); // not compressed
  const [raws, inflates] = await countingInflates(() => inflateMaps(payloads));
  assert.equal(inflates, 2);
  raws.slice(0, 50).forEach((raw, m) => assert.deepEqual([...raw], [0, m % 254 + 1, 254, 7, 9, 1]));
  assert.deepEqual([...raws[50]], [254, 1, 0, 2]);
  assert.deepEqual([...raws[51]], [5, 6]);
  const one = await decodeMaps(payloads[3]);
  assert.deepEqual(one.shape, [3, 3]);
  assert.equal(one.values[1 * 3 + 2], 0, "a causal map's masked cell decodes as 0");
});

test("a payload whose cells disagree with its shape is named, even among joined ones", async () => {
  const good = log8([1, 2, 3, 4], [2, 2]);
  const bad = log8([1, 2, 3], [2, 2]);
  const [raws, inflates] = await countingInflates(() => inflateMaps([good, bad, good]));
  assert.equal(inflates, 4, "the joined bytes did not split as the shapes say: each inflated alone");
  checkInflated(good, raws[0]);
  assert.throws(() => checkInflated(bad, raws[1]), /shape \[2,2\] needs 4 cells, got 3/);
  assert.equal(sentCells({ coding: "log8", shape: [2, 3, 4], cells: "causal", data: new ArrayBuffer(0) }), 2 * (2 + 3 + 4));
});
