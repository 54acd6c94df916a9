"""Metrics refuse arrays that are not probabilities and thresholds out of range.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.refusal_data import MAP, TOKS, W

import attnwidget as aw
from attnwidget import metrics as M

# (id, call, expected error, regex the message must match)
REFUSED = [
    # ---- metrics: arrays that are not probabilities, thresholds out of range
    (
        "unchecked Attention",
        lambda: M.entropy(aw.Attention(W * 5, TOKS, validate=False)),
        aw.AttentionError,
        r"att must hold probabilities",
    ),
    ("rows sum to 5", lambda: M.entropy(MAP * 5), aw.AttentionError, r"att must hold probabilities in \[0, 1\]"),
    (
        "row sums 2",
        lambda: M.confidence(np.full((3, 3), 2 / 3)),
        aw.AttentionError,
        r"att rows must sum to 1 over visible keys; a row sums to 2",
    ),
    ("all-zero rows", lambda: M.rollout(np.zeros((2, 1, 3, 3))), aw.AttentionError, r"att rows must sum to 1"),
    (
        "scores",
        lambda: M.entropy(np.random.default_rng(0).normal(size=(3, 3))),
        aw.AttentionError,
        r"probabilities=False",
    ),
    (
        "sparsity NaN",
        lambda: M.sparsity(MAP, threshold=float("nan")),
        aw.AttentionError,
        r"threshold must be a finite number in \[0.0, 1.0\]; got nan",
    ),
    (
        "sparsity negative",
        lambda: M.sparsity(MAP, threshold=-0.1),
        aw.AttentionError,
        r"threshold must be a number in \[0.0, 1.0\]; got -0.1",
    ),
    (
        "coverage above 1",
        lambda: M.coverage(MAP, threshold=1.5),
        aw.AttentionError,
        r"threshold must be a number in \[0.0, 1.0\]; got 1.5",
    ),
    (
        "coverage str",
        lambda: M.coverage(MAP, threshold="0.1"),
        aw.errors.ArgumentTypeError,
        r"threshold must be a number; got '0.1'",
    ),
    (
        "coverage bool",
        lambda: M.coverage(MAP, threshold=True),
        aw.errors.ArgumentTypeError,
        r"threshold must be a number; got True",
    ),
    (
        "top_k True",
        lambda: M.focus_consistency(MAP, top_k=True),
        aw.errors.ArgumentTypeError,
        r"top_k must be an int; got True",
    ),
    ("sink k float", lambda: M.sink_mass(MAP, k=1.0), aw.errors.ArgumentTypeError, r"k must be an int; got 1.0"),
    (
        "normalized str",
        lambda: M.entropy(MAP, normalized="yes"),
        aw.errors.ArgumentTypeError,
        r"normalized must be True or False",
    ),
    (
        "probabilities None",
        lambda: M.entropy(MAP, probabilities=None),
        aw.errors.ArgumentTypeError,
        r"probabilities must be True or False",
    ),
    (
        "residual NaN",
        lambda: M.rollout(MAP[None, None], residual=float("nan")),
        aw.AttentionError,
        r"residual must be a finite number",
    ),
    ("fusion unknown", lambda: M.rollout(MAP[None, None], fusion="sum"), aw.AttentionError, r"fusion must be one of"),
    (
        "flow query str",
        lambda: M.attention_flow(MAP[None, None], query="1"),
        aw.errors.ArgumentTypeError,
        r"query must be an int",
    ),
    (
        "flow query out of range",
        lambda: M.attention_flow(MAP[None, None], query=9),
        aw.errors.AttentionIndexError,
        r"query must be a token position",
    ),
    ("att str", lambda: M.entropy("attention"), aw.errors.ArgumentTypeError, r"att must be an Attention or an array"),
    (
        "att object array",
        lambda: M.entropy(np.array([[None]])),
        aw.errors.ArgumentTypeError,
        r"att must be an array of numbers",
    ),
    (
        "att int dtype",
        lambda: M.entropy(np.eye(3, dtype=int)),
        aw.errors.ArgumentTypeError,
        r"att must be a floating-point array; got dtype int",
    ),
    (
        "mask ragged",
        lambda: M.entropy(MAP, mask=[[True], [True, False]]),
        aw.AttentionError,
        r"mask must be an array of numbers",
    ),
    (
        "token_ids str",
        lambda: M.pattern_match(MAP, "induction", token_ids="abcd"),
        aw.errors.ArgumentTypeError,
        r"token_ids must be a list of ints",
    ),
    (
        "pattern negative",
        lambda: M.pattern_match(MAP, -np.eye(4)),
        aw.AttentionError,
        r"pattern array must hold weights in \[0, 1\]",
    ),
    ("pattern None", lambda: M.pattern_match(MAP, None), aw.errors.ArgumentTypeError, r"pattern must be one of"),
    ("pattern name int", lambda: M.pattern(3, 4), aw.errors.ArgumentTypeError, r"name must be one of"),
    ("pattern n_query 0", lambda: M.pattern("self", 0), aw.AttentionError, r"n_query must be an int >= 1; got 0"),
    (
        "compute spec",
        lambda: M.compute(MAP, {"h": ("entropy", "normalized")}),
        aw.errors.ArgumentTypeError,
        r"metrics\['h'\] must be a metric name or",
    ),
    (
        "compute unknown keyword",
        lambda: M.compute(MAP, {"h": ("entropy", {"thresh": 0.1})}),
        aw.errors.ArgumentTypeError,
        r"entropy takes no argument thresh",
    ),
    ("compute not a dict", lambda: M.compute(MAP, ["entropy"]), aw.errors.ArgumentTypeError, r"metrics must be a dict"),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(c, e, m, id=i) for i, c, e, m in REFUSED])
def test_bad_input_is_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, aw.AttentionError)


def test_pattern_on_hidden_keys_only_is_nan_with_a_warning_not_zero():
    from helpers.refusal_data import att

    a = att(6)
    hidden = a.hide_tokens([0])
    with pytest.warns(UserWarning, match="pattern 'first_token' expects attention only on keys the mask hides"):
        got = aw.metrics.pattern_match(hidden, "first_token")
    assert np.isnan(got).all()
    assert np.isfinite(aw.metrics.pattern_match(hidden, "previous_token")).all()  # keys 1.. still visible
    assert np.isfinite(aw.metrics.pattern_match(a, "first_token")).all()
    with pytest.warns(UserWarning, match="the pattern array expects"):
        assert np.isnan(aw.metrics.pattern_match(hidden, np.eye(6, k=-5) > 0)).all()
