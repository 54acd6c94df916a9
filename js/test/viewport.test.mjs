import test from "node:test";
import assert from "node:assert/strict";
import {
  fullView, clampView, zoomAt, panBy, cellAt, visibleRange, labelIndices, labelStep, tilesFor, needsFullResolution,
  rowSpan, LRU,
} from "../src/lib/viewport.js";

const N = 4096;

test("zooming keeps the cell under the pointer in place", () => {
  const v = zoomAt(fullView(N), 4, 0.25, 0.75, N, N);
  assert.equal(v.span, 1024);
  // The anchor was cell (0.75 * 4096, 0.25 * 4096) = row 3072, col 1024, at 25% / 75% of the canvas.
  assert.ok(Math.abs(v.c0 + 0.25 * v.span - 1024) < 1e-9);
  assert.ok(Math.abs(v.r0 + 0.75 * rowSpan(v, N, N) - 3072) < 1e-9);
  const c = cellAt(v, 128, 384, 512, 512, N, N);
  assert.deepEqual(c, { i: 3072, j: 1024 });
});

test("zoom is limited to the whole map and to minSpan cells", () => {
  assert.deepEqual(zoomAt(fullView(N), 0.5, 0.5, 0.5, N, N), fullView(N));
  const deep = zoomAt(fullView(N), 1e6, 0.5, 0.5, N, N, 16);
  assert.equal(deep.span, 16);
  const small = zoomAt(fullView(5), 100, 0.5, 0.5, 5, 5, 16);
  assert.equal(small.span, 5, "a map narrower than minSpan cannot zoom in");
  assert.throws(() => zoomAt(fullView(N), 0, 0.5, 0.5, N, N), /positive/);
});

test("dragging moves the map with the pointer and stops at the edges", () => {
  let v = zoomAt(fullView(N), 8, 0, 0, N, N); // top-left, 512 columns visible
  assert.equal(v.c0, 0);
  v = panBy(v, -256, 0, 512, N, N); // drag left by half the canvas: the map moves right by 256 cells
  assert.equal(v.c0, 256);
  assert.equal(v.r0, 0);
  v = panBy(v, 1e6, 1e6, 512, N, N);
  assert.deepEqual([v.c0, v.r0], [0, 0]);
  v = panBy(v, -1e6, -1e6, 512, N, N);
  assert.deepEqual([v.c0, v.r0], [N - 512, N - 512]);
});

test("non-square maps keep square cells and clamp rows on their own range", () => {
  const rows = 10, cols = 40;
  const v = clampView({ c0: 35, r0: 9, span: 20 }, rows, cols);
  assert.equal(rowSpan(v, rows, cols), 5);
  assert.deepEqual([v.c0, v.r0], [20, 5]);
});

test("visible range covers partly visible cells and stays in bounds", () => {
  const r = visibleRange({ c0: 10.5, r0: 2.25, span: 20 }, 100, 100);
  assert.deepEqual(r, { r0: 2, r1: 23, c0: 10, c1: 31 });
  assert.deepEqual(visibleRange(fullView(7), 7, 7), { r0: 0, r1: 7, c0: 0, c1: 7 });
});

test("labels are spaced at least minPx apart and stay on the same tokens while panning", () => {
  for (const cellPx of [0.125, 0.7, 1, 3, 9.9, 10, 40]) {
    const { step, indices } = labelIndices(0, 4096, cellPx, 10);
    assert.ok(step * cellPx >= 10 || step === 1 && cellPx >= 10, `step ${step} at ${cellPx}px`);
    for (let k = 1; k < indices.length; k++) assert.ok((indices[k] - indices[k - 1]) * cellPx >= 10 - 1e-9);
  }
  assert.equal(labelStep(0.125, 10), 100); // 80 cells would do; the next round step is 100
  assert.equal(labelStep(12, 10), 1);
  const a = labelIndices(100, 200, 2, 10).indices, b = labelIndices(130, 230, 2, 10).indices;
  const shared = a.filter((x) => b.includes(x));
  assert.deepEqual(shared, a.filter((x) => x >= 130));
  assert.ok(a.every((x) => x % 5 === 0));
});

test("tiles are aligned and cover the visible range exactly once", () => {
  const tiles = tilesFor({ r0: 300, r1: 700, c0: 0, c1: 257 }, 256);
  assert.deepEqual(tiles.map((t) => [t.r0, t.c0]), [[256, 0], [256, 256], [512, 0], [512, 256]]);
  const covered = new Set();
  for (const t of tiles) for (let r = t.r0; r < t.r0 + 256; r += 64) for (let c = t.c0; c < t.c0 + 256; c += 64) {
    const k = `${r},${c}`;
    assert.ok(!covered.has(k));
    covered.add(k);
  }
});

test("full resolution is needed once a pooled overview would draw blocks wider than a pixel", () => {
  assert.equal(needsFullResolution(fullView(4096), 512, 8), false);
  assert.equal(needsFullResolution({ c0: 0, r0: 0, span: 1024 }, 512, 8), false);
  assert.equal(needsFullResolution({ c0: 0, r0: 0, span: 512 }, 512, 8), true);
  assert.equal(needsFullResolution({ c0: 0, r0: 0, span: 10 }, 512, 1), false, "a full map is already full resolution");
});

test("LRU keeps the most recently used entries", () => {
  const c = new LRU(2);
  c.set("a", 1); c.set("b", 2);
  assert.equal(c.get("a"), 1);
  c.set("c", 3);
  assert.equal(c.has("b"), false);
  assert.deepEqual([...c.map.keys()], ["a", "c"]);
});
