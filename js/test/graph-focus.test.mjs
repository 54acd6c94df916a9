// The graph's DOM-free parts: focus, overlay toggling, node tooltips (src/views/graph/focus.js)
// and node places, edge paths and label steps (src/views/graph/layout.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { emptyNote, focusOf, isOn, nodeTip, toggleOverlay } from "../src/views/graph/focus.js";
import { FORCE_MAX, edgePath, labelEvery, placeNodes } from "../src/views/graph/layout.js";

test("the hovered token is the focus, else the step's pinned query row", () => {
  assert.deepEqual(focusOf({ hovered: 3, pinned: 5, step: 2 }), { focus: 3, both: true });
  assert.deepEqual(focusOf({ hovered: null, pinned: 5, step: 2 }), { focus: 5, both: false });
  assert.deepEqual(focusOf({ hovered: null, pinned: 5, step: null }), { focus: null, both: false });
  assert.deepEqual(focusOf({ hovered: undefined, pinned: 5, step: undefined }), { focus: null, both: false });
});

test("a hovered token lights its edges both ways, a step row only its outgoing ones", () => {
  const e = { source: 4, target: 1 };
  assert.ok(isOn(e, { focus: null, both: false }));
  assert.ok(isOn(e, { focus: 4, both: false }));
  assert.ok(!isOn(e, { focus: 1, both: false }));
  assert.ok(isOn(e, { focus: 1, both: true }));
  assert.ok(!isOn(e, { focus: 2, both: true }));
});

test("a blank graph says why", () => {
  assert.equal(emptyNote(0, 0, { focus: null, both: false }, 0.3, ""), "no edge over 0.3; lower the threshold");
  assert.equal(emptyNote(4, 0, { focus: 2, both: false }, 0.3, "'a'"), "no edge over 0.3 at this step (query 2 'a')");
  assert.equal(emptyNote(4, 0, { focus: 2, both: true }, 0.3, "'a'"), "");
  assert.equal(emptyNote(4, 1, { focus: 2, both: false }, 0.3, "'a'"), "");
});

test("overlay buttons toggle heads, at most the maximum, in model order", () => {
  assert.deepEqual(toggleOverlay([], 2, [0, 1, 2], 2), [2]);
  assert.deepEqual(toggleOverlay([2], 0, [0, 1, 2], 2), [0, 2]);
  assert.deepEqual(toggleOverlay([0, 2], 1, [0, 1, 2], 2), [0, 2]);
  assert.deepEqual(toggleOverlay([0, 2], 2, [0, 1, 2], 2), [0]);
});

test("a node's tooltip names where it looks most and what looks at it most", () => {
  // 2 query rows (tokens 1 and 2) over 3 keys.
  const values = new Float32Array([0.7, 0.3, 0, 0.1, 0.2, 0.7]);
  const name = (/** @type {number} */ i) => `t${i}`;
  assert.equal(nodeTip(0, null, 2, 3, name), "0 t0");
  assert.equal(nodeTip(0, values, 2, 3, name), "0 t0\nattended most by 1 t1: 0.700");
  assert.equal(nodeTip(2, values, 2, 3, name), "2 t2\nattends most to 2 t2: 0.700\nattended most by 2 t2: 0.700");
});

test("force layout past FORCE_MAX tokens falls back to arcs on a baseline", () => {
  const arc = placeNodes("arc", 5, [], 240, 300);
  assert.equal(arc.layout, "arc");
  assert.equal(arc.base, 230);
  assert.ok(Array.from(arc.pos.y).every((y) => y === 230));
  assert.ok(!arc.capped);
  const many = placeNodes("force", FORCE_MAX + 1, [], 600, 300);
  assert.equal(many.layout, "arc");
  assert.ok(many.capped);
  const force = placeNodes("force", 6, [{ source: 1, target: 0, weight: 0.9 }], 400, 300);
  assert.equal(force.layout, "force");
  assert.equal(force.pos.x.length, 6);
});

test("edge paths: lines in a force layout, arcs (lifted per overlaid head) over the baseline", () => {
  const pos = { x: [10, 50, 110], y: [200, 200, 200] };
  const e = { source: 2, target: 0, weight: 0.5 };
  assert.deepEqual(edgePath("force", pos, e, 200), { d: "M110.0,200.0L10.0,200.0", from: [110, 200] });
  const one = edgePath("arc", pos, e, 200);
  assert.deepEqual(one.from, [60, 100]);
  const lifted = edgePath("arc", pos, e, 200, 1.18);
  assert.equal(lifted.d, "M110.0,200Q60.0,82.0 10.0,200");
  assert.deepEqual(lifted.from, [60, 200 - 2 * 50 * 1.18]);
});

test("arc labels are thinned to about 14 px apart; force labels never", () => {
  const dense = { x: Array.from({ length: 11 }, (_, i) => 10 + i * 5), y: new Array(11).fill(0) };
  assert.equal(labelEvery(dense, 11, 100, true), 3);
  assert.equal(labelEvery(dense, 11, 100, false), 1);
  assert.equal(labelEvery({ x: [50], y: [0] }, 1, 100, true), 1);
});
