import assert from "node:assert/strict";
import { test } from "node:test";
import { dimTicks, rotaryNote, rotaryPartner } from "../src/lib/dims.js";

test("64 dims at 7 px tick every 8, labels at least 40 px apart", () => {
  const { step, ticks } = dimTicks(64, 7);
  assert.equal(step, 8);
  assert.deepEqual(ticks, [0, 8, 16, 24, 32, 40, 48, 56]);
  assert.ok(step * 7 >= 40);
});

test("narrow cells or a wider gap take the next step", () => {
  assert.equal(dimTicks(64, 3).step, 16);
  assert.equal(dimTicks(128, 7, 100).step, 16);
  assert.deepEqual(dimTicks(256, 1).ticks, [0, 64, 128, 192]);
  assert.deepEqual(dimTicks(4, 20).ticks, [0]);
});

test("rotate_half pairs i with i + d/2, both ways", () => {
  for (let x = 0; x < 32; x++) {
    assert.equal(rotaryPartner(x, 64, "half"), x + 32);
    assert.equal(rotaryPartner(x + 32, 64, "half"), x);
  }
  assert.equal(rotaryPartner(64, 64, "half"), null);
  assert.equal(rotaryPartner(3, 64, null), null);
  assert.equal(rotaryPartner(3, 63, "half"), null);
});

test("interleaved pairs 2i with 2i + 1", () => {
  assert.equal(rotaryPartner(6, 64, "interleaved"), 7);
  assert.equal(rotaryPartner(7, 64, "interleaved"), 6);
});

test("the note names the pairing, and nothing without rotary embeddings", () => {
  assert.match(rotaryNote(64, "half"), /i \+ 32/);
  assert.equal(rotaryNote(64, ""), "");
});
