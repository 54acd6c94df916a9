"""Extraction arguments are checked before the model runs.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.tiny_models import words
from helpers.tiny_seq2seq import tiny_seq2seq

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


# ------------------------------------------------------------------------------ careless or hostile input
# Each is refused by name before the model, the tokenizer or a processor sees it.


class _Processor:
    """Records every call: a refusal must come before any processor (which would fetch a URL)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        raise AssertionError("the processor was called")


MEDIA_REFUSED = [
    (
        "image URL",
        dict(image="http://example.com/cat.png"),
        aw.AttentionError,
        r"image= takes a PIL image, an array or a local path; got the URL 'http://example.com/cat.png': download the image first",
    ),
    ("image https URL", dict(image=" https://x.org/a.jpg"), aw.AttentionError, r"download the image first"),
    (
        "image URL in a list",
        dict(image=[np.zeros((4, 4, 3), np.uint8), "ftp://h/a.png"]),
        aw.AttentionError,
        r"image\[1\]= takes .* download the image first",
    ),
    (
        "image bool",
        dict(image=True),
        aw.errors.ArgumentTypeError,
        r"image must be a PIL image, an array or a local path; got True",
    ),
    (
        "image bool array",
        dict(image=np.ones((4, 4, 3), bool)),
        aw.errors.ArgumentTypeError,
        r"image is a bool array of shape \(4, 4, 3\)",
    ),
    (
        "image empty array",
        dict(image=np.zeros((0, 4, 3), np.uint8)),
        aw.AttentionError,
        r"image is an empty array \(shape \(0, 4, 3\)\)",
    ),
    (
        "audio int16",
        dict(audio=np.zeros(1600, np.int16), sampling_rate=16000),
        aw.errors.ArgumentTypeError,
        r"audio= takes float samples in \[-1, 1\]; got int16: divide by 32768",
    ),
]


@pytest.mark.parametrize("given, error, match", [pytest.param(g, e, m, id=i) for i, g, e, m in MEDIA_REFUSED])
def test_media_is_refused_before_any_processor(tiny_llama, given, error, match):
    processor = _Processor()
    with pytest.raises(error, match=match):
        aw.extract(tiny_llama, processor, **given)
    assert processor.calls == 0


FLAGS_REFUSED = [
    ("lazy='yes'", dict(lazy="yes"), r"lazy must be True or False; got 'yes'"),
    ("check='no'", dict(check="no"), r"check must be True or False; got 'no'"),
    ("add_special_tokens=1", dict(add_special_tokens=1), r"add_special_tokens must be True or False; got 1"),
]


@pytest.mark.parametrize("given, match", [pytest.param(g, m, id=i) for i, g, m in FLAGS_REFUSED])
def test_flags_are_real_bools(tiny_llama, word_tokenizer, given, match):
    with pytest.raises(aw.errors.ArgumentTypeError, match=match):
        aw.extract(tiny_llama, word_tokenizer, words(3), **given)


def test_int_token_labels_are_refused(tiny_llama, word_tokenizer):
    ids = word_tokenizer(words(3), return_tensors="pt")["input_ids"]
    with pytest.raises(aw.errors.ArgumentTypeError, match=r"tokens must be a list of str; item 0 is 1"):
        aw.extract(tiny_llama, inputs={"input_ids": ids}, tokens=list(range(1, ids.shape[1] + 1)))


TARGET_IDS_REFUSED = [
    (
        "floats",
        [94.0, 5.7],
        aw.errors.ArgumentTypeError,
        r"target_ids must hold int token ids; got dtype float64 \(item 0 is 94.0\)",
    ),
    (
        "float tensor",
        torch.tensor([94.0, 5.0]),
        aw.errors.ArgumentTypeError,
        r"target_ids must hold int token ids; got dtype float32",
    ),
    ("a bool", [94, True], aw.errors.ArgumentTypeError, r"target_ids must hold int token ids; item 1 is True"),
    (
        "past the vocabulary",
        [94, 5, 10**6],
        aw.errors.AttentionIndexError,
        r"target_ids must hold token ids in \[0, \d+\) \(the model's vocabulary\); got 1000000 at position 2",
    ),
    ("negative", [94, -3], aw.errors.AttentionIndexError, r"got -3 at position 1"),
    (
        "a batch of two",
        [[94, 5], [94, 6]],
        aw.AttentionError,
        r"target_ids must be 1-d or \(1, n\) token ids \(one example\); got shape \(2, 2\)",
    ),
]


@pytest.mark.parametrize("ids, error, match", [pytest.param(v, e, m, id=i) for i, v, e, m in TARGET_IDS_REFUSED])
def test_target_ids_are_checked(word_tokenizer, ids, error, match):
    with pytest.raises(error, match=match):
        aw.extract(tiny_seq2seq("marian"), word_tokenizer, words(4), target_ids=ids)


def test_target_ids_as_a_tokenizer_returns_them(word_tokenizer):
    model = tiny_seq2seq("marian")
    a = aw.extract(model, word_tokenizer, words(4), target_ids=torch.tensor([[94, 5, 6]]))
    b = aw.extract(model, word_tokenizer, words(4), target_ids=[94, 5, 6])
    assert a.decoder.token_ids == [94, 5, 6]
    np.testing.assert_allclose(a.cross.weights, b.cross.weights)


def test_inputs_are_checked_against_the_model(tiny_llama, word_tokenizer):
    enc = word_tokenizer(words(5), return_tensors="pt")
    ids, n = enc["input_ids"], enc["input_ids"].shape[1]
    toks = [f"t{i}" for i in range(n)]
    with pytest.raises(
        aw.AttentionError,
        match=r"inputs has the key 'pixel_mask', which LlamaForCausalLM.forward does not take; it takes \['input_ids', 'attention_mask'",
    ):
        aw.extract(tiny_llama, inputs={"input_ids": ids, "pixel_mask": ids}, tokens=toks)
    with pytest.raises(
        aw.AttentionError, match=rf"inputs\['attention_mask'\] covers 3 positions but inputs\['input_ids'\] has {n}"
    ):
        aw.extract(
            tiny_llama, inputs={"input_ids": ids, "attention_mask": torch.ones(1, 3, dtype=torch.long)}, tokens=toks
        )
    with pytest.raises(
        aw.errors.AttentionIndexError,
        match=r"inputs\['input_ids'\] must hold token ids in \[0, \d+\).*got 99999 at position 1",
    ):
        aw.extract(tiny_llama, inputs={"input_ids": torch.tensor([[1, 99999]])}, tokens=["a", "b"])
    with pytest.raises(
        aw.errors.ArgumentTypeError, match=r"inputs\['input_ids'\] must hold int token ids; got dtype float32"
    ):
        aw.extract(tiny_llama, inputs={"input_ids": ids.float()}, tokens=toks)
    # 1-d ids are one example: the same as the (1, n) a tokenizer returns
    a = aw.extract(tiny_llama, inputs={"input_ids": ids[0]}, tokens=toks)
    b = aw.extract(tiny_llama, inputs={"input_ids": ids}, tokens=toks)
    np.testing.assert_array_equal(a.weights, b.weights)
