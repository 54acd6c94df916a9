import test from "node:test";
import assert from "node:assert/strict";
import { arcLayout, arcPath, forceLayout } from "../src/lib/layout.js";

test("arc layout keeps reading order, evenly spaced inside the padding", () => {
  const xs = arcLayout(5, 120, 10);
  assert.deepEqual(Array.from(xs), [10, 35, 60, 85, 110]);
  assert.deepEqual(Array.from(arcLayout(1, 100)), [50]);
});

test("arcs rise by half their span, capped", () => {
  assert.equal(arcPath(0, 100, 200, -1), "M0.0,200Q50.0,100.0 100.0,200");
  assert.equal(arcPath(0, 100, 200, -1, 20), "M0.0,200Q50.0,160.0 100.0,200");
});

test("force layout is deterministic, stays in the box, and pulls strongly linked tokens together", () => {
  const n = 12;
  const edges = [{ source: 0, target: 11, weight: 1 }];
  const a = forceLayout(n, edges, { width: 400, height: 300, seed: 3 });
  const b = forceLayout(n, edges, { width: 400, height: 300, seed: 3 });
  assert.deepEqual(Array.from(a.x), Array.from(b.x));
  for (let i = 0; i < n; i++) {
    assert.ok(a.x[i] >= 24 && a.x[i] <= 376 && a.y[i] >= 24 && a.y[i] <= 276);
  }
  const free = forceLayout(n, [], { width: 400, height: 300, seed: 3 });
  const dist = (p, i, j) => Math.hypot(p.x[i] - p.x[j], p.y[i] - p.y[j]);
  assert.ok(dist(a, 0, 11) < dist(free, 0, 11) * 0.8, `linked ${dist(a, 0, 11)} vs free ${dist(free, 0, 11)}`);
});

import { arrowHead } from "../src/lib/layout.js";
test("an arrowhead's tip sits at the end point, pulled back by `back`, pointing along the edge", () => {
  const d = arrowHead(0, 0, 10, 0, 4, 2);
  const nums = d.match(/-?\d+(\.\d+)?/g).map(Number);
  assert.deepEqual(nums.slice(0, 2), [8, 0]);
  assert.equal(nums[2], 4); // base 4 behind the tip
  assert.equal(arrowHead(1, 1, 1, 1), "");
});
