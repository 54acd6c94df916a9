import assert from "node:assert/strict";
import { test } from "node:test";
import { difference, divergingColor, maxAbs, signedPosition } from "../src/lib/diverging.js";

test("zero is near-white and the two signs take opposite hues", () => {
  assert.deepEqual(divergingColor(0), [247, 247, 247]);
  const [r1, , b1] = divergingColor(1), [r2, , b2] = divergingColor(-1);
  assert.ok(r1 > b1, "positive is red");
  assert.ok(b2 > r2, "negative is blue");
  // Colours darken monotonically away from zero on both sides.
  const lum = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
  for (const sign of [1, -1]) {
    let last = Infinity;
    for (let k = 0; k <= 10; k++) {
      const l = lum(divergingColor((sign * k) / 10));
      assert.ok(l <= last + 1e-9, `luminance rises at ${sign * k / 10}`);
      last = l;
    }
  }
});

test("signed positions follow the scale and clamp", () => {
  assert.equal(signedPosition(0.25, 0.5), 0.5);
  assert.equal(signedPosition(-0.25, 0.5), -0.5);
  assert.equal(signedPosition(2, 0.5), 1);
  assert.equal(signedPosition(0.1, 0), 0);
  assert.equal(signedPosition(NaN, 1), 0);
  assert.ok(Math.abs(signedPosition(-0.01, 1, "power", 0.5) + 0.1) < 1e-12);
});

test("difference and its largest visible magnitude", () => {
  const a = new Float32Array([0.5, 0.5, 1, 0]);
  const b = new Float32Array([0.25, 0.75, 0.2, 0.8]);
  const d = difference(a, b);
  assert.deepEqual([...d].map((v) => Math.round(v * 100) / 100), [-0.25, 0.25, -0.8, 0.8]);
  assert.ok(Math.abs(maxAbs(d, 2, 2, () => true) - 0.8) < 1e-6);
  assert.ok(Math.abs(maxAbs(d, 2, 2, (i) => i === 0) - 0.25) < 1e-6);
  assert.throws(() => difference(a, new Float32Array(3)), /differ in size/);
});
