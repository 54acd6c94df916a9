"""The generation step in the shared selection: it pins the row that produced each generated token."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets as t
from helpers.widget_data import over_the_wire, words

import attnwidget as aw


@pytest.fixture(scope="module")
def gen(tiny_llama, word_tokenizer):
    return aw.generate(tiny_llama, word_tokenizer, words(7), max_new_tokens=5)


def test_step_pins_the_generation_row_in_every_linked_view(gen):
    dash = aw.show(gen)
    sel = dash.selection
    n_prompt = gen.meta["prompt_length"]
    assert sel._prompt_length == n_prompt and sel.n_steps == gen.n_key - n_prompt
    for step in range(sel.n_steps):
        sel.step = step
        # Step s's token was produced by the query row before it: prompt_length - 1 + s.
        row = n_prompt - 1 + step
        assert sel.pinned_token == row == aw.extraction.generation_step_row(gen, step)
        assert dash.heatmap.pinned_token == dash.graph.pinned_token == row
    state = over_the_wire(sel)
    assert state["step"] == sel.n_steps - 1 and state["_prompt_length"] == n_prompt
    sel.pinned_token = 0  # pinning a prompt token leaves the step
    assert sel.step is None and sel.pinned_token == 0


def test_rollout_follows_the_step(gen):
    bar = aw.RolloutBar(gen)
    bar.selection.step = 2
    row = gen.meta["prompt_length"] - 1 + 2  # the row that produced step 2's token
    # Rollout written out here (mean over heads, half identity, rows renormalised, later layers on the left).
    w = gen.weights.astype(np.float64)
    n = gen.n_key
    R = np.eye(n)
    for layer in w:
        A = 0.5 * np.eye(n) + 0.5 * layer.mean(axis=0)
        R = (A / A.sum(axis=-1, keepdims=True)) @ R
    np.testing.assert_allclose(bar.values, R[row], rtol=1e-5, atol=1e-8)


def test_step_out_of_range_or_without_generation_is_refused(gen, tiny_llama, word_tokenizer):
    sel = aw.widgets.Selection(gen)
    n = sel.n_steps
    with pytest.raises(
        t.TraitError, match=rf"step {n} is out of range: {n} tokens were generated \(expected 0..{n - 1}"
    ):
        sel.step = n
    plain = aw.widgets.Selection(aw.extract(tiny_llama, word_tokenizer, words(6)))
    assert plain._prompt_length == 0 and plain.n_steps == 0
    with pytest.raises(t.TraitError, match="step needs attention from aw.generate"):
        plain.step = 0
