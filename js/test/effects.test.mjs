import assert from "node:assert/strict";
import { test } from "node:test";
import { effectAt, effectTitle, signed, signedColor, signedExtent } from "../src/lib/effects.js";

const effects = { label: "effect on log P(' Paris')", layers: [3, 5], heads: [0, 1], values: [[-0.85, 0.12], [0, NaN]] };

test("a head's effect is found by layer and head number", () => {
  assert.equal(effectAt(effects, 3, 0), -0.85);
  assert.equal(effectAt(effects, 3, 1), 0.12);
  assert.equal(effectAt(effects, 4, 0), null, "a layer the effects do not hold");
  assert.equal(effectAt(effects, 3, null), null, "heads fused");
  assert.equal(effectAt(effects, 5, 1), null, "not finite");
  assert.equal(effectAt(null, 3, 0), null);
});

test("titles say the signed effect", () => {
  assert.equal(effectTitle(effects, 3, 0), " · effect on log P(' Paris'): -0.85");
  assert.equal(effectTitle(effects, 3, 1), " · effect on log P(' Paris'): +0.12");
  assert.equal(effectTitle(effects, 5, 0), " · effect on log P(' Paris'): 0.00");
  assert.equal(effectTitle(effects, 3, null), "");
  assert.equal(signed(-0.004), "-0.004");
  assert.equal(signed(-0.00001), "0.000");
});

test("signed colours are centred at zero and differ in hue by sign", () => {
  const ext = signedExtent([-0.85, 0.12, NaN, 0]);
  assert.deepEqual(ext, { min: -0.85, max: 0.12, vmax: 0.85 });
  assert.deepEqual(signedExtent([NaN]), { min: 0, max: 0, vmax: 0 });
  const [rn, , bn] = signedColor(-0.85, ext.vmax), [rp, , bp] = signedColor(0.12, ext.vmax);
  assert.ok(bn > rn, "negative is blue");
  assert.ok(rp > bp, "positive is red");
  assert.deepEqual(signedColor(0, ext.vmax), [247, 247, 247]);
  assert.deepEqual(signedColor(0.5, 0), [247, 247, 247], "no scale: the centre colour");
});
