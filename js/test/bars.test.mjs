import test from "node:test";
import assert from "node:assert/strict";
import { barLayout, barCaption, barValue, CLIP_RATIO } from "../src/lib/bars.js";
import { makeScale } from "../src/lib/colormap.js";

const linear = makeScale("linear", { vmax: 1 });
const near = (a, b, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test("linear heights are proportional to the values when no bar dwarfs the rest", () => {
  const v = [0.4, 0.2, 0.1, 0, 0.3];
  const { fraction, top, clipped } = barLayout(v, linear);
  assert.equal(clipped, -1);
  near(top, 0.4);
  for (let j = 0; j < v.length; j++) near(fraction[j], v[j] / 0.4);
});

test("a decoder's sink is cut and the others are drawn against the largest of them", () => {
  // The bundled SmolLM2's rollout into the last token of "The cat sat on the mat because it was tired."
  const v = [0.99998, 2.388e-6, 1.631e-6, 5.848e-6, 1.005e-5, 9.488e-8];
  const { fraction, top, clipped } = barLayout(v, linear);
  assert.equal(clipped, 0);
  near(top, 1.005e-5, 1e-12);
  assert.equal(fraction[0], 1);
  for (let j = 1; j < v.length; j++) near(fraction[j], v[j] / 1.005e-5);
  // Ratios of the unclipped heights are the ratios of the values.
  near(fraction[3] / fraction[1], 5.848 / 2.388, 1e-5);
});

test("the cut needs more than CLIP_RATIO times the next bar", () => {
  assert.equal(barLayout([CLIP_RATIO * 0.1, 0.1, 0.05], linear).clipped, -1);
  assert.equal(barLayout([CLIP_RATIO * 0.1 + 1e-3, 0.1, 0.05], linear).clipped, 0);
  // One positive bar alone is not cut: nothing would be left to draw the axis to.
  const lone = barLayout([0, 0.5, 0], linear);
  assert.equal(lone.clipped, -1);
  near(lone.top, 0.5);
});

test("hidden positions get no bar and never decide the axis", () => {
  const { fraction, top, clipped } = barLayout([0.9, 0.05, 0.02], linear, { hide: [0] });
  assert.equal(clipped, -1);
  near(top, 0.05);
  assert.equal(fraction[0], 0);
  near(fraction[2], 0.4);
});

test("log and power heights follow their scale and say they are not proportional", () => {
  const log = makeScale("log", { vmax: 1, vmin: 1e-8 });
  const v = [1, 1e-4, 0];
  const l = barLayout(v, log);
  assert.equal(l.clipped, -1);
  near(l.fraction[0], 1);
  near(l.fraction[1], 0.5);
  assert.equal(l.fraction[2], 0);
  const c = barCaption(l, v, (j) => `token ${j}`);
  assert.match(c.text, /log scale 1e-8–1, not proportional/);
  const p = barCaption(barLayout(v, makeScale("power", { vmax: 1, gamma: 0.4 })), v, (j) => `token ${j}`);
  assert.match(p.text, /power scale\), not proportional/);
});

test("the caption names the axis top and the cut bar with its value, on one line", () => {
  const v = [0.99998, 2.4e-6, 1.005e-5];
  const c = barCaption(barLayout(v, linear), v, (j) => `token ${j}`);
  assert.equal(c.text, "bar height ∝ rollout, axis 0–1e-5; token 0 = 1.00, bar cut");
  assert.ok(!c.text.includes("\n"));
  assert.match(c.title, /more than 4 times/);
  const plain = barCaption(barLayout([0.4, 0.2], linear), [0.4, 0.2], (j) => `token ${j}`);
  assert.equal(plain.text, "bar height ∝ rollout, axis 0–0.4");
  assert.equal(barValue(1.024e-5), "1.02e-5");
  assert.equal(barValue(0.6874), "0.687");
});
