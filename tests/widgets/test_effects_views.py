"""Head effects in the views: the head grid's signed tint on a diverging scale, the effect of the
selected head in the heatmap's and graph's titles, and effects of other heads refused."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.widget_data import decode, over_the_wire, synthetic_attention

import attnwidget as aw
from attnwidget.analysis.ablation import HeadEffects
from attnwidget.errors import ArgumentTypeError

LABEL = "effect on log P(' Paris')"


@pytest.fixture(scope="module")
def att():
    return synthetic_attention()


def effects_of(att, layers=None, heads=None, seed=0) -> HeadEffects:
    """A HeadEffects as head_effects returns it, with effects of both signs (no model run)."""
    layers = list(att.layer_ids) if layers is None else layers
    heads = list(att.head_ids) if heads is None else heads
    delta = np.random.default_rng(seed).normal(0, 0.3, (len(layers), len(heads)))
    delta[0, 0], delta[-1, -1] = -0.85, 0.4
    return HeadEffects(delta, -0.26, layers, heads, "zero", "exact", [7042], [" Paris"], " Paris")


def test_effects_are_a_signed_tint_shown_first_beside_the_others(att):
    eff = effects_of(att)
    grid = aw.HeadGrid(att, tint={"entropy": "entropy"}, effects=eff)
    state = over_the_wire(grid)
    assert list(state["_tints"]) == [LABEL, "entropy"]
    assert state["tint_label"] == LABEL
    assert state["_tint_signed"] == [LABEL]  # the diverging flag: entropy keeps its sequential scale
    np.testing.assert_allclose(decode(state["_tint"]), eff.delta, rtol=1e-6)
    assert decode(state["_tint"]).min() < 0 < decode(state["_tint"]).max()
    grid.tint_label = "entropy"  # the menu switches; the flag stays with the effects
    assert grid._tint_signed == [LABEL]


@pytest.mark.parametrize("form", ["alone", "pair", "dict"])
def test_tint_takes_head_effects_in_every_form(att, form):
    eff = effects_of(att)
    tint = {"alone": eff, "pair": ("what ablation does", eff), "dict": {"what ablation does": eff}}[form]
    grid = aw.HeadGrid(att, tint=tint)
    name = LABEL if form == "alone" else "what ablation does"
    assert grid.tint_label == name and grid._tint_signed == [name]


def test_show_puts_the_effects_in_the_grid_and_the_titles(att):
    eff = effects_of(att)
    dash = aw.show(att, effects=eff)
    assert dash.headgrid.tint_label == LABEL and dash.headgrid._tint_signed == [LABEL]
    for view in (dash.heatmap, dash.graph):
        state = over_the_wire(view)["_effects"]
        assert state["label"] == LABEL
        assert state["layers"] == list(att.layer_ids) and state["heads"] == list(att.head_ids)
        np.testing.assert_allclose(state["values"], eff.delta, rtol=1e-6)
    # Without effects nothing changes: entropy first, no signed tint, no effects in the titles.
    plain = aw.show(att)
    assert plain.headgrid._tint_signed == [] and plain.heatmap._effects is None


def test_effects_of_other_heads_are_refused_with_what_to_do(att):
    fewer = effects_of(att, layers=att.layer_ids[:2])
    with pytest.raises(aw.AttentionError, match=r"measured layers \[0, 1\].*att\.select\(layers=\[0, 1\]"):
        aw.HeadGrid(att, effects=fewer)
    with pytest.raises(aw.AttentionError, match="measured layers"):
        aw.show(att, effects=fewer)
    with pytest.raises(aw.AttentionError, match="heads"):
        aw.AttentionHeatmap(att, effects=effects_of(att, heads=[0, 1, 2]))
    with pytest.raises(aw.AttentionError, match="measured layers"):
        aw.AttentionGraph(att, effects=effects_of(att, layers=[5, 6, 7]))
    # The grid drawn for the effects' own layers takes them.
    sub = att.select(layers=att.layer_ids[:2])
    assert aw.HeadGrid(sub, effects=fewer)._tint_signed == [LABEL]
    with pytest.raises(ArgumentTypeError, match="HeadEffects"):
        aw.HeadGrid(att, effects=np.zeros((3, 8)))
    bad = effects_of(att)
    bad.delta[1, 1] = np.nan
    with pytest.raises(aw.AttentionError, match="NaN"):
        aw.HeadGrid(att, effects=bad)
