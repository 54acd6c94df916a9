import { test } from "node:test";
import assert from "node:assert/strict";
import { graphSize, captionText, crossEdges, strongest, short, PAD, STEP } from "../src/views/crossgraph/geometry.js";

test("a long row is wider than the slot and scrolls", () => {
  const small = graphSize(5, 3, 800);
  assert.equal(small.W, 280);
  assert.equal(small.CW, 280);
  assert.ok(small.BOTTOM > small.TOP && small.Hh > small.BOTTOM);
  const long = graphSize(200, 10, 622);
  assert.equal(long.W, 600);
  assert.equal(long.CW, 2 * PAD + 199 * STEP);
  assert.equal(graphSize(200, 10, 0).W, 900);
});

test("the caption says when to scroll and how many tokens are labelled", () => {
  assert.equal(captionText({ nQuery: 2, nKey: 3, scrolls: false, shownQuery: 2, shownKey: 3 }),
    "target tokens (queries) above, source tokens (keys) below");
  assert.equal(captionText({ nQuery: 2, nKey: 90, scrolls: true, shownQuery: 2, shownKey: 45 }),
    "target tokens (queries) above, source tokens (keys) below · 2 × 90 tokens: scroll sideways · source 45 of 90 labelled; hover a node for its label and its lines' ends");
});

test("lines are the visible weights at or over the threshold, strongest last", () => {
  const values = new Float32Array([0.5, 0.3, 0.2, 0, 0.9, 0.1]);
  const edges = crossEdges(values, 2, 3, (i, j) => !(i === 0 && j === 1), 0.2);
  assert.deepEqual(edges.map((e) => [e.i, e.j]), [[0, 2], [0, 0], [1, 1]]);
  assert.deepEqual(crossEdges(null, 2, 3, () => true, 0), []);
  assert.deepEqual(strongest([0, 2], edges).map((e) => e.j), [1, 2]);
  assert.equal(short("abcdefghijklmnop"), "abcdefghijk…");
});
