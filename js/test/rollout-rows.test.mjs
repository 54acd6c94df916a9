import { test } from "node:test";
import assert from "node:assert/strict";
import { currentRollout, rowOf, missingText, pendingText, same } from "../src/views/rollout/rows.js";
import { columnWidth, labelEvery, barGeometry, fitGeometry, barHeight, barPaint } from "../src/views/rollout/geometry.js";

const model = (traits) => ({ get: (name) => traits[name] });

test("the alternative rollout is drawn only when it was computed with the hiding asked for", () => {
  const traits = { hide: [0], _rollout: { shape: [1, 2] }, _rollout_hide: [], _rollout_alt: { shape: [1, 2] }, _rollout_alt_hide: [0] };
  const ident = (p) => p;
  assert.equal(currentRollout(model(traits), ident).data, traits._rollout_alt);
  assert.deepEqual(currentRollout(model(traits), ident).hide, [0]);
  assert.equal(currentRollout(model({ ...traits, _rollout_hide: [0] }), ident).data, traits._rollout);
  assert.equal(currentRollout(model({ ...traits, hide: [] }), ident).data, traits._rollout);
  assert.equal(currentRollout(model({ ...traits, _rollout_alt: null }), ident).data, traits._rollout);
  assert.ok(same([1, 2], [1, 2]) && !same([1], [1, 2]) && !same([1, 2], [2, 1]));
});

test("a row is found in the held rows, or missing with a reason", () => {
  assert.equal(rowOf({}, 3), 3);
  assert.equal(rowOf({ rows: [0, 5] }, 5), 1);
  assert.equal(rowOf({ rows: [0, 5] }, 3), -1);
  const tokens = ["a", "b", "c", "d"];
  const text = missingText(2, { rows: [0] }, tokens);
  assert.match(text, /into token 2 .*for 4 tokens it holds rows of 1 query token only \(0 /);
  assert.match(missingText(2, { rows: [0, 1], eager: true }, tokens), /2 query tokens only.*arrives in a moment/);
  assert.deepEqual(pendingText(2, { rows: [0] }, tokens, { rows: [2], done: 0.5 }).busy, true);
  assert.match(pendingText(2, { rows: [0] }, tokens, { rows: [2], done: 0.5 }).text, /50% of the layers/);
  assert.match(pendingText(2, { rows: [0] }, tokens, { error: "boom" }).text, /could not compute the rollout: boom/);
  assert.equal(pendingText(2, { rows: [0] }, tokens, {}).text, text);
});

test("columns fit the slot and labels thin out before they overlap", () => {
  assert.equal(columnWidth(10, 0), 26);
  assert.equal(columnWidth(100, 0), 6);
  assert.equal(columnWidth(1000, 300), 4);
  assert.equal(labelEvery(26), 1);
  assert.equal(labelEvery(4), 4);
  const g = barGeometry(100, 0, { barH: 120, labelH: 12 });
  assert.deepEqual([g.base, g.colH, g.colW, g.every, g.rowW], [132, 192, 6, 3, 600]);
  assert.equal(fitGeometry(g, 664), false);
  assert.equal(fitGeometry(g, 324), true);
  assert.deepEqual([g.colW, g.every, g.rowW], [4, 4, 400]);
});

test("bars have at least a pixel for any weight and hidden tokens take the border colour", () => {
  assert.equal(barHeight(0, 100), 0);
  assert.equal(barHeight(0.001, 100), 1);
  assert.equal(barHeight(0.5, 100), 50);
  const { heights, colours } = barPaint(new Float32Array([0.5, 1]), { fraction: [0.5, 1] }, (v) => v, { hide: [1], cmap: "viridis", border: "#ccc", barH: 10 });
  assert.deepEqual([...heights], [5, 10]);
  assert.equal(colours[1], "#ccc");
  assert.match(colours[0], /^(rgb|#)/);
});
