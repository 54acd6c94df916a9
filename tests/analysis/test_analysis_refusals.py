"""Analysis thresholds and spans are checked.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import pytest
from helpers.refusal_data import softmax_rows

import attnwidget as aw

# ------------------------------------------------------------------------------ analysis thresholds

ANALYSIS_REFUSED = [
    (
        "report sink_above NaN",
        lambda a: aw.report(a, sink_above=float("nan")),
        aw.AttentionError,
        r"sink_above must be a finite number in \[0.0, 1.0\]; got nan",
    ),
    (
        "report part_below 2",
        lambda a: aw.report(a, part_below=2),
        aw.AttentionError,
        r"part_below must be a number in \[0.0, 1.0\]; got 2",
    ),
    (
        "report uniform_above str",
        lambda a: aw.report(a, uniform_above="1"),
        aw.errors.ArgumentTypeError,
        r"uniform_above must be a number; got '1'",
    ),
    (
        "report uniform_above negative",
        lambda a: aw.report(a, uniform_above=-1),
        aw.AttentionError,
        r"uniform_above must be a number in \[0.0, 1.0\]",
    ),
    (
        "analyze threshold -1",
        lambda a: aw.analyze(a, sparsity_threshold=-1),
        aw.AttentionError,
        r"threshold must be a number in \[0.0, 1.0\]; got -1",
    ),
    (
        "quality weight NaN",
        lambda a: aw.analysis.shape_score(a, locality_weight=float("nan")),
        aw.AttentionError,
        r"locality_weight must be a finite number",
    ),
    (
        "quality points str",
        lambda a: aw.analysis.shape_score(a, entropy_points="0.3"),
        aw.errors.ArgumentTypeError,
        r"entropy_points must be a number; got '0.3'",
    ),
    (
        "quality range str",
        lambda a: aw.analysis.shape_score(a, entropy_range=("a", "b")),
        aw.errors.ArgumentTypeError,
        r"entropy_range\[0\] must be a number",
    ),
    (
        "head_roles threshold negative",
        lambda a: aw.experiments.head_roles(a, thresholds={"self": -0.5}),
        aw.AttentionError,
        r"thresholds\['self'\] must be a number >= 0; got -0.5",
    ),
    (
        "head_roles threshold NaN",
        lambda a: aw.experiments.head_roles(a, thresholds={"self": float("nan")}),
        aw.AttentionError,
        r"thresholds\['self'\] must be a finite number",
    ),
    (
        "head_roles threshold str",
        lambda a: aw.experiments.head_roles(a, thresholds={"self": "x"}),
        aw.errors.ArgumentTypeError,
        r"thresholds\['self'\] must be a number",
    ),
    (
        "compare_templates target",
        lambda a: aw.experiments.compare_templates(None, None, {"a": "x"}, target=[3]),
        ValueError,
        r"target must be a non-empty str",
    ),
    (
        "head_roles thresholds not a dict",
        lambda a: aw.experiments.head_roles(a, thresholds=0.5),
        aw.errors.ArgumentTypeError,
        r"thresholds must be a dict of role -> threshold; got 0.5",
    ),
    (
        "quality range a set",
        lambda a: aw.analysis.shape_score(a, sparsity_range={1, 2}),
        ValueError,
        r"sparsity_range must be \(low, high\)",
    ),
    (
        "quality patterns a number",
        lambda a: aw.analysis.shape_score(a, expected_patterns=3),
        aw.errors.ArgumentTypeError,
        r"expected_patterns must be a pattern name",
    ),
    (
        "segment text not there",
        lambda a: aw.analysis.segment_attention(a, {"x": aw.analysis.tokens_span(1, 2), "y": "zz"}),
        aw.AttentionError,
        r"part 'y'",
    ),
    ("tokens_span empty", lambda a: aw.analysis.tokens_span(3, 3), aw.AttentionError, r"tokens_span\(3, 3\) is empty"),
    (
        "segment layer not held",
        lambda a: aw.analysis.segment_attention(a, {"x": aw.analysis.tokens_span(1, 2)}).layer(9),
        aw.errors.AttentionIndexError,
        r"layer 9 is not in this result",
    ),
    (
        "show hide 99",
        lambda a: aw.show(a, hide=[99]),
        aw.errors.AttentionIndexError,
        r"hide: token position 99 is out of range for 6 tokens",
    ),
    (
        "heatmap layer 40",
        lambda a: aw.AttentionHeatmap(a, layer=40),
        aw.errors.AttentionIndexError,
        r"layer 40 is out of range; this attention holds layers \[0, 1\]",
    ),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(c, e, m, id=i) for i, c, e, m in ANALYSIS_REFUSED])
def test_analysis_thresholds_are_checked(call, error, match):
    a = aw.Attention(softmax_rows(6), [f"t{i}" for i in range(6)], token_ids=list(range(6)))
    with pytest.raises(error, match=match):
        call(a)
