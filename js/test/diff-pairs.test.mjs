import { test } from "node:test";
import assert from "node:assert/strict";
import { pairCache, diffPixels, alignNotes, missingText, cellTip } from "../src/views/diff/pairs.js";

test("a pair of maps is sliced from the payload by its key", () => {
  const data = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const traits = { _maps: { dtype: "float32", shape: [2, 2, 2], data, keys: ["0/0", "0/mean"] } };
  const get = pairCache({ get: (n) => traits[n] });
  assert.deepEqual([...get("0/mean").a], [5, 6]);
  assert.deepEqual([...get("0/mean").b], [7, 8]);
  assert.equal(get("1/0"), null);
  traits._maps = null;
  assert.equal(get("0/0"), null);
});

test("masked cells are grey and no difference is paler grey", () => {
  const px = diffPixels(new Float32Array([0, 1]), 1, 2, (i, j) => j === 0, 1, "linear", 1);
  assert.deepEqual([...px.slice(4)], [234, 238, 242, 255]);
  assert.equal(px[3], 255);
  assert.deepEqual([...diffPixels(null, 1, 1, () => true, 0, "linear", 1)], [246, 248, 250, 255]);
});

test("the alignment note names the rule, the changed tokens and the unpaired positions", () => {
  const names = { tokens: ["a", "b"], bTokens: ["a", "c"], nameA: "A", nameB: "B", nCol: 2 };
  assert.deepEqual(alignNotes({ method: "positions", onlyA: [], onlyB: [] }, { ...names, changed: 0 }), []);
  const notes = alignNotes({ method: "positions", onlyA: [], onlyB: [1] }, { ...names, changed: 1 });
  assert.match(notes[0], /^A and B compared position by position: 2 aligned positions, 1 with different tokens \(labelled A→B\)$/);
  assert.equal(notes.length, 2);
  assert.match(notes[1], /B/);
});

test("a missing pair and a cell's tooltip say what they hold", () => {
  assert.match(missingText(1, null, "mean", { keys: ["0/0"], total: 8 }), /^The maps for layer 1, mean are not .*holds 1 of 8/);
  const ax = { rows: [0, 1], colsA: [0, 1], colsB: [0, 1] };
  const pair = { a: new Float32Array([0.5, 0.5, 0.25, 0.75]), b: new Float32Array([1, 0, 0.5, 0.5]) };
  const names = { tokens: ["x", "y"], bTokens: ["x", "z"], nameA: "A", nameB: "B", nCol: 2 };
  assert.equal(cellTip(1, 0, ax, { ...names, visible: true, pair }), 'query A 1 "y" · B 1 "z"\nkey 0 "x"\nA 0.250\nB 0.500\nB − A +0.250');
  assert.match(cellTip(0, 1, ax, { ...names, visible: false, pair }), /masked$/);
  assert.match(cellTip(0, 0, ax, { ...names, visible: true, pair: null }), /not loaded$/);
});
