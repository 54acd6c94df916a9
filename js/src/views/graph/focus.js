// @ts-check
// The graph's focus, DOM-free: the hovered token, else the query row of the generation step. Its
// edges stay bright (a hovered token's edges both ways, a step row's outgoing ones), the others fade.

/** @typedef {{ focus: number | null, both: boolean }} Focus */

/**
 * @param {{ hovered: number | null | undefined, pinned: number | null | undefined, step: number | null | undefined }} selection
 * @returns {Focus}
 */
export function focusOf({ hovered, pinned, step }) {
  const stepRow = step === null || step === undefined ? null : pinned;
  const focus = hovered ?? stepRow;
  return { focus: focus ?? null, both: hovered !== null && hovered !== undefined };
}

/**
 * Whether edge `e` stays bright under focus `f`.
 * @param {{ source: number, target: number }} e
 * @param {Focus} f
 */
export function isOn(e, { focus, both }) {
  return focus === null || e.source === focus || (both && e.target === focus);
}

/**
 * Why a graph is blank, or "": no edge passes the threshold at all, or none from the step's query.
 * @param {number} nEdges  Edges drawn.
 * @param {number} nBright  Edges lit by the focus.
 * @param {Focus} f
 * @param {number} threshold
 * @param {string} token  The focus token's text (exactToken) when there is one.
 * @returns {string}
 */
export function emptyNote(nEdges, nBright, f, threshold, token) {
  const stepFocus = f.focus !== null && !f.both;
  return !nEdges ? `no edge over ${threshold}; lower the threshold`
    : stepFocus && !nBright ? `no edge over ${threshold} at this step (query ${f.focus} ${token})` : "";
}

/**
 * The overlay after head `hd`'s button is pressed: on or off, at most `max` heads, in model order.
 * @param {readonly number[]} overlay
 * @param {number} hd
 * @param {readonly number[]} headIds
 * @param {number} max
 * @returns {number[]}
 */
export function toggleOverlay(overlay, hd, headIds, max) {
  const on = new Set(overlay);
  if (on.has(hd)) on.delete(hd); else if (on.size < max) on.add(hd);
  return headIds.filter((x) => on.has(x));
}

/**
 * A node's tooltip: the token, where it looks most and what looks at it most (when a map is drawn).
 * @param {number} i  Token position.
 * @param {ArrayLike<number> | null} values  The nQuery x nKey map, or null.
 * @param {number} nQuery
 * @param {number} nKey
 * @param {(i: number) => string} name  Token i's exact text.
 * @returns {string}
 */
export function nodeTip(i, values, nQuery, nKey, name) {
  let text = `${i} ${name(i)}`;
  if (!values) return text;
  const qi = i - (nKey - nQuery);
  if (qi >= 0) {
    let best = -1, w = 0;
    for (let j = 0; j < nKey; j++) if (values[qi * nKey + j] > w) { w = values[qi * nKey + j]; best = j; }
    if (best >= 0) text += `\nattends most to ${best} ${name(best)}: ${w.toPrecision(3)}`;
  }
  let best = -1, w = 0;
  for (let q = 0; q < nQuery; q++) if (values[q * nKey + i] > w) { w = values[q * nKey + i]; best = q + nKey - nQuery; }
  if (best >= 0) text += `\nattended most by ${best} ${name(best)}: ${w.toPrecision(3)}`;
  return text;
}
