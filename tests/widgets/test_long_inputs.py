"""Views on long inputs stay bounded: rollout rows on demand, sampled head-grid thumbnails, and what
show() leaves out. Thresholds are lowered so tiny random-weight models exercise the long paths."""

from __future__ import annotations

import numpy as np
import pytest
from helpers.widget_data import assert_coded, decode, words

import attnwidget as aw
from attnwidget.attention.core import max_pool
from attnwidget.metrics import flow
from attnwidget.widgets import dashboard, headgrid, rollout
from attnwidget.widgets.rollout import ROLLOUT_FLOOR


@pytest.fixture(scope="module")
def lazy_att(tiny_llama, word_tokenizer):
    return aw.extract(tiny_llama, word_tokenizer, words(60), lazy=True)


def reference_rollout(att, hide=(), residual=0.5):
    """Rollout from the definition: full matrices, float64, every layer composed."""
    keep = att.mask.copy()
    keep[:, list(hide)] = False
    out = np.eye(att.n_key)
    for layer in att.layer_ids:
        w = att.layer(layer).astype(np.float64) * keep
        if hide:
            w = w / np.where(w.sum(-1, keepdims=True) > 0, w.sum(-1, keepdims=True), 1)
        a = residual * np.eye(att.n_key) + (1 - residual) * w.mean(axis=0)
        a /= a.sum(-1, keepdims=True)
        out = a @ out
    return out


def test_rollout_rows_match_the_full_rollout(lazy_att, monkeypatch):
    monkeypatch.setattr(flow, "ROW_BLOCK", 7)  # several blocks of rows per layer
    plain, hidden = flow.rollout_rows(lazy_att, [59, 4, 30], [[], [0, 3]], residual=0.3)
    np.testing.assert_allclose(plain, reference_rollout(lazy_att, (), 0.3)[[59, 4, 30]], atol=1e-6)
    np.testing.assert_allclose(hidden, reference_rollout(lazy_att, (0, 3), 0.3)[[59, 4, 30]], atol=1e-6)


def test_long_rollout_holds_rows_and_adds_pinned_ones(lazy_att, monkeypatch):
    monkeypatch.setattr(rollout, "FULL_ROLLOUT_TOKENS", 16)
    bar = aw.RolloutBar(lazy_att)
    assert bar.wait(60)
    assert not bar.full and bar.eager and bar.held_rows == [59]
    p = bar._rollout
    assert p["rows"] == [59] and p["shape"] == [1, 60]
    assert_coded(decode(p)[0], reference_rollout(lazy_att)[59], ROLLOUT_FLOOR)
    bar.selection.pinned_token = 12
    assert bar.wait(60) and bar.held_rows == [59, 12]
    assert_coded(decode(bar._rollout)[1], reference_rollout(lazy_att)[12], ROLLOUT_FLOOR)
    assert_coded(decode(bar._rollout_alt)[1], reference_rollout(lazy_att, (0,))[12], ROLLOUT_FLOOR)
    np.testing.assert_allclose(bar.values, reference_rollout(lazy_att)[12], atol=1e-5)


def test_expensive_rollout_waits_to_be_asked(lazy_att, monkeypatch):
    monkeypatch.setattr(rollout, "FULL_ROLLOUT_TOKENS", 16)
    monkeypatch.setattr(rollout, "EAGER_CELLS", 10)
    bar = aw.RolloutBar(lazy_att)
    assert bar.wait(60)
    assert not bar.eager and bar.held_rows == [] and bar._rollout["shape"] == [0, 60]
    bar.selection.pinned_token = 20
    assert bar.held_rows == [], "pinning alone does not start an expensive pass"
    bar._on_msg(bar, {"type": "rollout-row", "query": 20}, [])
    assert bar.wait(60) and bar.held_rows == [20]
    assert_coded(decode(bar._rollout)[0], reference_rollout(lazy_att)[20], ROLLOUT_FLOOR)
    sent = []
    bar.send = lambda msg, buffers=None: sent.append(msg)
    bar._on_msg(bar, {"type": "rollout-row", "query": 600}, [])
    assert sent[0]["type"] == "rollout-error" and "out of range for 60 tokens" in sent[0]["message"]


def test_rollout_step_is_the_one_metrics_rollout_composes(lazy_att):
    # Rows taken block by block equal the whole step, which is what metrics.rollout multiplies.
    fused = lazy_att.layer(1).mean(axis=0)
    whole = aw.metrics.rollout_step(fused, 0, 0.3)
    np.testing.assert_allclose(
        np.vstack([aw.metrics.rollout_step(fused[s : s + 7], s, 0.3) for s in range(0, 60, 7)]), whole, atol=1e-12
    )
    np.testing.assert_allclose(
        flow.rollout_rows(lazy_att, list(range(60)), residual=0.3)[0],
        aw.metrics.rollout(lazy_att, residual=0.3),
        atol=1e-6,
    )


def test_pinned_rows_are_computed_in_a_worker_while_the_kernel_goes_on(lazy_att, monkeypatch):
    import threading

    monkeypatch.setattr(rollout, "FULL_ROLLOUT_TOKENS", 16)
    bar = aw.RolloutBar(lazy_att)
    assert bar.wait(60)
    gate, started = threading.Event(), threading.Event()
    real_rows = lazy_att.rows

    def slow_rows(*args, **kwargs):  # the pass waits at its first block until the test lets it go
        started.set()
        assert gate.wait(60)
        return real_rows(*args, **kwargs)

    monkeypatch.setattr(lazy_att, "rows", slow_rows)
    bar.selection.pinned_token = 33  # returns at once: the row is computed in the worker
    assert started.wait(60)
    assert 33 not in bar.held_rows and bar._pending == {"rows": [33], "done": 0.0}
    bar.selection.layer = 1  # the kernel answers other changes meanwhile
    gate.set()
    assert bar.wait(60)
    assert bar.held_rows == [59, 33] and bar._pending == {}
    monkeypatch.setattr(lazy_att, "rows", real_rows)
    assert_coded(decode(bar._rollout)[1], reference_rollout(lazy_att)[33], ROLLOUT_FLOOR)


def test_changing_hide_mid_pass_restarts_with_the_new_options(lazy_att, monkeypatch):
    import threading

    monkeypatch.setattr(rollout, "FULL_ROLLOUT_TOKENS", 16)
    bar = aw.RolloutBar(lazy_att)
    assert bar.wait(60)
    gate, started = threading.Event(), threading.Event()
    real_rows = lazy_att.rows

    def slow_rows(*args, **kwargs):
        started.set()
        assert gate.wait(60)
        return real_rows(*args, **kwargs)

    monkeypatch.setattr(lazy_att, "rows", slow_rows)
    bar.selection.pinned_token = 40
    assert started.wait(60)
    bar.hide = [0, 2]
    gate.set()
    assert bar.wait(60)
    monkeypatch.setattr(lazy_att, "rows", real_rows)
    assert bar._rollout_hide == [0, 2] and bar.held_rows == [59, 40]
    assert_coded(decode(bar._rollout)[1], reference_rollout(lazy_att, (0, 2))[40], ROLLOUT_FLOOR)


def test_saving_a_page_waits_for_rows_in_flight(lazy_att, monkeypatch, tmp_path):
    monkeypatch.setattr(rollout, "FULL_ROLLOUT_TOKENS", 16)
    bar = aw.RolloutBar(lazy_att)
    bar.selection.pinned_token = 7
    aw.save_html(bar, tmp_path / "bar.html")
    assert bar.held_rows == [59, 7]


def test_sampled_thumbnails_keep_exact_key_maxima(lazy_att, monkeypatch):
    monkeypatch.setattr(headgrid, "SAMPLE_CELLS", 1000)
    monkeypatch.setattr(headgrid, "SAMPLED_SIDE", 6)
    L, H = lazy_att.shape[:2]
    grid = aw.HeadGrid(lazy_att, max_bytes=2 * L * H * 400)  # 20 x 20 thumbnails would need factor 3
    f, s = grid._pool, grid._sampled_rows
    assert f == 10 and s >= 1
    got = decode(grid._thumbs)
    full = np.stack([lazy_att.layer(l) for l in lazy_att.layer_ids])
    for b in range(6):
        want = max_pool(full[:, :, b * f : b * f + s], f)[:, :, 0]
        assert_coded(got[:, :, b], want)


def test_show_leaves_the_graph_out_of_long_inputs_and_says_so(lazy_att, monkeypatch):
    monkeypatch.setattr(dashboard, "GRAPH_MAX_TOKENS", 40)
    dash = aw.show(lazy_att)
    assert dash.graph is None and dash.rollout is not None
    assert any("Graph left out: 60 tokens" in n for n in dash.notes)
    short = aw.show(lazy_att.select(layers=[0, 2]))
    assert short.rollout is None and any("Rollout left out" in n for n in short.notes)
