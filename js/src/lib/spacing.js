// @ts-check
// Where TokenText puts a space between two tokens. DOM-free.

const CLOSING = /^[.,!?;:)\]}%…'"»」』、。，！？；：]/u;
const OPENING = /[(\[{«「『]$/u;

/**
 * The gaps to draw before each token. `gaps` (the kernel's, from character offsets) wins when it
 * marks any. Without offsets (a decoder's target tokens, generated text) a gap is inferred only
 * when the tokens carry no spacing of their own: no token starts or ends with whitespace (byte-level
 * BPE and SentencePiece tokens hold their leading space, "▁" read as " "). Then every token gets
 * a gap, except before closing punctuation, after opening punctuation and at the start; a special
 * token ([CLS], </s>) always stands apart. Returns booleans, one per token.
 * @param {readonly unknown[]} tokens
 * @param {readonly unknown[]} [gaps]
 * @param {readonly unknown[]} [special]
 * @returns {boolean[]}
 */
export function tokenGaps(tokens, gaps = [], special = []) {
  const n = tokens.length;
  if (gaps.some(Boolean)) return Array.from({ length: n }, (_, i) => !!gaps[i]);
  const text = (/** @type {unknown} */ t) => (typeof t === "string" ? t : "");
  const spaced = tokens.some((t, i) => !special[i] && /^[\s▁]|\s$/u.test(text(t)));
  const out = new Array(n).fill(false);
  if (spaced) return out;
  for (let i = 1; i < n; i++) {
    const prev = text(tokens[i - 1]), cur = text(tokens[i]);
    if (special[i] || special[i - 1]) { out[i] = true; continue; }
    out[i] = !CLOSING.test(cur) && !OPENING.test(prev) && cur !== "" && prev !== "";
  }
  return out;
}
