import { test } from "node:test";
import assert from "node:assert/strict";
import { focusOf, focusWeights, pinnedWeight, tintOf, titleText, tipText } from "../src/views/tokentext/weights.js";

// 2 query rows over 3 keys (offset 1): rows are tokens 1 and 2.
const values = new Float32Array([0.6, 0.4, 0, 0.2, 0.3, 0.5]);
const dims = { nQuery: 2, nKey: 3, offset: 1 };

test("the focus is the hovered token, else the pinned one, else the last", () => {
  assert.equal(focusOf(1, 2, 3), 1);
  assert.equal(focusOf(null, 0, 3), 0);
  assert.equal(focusOf(undefined, null, 3), 2);
});

test("gives reads the focus token's row, receives its column", () => {
  assert.deepEqual([...focusWeights(values, "gives", 2, dims)], [...values.slice(3)]);
  assert.deepEqual([...focusWeights(values, "gives", 0, dims)], [0, 0, 0]);
  assert.deepEqual([...focusWeights(values, "receives", 0, dims)].map((v) => +v.toFixed(3)), [0, 0.6, 0.2]);
  assert.deepEqual([...focusWeights(null, "gives", 2, dims)], [0, 0, 0]);
  assert.ok(Math.abs(pinnedWeight(values, "gives", 1, 1, dims) - 0.4) < 1e-6);
  assert.ok(Number.isNaN(pinnedWeight(values, "gives", 0, 1, dims)));
  assert.ok(Math.abs(pinnedWeight(values, "receives", 0, 2, dims) - 0.2) < 1e-6);
});

test("a strong tint is near opaque with text that reads on it", () => {
  assert.deepEqual(tintOf([0, 0, 0], 1, [255, 255, 255]), { bg: "rgba(0,0,0,0.950)", fg: "#fff" });
  assert.deepEqual(tintOf([0, 0, 0], 0, [255, 255, 255]), { bg: "rgba(0,0,0,0.150)", fg: "#000" });
});

test("title and tooltip say what the tints show", () => {
  const tokens = ["a", "b", "c"];
  assert.equal(titleText({ norms: false, measureName: "", layer: 2, head: null, fusion: "mean", dir: "gives", focus: 1, tokens }),
    "Text · layer 2 · mean of heads · what 1 \"b\" attends to");
  assert.match(titleText({ norms: true, measureName: "", layer: 0, head: 3, fusion: "mean", dir: "receives", focus: 0, tokens }),
    /^Text \(value-weighted norms\) · layer 0 · head 3 · what attends to 0 "a"$/);
  assert.equal(tipText(2, tokens, "gives", 1, values, dims), "2 \"c\"\npinned 1 → 2: 0.00\nclick to pin; the text shows what it attends to");
  assert.equal(tipText(2, tokens, "receives", null, values, dims), "2 \"c\"\nclick to pin");
});
