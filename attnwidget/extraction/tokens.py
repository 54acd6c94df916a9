"""Token text: readable strings for token ids, tokenizing a text (offsets kept), patch labels.

Nothing here runs a model. Token text is the user's data: it is returned as plain strings and
views show it as text, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attnwidget.errors import ArgumentTypeError, AttentionError

__all__ = ["readable_tokens", "encode", "patch_labels"]


def _byte_level_alphabet() -> dict[str, int]:
    """Byte-level BPE's reversible map from printable characters back to bytes (GPT-2 scheme:
    printable Latin-1 bytes stand for themselves, the rest are shifted past U+0100)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = {b: chr(b) for b in keep}
    shift = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + shift)
            shift += 1
    return {c: b for b, c in chars.items()}


_BYTE_OF = _byte_level_alphabet()


def _token_bytes(tok: str) -> bytes | None:
    """The bytes a byte-level BPE token stands for, or None if it is not byte-level text."""
    if tok and all(c in _BYTE_OF for c in tok):
        return bytes(_BYTE_OF[c] for c in tok)
    return None


def _split_characters(raw: list[str], texts: list[str]) -> list[str]:
    """Name tokens that hold part of a multi-byte character (common for CJK in byte-level BPE).

    A run of such tokens that together decode to text gets that text with its part number, e.g.
    '北[1/2]', '北[2/2]'; a run that never completes shows its bytes as escapes.
    """
    out = list(texts)
    i = 0
    while i < len(raw):
        if "\ufffd" not in texts[i] or _token_bytes(raw[i]) is None:
            i += 1
            continue
        j, buf = i, b""
        while j < len(raw):
            piece = _token_bytes(raw[j])
            if piece is None:
                break
            buf += piece
            j += 1
            try:
                whole = buf.decode("utf-8")
                break
            except UnicodeDecodeError:
                whole = None
        if whole is None:
            for k in range(i, j):
                out[k] = (_token_bytes(raw[k]) or b"").decode("utf-8", errors="backslashreplace")
        else:
            m = j - i
            for k in range(i, j):
                out[k] = f"{whole}[{k - i + 1}/{m}]" if m > 1 else whole
        i = j
    return out


def continuation_prefix(tokenizer: Any) -> str | None:
    """WordPiece's continuation prefix ('##') when `tokenizer` is a WordPiece tokenizer, else None.

    Only WordPiece marks word-inner pieces this way; in byte-level BPE '###' is three '#'
    characters of the text, so the prefix must never be stripped there.
    """
    if getattr(tokenizer, "wordpiece_tokenizer", None) is not None:  # slow BERT-style tokenizers
        return "##"
    backend = getattr(tokenizer, "backend_tokenizer", None) or (tokenizer if hasattr(tokenizer, "model") else None)
    model = getattr(backend, "model", None)
    if type(model).__name__ == "WordPiece":
        return getattr(model, "continuing_subword_prefix", None) or "##"
    return None


def readable_tokens(tokenizer: Any, ids: Sequence[int]) -> list[str]:
    """One readable string per token id: byte-level markers ('Ġ', 'Ċ', '▁') become the spaces and
    newlines they stand for, WordPiece's '##' continuation prefix is dropped (for WordPiece
    tokenizers only: byte-level BPE's '###' is text), and tokens holding part of a multi-byte
    character are named by that character and their part ('北[1/2]').

    Special tokens keep their literal text (``<|im_start|>``, ``[CLS]``).
    """
    raw = tokenizer.convert_ids_to_tokens(list(ids))
    raw = ["" if tok is None else tok for tok in raw]
    special = set(getattr(tokenizer, "all_special_tokens", []) or [])
    prefix = continuation_prefix(tokenizer)
    texts = []
    for tok in raw:
        if tok in special:
            texts.append(tok)
            continue
        try:
            text = tokenizer.convert_tokens_to_string([tok])
        except Exception:  # some slow tokenizers refuse single tokens
            text = tok
        if prefix and tok.startswith(prefix) and text.startswith(prefix):
            text = text[len(prefix) :]
        # A token that starts a word decodes with its leading space stripped by some tokenizers;
        # keep it so the reader sees word boundaries.
        if tok[:1] in ("Ġ", "▁") and not text.startswith(" "):
            text = " " + text
        texts.append(text if text else tok)
    return _split_characters(raw, texts)


def encode(tokenizer, texts, text_pair, messages, add_special_tokens):
    """Tokenize one text or a batch (padded), exactly as ``tokenizer(text)`` does."""
    if messages is not None:
        if texts is not None:
            raise AttentionError("pass either text or messages, not both")
        if not messages:
            raise AttentionError("messages is empty; expected a list of {'role': ..., 'content': ...}")
        if isinstance(messages, (str, dict)):
            raise ArgumentTypeError(
                f"messages must be a list of {{'role': ..., 'content': ...}} dicts; got {type(messages).__name__}"
            )
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or not isinstance(m.get("role"), str) or "content" not in m:
                raise AttentionError(f"messages[{i}] must be a dict with a str 'role' and a 'content'; got {m!r:.80}")
        texts = [tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)]
        add_special_tokens = False  # the template already holds them
    for t in texts:
        if not isinstance(t, str):
            raise ArgumentTypeError(f"text must be a str (or a list of str); got {type(t).__name__}")
        if not t.strip():
            raise AttentionError("text is empty; attention needs at least one token")
    pairs = None
    if text_pair is not None:
        pairs = [text_pair] if isinstance(text_pair, str) else list(text_pair)
        if len(pairs) != len(texts):
            raise AttentionError(f"got {len(pairs)} text_pair entries for {len(texts)} texts")
    kwargs: dict = {"add_special_tokens": add_special_tokens, "return_tensors": "pt"}
    if len(texts) > 1:
        if tokenizer.pad_token is None:
            raise AttentionError("batching needs a tokenizer with a pad token (set tokenizer.pad_token)")
        kwargs["padding"] = True
    if getattr(tokenizer, "is_fast", False):
        kwargs["return_offsets_mapping"] = True
    enc = tokenizer(texts, pairs, **kwargs) if pairs is not None else tokenizer(texts, **kwargs)
    if "attention_mask" not in enc:
        enc["attention_mask"] = enc["input_ids"].new_ones(enc["input_ids"].shape)
    lengths = enc["attention_mask"].sum(1).tolist()
    if min(lengths) == 0:
        raise AttentionError("the tokenizer produced no tokens for a text")
    return texts, enc


def patch_labels(n_tokens: int, grid: tuple[int, int]) -> list[str]:
    """Labels for a vision transformer's sequence: prefix tokens, then patches row by row.

    ``grid`` is ``(rows, cols)`` of patches; the tokens before them are named ``[CLS]``, then
    ``[DIST]`` (DeiT's distillation token), then ``[REG1]``... (register tokens). Patch ``(r, c)``
    is labelled ``p(r,c)``.
    """
    rows, cols = grid
    n_prefix = n_tokens - rows * cols
    if n_prefix < 0:
        raise AttentionError(f"{n_tokens} tokens cannot hold a {rows} x {cols} patch grid")
    names = ["[CLS]", "[DIST]"][:n_prefix] + [f"[REG{i + 1}]" for i in range(max(0, n_prefix - 2))]
    return names + [f"p({r},{c})" for r in range(rows) for c in range(cols)]
