import test from "node:test";
import assert from "node:assert/strict";
import { ordinal, stepName } from "../src/lib/steps.js";

test("a step is named by Python's 0-based number with its ordinal beside", () => {
  assert.equal(stepName(5, 8), "step 5 (6th of 8)");
  assert.equal(stepName(0, 8), "step 0 (1st of 8)");
  assert.equal(stepName(7, 8), "step 7 (8th of 8)");
});

test("ordinals", () => {
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112].map(ordinal),
    ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th", "112th"]);
});
