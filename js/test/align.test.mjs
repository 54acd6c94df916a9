import assert from "node:assert/strict";
import { test } from "node:test";
import { alignedAxes, pairLabel, unpairedLine } from "../src/lib/align.js";

test("without an alignment every position stands for itself", () => {
  const ax = alignedAxes(undefined, 5, 3);
  assert.deepEqual(ax.colsA, [0, 1, 2, 3, 4]);
  assert.deepEqual(ax.colsB, [0, 1, 2, 3, 4]);
  assert.deepEqual(ax.rows, [2, 3, 4]);
  assert.equal(ax.rowToken(0), 2);
  assert.equal(ax.rowOf.get(4), 2);
  assert.equal(ax.rowOf.get(1), undefined);
  assert.deepEqual(ax.onlyA, []);
});

test("aligned columns map a's positions both ways and leave the unpartnered out", () => {
  // "The cat sat." against "The big cat sat.": b's 1 (" big") has no partner.
  const ax = alignedAxes({ a: [0, 1, 2, 3], b: [0, 2, 3, 4], rows: [0, 1, 2, 3], only_a: [], only_b: [1], method: "words" }, 4, 4);
  assert.equal(ax.colOf.get(2), 2);
  assert.equal(ax.colsB[ax.colOf.get(1)], 2);
  assert.deepEqual(ax.onlyB, [1]);
  assert.equal(ax.method, "words");
  // a's position 5 of a longer a that pairs nothing has no column.
  assert.equal(alignedAxes({ a: [0, 2], b: [0, 1], rows: [1], only_a: [1], only_b: [] }, 3, 3).colOf.get(1), undefined);
});

test("labels name both tokens only where they differ", () => {
  const show = (t) => t.replace(/^ /, "·");
  assert.equal(pairLabel(" cat", " dog", show), "·cat→·dog");
  assert.equal(pairLabel(" sat", " sat", show), "·sat");
});

test("the unpartnered line names positions and tokens, and says how many more", () => {
  const exact = (t) => JSON.stringify(t);
  assert.equal(unpairedLine([], ["a"], "a", "b", exact), "");
  assert.equal(unpairedLine([1], ["The", " big"], "b", "a", exact), 'only in b (no partner in a): 1 " big"');
  const many = unpairedLine([0, 1, 2], ["x", "y", "z"], "a", "b", exact, 2);
  assert.equal(many, 'only in a (no partner in b): 0 "x", 1 "y", … and 1 more');
});
