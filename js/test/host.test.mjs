import test from "node:test";
import assert from "node:assert/strict";
import {
  Model, Models, decodeBase64, parseRef, placeBuffer, readPage, readWidgetState, same, viewModelId, widgetName,
} from "../src/host/state.js";

const b64 = (bytes) => Buffer.from(bytes).toString("base64");

test("widget references name a model id", () => {
  assert.equal(parseRef("anywidget:abc"), "abc");
  assert.equal(parseRef("IPY_MODEL_def"), "def");
  assert.throws(() => parseRef("abc"), /not a widget reference: "abc"/);
  assert.throws(() => parseRef(null), /not a widget reference: null/);
});

test("base64 buffers arrive as DataViews over their bytes", () => {
  const dv = decodeBase64(b64([1, 2, 255]));
  assert.ok(dv instanceof DataView);
  assert.deepEqual([dv.getUint8(0), dv.getUint8(1), dv.getUint8(2)], [1, 2, 255]);
  assert.equal(dv.byteLength, 3);
});

test("a buffer goes where its path says, and one whose place is gone is dropped", () => {
  const state = { data: null, maps: { keys: ["0/1"], maps: [{ shape: [2], data: null }] }, old: "replaced" };
  assert.equal(placeBuffer(state, ["data"], "A"), true);
  assert.equal(placeBuffer(state, ["maps", "maps", 0, "data"], "B"), true);
  assert.equal(state.data, "A");
  assert.equal(state.maps.maps[0].data, "B");
  // nbconvert keeps buffers of earlier state messages: their paths lead through values now gone.
  assert.equal(placeBuffer(state, ["maps", "maps", 3, "data"], "C"), false);
  assert.equal(placeBuffer(state, ["old", "data"], "D"), false);
  assert.equal(placeBuffer(state, ["missing", 0], "E"), false);
  assert.equal(placeBuffer(state, [], "F"), false);
  assert.equal(state.old, "replaced");
});

test("models hold their buffers and count the stale ones", () => {
  const model = new Model("m", {
    state: { _maps: { maps: [{ data: null }] }, n: 1 },
    buffers: [
      { path: ["_maps", "maps", 0, "data"], data: b64([7, 8]), encoding: "base64" },
      { path: ["_maps", "maps", 1, "data"], data: b64([9]), encoding: "base64" },
    ],
  }, { get_model: async () => { throw new Error("unused"); } });
  const data = model.get("_maps").maps[0].data;
  assert.ok(data instanceof DataView);
  assert.deepEqual([...new Uint8Array(data.buffer)], [7, 8]);
  assert.equal(model.dropped, 1);
  assert.equal(model.get("n"), 1);
});

test("same compares JSON deeply and binary by identity", () => {
  assert.ok(same({ a: [1, { b: null }] }, { a: [1, { b: null }] }));
  assert.ok(same(NaN, NaN));
  assert.ok(!same({ a: 1 }, { b: 1 }));
  assert.ok(!same([1], { 0: 1 }));
  assert.ok(!same([1, 2], [1]));
  const dv = new DataView(new ArrayBuffer(2));
  assert.ok(same(dv, dv));
  assert.ok(!same(dv, new DataView(new ArrayBuffer(2))));
});

test("set fires change events for real changes only, listeners by context go together", () => {
  const models = new Models({ m: { model_module: "anywidget", state: { hovered: null, layer: 0 } } });
  const model = models.model("m");
  const a = model.proxy(Symbol("a"));
  const b = model.proxy(Symbol("b"));
  const heard = [];
  a.on("change:hovered", (v) => heard.push(["a", v]));
  b.on("change:hovered change:layer", (v) => heard.push(["b", v]));
  a.on("change", () => heard.push(["a", "any"]));
  b.set("hovered", 3);
  b.set("hovered", 3); // no change, no event
  a.set({ layer: 2, hovered: 3 });
  assert.deepEqual(heard, [["a", 3], ["b", 3], ["a", "any"], ["b", 2], ["a", "any"]]);
  assert.equal(a.get("layer"), 2);
  // A view going away removes its listeners, not the other view's.
  model.off(null, null, undefined); // no context given matches all: nothing may be left behind by mistake
  assert.equal(model.listeners.length, 0);
  a.on("change:layer", (v) => heard.push(["a", v]));
  b.on("change:layer", (v) => heard.push(["b", v]));
  a.off("change:layer");
  b.set("layer", 5);
  assert.deepEqual(heard.slice(-1), [["b", 5]]);
  a.save_changes(); // no kernel: nothing to send, and nothing fails
  a.send({ type: "tile" });
});

test("a listener that throws is logged and the others still run", (t) => {
  const errors = t.mock.method(console, "error", () => {});
  const model = new Models({ m: { state: { x: 0 } } }).model("m");
  const heard = [];
  model.on("change:x", () => { throw new Error("boom"); });
  model.on("change:x", (v) => heard.push(v));
  model.set("x", 1);
  assert.deepEqual(heard, [1]);
  assert.equal(errors.mock.callCount(), 1);
});

test("models resolve the shared ESM table, other models and anywidget-ness", async () => {
  const models = new Models({
    v: { model_module: "anywidget", state: { _esm: { attnwidget_esm: 0 }, shared: "anywidget:s" } },
    s: { model_module: "anywidget", state: { _esm: "export default {}", value: 7 } },
    w: { model_module: "@jupyter-widgets/controls", model_name: "IntSliderModel", state: {} },
  }, ["BUNDLE"]);
  assert.equal(models.model("v").get("_esm"), "BUNDLE");
  assert.equal(models.model("s").get("_esm"), "export default {}");
  const shared = await models.model("v").proxy("ctx").widget_manager.get_model("s");
  assert.equal(shared.get("value"), 7);
  assert.ok(models.isAnywidget("v") && !models.isAnywidget("w") && !models.isAnywidget("nope"));
  assert.throws(() => models.model("nope"), /holds no widget model nope/);
  assert.throws(() => new Models({ v: { state: { _esm: { attnwidget_esm: 3 } } } }, []), /names ESM 3/);
  assert.equal(widgetName(models.models.get("w").spec), "@jupyter-widgets/controls IntSlider");
  assert.equal(widgetName(undefined), "A widget");
});

test("page and notebook state scripts are read", () => {
  assert.deepEqual(readPage('{"state":{"a":{}},"esm":["x"]}'), { state: { a: {} }, esm: ["x"] });
  assert.deepEqual(readPage("{}"), { state: {}, esm: [] });
  assert.deepEqual(readWidgetState('{"version_major":2,"version_minor":0,"state":{"a":{"state":{}}}}'), { a: { state: {} } });
  assert.equal(viewModelId('{"version_major":2,"model_id":"abc"}'), "abc");
  assert.equal(viewModelId("not json"), null);
  assert.equal(viewModelId("{}"), null);
});
