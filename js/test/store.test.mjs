import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { connectMaps, formatWeight, heldMaps } from "../src/lib/store.js";
import { countingInflates } from "./helpers/inflates.mjs";

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

/** A float16 map payload of `values` (2 x 2, every cell), deflated as payload.py does. */
function map(values) {
  const halves = new Uint16Array(values.map((v) => (v === 1 ? 0x3c00 : v === 0.5 ? 0x3800 : 0)));
  const body = zlib.deflateRawSync(new Uint8Array(halves.buffer), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return { coding: "float16", cells: "all", compression: "deflate-raw", shape: [2, 2], data: new Uint8Array([...body, 3, 0]) };
}

/** A data model as two views see it: each through its own proxy of the same value. */
function dataModel(maps) {
  const listeners = [];
  let value = maps;
  const proxy = () => ({
    get: (name) => (name === "_maps" ? value : undefined),
    on: (name, fn) => listeners.push(fn),
    off: () => {},
  });
  return {
    proxy,
    update(next) {
      value = next;
      for (const fn of listeners) fn();
    },
  };
}

function held(keys, maps) {
  return { keys, maps, total: 8, max_bytes: 1 << 20, factor: 1, hide: [], row_normalize: false, precision: "exact" };
}

test("the views of one data model share one inflate; an update inflates only the maps it adds", async () => {
  const data = dataModel(held(["0/0", "0/1", "0/mean"], [map([1, 0, 0.5, 0.5]), map([0, 1, 1, 0]), map([0.5, 0.5, 1, 0])]));
  const view = (name) => ({ get: (n) => (n === "data" ? `anywidget:${name}` : undefined) });
  const host = { getModel: async () => data.proxy() };
  const [handles, inflates] = await countingInflates(() => Promise.all([1, 2, 3].map((i) => connectMaps(view(i), host))));
  assert.equal(inflates, 1, "three views, three maps, one inflate");
  for (const h of handles) {
    assert.deepEqual([...h.get("0/1")], [0, 1, 1, 0]);
    assert.equal(h.get("1/0"), null, "a map not held is null");
    assert.equal(h.precision(), 0);
  }
  assert.equal(handles[0].get("0/0"), handles[2].get("0/0"), "decoded once, the same array for every view");

  const heard = [];
  handles.forEach((h, i) => h.on(() => heard.push(i)));
  const next = held(["0/0", "0/1", "0/mean", "1/0"], [map([1, 0, 0.5, 0.5]), map([0, 1, 1, 0]), map([0.5, 0.5, 1, 0]), map([0, 0, 1, 1])]);
  const [, updateInflates] = await countingInflates(async () => {
    data.update(next);
    await heldMaps(next);
    await new Promise((r) => setTimeout(r, 0));
  });
  assert.equal(updateInflates, 1, "the added map alone, once for every view");
  assert.deepEqual(heard.sort(), [0, 1, 2]);
  for (const h of handles) assert.deepEqual([...h.get("1/0")], [0, 0, 1, 1]);
});

test("a view's own coded payloads are inflated together and decoded when first asked for", async () => {
  const { payloadCache } = await import("../src/lib/store.js");
  const traits = { _thumbs: map([1, 0, 0.5, 0.5]), _thumbs_alt: map([0, 1, 1, 0]), _rows: null };
  const coded = payloadCache({ get: (n) => traits[n] });
  assert.equal(coded.get(traits._thumbs), null, "nothing before ready");
  const [, inflates] = await countingInflates(() => coded.ready(["_thumbs", "_thumbs_alt", "_rows"]));
  assert.equal(inflates, 1);
  assert.deepEqual([...coded.get(traits._thumbs_alt).values], [0, 1, 1, 0]);
  assert.equal(coded.get(traits._thumbs).precision, 0);
  const again = payloadCache({ get: (n) => traits[n] });
  const [, more] = await countingInflates(() => again.ready(["_thumbs"]));
  assert.equal(more, 0, "another view of this bundle instance reuses them");
  assert.equal(again.get(traits._thumbs), coded.get(traits._thumbs));
});
