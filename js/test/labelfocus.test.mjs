import test from "node:test";
import assert from "node:assert/strict";
import { labelsWithFocus, focusKey } from "../src/lib/rowlabels.js";
import { labelIndices } from "../src/lib/viewport.js";

test("at 60 tokens thinned to every second, the hovered odd token is labelled, its neighbours give way", () => {
  const { step, indices } = labelIndices(0, 60, 5, 8); // 5 px cells, 8 px labels: every 2nd
  assert.equal(step, 2);
  assert.ok(!indices.includes(31));
  const out = labelsWithFocus(indices, step, [31]);
  assert.ok(out.includes(31));
  assert.ok(!out.includes(30) && !out.includes(32), "the neighbours' labels would be read as the hovered one's");
  assert.ok(out.includes(28) && out.includes(34));
  for (let k = 1; k < out.length; k++) assert.ok(out[k] - out[k - 1] >= 1);
});

test("hovered, pinned and the key under the pointer are all labelled, at any length", () => {
  for (const n of [10, 45, 60, 500, 4000]) {
    const { step, indices } = labelIndices(0, n, 560 / n, 12);
    const focus = [n - 1, 7, null, Math.floor(n / 3) + 1];
    const out = labelsWithFocus(indices, step, focus, { start: 0, end: n });
    for (const f of focus) if (f !== null) assert.ok(out.includes(f), `n=${n}: ${f} unlabelled`);
    // Nothing besides the focus labels sits closer than the step to a focus label.
    for (const i of out) {
      if (focus.includes(i)) continue;
      for (const f of focus) if (f !== null) assert.ok(Math.abs(i - f) >= step, `n=${n}: ${i} crowds ${f}`);
    }
    assert.deepEqual(out, [...out].sort((a, b) => a - b));
    assert.equal(new Set(out).size, out.length);
  }
});

test("focus outside the visible range, null or not an integer is ignored; no focus keeps the thinned labels", () => {
  const idx = [10, 12, 14];
  assert.deepEqual(labelsWithFocus(idx, 2, [], {}), idx);
  assert.deepEqual(labelsWithFocus(idx, 2, [null, undefined, 3.5]), idx);
  assert.deepEqual(labelsWithFocus(idx, 2, [40], { start: 10, end: 16 }), idx);
  assert.deepEqual(labelsWithFocus(idx, 1, [11]), [10, 11, 12, 14]);
});

test("focusKey changes exactly when the focus does", () => {
  assert.equal(focusKey([1, null, 3]), "1,-,3");
  assert.notEqual(focusKey([1, null]), focusKey([null, 1]));
});
