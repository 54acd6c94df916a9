// @ts-check
// The per-attention facts every view reads from its model (the traits attnwidget/widgets/base.py
// `AttentionView` sets once from the Attention): read once into one frozen object, so a view
// reads `facts.nQuery` instead of `model.get("_n_query")`, and a cross-attention or masked
// attention is told apart in one place.
import { decode } from "./decode.js";

/** @typedef {import("./types.js").WidgetModel} WidgetModel */

/**
 * @typedef {object} AttentionFacts
 * @property {readonly string[]} tokens  Key tokens (all tokens, for self-attention).
 * @property {readonly boolean[]} special  Whether each key token is a special token.
 * @property {number} nKey  Number of key tokens.
 * @property {number} nQuery  Number of query rows.
 * @property {number} offset  nKey - nQuery: the token position of query row 0 (self-attention; the views
 *   and maps.js `visibility` compute it so for cross-attention too, where rows are no token positions).
 * @property {boolean} cross  Cross-attention: query rows are target tokens of their own (`queryTokens`).
 * @property {readonly string[]} queryTokens  Labels of the query rows when `cross`; empty otherwise.
 * @property {readonly string[]} rowTokens  Labels of the query rows: `queryTokens`, or the last nQuery tokens.
 * @property {boolean} causal  The mask is causal (rebuilt in the browser when `mask` is null).
 * @property {Float32Array | null} mask  The nQuery x nKey visibility mask (1 visible, 0 masked) when
 *   it is neither causal nor all-visible; null otherwise. Decoded once; not to be written.
 * @property {readonly number[]} layerIds  Model layer numbers held, in order.
 * @property {readonly number[]} headIds  Model head numbers held, in order.
 * @property {readonly number[]} kvOfHead  The key/value head each held head reads (grouped-query attention).
 * @property {string} llmName  The model's name ("" when not known).
 */

/**
 * @template T
 * @param {unknown} value
 * @param {T[]} fallback
 * @returns {readonly T[]}
 */
function frozenList(value, fallback) {
  return Object.freeze(Array.isArray(value) ? [...value] : fallback);
}

/**
 * The per-attention facts of a view's model, read once.
 * @param {Pick<WidgetModel, "get">} model
 * @returns {Readonly<AttentionFacts>}
 */
export function attentionFacts(model) {
  /** @type {readonly string[]} */
  const tokens = frozenList(model.get("_tokens"), []);
  const nKey = tokens.length;
  const nQueryTrait = model.get("_n_query");
  // A view made before `_n_query` existed (or a test model without it) draws every token as a row.
  const nQuery = Number.isInteger(nQueryTrait) && nQueryTrait > 0 ? nQueryTrait : nKey;
  /** @type {readonly string[]} */
  const queryTokens = frozenList(model.get("_query_tokens"), []);
  const cross = queryTokens.length > 0;
  const maskPayload = model.get("_mask");
  const mask = maskPayload ? decode(maskPayload).values : null;
  if (mask && mask.length !== nQuery * nKey) {
    throw new RangeError(`attnwidget: the mask holds ${mask.length} cells; ${nQuery} x ${nKey} were expected`);
  }
  const special = model.get("_special");
  return Object.freeze({
    tokens,
    special: frozenList(special && special.length === nKey ? special : null, new Array(nKey).fill(false)),
    nKey,
    nQuery,
    offset: nKey - nQuery,
    cross,
    queryTokens,
    rowTokens: cross ? queryTokens : Object.freeze(tokens.slice(nKey - nQuery)),
    causal: !!model.get("_causal"),
    mask,
    layerIds: frozenList(model.get("_layer_ids"), []),
    headIds: frozenList(model.get("_head_ids"), []),
    kvOfHead: frozenList(model.get("_kv_of_head"), []),
    llmName: String(model.get("_llm_name") ?? ""),
  });
}
