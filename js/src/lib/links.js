// @ts-check
// Which token of one part of an encoder-decoder result is which token of another, and what a
// cross-attention view lights for a hover or pin. DOM-free.
//
// A selection names tokens by field: `hovered_token` / `pinned_token` are key positions;
// `hovered_query` / `pinned_query` are query rows of cross-attention, whose rows are tokens of
// their own. The source tokens are the encoder's tokens and the cross keys; the target tokens are
// the decoder's tokens and the cross query rows. A field is only ever copied to a field over the
// same sequence, so a target position can never mark the source token with the same number.

/**
 * What linkParts needs of a part's selection (lib/selection.js connectSelection gives more).
 * @typedef {{ get: (field: string) => any, set: (changes: Record<string, any>) => void,
 *   on: (fields: string[], fn: () => void) => void }} LinkedSelection
 */

/** @typedef {[string, string, string, string]} Link */

/**
 * [part, field, part, field]: the two fields name the same token.
 * @type {Link[]}
 */
export const PART_LINKS = [
  ["encoder", "hovered_token", "cross", "hovered_token"],
  ["encoder", "pinned_token", "cross", "pinned_token"],
  ["decoder", "hovered_token", "cross", "hovered_query"],
  ["decoder", "pinned_token", "cross", "pinned_query"],
];

/**
 * Every link as a one-way copy [from part, from field, to part, to field], both directions.
 * @param {Link[]} [links]
 * @returns {Link[]}
 */
export function copies(links = PART_LINKS) {
  return links.flatMap(([p1, f1, p2, f2]) => [[p1, f1, p2, f2], [p2, f2, p1, f1]]);
}

const unset = (/** @type {unknown} */ v) => v === null || v === undefined;

/**
 * Link the selections of the parts: `sels` maps part name to an object with get(field),
 * set({field: value}) and on([field], fn) (what lib/selection.js's connectSelection returns). A
 * change of a linked field is copied to the field naming the same token in the other part; a side
 * left unset takes what the other holds at once (a pin set from the kernel before drawing).
 * Parts missing from `sels` are skipped.
 * @param {Record<string, LinkedSelection | undefined>} sels
 * @param {Link[]} [links]
 */
export function linkParts(sels, links = PART_LINKS) {
  for (const [a, fa, b, fb] of copies(links)) {
    const from = sels[a], to = sels[b];
    if (!from || !to) continue;
    const copy = () => to.set({ [fb]: from.get(fa) ?? null });
    from.on([fa], copy);
    if (!unset(from.get(fa)) && unset(to.get(fb))) copy();
  }
}

/**
 * What a view of cross-attention focuses: the hovered target row and source token, or, with
 * neither hovered, the pinned ones. `state` holds the selection's four token fields. Returns
 * `{row, key}` (either may be null) or null when nothing is hovered or pinned.
 * @param {{ hovered_query?: number | null, hovered_token?: number | null, pinned_query?: number | null, pinned_token?: number | null }} state
 * @returns {{ row: number | null, key: number | null } | null}
 */
export function crossFocus(state) {
  const pick = (/** @type {number | null | undefined} */ q, /** @type {number | null | undefined} */ k) => ({ row: unset(q) ? null : q, key: unset(k) ? null : k });
  if (!unset(state.hovered_query) || !unset(state.hovered_token)) return pick(state.hovered_query, state.hovered_token);
  if (!unset(state.pinned_query) || !unset(state.pinned_token)) return pick(state.pinned_query, state.pinned_token);
  return null;
}

/** Whether the line from target row `i` to source token `j` stays bright under `focus`: it
 * leaves the focused row or reaches the focused source token (every line when nothing is).
 * @param {{ row: number | null, key: number | null } | null} focus
 * @param {number} i
 * @param {number} j
 * @returns {boolean}
 */
export function crossLineOn(focus, i, j) {
  return focus === null || i === focus.row || j === focus.key;
}
