import test from "node:test";
import assert from "node:assert/strict";
import { displayMap, visibility, visibleMax, edgesAbove, exactEdges } from "../src/lib/maps.js";
import { decode } from "../src/lib/decode.js";
import { displayToken, exactToken } from "../src/lib/tokens.js";
import { throttle } from "../src/lib/selection.js";

// 3 x 3 causal map with a sink on key 0.
const causalMap = Float32Array.from([
  1, 0, 0,
  0.8, 0.2, 0,
  0.7, 0.1, 0.2,
]);

test("hiding a key renormalises every row over the keys left", () => {
  const visible = visibility({ nQuery: 3, nKey: 3, causal: true });
  const out = displayMap(causalMap, 3, 3, { hide: [0], visible });
  assert.deepEqual(Array.from(out.slice(0, 3)), [0, 0, 0], "a row with no key left is empty");
  assert.deepEqual(Array.from(out.slice(3, 6)), [0, 1, 0]);
  const row = Array.from(out.slice(6, 9));
  assert.ok(Math.abs(row[1] - 1 / 3) < 1e-6 && Math.abs(row[2] - 2 / 3) < 1e-6);
});

test("row normalisation scales each row to its own maximum", () => {
  const out = displayMap(causalMap, 3, 3, { rowNormalize: true });
  assert.deepEqual(Array.from(out.slice(3, 6)).map((v) => +v.toFixed(6)), [1, 0.25, 0]);
  assert.ok(Math.abs(out[6] - 1) < 1e-7);
});

test("visibility follows causal offsets and explicit masks", () => {
  const v = visibility({ nQuery: 2, nKey: 4, causal: true });
  assert.equal(v(0, 2), true);
  assert.equal(v(0, 3), false);
  const m = visibility({ nQuery: 1, nKey: 3, mask: Uint8Array.from([1, 0, 1]) });
  assert.deepEqual([0, 1, 2].map((j) => m(0, j)), [true, false, true]);
  assert.equal(visibleMax(Float32Array.from([0.2, 0.9, 0.3]), 1, 3, m), Math.fround(0.3));
});

test("edges above a threshold, strongest first, keys as token positions", () => {
  const e = edgesAbove(causalMap, 3, 3, 0.2);
  assert.deepEqual(e.map((x) => [x.source, x.target]), [[0, 0], [1, 0], [2, 0], [1, 1], [2, 2]]);
  const q = edgesAbove(Float32Array.from([0.1, 0.9]), 1, 2, 0.5);
  assert.deepEqual(q.map((x) => [x.source, x.target]), [[1, 1]], "the one query is the last token");
});

test("token labels make whitespace visible and keep markup as text", () => {
  assert.equal(displayToken(" "), "·");
  assert.equal(displayToken("\n"), "⏎");
  assert.equal(displayToken(" cat"), "·cat");
  assert.equal(displayToken("<img src=x onerror=alert(1)>"), "<img src=x onerror=alert(1)>");
  assert.equal(exactToken("a\n"), '"a\\n"');
});

test("throttle sends the latest value at most once per interval", async () => {
  const got = [];
  const f = throttle((v) => got.push(v), 30);
  for (let i = 0; i < 10; i++) f(i);
  await new Promise((r) => setTimeout(r, 60));
  f(42);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(got, [9, 42]);
});

test("exact edges are used only for the threshold, hiding and measure they were computed for", () => {
  const payload = { dtype: "float32", shape: [2, 3], data: new Uint8Array(Float32Array.from([3, 1, 0.5, 2, 2, 0.1]).buffer) };
  const state = { threshold: 0.1, hide: [0], measure: "weights", maps: { "1/2": payload } };
  const opts = { key: "1/2", threshold: 0.1, hide: [0], measure: "weights", offset: 4, decode };
  assert.deepEqual(exactEdges(state, opts).map((e) => [e.source, e.target, Math.fround(e.weight)]),
    [[7, 1, Math.fround(0.5)], [6, 2, Math.fround(0.1)]]);
  assert.equal(exactEdges(state, { ...opts, threshold: 0.2 }), null);
  assert.equal(exactEdges(state, { ...opts, hide: [] }), null);
  assert.equal(exactEdges(state, { ...opts, measure: "norms" }), null);
  assert.equal(exactEdges(state, { ...opts, key: "1/mean" }), null);
  assert.equal(exactEdges(null, opts), null);
});

test("a weight just under the threshold that codes above it is no edge from exact weights", () => {
  // 0.0995 codes within 2.8%: the coded value may read >= 0.1; the exact edges leave it out.
  const coded = Float32Array.from([0.1013, 0.0995 * 1.02]);
  assert.equal(edgesAbove(coded, 1, 2, 0.1).length, 2);
  const payload = { dtype: "float32", shape: [1, 3], data: new Uint8Array(Float32Array.from([0, 0, 0.1013]).buffer) };
  const edges = exactEdges({ threshold: 0.1, hide: [], measure: "weights", maps: { "0/0": payload } },
    { key: "0/0", threshold: 0.1, hide: [], measure: "weights", decode });
  assert.equal(edges.length, 1);
});
