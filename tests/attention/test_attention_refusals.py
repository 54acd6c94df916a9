"""Bad arguments to `Attention` and its accessors, one row each; meta checked when set.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.refusal_data import TOKS, W, att

import attnwidget as aw

# (id, call, expected error, regex the message must match)
REFUSED = [
    # ---- Attention: arguments that used to be accepted silently
    (
        "tokens as one str",
        lambda: aw.Attention(W, "abcd"),
        aw.errors.ArgumentTypeError,
        r"tokens must be a list of str.*'abcd'",
    ),
    (
        "tokens not str",
        lambda: aw.Attention(W, [1, 2, 3, 4]),
        aw.errors.ArgumentTypeError,
        r"tokens must be a list of str; item 0 is 1",
    ),
    ("tokens None", lambda: aw.Attention(W, None), aw.errors.ArgumentTypeError, r"tokens must be a list of str"),
    (
        "float mask 0.5",
        lambda: aw.Attention(W, TOKS, mask=np.full((4, 4), 0.5)),
        aw.AttentionError,
        r"mask must be boolean",
    ),
    (
        "duplicate layer ids",
        lambda: aw.Attention(W, TOKS, layer_ids=[3, 3]),
        aw.AttentionError,
        r"layer_ids must not repeat.*\[3\]",
    ),
    (
        "negative head id",
        lambda: aw.Attention(W, TOKS, head_ids=[0, -1]),
        aw.AttentionError,
        r"head_ids must hold ints >= 0; got -1",
    ),
    (
        "string layer ids",
        lambda: aw.Attention(W, TOKS, layer_ids=["0", "1"]),
        aw.errors.ArgumentTypeError,
        r"layer_ids must be a list of ints.*'0'",
    ),
    (
        "bool head ids",
        lambda: aw.Attention(W, TOKS, head_ids=[True, False]),
        aw.errors.ArgumentTypeError,
        r"head_ids must be a list of ints",
    ),
    (
        "total_heads below held",
        lambda: aw.Attention(W, TOKS, head_ids=[0, 5], total_heads=4),
        aw.AttentionError,
        r"total_heads=4 is fewer than the heads held",
    ),
    (
        "total_heads float",
        lambda: aw.Attention(W, TOKS, total_heads=2.5),
        aw.errors.ArgumentTypeError,
        r"total_heads must be an int; got 2.5",
    ),
    (
        "num_kv_heads str",
        lambda: aw.Attention(W, TOKS, num_kv_heads="2"),
        aw.errors.ArgumentTypeError,
        r"num_kv_heads must be an int; got '2'",
    ),
    (
        "validate str",
        lambda: aw.Attention(W, TOKS, validate="no"),
        aw.errors.ArgumentTypeError,
        r"validate must be True or False; got 'no'",
    ),
    (
        "text not str",
        lambda: aw.Attention(W, TOKS, text=5),
        aw.errors.ArgumentTypeError,
        r"text must be a str or None; got 5",
    ),
    (
        "token_ids negative",
        lambda: aw.Attention(W, TOKS, token_ids=[1, 2, -3, 4]),
        aw.AttentionError,
        r"token_ids must hold ints >= 0; got -3",
    ),
    (
        "offsets reversed",
        lambda: aw.Attention(W, TOKS, offsets=[(0, 1), (3, 2), (3, 4), (4, 5)]),
        aw.AttentionError,
        r"offsets\[1\]\[1\] must be an int >= 3; got 2",
    ),
    ("special 0.5", lambda: aw.Attention(W, TOKS, special=[0.5] * 4), aw.AttentionError, r"special must be boolean"),
    (
        "generated floats",
        lambda: aw.Attention(W, TOKS, generated=[0.2] * 4),
        aw.AttentionError,
        r"generated must be boolean",
    ),
    ("weights str", lambda: aw.Attention("weights", TOKS), aw.errors.ArgumentTypeError, r"weights must be an array"),
    ("weights None", lambda: aw.Attention(None, TOKS), aw.errors.ArgumentTypeError, r"weights must be an array"),
    (
        "weights ragged",
        lambda: aw.Attention([[[[1.0]], [[1.0, 0.0]]]], ["a"]),
        aw.AttentionError,
        r"array of numbers|different shapes|ragged",
    ),
    ("weights complex", lambda: aw.Attention(W.astype(complex), TOKS), aw.AttentionError, r"floating point"),
    ("NaN weights", lambda: aw.Attention(np.where(W > 0.5, np.nan, W), TOKS), aw.AttentionError, r"NaN"),
    ("meta not a dict", lambda: aw.Attention(W, TOKS, meta=[1]), aw.errors.ArgumentTypeError, r"meta must be a dict"),
    (
        "meta set",
        lambda: aw.Attention(W, TOKS, meta={"s": {1, 2}}),
        aw.errors.ArgumentTypeError,
        r"meta\['s'\] must hold only .*got \{1, 2\} \(set\)",
    ),
    (
        "meta int key",
        lambda: aw.Attention(W, TOKS, meta={1: "a"}),
        aw.errors.ArgumentTypeError,
        r"meta keys must be str.*got key 1",
    ),
    (
        "meta NaN",
        lambda: aw.Attention(W, TOKS, meta={"x": float("nan")}),
        aw.AttentionError,
        r"meta\['x'\] must be a finite number",
    ),
    (
        "meta array",
        lambda: aw.Attention(W, TOKS, meta={"a": np.zeros(3)}),
        aw.errors.ArgumentTypeError,
        r"meta\['a'\] must hold only",
    ),
    # ---- Attention accessors
    ("layer 1.7", lambda: att().layer(1.7), aw.errors.ArgumentTypeError, r"layer must be an int; got 1.7"),
    ("layer str", lambda: att().layer("1"), aw.errors.ArgumentTypeError, r"layer must be an int; got '1'"),
    ("layer missing", lambda: att().layer(9), aw.errors.AttentionIndexError, r"layer 9 is not in this attention"),
    ("head True", lambda: att().head(0, True), aw.errors.ArgumentTypeError, r"head must be an int; got True"),
    (
        "heads=True",
        lambda: att().select(heads=True),
        aw.errors.ArgumentTypeError,
        r"heads must be a list of ints; got True",
    ),
    ("heads repeated", lambda: att().select(heads=[1, 1]), aw.AttentionError, r"heads must not repeat"),
    ("layers empty", lambda: att().select(layers=[]), aw.AttentionError, r"layers must hold at least one entry"),
    ("rows reversed", lambda: att().rows(0, 4, 2), aw.AttentionError, r"stop must be >= start \(4\); got 2"),
    (
        "rows negative start",
        lambda: att().rows(0, -1, 2),
        aw.AttentionError,
        r"start must be an int in \[0, 4\]; got -1",
    ),
    ("hide 1.5", lambda: att().hide_tokens([1.5]), aw.errors.ArgumentTypeError, r"hide must be a list of ints.*1.5"),
    (
        "hide out of range",
        lambda: att().hide_tokens([4]),
        aw.errors.AttentionIndexError,
        r"hide: token position 4 is out of range for 4 tokens",
    ),
    ("hide str", lambda: att().hide_tokens("0"), aw.errors.ArgumentTypeError, r"hide must be a list of ints"),
    ("pooled factor 0", lambda: att().pooled(0, 0), aw.AttentionError, r"factor must be an int >= 1; got 0"),
    (
        "pooled factor float",
        lambda: att().pooled(0, 2.0),
        aw.errors.ArgumentTypeError,
        r"factor must be an int; got 2.0",
    ),
    (
        "fuse unknown",
        lambda: att().fuse("median"),
        aw.AttentionError,
        r"fusion must be one of \('mean', 'max', 'min'\); got 'median'",
    ),
    ("kv_group str", lambda: att().kv_group(0, "0"), aw.errors.ArgumentTypeError, r"kv_head must be an int"),
    (
        "kv_head_of out of range",
        lambda: att().kv_head_of(7),
        aw.AttentionError,
        r"head must be an int in \[0, 1\]; got 7",
    ),
    (
        "materialize max_bytes",
        lambda: att().materialize(max_bytes="1GB"),
        aw.errors.ArgumentTypeError,
        r"max_bytes must be an int",
    ),
    (
        "from_hf batch index",
        lambda: aw.Attention.from_hf(tuple(W[:, None]), TOKS, batch_index=3),
        aw.AttentionError,
        r"batch_index must be an int in \[-1, 0\]; got 3",
    ),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(c, e, m, id=i) for i, c, e, m in REFUSED])
def test_bad_input_is_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, aw.AttentionError)


# ------------------------------------------------------------------------------ valid inputs that must work


def test_meta_is_checked_and_normalised_when_set():
    a = att(meta={"n": np.int64(3), "x": np.float32(0.5), "ok": np.bool_(True), "pair": (1, 2), "nested": {"t": (3,)}})
    assert a.meta == {"n": 3, "x": 0.5, "ok": True, "pair": [1, 2], "nested": {"t": [3]}}
    assert type(a.meta["n"]) is int and type(a.meta["x"]) is float
    a.meta["later"] = np.int32(7)
    assert a.meta["later"] == 7 and type(a.meta["later"]) is int
    with pytest.raises(aw.errors.ArgumentTypeError, match=r"meta\['s'\] must hold only"):
        a.meta["s"] = {1}
    with pytest.raises(aw.errors.ArgumentTypeError, match="meta keys must be str"):
        a.meta.update({2: "x"})
    with pytest.raises(aw.errors.ArgumentTypeError, match="meta keys must be str"):
        a.meta = {(1, 2): 3}
    assert "s" not in a.meta


# ---- Strings and floats as indices, truthy strings as flags: refused, never coerced (int('0'), bool('no'))


def _vision(n=5):
    """Self-attention over [CLS] and a 2 x 2 patch grid, from arrays."""
    return aw.Attention(att(n).weights, ["[CLS]"] + [f"p({r},{c})" for r in range(2) for c in range(2)], meta={"patch_grid": [2, 2]})  # fmt: skip


def _text(n=4):
    a = att(n)
    return aw.Attention(a.weights, ["aa", " bb", " cc", " dd"], text="aa bb cc dd", offsets=[(0, 2), (3, 5), (6, 8), (9, 11)])  # fmt: skip


COERCED = [
    # (function, call taking the bad value, the argument's name in the message)
    ("Attention.layer", lambda v: att().layer(v), "layer"),
    ("Attention.head", lambda v: att().head(0, v), "head"),
    ("Attention.rows", lambda v: att().rows(0, v, 2), "start"),
    ("Attention.fuse", lambda v: att().fuse("mean", layer=v), "layer"),
    ("Attention.hide_tokens", lambda v: att().hide_tokens([v]), "hide"),
    ("Attention.merge", lambda v: att().merge([[v, 1], [2, 3]]), "groups"),
    ("metrics.attention_flow", lambda v: aw.metrics.attention_flow(att(), query=v), "query"),
    ("metrics.rollout_with_hidden", lambda v: aw.metrics.flow.rollout_with_hidden(att(), [v]), "hide"),
    ("metrics.rollout_rows", lambda v: aw.metrics.flow.rollout_rows(att(), [v]), "queries"),
    ("metrics.sink_mass", lambda v: aw.metrics.sink_mass(att(), k=v), "k"),
    ("metrics.pattern", lambda v: aw.metrics.pattern("self", v), "n_query"),
    ("analysis.analyze", lambda v: aw.analysis.analyze(att(), hide=[v]), "hide"),
    ("analysis.find_sinks", lambda v: aw.analysis.find_sinks(att(), min_rows=v), "min_rows"),
    ("analysis.tokens_span", lambda v: aw.analysis.tokens_span(v, 3), "tokens_span"),
    (
        "analysis.segment_attention queries",
        lambda v: aw.analysis.segment_attention(_text(), {"a": "bb"}, queries=[v]),
        "queries",
    ),  # fmt: skip
    (
        "analysis.segment_attention span",
        lambda v: aw.analysis.segment_attention(_text(), {"a": (v, 5)}, unit="char"),
        "span",
    ),  # fmt: skip
    ("images.patch_map", lambda v: aw.images.patch_map(_vision(), query=v), "query"),
    ("images.save_image layer", lambda v: aw.images.save_image(att(), "x.png", v, 0), "layer"),
    ("images.save_image head", lambda v: aw.images.save_image(att(), "x.png", 0, v), "head"),
]
BAD_INDICES = ["1", 1.5, 1.0]


@pytest.mark.parametrize("bad", BAD_INDICES, ids=repr)
@pytest.mark.parametrize(("where", "call", "name"), COERCED, ids=[c[0] for c in COERCED])
def test_strings_and_floats_are_not_indices(where, call, name, bad):
    with pytest.raises(aw.AttentionError, match=name) as e:
        call(bad)
    assert "must" in str(e.value) or "takes" in str(e.value)


FLAGS = [
    ("Attention(validate=)", lambda v: aw.Attention(W, TOKS, validate=v), "validate"),
    ("metrics.entropy normalized", lambda v: aw.metrics.entropy(att(), normalized=v), "normalized"),
    ("metrics.entropy probabilities", lambda v: aw.metrics.entropy(att(), probabilities=v), "probabilities"),
    (
        "metrics.pattern_match probabilities",
        lambda v: aw.metrics.pattern_match(att(), "self", probabilities=v),
        "probabilities",
    ),  # fmt: skip
    (
        "analysis.segment_attention local",
        lambda v: aw.analysis.segment_attention(_text(), {"a": "bb"}, local=v),
        "local",
    ),  # fmt: skip
    ("analysis Table.sort", lambda v: aw.analysis.analyze(att()).sort("entropy", descending=v), "descending"),
    ("images.patch_map rollout", lambda v: aw.images.patch_map(_vision(), rollout=v), "rollout"),
]


@pytest.mark.parametrize("bad", ["yes", "no", 1, None], ids=repr)
@pytest.mark.parametrize(("where", "call", "name"), FLAGS, ids=[c[0] for c in FLAGS])
def test_truthy_values_are_not_flags(where, call, name, bad):
    with pytest.raises(aw.errors.ArgumentTypeError, match=f"{name} must be True or False"):
        call(bad)


@pytest.mark.parametrize("ch", ["\u202e", "\u200b", "\u2066", "\u2067", "\u2068", "\u2069", "\u00a0", "\u3164"])
def test_invisible_characters_in_names_show_as_marks(ch):
    from attnwidget._validate import visible

    mark = f"⟨U+{ord(ch):04X}⟩"
    assert visible(f"gpt{ch}2") == f"gpt{mark}2" and visible("plain name") == "plain name"
    a = att()
    a.meta["model"] = f"gpt{ch}2"
    assert f"gpt{mark}2" in repr(a) and ch not in repr(a)
    enc, dec = att(4), att(3)
    cross = aw.Attention(np.full((1, 1, 3, 4), 0.25, np.float32), enc.tokens, query_tokens=dec.tokens)
    s = aw.Seq2SeqAttention(enc, dec, cross, meta={"model": f"t5{ch}"})
    assert f"t5{mark}" in repr(s) and ch not in repr(s)
    table = aw.analysis.analyze(a)
    table.title = f"heads of gpt{ch}2"
    assert f"gpt{mark}2" in repr(table) and ch not in repr(table) and ch not in table._repr_html_()
