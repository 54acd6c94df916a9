import test from "node:test";
import assert from "node:assert/strict";
import { attentionFacts } from "../src/lib/facts.js";
import { visibility } from "../src/lib/maps.js";

/** A model holding `traits`, counting its reads. */
function fakeModel(traits) {
  const reads = new Map();
  return {
    reads,
    get(name) {
      reads.set(name, (reads.get(name) ?? 0) + 1);
      return traits[name];
    },
  };
}

const SELF = {
  _tokens: ["<s>", "a", "b", "c"], _special: [true, false, false, false], _n_query: 3, _query_tokens: [],
  _causal: true, _layer_ids: [0, 2], _head_ids: [1, 3, 5], _kv_of_head: [0, 0, 1], _mask: null, _llm_name: "tiny",
};

test("self-attention facts: rows are the last nQuery tokens", () => {
  const facts = attentionFacts(fakeModel(SELF));
  assert.deepEqual({ ...facts }, {
    tokens: ["<s>", "a", "b", "c"], special: [true, false, false, false], nKey: 4, nQuery: 3, offset: 1,
    cross: false, queryTokens: [], rowTokens: ["a", "b", "c"], causal: true, mask: null,
    layerIds: [0, 2], headIds: [1, 3, 5], kvOfHead: [0, 0, 1], llmName: "tiny",
  });
  // The facts fit maps.js's visibility as they are.
  const visible = visibility(facts);
  assert.ok(visible(0, 1) && !visible(0, 2));
});

test("each fact is read once and the result is frozen, lists included", () => {
  const model = fakeModel(SELF);
  const facts = attentionFacts(model);
  assert.ok([...model.reads.values()].every((n) => n === 1));
  assert.ok(Object.isFrozen(facts));
  for (const list of [facts.tokens, facts.special, facts.rowTokens, facts.layerIds, facts.headIds, facts.kvOfHead, facts.queryTokens]) {
    assert.ok(Object.isFrozen(list));
  }
  assert.throws(() => { facts.nQuery = 1; }, TypeError);
  assert.throws(() => { facts.tokens.push("x"); }, TypeError);
  // A copy: the model's own lists are left writable.
  assert.ok(!Object.isFrozen(SELF._tokens));
});

test("cross-attention: rows are target tokens, keys the source", () => {
  const facts = attentionFacts(fakeModel({ ...SELF, _tokens: ["x", "y"], _special: [], _n_query: 3, _query_tokens: ["p", "q", "r"], _causal: false }));
  assert.equal(facts.cross, true);
  assert.deepEqual(facts.rowTokens, ["p", "q", "r"]);
  assert.equal(facts.nKey, 2);
  assert.deepEqual(facts.special, [false, false]); // missing flags read as ordinary tokens
});

test("a sent mask is decoded once and checked against the shape", () => {
  const mask = { dtype: "uint8", shape: [2, 2], data: new Uint8Array([1, 0, 1, 1]) };
  const facts = attentionFacts(fakeModel({ ...SELF, _tokens: ["a", "b"], _special: [false, false], _n_query: 2, _causal: false, _mask: mask }));
  assert.deepEqual([...facts.mask], [1, 0, 1, 1]);
  const visible = visibility(facts);
  assert.ok(visible(1, 1) && !visible(0, 1));
  assert.throws(() => attentionFacts(fakeModel({ ...SELF, _mask: mask })), /holds 4 cells; 3 x 4/);
});

test("a model missing the optional facts gets plain defaults", () => {
  const facts = attentionFacts(fakeModel({ _tokens: ["a", "b"] }));
  assert.equal(facts.nQuery, 2);
  assert.equal(facts.offset, 0);
  assert.equal(facts.causal, false);
  assert.equal(facts.llmName, "");
  assert.deepEqual([facts.layerIds, facts.headIds, facts.kvOfHead, facts.queryTokens], [[], [], [], []]);
});
