// Which layers' thumbnails the head grid makes first (src/views/headgrid/geometry.js buildOrder).
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildOrder, rowsInView } from "../src/views/headgrid/geometry.js";

test("the rows in view first, then the selected layer, then the rest nearest the view", () => {
  assert.deepEqual(buildOrder(10, 3, 5, 8), [3, 4, 8, 5, 2, 6, 1, 7, 0, 9]);
  // The selected layer in view adds nothing; below comes before above at equal distance.
  assert.deepEqual(buildOrder(6, 0, 2, 1), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(buildOrder(6, 4, 6, -1), [4, 5, 3, 2, 1, 0]);
});

test("every layer once, whatever the view and selection", () => {
  for (const [n, from, to, sel] of [[30, 0, 8, 29], [30, 22, 30, 0], [1, 0, 1, 0], [5, 0, 0, -1], [5, 3, 99, 7], [0, 0, 0, -1]]) {
    const order = buildOrder(n, from, to, sel);
    assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: n }, (_, k) => k));
  }
});

test("a 520 px box over 30 layers of 46 px thumbnails makes its 12 rows first", () => {
  const pitch = 46 + 3;
  const [from, to] = rowsInView({ top: 0, height: 520 }, 30, pitch);
  assert.deepEqual([from, to], [0, 12]);
  const order = buildOrder(30, from, to, 20);
  assert.deepEqual(order.slice(0, 13), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 20]);
  assert.equal(order[13], 12);
});
