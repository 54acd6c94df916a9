import test from "node:test";
import assert from "node:assert/strict";
import { sinkOfMap, sinkOfVector, logFloor } from "../src/lib/sink.js";

test("a causal map whose rows park on token 0 names token 0 and its mean share", () => {
  // 3 x 3 causal: row 0 sees only key 0; rows 1, 2 give 0.9 and 0.8 to key 0.
  const m = new Float32Array([1, 0, 0, 0.9, 0.1, 0, 0.8, 0.1, 0.1]);
  const visible = (i, j) => j <= i;
  const s = sinkOfMap(m, 3, 3, { visible });
  assert.equal(s.index, 0);
  assert.ok(Math.abs(s.share - (1 + 0.9 + 0.8) / 3) < 1e-6);
});

test("hiding the sink moves the question to the keys left, renormalised", () => {
  const m = new Float32Array([1, 0, 0, 0.9, 0.1, 0, 0.8, 0.15, 0.05]);
  const s = sinkOfMap(m, 3, 3, { visible: (i, j) => j <= i, hide: [0] });
  assert.equal(s.index, 1);
  assert.ok(Math.abs(s.share - (1 + 0.75) / 2) < 1e-6);
});

test("the last key, seen by one row only, is not called a sink", () => {
  const m = new Float32Array([1, 0, 0, 0, 0.5, 0.5, 0, 0, 0.3, 0.3, 0.4, 0, 0.1, 0.1, 0.1, 0.7]);
  const s = sinkOfMap(m, 4, 4, { visible: (i, j) => j <= i });
  assert.equal(s.index, 0);
  assert.ok(Math.abs(s.share - 0.475) < 1e-6);
});

test("vector share leaves hidden entries out", () => {
  const s = sinkOfVector([0.98, 0.01, 0.01]);
  assert.equal(s.index, 0);
  assert.ok(Math.abs(s.share - 0.98) < 1e-9);
  const t = sinkOfVector([0.98, 0.015, 0.005], { hide: [0] });
  assert.equal(t.index, 1);
  assert.ok(Math.abs(t.share - 0.75) < 1e-9);
});

test("log floor follows the data within six decades of the maximum", () => {
  const v = new Float32Array(100).fill(1e-5); v[0] = 1;
  assert.ok(Math.abs(logFloor(v, 1) - 1e-5) < 1e-9);
  const tiny = new Float32Array(100).fill(1e-9); tiny[0] = 1;
  assert.equal(logFloor(tiny, 1), 1e-6);
  const flat = new Float32Array(10).fill(0.5);
  assert.equal(logFloor(flat, 0.5), 0.05);
  assert.equal(logFloor(new Float32Array(4), 1), 1e-3);
});
