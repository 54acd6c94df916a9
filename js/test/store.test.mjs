import { test } from "node:test";
import assert from "node:assert/strict";
import { formatWeight } from "../src/lib/store.js";

test("weights read as three significant digits, small ones in exponent form, coded ones with their precision", () => {
  assert.equal(formatWeight(0.0689), "0.0689");
  assert.equal(formatWeight(0.646), "0.646");
  assert.equal(formatWeight(0.001), "0.00100");
  assert.equal(formatWeight(6.95e-6), "6.95e-6");
  assert.equal(formatWeight(6.95e-6, 0.042), "≈ 6.95e-6 (±4.2%, coded)");
  assert.equal(formatWeight(0.0689, 0.028), "≈ 0.0689 (±2.8%, coded)");
  assert.equal(formatWeight(0), "0");
  assert.ok(Number.isFinite(Number(formatWeight(3.3e-7))), "a tooltip number still parses");
});
