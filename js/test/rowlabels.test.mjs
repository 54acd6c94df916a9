import test from "node:test";
import assert from "node:assert/strict";
import { rowLabels, focusLabels } from "../src/lib/rowlabels.js";

const disjoint = (idx, xs, widths, gap) => {
  for (let k = 1; k < idx.length; k++) {
    const a = idx[k - 1], b = idx[k];
    assert.ok(xs[a] + widths[a] / 2 + gap <= xs[b] - widths[b] / 2, `labels ${a} and ${b} touch`);
  }
};

test("every token is labelled while the labels fit", () => {
  const xs = [10, 60, 110, 160], widths = [30, 40, 20, 45];
  assert.deepEqual(rowLabels(xs, widths), [0, 1, 2, 3]);
});

test("close nodes: every k-th labelled, none touching, even with a few wide labels", () => {
  const n = 300, xs = Array.from({ length: n }, (_, i) => 30 + 9 * i);
  const widths = Array.from({ length: n }, (_, i) => (i % 37 === 5 ? 90 : 28));
  const idx = rowLabels(xs, widths, 4);
  assert.ok(idx.length > 40 && idx.length < 120, `${idx.length} labels`);
  assert.equal(idx[0], 0);
  disjoint(idx, xs, widths, 4);
  assert.equal(idx[1] - idx[0], Math.ceil(32 / 9));
});

test("a focused label pushes aside the row's labels it touches; the rest stack in tiers", () => {
  const n = 100, xs = Array.from({ length: n }, (_, i) => 9 * i), widths = new Array(n).fill(30);
  const regular = rowLabels(xs, widths, 4);
  const items = [50, 51, 52, 10].map((index) => ({ index, width: 30 }));
  const { placed, hidden, dropped } = focusLabels(items, xs, widths, regular, { tiers: 3, gap: 4 });
  assert.deepEqual(placed, [{ index: 50, tier: 0 }, { index: 51, tier: 1 }, { index: 52, tier: 2 }, { index: 10, tier: 0 }]);
  assert.equal(dropped, 0);
  // Every regular label touching a tier-0 label is hidden, and no kept one touches it.
  const front = placed.filter((p) => p.tier === 0).map((p) => p.index);
  for (const r of regular) {
    const touch = front.some((f) => Math.abs(xs[r] - xs[f]) < 30 + 4);
    assert.equal(hidden.includes(r), touch, `label ${r}`);
  }
  assert.ok(hidden.includes(48) && hidden.includes(52) && !hidden.includes(44) && !hidden.includes(60));
});

test("labels beyond the last tier are counted, not drawn", () => {
  const xs = [0, 1, 2, 3, 4], widths = new Array(5).fill(30);
  const items = xs.map((_, index) => ({ index, width: 30 }));
  const { placed, dropped } = focusLabels(items, xs, widths, [], { tiers: 2 });
  assert.deepEqual(placed.map((p) => p.tier), [0, 1]);
  assert.equal(dropped, 3);
});
