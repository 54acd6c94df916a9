// The head grid's geometry and legend notes (src/views/headgrid/geometry.js, notes.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GAP, GROUP_GAP, LAYER_W, blockVisibility, headOrder, headXs, rowsInView, sameList, thumbSize,
} from "../src/views/headgrid/geometry.js";
import { gridNotes } from "../src/views/headgrid/notes.js";

test("thumbnails shrink with many heads, within 24 and 46 px", () => {
  assert.equal(thumbSize(0, 4, false), 46);
  assert.equal(thumbSize(0, 32, false), Math.floor(560 / 32) - GAP < 24 ? 24 : Math.floor(560 / 32) - GAP);
  assert.equal(thumbSize(0, 12, false), Math.floor(560 / 12) - GAP);
  assert.equal(thumbSize(0, 12, true), Math.floor(560 / 12) - GAP - 2);
  // A narrow slot gives smaller thumbnails than the default width.
  assert.ok(thumbSize(400, 12, false) < thumbSize(0, 12, false));
  assert.equal(thumbSize(100, 12, false), 24);
});

test("heads sit a thumbnail and a gap apart, kv groups a group gap apart", () => {
  assert.deepEqual(headXs([0, 1, 2], [0, 1, 2], false, 30), [LAYER_W, LAYER_W + 33, LAYER_W + 66]);
  const grouped = headXs([0, 1, 2, 3], [0, 0, 1, 1], true, 30);
  assert.deepEqual(grouped, [LAYER_W, LAYER_W + 33, LAYER_W + 66 + GROUP_GAP - GAP, LAYER_W + 99 + GROUP_GAP - GAP]);
});

test("a layer's heads in model order, or largest tint first", () => {
  assert.deepEqual(headOrder(3, 1, null), [0, 1, 2]);
  const tint = [9, 9, 9, 0.1, 0.7, 0.3];
  assert.deepEqual(headOrder(3, 1, tint), [1, 2, 0]);
});

test("a pooled cell is visible when its block holds a visible cell", () => {
  const causal = (/** @type {number} */ i, /** @type {number} */ j) => j <= i;
  // 4 x 4 causal, pooled 2: the top-right block is all masked.
  assert.deepEqual([...blockVisibility(causal, 4, 4, 2, 2, 2)], [1, 0, 1, 1]);
  // A last block cut short by the map's edge (3 x 3 pooled 2).
  assert.deepEqual([...blockVisibility(() => false, 3, 3, 2, 2, 2)], [0, 0, 0, 0]);
  assert.deepEqual([...blockVisibility(causal, 3, 3, 1, 3, 3)], [1, 0, 0, 1, 1, 0, 1, 1, 1]);
});

test("rows in view: all without a view, else those in the box and a row each side", () => {
  assert.deepEqual(rowsInView(null, 12, 40), [0, 12]);
  assert.deepEqual(rowsInView({ top: 0, height: 100 }, 12, 40), [0, 4]);
  assert.deepEqual(rowsInView({ top: 400, height: 100 }, 12, 40), [8, 12]);
});

test("sameList compares lists element by element", () => {
  assert.ok(sameList([1, 2], [1, 2]));
  assert.ok(!sameList([1, 2], [2, 1]));
  assert.ok(!sameList([1], [1, 2]));
});

test("legend notes say what the thumbnails leave out", () => {
  const base = { nKey: 10, hide: [], thumbsHide: [], missing: [], pool: 1, sampled: 0, tint: null, badges: false };
  assert.deepEqual(gridNotes([], base), []);
  const notes = gridNotes(["first"], { ...base, hide: [0], missing: ["0/1", "0/2", "1/0", "1/1", "2/2"], pool: 2 });
  assert.equal(notes[0], "first");
  assert.match(notes[1], /no map held for 5 heads \(0\/1, 0\/2, 1\/0, 1\/1, …\)/);
  assert.match(notes[2], /made with hide = \[\]; applying \[0\] needs the kernel/);
  assert.match(notes[3], /max-pooled 2x2/);
  const sampled = gridNotes([], { ...base, pool: 4, sampled: 1, tint: { name: "entropy", min: 0, max: 2 }, badges: true });
  assert.match(sampled[0], /10 tokens: thumbnails show 1 of every 4 query rows/);
  assert.match(sampled[1], /^bar under each head: entropy, /);
  assert.match(sampled[2], /^badges: /);
});
