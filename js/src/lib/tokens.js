// Token text as drawn: whitespace made visible. The result is only ever set with textContent.

const SYMBOLS = { "\n": "⏎", "\r": "↵", "\t": "⇥" };

/** Label for a token: newlines and tabs as symbols, an all-space token as middle dots. */
export function displayToken(text) {
  if (typeof text !== "string") return String(text);
  if (text === "") return "∅";
  let out = "";
  for (const ch of text) out += SYMBOLS[ch] ?? ch;
  if (/^ +$/.test(out)) return "·".repeat(out.length);
  // A leading space marks a word start; a dot keeps word boundaries readable without clutter.
  return out.startsWith(" ") ? "·" + out.slice(1) : out;
}

/** Exact text for tooltips: the JSON string, so invisible characters show as escapes. */
export function exactToken(text) {
  return JSON.stringify(text);
}
