import test from "node:test";
import assert from "node:assert/strict";
import { displayName, displayToken, exactToken, escapeInvisible } from "../src/lib/tokens.js";

test("a right-to-left override cannot reverse the label or the tooltip", () => {
  const t = "abc\u202etxt.exe";
  assert.equal(displayToken(t), "abc⟨U+202E⟩txt.exe");
  assert.equal(exactToken(t), '"abc⟨U+202E⟩txt.exe"');
});

test("zero-width, separator and format characters show as marks", () => {
  assert.equal(displayToken("a\u200db"), "a⟨U+200D⟩b");
  assert.equal(displayToken("x\u2028y\u2029"), "x⟨U+2028⟩y⟨U+2029⟩");
  assert.equal(displayToken("\ufeff"), "⟨U+FEFF⟩");
  assert.equal(displayToken("\u00a0"), "⟨U+00A0⟩", "a no-break space is not an ordinary space");
  assert.equal(displayToken("\u2066x\u2069"), "⟨U+2066⟩x⟨U+2069⟩");
  assert.equal(displayToken("tag\u{E0041}"), "tag⟨U+E0041⟩", "astral format characters keep their code point");
  assert.equal(displayToken("\u0000"), "⟨U+0000⟩");
});

test("an unpaired surrogate is marked, in labels and tooltips", () => {
  assert.equal(displayToken("a\ud800"), "a⟨U+D800⟩");
  assert.equal(exactToken("a\ud800"), '"a⟨U+D800⟩"');
});

test("visible text, whitespace symbols and markup-looking text are unchanged", () => {
  assert.equal(displayToken(" cat"), "·cat");
  assert.equal(displayToken("  "), "··");
  assert.equal(displayToken("\n"), "⏎");
  assert.equal(displayToken("日本語 é 👍🏽"), "日本語 é 👍🏽");
  assert.equal(displayToken("<b>&amp;</b>"), "<b>&amp;</b>");
  assert.equal(exactToken('a"\n'), '"a\\"\\n"');
  assert.equal(escapeInvisible("plain"), "plain");
});

test("names (models, diff sides, head labels) show invisible characters as marks", () => {
  assert.equal(displayName("gpt\u202e2-evil"), "gpt⟨U+202E⟩2-evil");
  assert.equal(displayName("two\nlines\tand\u2066iso\u2069"), "two⟨U+000A⟩lines⟨U+0009⟩and⟨U+2066⟩iso⟨U+2069⟩");
  assert.equal(displayName(" plain name "), " plain name ");
  assert.equal(displayName(null), "");
  assert.equal(displayName(7), "7");
});
