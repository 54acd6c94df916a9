"""compare_template_sets in one process: each set as compare_templates gives it, the summary counted
in the test, and its refusals."""

import math

import numpy as np
import pytest

import attnwidget as aw


def _sets():
    """Three sets of the same two templates filled with a different example, the third without 'b'."""
    return [
        {"a": {"text": "w1 w2 w40 w41", "parts": {"q": "w40 w41"}}, "b": "w5 w6 w40 w41"},
        {"a": {"text": "w1 w2 w50 w51", "parts": {"q": "w50 w51"}}, "b": "w5 w6 w50 w51"},
        {"a": {"text": "w1 w2 w60 w61", "parts": {"q": "w60 w61"}}},
    ]


def test_each_set_is_what_compare_templates_gives(tiny_llama, word_tokenizer):
    targets = [" w7", [" w8", " w9"], " w3"]
    found = aw.experiments.compare_template_sets(tiny_llama, word_tokenizer, _sets(), targets=targets)
    assert len(found) == 3 and found.verdicts == [c.verdict for c in found.comparisons]
    for i, (templates, target) in enumerate(zip(_sets(), targets, strict=True)):
        one = aw.experiments.compare_templates(tiny_llama, word_tokenizer, templates, target=target)
        got = found[i]
        assert got.table.columns == one.table.columns and got.attentions == {}
        for column in one.table.columns:
            a, b = list(got.table[column]), list(one.table[column])
            if isinstance(b[0], str):
                assert a == b, column
            else:
                np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=0, atol=1e-6)
        assert (got.best, got.ties, got.verdict, got.right) == (one.best, one.ties, one.verdict, one.right)
        assert got.evidence == one.evidence and got.answers == one.answers
        assert got.parts["a"].shares == pytest.approx(one.parts["a"].shares, abs=1e-6)
    summary = found.table
    assert list(summary["template"]) == ["a", "b"] and list(summary["sets"]) == [3, 2]
    for name in ("a", "b"):
        having = [c for c in found.comparisons if name in c.answers]
        row = summary.where(template=name)
        assert row["right"][0] == sum(name in c.right for c in having)
        assert row["best"][0] == sum(c.best == name for c in having)
        assert row["tie"][0] == sum(name in c.ties for c in having)
        logps = [float(c.table.where(template=name)["logprob"][0]) for c in having]
        assert row["mean_logprob"][0] == pytest.approx(sum(logps) / len(logps), abs=1e-9)


def test_one_target_for_every_set_and_none(tiny_llama, word_tokenizer):
    shared = aw.experiments.compare_template_sets(tiny_llama, word_tokenizer, _sets()[:2], target=" w7")
    listed = aw.experiments.compare_template_sets(tiny_llama, word_tokenizer, _sets()[:2], targets=[" w7", " w7"])
    assert list(shared.table["mean_logprob"]) == list(listed.table["mean_logprob"])
    assert all(math.isfinite(v) for v in shared.table["mean_logprob"])
    bare = aw.experiments.compare_template_sets(tiny_llama, word_tokenizer, _sets()[:2])
    assert bare.verdicts == ["no target", "no target"] and "mean_logprob" not in bare.table.columns


def test_compare_template_sets_refusals(tiny_llama, word_tokenizer):
    cases = [
        (_sets()[0], {}, aw.errors.ArgumentTypeError, "sets must be a list of template dicts"),
        ([], {}, aw.AttentionError, "sets is empty"),
        ([{"a": "w1"}, {}], {}, aw.AttentionError, "set 1 must be a non-empty dict"),
        (_sets(), {"target": " w7", "targets": [" w7"] * 3}, aw.AttentionError, "not both"),
        (_sets(), {"targets": [" w7"]}, aw.AttentionError, r"one target per set \(3\)"),
        ([{"x": {"text": "w1 w2", "parts": {"q": "w9"}}}] * 2, {}, aw.AttentionError, "set 0, template 'x': part"),
    ]
    for sets, kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            aw.experiments.compare_template_sets(tiny_llama, word_tokenizer, sets, **kwargs)
