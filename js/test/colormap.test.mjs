import test from "node:test";
import assert from "node:assert/strict";
import { makeScale, colorAt, lut, ticks, describe, placeLabels, COLORMAPS, LOG_DECADES } from "../src/lib/colormap.js";

const grid = Array.from({ length: 1001 }, (_, i) => i / 1000);

for (const kind of ["linear", "log", "power"]) {
  test(`${kind} scale is monotonic and hits 0 and 1 at the range ends`, () => {
    const s = makeScale(kind, { vmax: 0.8, gamma: 0.4 });
    const [lo, hi] = s.domain;
    assert.equal(s(hi), 1);
    assert.equal(s(lo), 0);
    let prev = -1;
    for (const x of grid) {
      const t = s(x * 0.8);
      assert.ok(t >= prev, `${kind} not monotonic at ${x * 0.8}`);
      assert.ok(t >= 0 && t <= 1);
      prev = t;
    }
    assert.equal(s(5), 1, "above the range clamps to 1");
  });
}

test("log scale maps 0, negatives and NaN to the bottom of the map", () => {
  const s = makeScale("log", { vmax: 1 });
  assert.equal(s(0), 0);
  assert.equal(s(-1), 0);
  assert.equal(s(NaN), 0);
  assert.equal(s.domain[0], 10 ** -LOG_DECADES);
  assert.ok(Math.abs(s(10 ** -(LOG_DECADES / 2)) - 0.5) < 1e-12, "halfway in decades is the middle colour");
});

test("power scale with gamma < 1 spreads small weights: 0.01 of a 0.9 sink is far from the bottom", () => {
  const lin = makeScale("linear", { vmax: 0.9 });
  const pow = makeScale("power", { vmax: 0.9, gamma: 0.4 });
  assert.ok(lin(0.01) < 0.02);
  assert.ok(pow(0.01) > 0.15);
  assert.ok(Math.abs(pow.invert(pow(0.3)) - 0.3) < 1e-12);
});

test("unknown scale, bad gamma and unknown colour map are refused", () => {
  assert.throws(() => makeScale("sqrt"), /unknown scale "sqrt"/);
  assert.throws(() => makeScale("power", { gamma: 0 }), /gamma > 0/);
  assert.throws(() => lut("jet"), /unknown colour map "jet"/);
});

test("colour maps: ends are the anchors, viridis and cividis get lighter along the map", () => {
  assert.deepEqual(colorAt("viridis", 0), [0x44, 0x01, 0x54]);
  assert.deepEqual(colorAt("viridis", 1), [0xfd, 0xe7, 0x25]);
  assert.deepEqual(colorAt("viridis", -3), colorAt("viridis", 0), "clamped below");
  const luma = ([r, g, b]) => 0.2126 * r + 0.7152 * g + 0.0722 * b;
  for (const name of ["viridis", "cividis"]) {
    let prev = -1;
    for (let i = 0; i <= 20; i++) {
      const l = luma(colorAt(name, i / 20));
      assert.ok(l > prev, `${name} luminance not increasing at ${i / 20}`);
      prev = l;
    }
  }
  for (const name of COLORMAPS) assert.equal(lut(name).length, 768);
});

test("ticks lie inside the domain and the legend sentence names scale and range", () => {
  const s = makeScale("log", { vmax: 0.5 });
  for (const v of ticks(s)) assert.ok(v >= s.domain[0] * 0.999 && v <= s.domain[1] * 1.001);
  assert.match(describe(s), /^log scale, 5e-4 to 0\.5/);
  assert.match(describe(makeScale("power", { vmax: 1, gamma: 0.4 })), /power scale \(gamma 0\.4\), 0 to 1/);
});

test("log ticks always label the maximum and keep labels apart", () => {
  const s = makeScale("log", { vmax: 0.19 });
  const t = ticks(s);
  assert.equal(t[t.length - 1], 0.19);
  for (let i = 1; i < t.length; i++) assert.ok(s(t[i]) - s(t[i - 1]) >= 0.15, `ticks ${t[i - 1]} and ${t[i]} too close`);
  assert.deepEqual(ticks(makeScale("log", { vmax: 1 })), [0.001, 0.01, 0.1, 1]);
});

test("legend labels stay inside the bar and never print over each other; the maximum is kept", () => {
  // Six decade labels of 24 px on a 140 px bar (a five-decade log scale in the token text).
  const xs = [6, 31, 57, 83, 108, 134], widths = [24, 24, 24, 24, 18, 24];
  const got = placeLabels(xs, widths, 0, 140);
  assert.equal(got[got.length - 1].index, 5);
  for (const { index, x } of got) {
    assert.ok(x - widths[index] / 2 >= 0 && x + widths[index] / 2 <= 140, `label ${index} at ${x} leaves the bar`);
  }
  for (let k = 1; k < got.length; k++) {
    const a = got[k - 1], b = got[k];
    assert.ok(a.x + widths[a.index] / 2 + 4 <= b.x - widths[b.index] / 2, `labels ${a.index} and ${b.index} overlap`);
  }
  assert.ok(got.length >= 3 && got.length < 6, `kept ${got.length}`);
  // Room for all: every label kept, each on its tick unless it would leave the bar.
  assert.deepEqual(placeLabels([20, 100, 180], [20, 20, 20], 0, 200), [{ index: 0, x: 20 }, { index: 1, x: 100 }, { index: 2, x: 180 }]);
  assert.deepEqual(placeLabels([3], [22], 0, 100), [{ index: 0, x: 11 }]);
});
