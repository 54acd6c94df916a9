"""RolloutBar: the rollout it sends, hidden tokens, default query, errors."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets as t
from helpers.widget_data import assert_coded, decode, over_the_wire, synthetic_attention, tiny_attention

import attnwidget as aw
from attnwidget.widgets.rollout import ROLLOUT_FLOOR


@pytest.fixture(scope="module")
def att():
    return synthetic_attention()


def reference_rollout(w: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Straight from the definition, one layer at a time, in float64."""
    n = w.shape[-1]
    r = np.eye(n)
    for layer in w.astype(np.float64):
        layer = np.where(keep, layer, 0)
        s = layer.sum(-1, keepdims=True)
        layer = np.divide(layer, s, out=np.zeros_like(layer), where=s > 0).mean(0)
        a = 0.5 * np.eye(n) + 0.5 * layer
        r = (a / a.sum(-1, keepdims=True)) @ r
    return r


def test_rollout_matches_the_definition_and_rows_sum_to_one(att):
    bar = aw.RolloutBar(att)
    got = decode(over_the_wire(bar)["_rollout"])
    assert_coded(got, reference_rollout(att.weights, att.mask), ROLLOUT_FLOOR)
    np.testing.assert_allclose(got.sum(-1), 1, atol=0.045)  # each weight within 4.2%
    assert bar.query == att.n_key - 1  # decoder: the last token


def test_hidden_tokens_renormalise_every_layer(att):
    bar = aw.RolloutBar(att, hide=[0])
    keep = att.mask.copy()
    keep[:, 0] = False
    got = decode(bar._rollout)
    assert_coded(got, reference_rollout(att.weights, keep), ROLLOUT_FLOOR)
    np.testing.assert_allclose(got[1:].sum(-1), 1, atol=0.045)  # each weight within 4.2%
    assert np.all(got[1:, 0] == 0)
    assert bar._rollout_hide == [0]
    bar.hide = []
    assert bar._rollout_hide == [] and decode(bar._rollout)[1:, 0].min() > 0


def test_query_follows_the_pinned_token(att):
    bar = aw.RolloutBar(att)
    full = reference_rollout(att.weights, att.mask)
    np.testing.assert_allclose(bar.values, full[-1], atol=1e-5)
    bar.pinned_token = 4
    np.testing.assert_allclose(bar.values, full[4], atol=1e-5)


def test_encoder_default_is_the_first_token(bert_att):
    assert aw.RolloutBar(bert_att).query == 0


@pytest.fixture(scope="module")
def bert_att(tiny_bert, bert_tokenizer):
    return tiny_attention(tiny_bert, bert_tokenizer, 9)


def test_errors(att):
    with pytest.raises(ValueError, match=r"query=12 is out of range for 12 tokens"):
        aw.RolloutBar(att, query=12)
    bar = aw.RolloutBar(att)
    with pytest.raises(t.TraitError, match=r"expected an int"):
        bar.query = 1.5
    with pytest.raises(t.TraitError, match=r"residual must be in \[0, 1\]"):
        bar.residual = 2.0
    tail = aw.Attention(att.weights[:, :, -3:], att.tokens, att.mask[-3:])
    with pytest.raises(ValueError, match=r"RolloutBar needs square attention .* n_query=3, n_key=12"):
        aw.RolloutBar(tail)


def test_state_also_holds_the_rollout_with_the_first_token_toggled(att):
    bar = aw.RolloutBar(att)
    keep = att.mask.copy()
    keep[:, 0] = False
    assert bar._rollout_alt_hide == [0]
    assert_coded(decode(bar._rollout_alt), reference_rollout(att.weights, keep), ROLLOUT_FLOOR)
    bar.hide = [0, 3]
    assert bar._rollout_alt_hide == [3]
