// @ts-check
// Which rollout row a view draws (pure: no DOM): the kernel sends the rollout for the current hiding
// and for the first token's hiding toggled, and on long inputs the rows of some query tokens only.
import { exactToken } from "../../lib/tokens.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */

/**
 * Whether two lists hold the same items in the same order.
 * @param {readonly unknown[]} a
 * @param {readonly unknown[]} b
 */
export const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The rollout payload for the hiding the model asks for: the alternative one when it was computed
 * with that hiding and the main one was not, else the main one.
 * @param {Pick<WidgetModel, "get">} model
 * @param {(payload: any) => any} decodeOnce  The decoded payload, or null while it is being decoded.
 * @returns {{ data: any, hide: number[] }}
 */
export function currentRollout(model, decodeOnce) {
  const want = model.get("hide");
  const alt = model.get("_rollout_alt");
  if (alt && alt.shape && same(want, model.get("_rollout_alt_hide")) && !same(want, model.get("_rollout_hide"))) {
    return { data: decodeOnce(alt), hide: model.get("_rollout_alt_hide") };
  }
  return { data: decodeOnce(model.get("_rollout")), hide: model.get("_rollout_hide") };
}

/**
 * The row of `data` that holds query token `q`: `q` itself, or its place in `data.rows` when the
 * data holds some rows only (-1 when it is not held).
 * @param {{ rows?: number[] | null }} data
 * @param {number} q
 */
export function rowOf(data, q) {
  return data.rows ? data.rows.indexOf(q) : q;
}

/**
 * Why the rollout into token `q` is not drawn: the rows the data holds, and how to get the others.
 * @param {number} q
 * @param {{ rows?: number[] | null, eager?: boolean }} data
 * @param {readonly string[]} tokens
 */
export function missingText(q, data, tokens) {
  const n = tokens.length;
  const held = data.rows ?? [];
  const shown = held.slice(0, 12).map((i) => `${i} ${exactToken(tokens[i])}`).join(", ");
  return `The rollout into token ${q} ${exactToken(tokens[q])} is not in this view's data: for ${n} tokens it holds ` +
    `rows of ${held.length} query token${held.length === 1 ? "" : "s"} only (${shown}${held.length > 12 ? ", …" : ""}). ` +
    (data.eager ? "With a running kernel it arrives in a moment; " : "Computing one row takes a pass over every layer; ") +
    "an exported page keeps the rows it was saved with.";
}

/**
 * The status line while a row is not drawn: the kernel's progress on it, its error, or why it is missing.
 * @param {number} q
 * @param {{ rows?: number[] | null, eager?: boolean }} data
 * @param {readonly string[]} tokens
 * @param {{ rows?: number[], done?: number, error?: string }} pending  The model's `_pending`.
 * @returns {{ busy: boolean, text: string }}
 */
export function pendingText(q, data, tokens, pending) {
  const busy = (pending.rows ?? []).includes(q);
  const text = busy
    ? `Computing the rollout into token ${q} ${exactToken(tokens[q])} in the kernel: ${Math.round(100 * (pending.done ?? 0))}% of the layers`
    : pending.error ? `The kernel could not compute the rollout: ${pending.error}` : missingText(q, data, tokens);
  return { busy, text };
}
