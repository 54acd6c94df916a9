import test from "node:test";
import assert from "node:assert/strict";
import { maxPool, poolFactor } from "../src/lib/downsample.js";

test("poolFactor fits n cells into the pixels", () => {
  assert.equal(poolFactor(100, 600), 1);
  assert.equal(poolFactor(1024, 600), 2);
  assert.equal(poolFactor(1201, 600), 3);
});

test("maxPool keeps the block maximum, including ragged edge blocks", () => {
  // 3 x 5 map pooled by 2 -> 2 x 3
  const v = Float32Array.from([
    1, 2, 0, 0, 9,
    0, 5, 0, 7, 0,
    3, 0, 0, 0, 4,
  ]);
  const out = maxPool(v, 3, 5, 2);
  assert.equal(out.rows, 2);
  assert.equal(out.cols, 3);
  assert.deepEqual(Array.from(out.values), [5, 7, 9, 3, 0, 4]);
});

test("a single strong weight survives pooling (a mean would dilute it)", () => {
  const n = 64, v = new Float32Array(n * n);
  v[37 * n + 11] = 0.9;
  const out = maxPool(v, n, n, 8);
  assert.equal(Math.max(...out.values), Math.fround(0.9));
  assert.equal(out.values[4 * 8 + 1], Math.fround(0.9));
});

test("masked cells are skipped; an all-masked block is NaN", () => {
  const v = Float32Array.from([1, 8, 2, 3]);
  const causal = (i, j) => j > i;
  const out = maxPool(v, 2, 2, 1, causal);
  assert.deepEqual(Array.from(out.values).map((x) => (Number.isNaN(x) ? "masked" : x)), [1, "masked", 2, 3]);
});
