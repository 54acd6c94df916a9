import test from "node:test";
import assert from "node:assert/strict";
import { weightScale, uniformShare, anchorNote, WEIGHT_MAX } from "../src/lib/weightscale.js";
import { describe, headline } from "../src/lib/colormap.js";

// A uniform row over n keys: every weight is 1/n.
const uniform = (n) => new Float32Array(n * n).fill(1 / n);

for (const kind of ["linear", "log", "power"]) {
  test(`${kind}: a uniform 1/n map is not drawn at the top of the colour map`, () => {
    for (const n of [2, 5, 10, 60, 197]) {
      const values = uniform(n);
      // What a view passes: the map's own largest value, which is 1/n here.
      const s = weightScale(kind, { values, dataMax: 1 / n, gamma: 0.4 });
      assert.equal(s.domain[1], WEIGHT_MAX, "the top is absolute weight 1, not the map's maximum");
      assert.equal(s.anchor, "absolute");
      assert.ok(s(1 / n) < 0.95, `${kind}, n=${n}: uniform weight at ${s(1 / n)}`);
      if (n >= 10) assert.ok(s(1 / n) < 0.7, `${kind}, n=${n}: uniform weight at ${s(1 / n)}`);
      assert.equal(s(1), 1, "weight 1 (all attention on one token) is the top colour");
    }
  });
}

test("a sharp map still reaches the top colour, and a uniform one sits below it", () => {
  const n = 20, sharp = new Float32Array(n * n).fill(0.01 / (n - 1));
  for (let i = 0; i < n; i++) sharp[i * n] = 0.99;
  const s = weightScale("log", { values: sharp, dataMax: 0.99 });
  assert.ok(s(0.99) > 0.99);
  assert.ok(s(1 / n) < s(0.99) - 0.3);
});

test("relative scales run to the data's maximum (row-normalised maps) and say so", () => {
  const s = weightScale("linear", { dataMax: 0.25, relative: true });
  assert.equal(s.domain[1], 0.25);
  assert.equal(s(0.25), 1);
  assert.equal(s.anchor, "relative");
  assert.match(anchorNote(s, 10), /own maximum/);
  assert.doesNotMatch(describe(s), /absolute/);
});

test("data above 1 (not weights) are not clamped into one colour", () => {
  const s = weightScale("linear", { dataMax: 4 });
  assert.equal(s.domain[1], 4);
  assert.equal(weightScale("linear", { dataMax: NaN }).domain[1], 1);
});

test("the legend says what the colours are anchored to and where a uniform row sits", () => {
  const s = weightScale("log", { values: uniform(60), dataMax: 1 / 60 });
  assert.match(describe(s), /^log scale, absolute weight .* to 1$/);
  assert.equal(uniformShare(60), 1 / 60);
  assert.equal(uniformShare(0), 0);
  // One line: the scale, its anchor and the uniform mark; no second note for absolute scales.
  assert.match(headline(s, uniformShare(60)), /^log scale, absolute weight .* to 1; white mark: uniform share 0\.017$/);
  assert.equal(headline(s, null), describe(s));
  assert.equal(anchorNote(s, 60), "");
});

test("the log floor goes down with the data, never up to a near-uniform map's weights", () => {
  const u = weightScale("log", { values: uniform(12), dataMax: 1 / 12 });
  assert.equal(u.domain[0], 1e-3, "the same floor as a view given no values (head grid) and save_image");
  assert.ok(Math.abs(u(1 / 12) - (Math.log10(1 / 12) + 3) / 3) < 1e-12);
  const sink = new Float32Array(400).fill(1e-5);
  for (let i = 0; i < 20; i++) sink[i * 20] = 1 - 19e-5;
  assert.ok(weightScale("log", { values: sink, dataMax: 1 }).domain[0] <= 1e-5);
});
