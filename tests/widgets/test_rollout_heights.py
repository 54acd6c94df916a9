"""RolloutBar's default reading: linear bar heights, proportional to the rollout, with a bar that
dwarfs the rest cut (js/src/lib/bars.js, run in node on the rows the kernel computes). Log heights
stay one `scale` away."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.js_parity import run_js
from helpers.widget_data import synthetic_attention

import attnwidget as aw

PROMPT = "The cat sat on the mat because it was tired."
CLIP_RATIO = 4  # js/src/lib/bars.js


@pytest.fixture(scope="module")
def att():
    return synthetic_attention()


def bar_layout(values: np.ndarray, hide=()) -> dict:
    return run_js(
        "bars.js",
        "const l = lib.barLayout(input.v, null, { hide: input.hide }); "
        "return { fraction: [...l.fraction], top: l.top, clipped: l.clipped };",
        {"v": [float(x) for x in values], "hide": list(hide)},
    )


def expected_layout(values: np.ndarray, hide=()) -> tuple[np.ndarray, float, int]:
    """The rule written out: the largest bar is cut when it is over CLIP_RATIO times the next;
    every other bar's height is its value over the largest uncut value."""
    v = np.where(np.isin(np.arange(len(values)), hide), 0.0, values.astype(np.float64))
    order = np.argsort(-v)
    first, second = order[0], order[1]
    cut = int(first) if v[second] > 0 and v[first] > CLIP_RATIO * v[second] else -1
    top = v[second] if cut >= 0 else v[first]
    fraction = v / top
    if cut >= 0:
        fraction[cut] = 1.0
    return fraction, float(top), cut


def test_the_rollout_is_drawn_on_a_linear_scale_by_default(att):
    bar = aw.RolloutBar(att)
    assert bar.scale == "linear" and bar.get_state()["scale"] == "linear"
    assert aw.RolloutBar(att, scale="log").scale == "log"
    dash = aw.show(att)
    # The other views keep the log colour default; the rollout's bars are heights.
    assert dash.rollout.scale == "linear" and dash.heatmap.scale == "log"
    assert aw.show(att, scale="power").rollout.scale == "power"


def with_sink(att) -> aw.Attention:
    """The same attention with 95% of every row moved onto token 0, as a decoder's sink."""
    w = att.weights.astype(np.float64) * 0.05
    w[..., 0] += 0.95
    w = np.where(att.mask, w, 0)
    w /= w.sum(-1, keepdims=True)
    return aw.Attention(w.astype(np.float32), att.tokens, att.mask)


@pytest.mark.parametrize(("sink", "hide"), [(False, ()), (False, (0,)), (True, ()), (True, (0,))])
def test_heights_follow_the_rule_on_every_row(att, sink, hide):
    bar = aw.RolloutBar(with_sink(att) if sink else att, hide=list(hide))
    for q in (1, 5, att.n_key - 1):
        bar.pinned_token = q
        values = bar.values
        got = bar_layout(values, hide)
        fraction, top, cut = expected_layout(values, hide)
        # The sink's bar is cut exactly when it is there and not hidden.
        assert (cut == 0) == (sink and not hide)
        assert got["clipped"] == cut
        assert got["top"] == pytest.approx(top, rel=1e-6)
        np.testing.assert_allclose(got["fraction"], fraction, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_smollm2_sink_is_cut_and_the_rest_read_in_proportion(smollm2):
    model, tok = smollm2
    att = aw.extract(model, tok, PROMPT)
    values = aw.RolloutBar(att).values.astype(np.float64)
    # Before: log heights with the floor lowered to the data (the rollout's old default) drew the
    # sink (~1) only about 3 times the height of a 1e-5 bar.
    old = run_js(
        "weightscale.js",
        "const s = lib.weightScale('log', { values: input.v, dataMax: Math.max(...input.v), decades: 9 }); "
        "return input.v.map((x) => s(x));",
        {"v": [float(x) for x in values]},
    )
    others = np.delete(values, 0)
    assert values[0] > 0.99 and others.max() < 1e-4
    assert old[0] / max(np.delete(old, 0)) < 4
    # After: the sink is cut, and every other height is its value over the largest of them.
    got = bar_layout(values)
    assert got["clipped"] == 0
    assert got["top"] == pytest.approx(others.max(), rel=1e-6)
    np.testing.assert_allclose(np.delete(got["fraction"], 0), others / others.max(), rtol=1e-5)
