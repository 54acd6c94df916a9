import test from "node:test";
import assert from "node:assert/strict";
import { KernelLink } from "../src/views/heatmap/kernel.js";
import { weightText } from "../src/views/heatmap/pointer.js";

/** A model that records what the view sends and lets the test reply. */
function fakeModel(traits = {}) {
  const listeners = new Map();
  return {
    sent: [],
    get: (name) => traits[name],
    on(name, fn) { listeners.set(name, [...(listeners.get(name) ?? []), fn]); },
    off(name, fn) { listeners.set(name, (listeners.get(name) ?? []).filter((f) => f !== fn)); },
    send(msg) { this.sent.push(msg); },
    reply(msg, buffers) { for (const fn of listeners.get("msg:custom") ?? []) fn(msg, buffers); },
  };
}

function link(model, calls) {
  const controller = new AbortController();
  const kernel = new KernelLink(model, {
    nQuery: 300, nKey: 600, signal: controller.signal,
    options: (key) => ({ key, measure: "weights", hide: [1], rowNormalize: false }),
    onTiles: () => calls.push("tiles"), onRefused: (m) => calls.push(`refused ${m}`), onValue: (id) => calls.push(`value ${id}`),
  });
  return { kernel, stop: () => controller.abort() };
}

test("a tile is asked for once and kept when the kernel answers", () => {
  const model = fakeModel(), calls = [];
  const { kernel, stop } = link(model, calls);
  kernel.requestTile("0/1", 256, 512);
  kernel.requestTile("0/1", 256, 512);
  assert.equal(model.sent.length, 1);
  assert.deepEqual(model.sent[0], { type: "tile", id: "0/1|1|0|256,512", key: "0/1", measure: "weights", r0: 256, r1: 300, c0: 512, c1: 600, hide: [1], row_normalize: false });
  const values = new Float32Array([0.5, 0.25]);
  model.reply({ type: "tile", id: "0/1|1|0|256,512", key: "0/1", r0: 256, c0: 512, dtype: "float32", shape: [1, 2] }, [new DataView(values.buffer)]);
  assert.deepEqual(calls, ["tiles"]);
  assert.equal(kernel.pending.size, 0);
  assert.equal(kernel.tile("0/1", 256, 512).values[1], 0.25);
  kernel.requestTile("0/1", 256, 512);
  assert.equal(model.sent.length, 1);
  model.reply({ type: "tile-error", id: "x", message: "no" });
  assert.deepEqual(calls, ["tiles", "refused no"]);
  stop();
  model.reply({ type: "tile-error", id: "x", message: "late" });
  assert.equal(calls.length, 2);
});

test("kept tiles are adopted, and the tooltip reads cells from them or from the pooled overview", () => {
  const model = fakeModel(), calls = [];
  const { kernel, stop } = link(model, calls);
  kernel.adopt([{ id: "0/1|1|0|0,256", r0: 0, c0: 256, dtype: "float32", shape: [1, 2], data: new Float32Array([0.125, 0.75]) }]);
  const st = { shown: { key: "0/1", factor: 4, pooled: new Float32Array(75 * 150).fill(0.5) } };
  const at = { st, hide: [1], nKey: 600, visible: () => true, precision: () => null, kernel };
  assert.equal(weightText({ ...at, i: 0, j: 257 }), "0.750");
  assert.equal(weightText({ ...at, i: 0, j: 1 }), "hidden");
  assert.equal(weightText({ ...at, i: 0, j: 2, visible: () => false }), "masked");
  assert.equal(weightText({ ...at, i: 5, j: 9 }), "≤ 0.500 (largest in its 4×4 block; zoom in for this cell)");
  stop();
});

test("a coded weight is asked for exactly once and shown exact when it comes", () => {
  const model = fakeModel(), calls = [];
  const { kernel, stop } = link(model, calls);
  const values = new Float32Array(300 * 600).fill(0.25);
  const at = { st: { shown: { key: "0/1", factor: 1, values } }, hide: [], nKey: 600, visible: () => true, precision: () => 0.01, kernel, i: 2, j: 3 };
  const before = weightText(at);
  weightText(at);
  assert.equal(model.sent.length, 1);
  assert.deepEqual(model.sent[0], { type: "value", id: "0/1|1|0|2,3", key: "0/1", measure: "weights", i: 2, j: 3, hide: [1], row_normalize: false });
  assert.notEqual(before, "");
  model.reply({ type: "value", id: "0/1|1|0|2,3", value: 0.2512 });
  assert.deepEqual(calls, ["value 0/1|1|0|2,3"]);
  assert.equal(weightText(at), "0.2512 (exact, from the kernel)");
  stop();
});
