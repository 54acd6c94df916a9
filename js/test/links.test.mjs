import test from "node:test";
import assert from "node:assert/strict";
import { PART_LINKS, copies, linkParts, crossFocus, crossLineOn } from "../src/lib/links.js";

// A stand-in for connectSelection's wrapper: a plain store that fires change listeners, as a
// Backbone model does (only on a real change), and counts the writes.
function fakeSelection(init = {}) {
  const state = { hovered_token: null, pinned_token: null, hovered_query: null, pinned_query: null, ...init };
  const listeners = {};
  const sel = {
    writes: 0,
    state,
    get: (k) => state[k],
    set(values) {
      for (const [k, v] of Object.entries(values)) {
        if (state[k] === v) continue;
        state[k] = v;
        sel.writes++;
        for (const fn of listeners[k] ?? []) fn();
      }
    },
    on(names, fn) { for (const n of names) (listeners[n] ??= []).push(fn); },
  };
  return sel;
}

function threeParts(init = {}) {
  const sels = { encoder: fakeSelection(init.encoder), decoder: fakeSelection(init.decoder), cross: fakeSelection(init.cross) };
  linkParts(sels);
  return sels;
}

test("every link joins fields over the same sequence, both ways", () => {
  const sequence = (part, field) => (part === "encoder" || (part === "cross" && field.endsWith("_token")) ? "source" : "target");
  for (const [a, fa, b, fb] of copies()) assert.equal(sequence(a, fa), sequence(b, fb), `${a}.${fa} -> ${b}.${fb}`);
  assert.equal(copies().length, 2 * PART_LINKS.length);
});

test("a target token hovered in the decoder is the cross view's query row, never its source token", () => {
  const s = threeParts();
  s.decoder.set({ hovered_token: 2 });
  assert.equal(s.cross.get("hovered_query"), 2);
  assert.equal(s.cross.get("hovered_token"), null, "source token 2 must not light up");
  assert.equal(s.encoder.get("hovered_token"), null);
  s.decoder.set({ hovered_token: null });
  assert.equal(s.cross.get("hovered_query"), null);
});

test("a target row hovered or pinned in the cross view reaches the decoder only", () => {
  const s = threeParts();
  s.cross.set({ hovered_query: 4 });
  assert.equal(s.decoder.get("hovered_token"), 4);
  assert.equal(s.encoder.get("hovered_token"), null);
  s.cross.set({ pinned_query: 1 });
  assert.equal(s.decoder.get("pinned_token"), 1);
  assert.equal(s.encoder.get("pinned_token"), null);
});

test("source tokens still link the encoder and the cross keys", () => {
  const s = threeParts();
  s.encoder.set({ pinned_token: 3 });
  assert.deepEqual([s.cross.get("pinned_token"), s.cross.get("pinned_query"), s.decoder.get("pinned_token")], [3, null, null]);
  // A cross cell hover names both: each reaches its own part.
  s.cross.set({ hovered_token: 0, hovered_query: 5 });
  assert.deepEqual([s.encoder.get("hovered_token"), s.decoder.get("hovered_token")], [0, 5]);
});

test("copies stop after one round (no echo loop)", () => {
  const s = threeParts();
  s.decoder.set({ hovered_token: 1 });
  assert.equal(s.decoder.writes + s.cross.writes + s.encoder.writes, 2);
});

test("a side left unset takes what the other part already holds", () => {
  const s = threeParts({ decoder: { pinned_token: 2 }, cross: { pinned_token: 1 } });
  assert.equal(s.cross.get("pinned_query"), 2);
  assert.equal(s.encoder.get("pinned_token"), 1);
  assert.equal(s.cross.get("pinned_token"), 1);
});

test("a missing part is skipped", () => {
  const sels = { decoder: fakeSelection(), cross: fakeSelection() };
  linkParts(sels);
  sels.cross.set({ hovered_token: 3 });
  sels.decoder.set({ hovered_token: 3 });
  assert.equal(sels.cross.get("hovered_query"), 3);
});

test("the cross focus: hover first, then pins; lines of the focused row or source token stay bright", () => {
  const none = { hovered_token: null, pinned_token: null, hovered_query: null, pinned_query: null };
  assert.equal(crossFocus(none), null);
  assert.equal(crossFocus({ hovered_token: undefined }), null, "fields missing from an older page");
  assert.deepEqual(crossFocus({ ...none, hovered_query: 2 }), { row: 2, key: null });
  assert.deepEqual(crossFocus({ ...none, pinned_query: 2, hovered_token: 0 }), { row: null, key: 0 });
  assert.deepEqual(crossFocus({ ...none, pinned_query: 2, pinned_token: 0 }), { row: 2, key: 0 });
  const row2 = crossFocus({ ...none, hovered_query: 2 });
  assert.equal(crossLineOn(row2, 2, 0), true);
  assert.equal(crossLineOn(row2, 0, 2), false, "source token 2 is not target row 2");
  const key2 = crossFocus({ ...none, hovered_token: 2 });
  assert.equal(crossLineOn(key2, 0, 2), true);
  assert.equal(crossLineOn(key2, 2, 0), false);
  assert.equal(crossLineOn(null, 5, 5), true);
});
