import test from "node:test";
import assert from "node:assert/strict";
import { labelBands, mapSide, mapSizes, labelFocus, PAGE_SIDE, EMBEDDED_SIDE, ONE_COLUMN_SIDE } from "../src/views/heatmap/layout.js";

test("label bands grow with the longest token, within their bounds", () => {
  assert.deepEqual(labelBands(["a", "b"]), { labelW: 58, topH: 30 });
  const wide = labelBands(["a", "x".repeat(40)]);
  assert.equal(wide.labelW, Math.round(Math.max(58, Math.min(100, 14 * 11 * 0.62 + 10))));
  assert.equal(wide.topH, Math.round(Math.max(30, Math.min(76, 14 * 11 * 0.62 + 6))));
  assert.ok(wide.labelW <= 100 && wide.topH <= 76);
});

test("the map's side fits its slot and its cap, never below 160 px", () => {
  const at = { nKey: 100, labelW: 60, embedded: false, oneColumn: false };
  assert.equal(mapSide(0, at), PAGE_SIDE);
  assert.equal(mapSide(400, at), 400 - 22 - 60 - 4);
  assert.equal(mapSide(2000, at), PAGE_SIDE);
  assert.equal(mapSide(2000, { ...at, embedded: true }), EMBEDDED_SIDE);
  assert.equal(mapSide(2000, { ...at, embedded: true, oneColumn: true }), ONE_COLUMN_SIDE);
  assert.equal(mapSide(2000, { ...at, nKey: 5 }), 160);
  assert.equal(mapSide(100, at), 160);
});

test("the map's height follows its rows and cells stay at most 24 px wide", () => {
  assert.deepEqual(mapSizes(300, 10, 20), { px: 300, rowPx: 150, minSpan: 13 });
  assert.deepEqual(mapSizes(160, 4, 4), { px: 160, rowPx: 160, minSpan: 4 });
  assert.equal(mapSizes(480, 100, 100).minSpan, 20);
});

test("self-attention labels the pointer's cell and the hovered and pinned tokens as rows too", () => {
  const f = labelFocus({ cursor: { i: 2, j: 7 }, hovered: 9, pinned: null, offset: 4, cross: false });
  assert.deepEqual(f.cols, [7, 9, null]);
  assert.deepEqual(f.rows, [2, 5, null]);
  assert.equal(f.key, "7,9,-|2,5,-");
  const none = labelFocus({ cursor: null, hovered: null, pinned: 3, offset: 0, cross: false });
  assert.deepEqual(none.rows, [undefined, null, 3]);
  assert.equal(none.key, "-,-,3|-,-,3");
});

test("cross-attention rows come from the selection's query fields", () => {
  const f = labelFocus({ cursor: null, hovered: 1, pinned: 2, hoveredQuery: 5, pinnedQuery: 6, offset: 3, cross: true });
  assert.deepEqual(f.cols, [undefined, 1, 2]);
  assert.deepEqual(f.rows, [undefined, 5, 6]);
});
