"""Extraction arguments are checked before the model runs.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import pytest

import attnwidget as aw

# ------------------------------------------------------------------------------ extraction arguments

EXTRACT_REFUSED = [
    ("text None", lambda m, t: aw.extract(m, t, None), TypeError, r"text must be a str or a list of str"),
    (
        "model as a name",
        lambda m, t: aw.extract("smollm2", t, "a b"),
        TypeError,
        r"model must be a loaded model.*'smollm2'",
    ),
    ("tokenizer None", lambda m, t: aw.extract(m, None, "a b"), ValueError, r"pass the model's tokenizer"),
    (
        "message without role",
        lambda m, t: aw.extract(m, t, messages=[{"content": "hi"}]),
        ValueError,
        r"messages\[0\] must be a dict with a str 'role'",
    ),
    (
        "message without content",
        lambda m, t: aw.extract(m, t, messages=[{"role": "user"}]),
        ValueError,
        r"messages\[0\] must be a dict .* 'content'",
    ),
    ("messages a str", lambda m, t: aw.extract(m, t, messages="hi"), TypeError, r"messages must be a list"),
    (
        "layers repeated",
        lambda m, t: aw.extract(m, t, "a b", layers=[0, 0]),
        ValueError,
        r"layers names the same layer twice",
    ),
    (
        "heads=True",
        lambda m, t: aw.extract(m, t, "a b", heads=True),
        TypeError,
        r"heads must be a list of ints; got True",
    ),
    ("generate without a prompt", lambda m, t: aw.generate(m, t, None), TypeError, r"text must be the prompt"),
    ("text empty", lambda m, t: aw.extract(m, t, ""), aw.AttentionError, r"text is empty; attention needs at least"),
    (
        "generate 0 tokens",
        lambda m, t: aw.generate(m, t, "w1 w2", max_new_tokens=0),
        aw.AttentionError,
        r"max_new_tokens must be a positive int; got 0",
    ),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(c, e, m, id=i) for i, c, e, m in EXTRACT_REFUSED])
def test_extraction_arguments_are_checked(tiny_llama, word_tokenizer, call, error, match):
    with pytest.raises(error, match=match):
        call(tiny_llama, word_tokenizer)
