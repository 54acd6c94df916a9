// @ts-check
// The aligned positions an AttentionDiff draws: which column and row stand for which token of a and
// of b, their labels, and the positions with no partner. DOM-free; the Python half is
// attnwidget/attention/alignment.py (the view's `_align` trait).

/**
 * Columns and rows of the diff's maps.
 * @param {{a?: number[], b?: number[], rows?: number[], only_a?: number[], only_b?: number[], method?: string} | null | undefined} align
 *   The `_align` trait; missing (a page saved before alignments) means position by position.
 * @param {number} nKey a's token count
 * @param {number} nQuery a's query row count (the last nQuery tokens)
 */
export function alignedAxes(align, nKey, nQuery) {
  const offset = nKey - nQuery;
  const colsA = align?.a ?? Array.from({ length: nKey }, (_, i) => i);
  const colsB = align?.b ?? colsA;
  const rows = align?.rows ?? Array.from({ length: nQuery }, (_, i) => i + offset);
  /** @type {Map<number, number>} a's position -> column */
  const colOf = new Map(colsA.map((p, c) => [p, c]));
  /** @type {Map<number, number>} a's position -> row */
  const rowOf = new Map(rows.map((c, r) => [colsA[c], r]));
  return {
    colsA, colsB, rows, colOf, rowOf,
    onlyA: align?.only_a ?? [], onlyB: align?.only_b ?? [], method: align?.method ?? "positions",
    /** a's position of row r (its query token) */
    rowToken: (/** @type {number} */ r) => colsA[rows[r]],
  };
}

/**
 * Label of an aligned position: the token once when a and b agree, both joined by an arrow where
 * they differ (" cat→ dog"). `show` renders one token (displayToken); the result is set as text.
 * @param {string} tokA @param {string} tokB @param {(t: string) => string} show
 */
export function pairLabel(tokA, tokB, show) {
  return tokA === tokB ? show(tokA) : `${show(tokA)}→${show(tokB)}`;
}

/**
 * One line naming the positions of one side with no partner, or "" when there are none:
 * "only in b (no partner in a): 1 ' big', 4 '!'".
 * @param {number[]} only @param {string[]} tokens @param {string} side @param {string} other
 * @param {(t: string) => string} exact quoting of one token (exactToken)
 * @param {number} [limit] positions named before "… and N more"
 */
export function unpairedLine(only, tokens, side, other, exact, limit = 12) {
  if (!only.length) return "";
  const named = only.slice(0, limit).map((p) => `${p} ${exact(tokens[p])}`).join(", ");
  const more = only.length > limit ? `, … and ${only.length - limit} more` : "";
  return `only in ${side} (no partner in ${other}): ${named}${more}`;
}
