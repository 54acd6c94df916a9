import test from "node:test";
import assert from "node:assert/strict";
import { tokenGaps } from "../src/lib/spacing.js";

const join = (tokens, gaps) => tokens.map((t, i) => (gaps[i] ? " " : "") + t).join("");

test("decoder tokens with no spacing and no offsets are spaced as words, punctuation kept close", () => {
  const tokens = ["[CLS]", "das", "haus", "ist", "klein", "und", "alt", "."];
  const special = [true, false, false, false, false, false, false, false];
  assert.equal(join(tokens, tokenGaps(tokens, [], special)), "[CLS] das haus ist klein und alt.");
});

test("tokens that carry their own spaces (BPE, SentencePiece read as spaces) get no extra gap", () => {
  const tokens = ["The", " cat", " sat", "."];
  assert.deepEqual(tokenGaps(tokens), [false, false, false, false]);
  assert.deepEqual(tokenGaps(["▁das", "▁Haus"]), [false, false]);
});

test("the kernel's gaps from offsets win", () => {
  assert.deepEqual(tokenGaps(["un", "believ", "able"], [false, false, true]), [false, false, true]);
});

test("brackets hold their contents", () => {
  assert.equal(join(["a", "(", "b", ")", "c"], tokenGaps(["a", "(", "b", ")", "c"])), "a (b) c");
});
