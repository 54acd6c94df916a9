import { test } from "node:test";
import assert from "node:assert/strict";
import { headCache, absMax, queryRowOf, keyOf, scoreText, missingText } from "../src/views/neuron/vectors.js";

test("a head's vectors are sliced from the payload by its key", () => {
  const arr = (shape, values) => ({ dtype: "float32", shape, data: new Float32Array(values) });
  const traits = { _heads: { keys: ["0/1"], facts: [{ scaling: 0.5, kv_head: 0 }],
    q: arr([1, 1, 2], [1, 2]), k: arr([1, 2, 2], [3, 4, 5, 6]), w: arr([1, 1, 2], [0.25, 0.75]) } };
  const get = headCache({ get: (n) => traits[n] });
  const h = get("0/1");
  assert.equal(h.d, 2);
  assert.deepEqual([...h.k], [3, 4, 5, 6]);
  assert.equal(h.facts.scaling, 0.5);
  assert.equal(get("1/1"), null);
});

test("the query is the pinned query row, else the last; the key the hovered one, else the strongest", () => {
  assert.equal(queryRowOf(3, 1, 4), 2);
  assert.equal(queryRowOf(0, 1, 4), 3);
  assert.equal(queryRowOf(null, 0, 4), 3);
  const w = new Float32Array([0.1, 0.6, 0.3, 0.5, 0.2, 0.3]);
  assert.equal(keyOf(null, w, 0, 3), 1);
  assert.equal(keyOf(undefined, w, 1, 3), 0);
  assert.equal(keyOf(2, w, 0, 3), 2);
  assert.equal(absMax(new Float32Array([1, -3, 2])), 3);
  assert.equal(absMax([]), 0);
});

test("the score's sentence names the query, the key, the score and its caveats", () => {
  const tokens = ["a", "b"];
  assert.equal(scoreText({ query: 1, key: 0, tokens, visible: true, dot: 2, weight: 0.5, facts: { scaling: 0.5, exact: true } }),
    'query 1 "b" · key 0 "a": q·k = 2.000, × 0.500 = score 1.000; attention weight 0.500');
  assert.match(scoreText({ query: 0, key: 1, tokens, visible: false, dot: 0, weight: 0, facts: { scaling: 1 } }),
    /this key is masked for this query \(the model adds a bias or cap to this score\)$/);
  assert.match(scoreText({ query: 1, key: 0, tokens, visible: true, dot: 1, weight: 1, facts: { scaling: 1, softcap: 50, exact: true } }), /soft-capped at 50/);
  assert.match(missingText(2, 3, { keys: ["0/0"], total: 12 }), /layer 2, head 3 .*holds 1 of 12 heads/);
});
