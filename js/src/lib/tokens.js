// @ts-check
// Token text as drawn. Every label and tooltip of a token goes through `displayToken` or
// `exactToken`, and the result is only ever set with textContent.
//
// Token text is untrusted: characters that draw nothing or change the direction of the text
// around them (bidi overrides and isolates, zero-width joiners and spaces, line and paragraph
// separators, other control and format characters, unpaired surrogates, spaces other than U+0020)
// are shown as visible marks such as ⟨U+202E⟩, so "abc\u202etxt.exe" cannot read as "abcexe.txt".
// tests/test_bad_inputs.py runs `escapeInvisible` in node against a reference built from Python's
// unicodedata categories.

/** @type {Record<string, string>} */
const SYMBOLS = { "\n": "⏎", "\r": "↵", "\t": "⇥" };

// Control (Cc), format (Cf: bidi marks, ZWJ/ZWNJ/ZWSP, BOM, soft hyphen, tags), line and
// paragraph separators (Zl, Zp), surrogates (Cs), and space separators other than U+0020 (Zs),
// plus the Hangul fillers and braille blank, letters that draw as nothing.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u115F\u1160\u3164\uFFA0\u2800]|(?! )\p{Zs}/u;

/**
 * The mark shown in place of an invisible or direction-changing character.
 * @param {string} ch
 * @returns {string}
 */
export function codePointMark(ch) {
  const hex = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
  return `⟨U+${hex}⟩`;
}

/** `text` with each invisible or direction-changing character replaced by its ⟨U+XXXX⟩ mark;
 *  characters in `keep` (an object of char -> replacement) are replaced by their own symbol.
 * @param {string} text
 * @param {Record<string, string>} [keep]
 * @returns {string}
 */
export function escapeInvisible(text, keep = {}) {
  let out = "";
  // for..of walks code points; an unpaired surrogate comes through as one code unit.
  for (const ch of text) {
    if (Object.prototype.hasOwnProperty.call(keep, ch)) out += keep[ch];
    else out += INVISIBLE.test(ch) ? codePointMark(ch) : ch;
  }
  return out;
}

/** Label for a token: newlines and tabs as symbols, invisible characters as marks, an all-space
 *  token as middle dots.
 * @param {unknown} text
 * @returns {string}
 */
export function displayToken(text) {
  if (typeof text !== "string") return String(text);
  if (text === "") return "∅";
  const out = escapeInvisible(text, SYMBOLS);
  if (/^ +$/.test(out)) return "·".repeat(out.length);
  // A leading space marks a word start; a dot keeps word boundaries readable without clutter.
  return out.startsWith(" ") ? "·" + out.slice(1) : out;
}

/** Exact text for tooltips: a quoted string with JSON escapes for quotes, backslashes and
 *  whitespace controls (\n, \t, ...), and every other invisible character as its ⟨U+XXXX⟩ mark.
 * @param {unknown} text
 * @returns {string}
 */
export function exactToken(text) {
  if (typeof text !== "string") return String(text);
  const quoted = JSON.stringify(text);  // escapes ", \ and controls; lone surrogates as \udXXX
  return escapeInvisible(quoted.replace(/\\u(d[89a-f][0-9a-f]{2})/g, (_, h) => `⟨U+${h.toUpperCase()}⟩`));
}

/** A name the views show (model, diff side, head label, tint, page title): not token text, but as
 *  untrusted; every invisible or direction-changing character, line breaks and tabs included, as
 *  its ⟨U+XXXX⟩ mark, so a name cannot reorder or hide the text around it. The Python twin is
 *  `mark_invisible` in attnwidget/widgets/export.py.
 * @param {unknown} text
 * @returns {string}
 */
export function displayName(text) {
  return escapeInvisible(typeof text === "string" ? text : String(text ?? ""));
}
