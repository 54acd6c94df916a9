"""The generation step control in a saved page: stepping pins the producing row in every view."""

from __future__ import annotations

import json

import pytest

import attnwidget as aw

WORDS = " ".join(f"w{(i * 7) % 90}" for i in range(7))


@pytest.fixture(scope="module")
def gen_page(tiny_llama, word_tokenizer, tmp_path_factory):
    gen = aw.generate(tiny_llama, word_tokenizer, WORDS, max_new_tokens=5)
    return aw.save_html(aw.show(gen), tmp_path_factory.mktemp("gen") / "gen.html"), gen


def test_step_control_scrubs_generated_tokens(page, gen_page, artifacts):
    path, gen = gen_page
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    # One control serves the whole dashboard; before a step is chosen it shows none (no thumb at 0).
    control = pg.locator(".aw-dashboard .aw-step")
    control.wait_for(state="visible")
    assert pg.locator(".aw-step").count() == 1
    assert "pick a step" in control.locator(".aw-step-text").text_content()
    assert "aw-unset" in control.locator("input[type=range]").get_attribute("class")
    n_prompt = gen.meta["prompt_length"]
    n_steps = gen.n_key - n_prompt
    # Next from no step goes to step 0, then step 1, then 2; every view follows.
    for step in (0, 1, 2):
        control.locator(".aw-step-next").click()
        row = n_prompt - 1 + step  # the query row that produced step `step`
        pg.locator(f".aw-rollout[data-query='{row}']").wait_for(state="attached")
        pg.locator(f".aw-graph[data-focus='{row}']").wait_for(state="attached")
        pg.locator(f".aw-tokentext[data-focus='{row}']").wait_for(state="attached")
        assert control.get_attribute("data-step") == str(step)
        assert "aw-unset" not in (control.locator("input[type=range]").get_attribute("class") or "")
        text = control.locator(".aw-step-text").text_content()
        # Python's number (selection.step), the ordinal beside it: "step 0 (1st of 8)".
        assert f"step {step} ({['1st', '2nd', '3rd'][step]} of {n_steps})" in text
        assert f"produced {json.dumps(gen.tokens[n_prompt + step])}" in text
        # The pinned row is marked in the graph's nodes and the heatmap's labels.
        pg.locator(f".aw-graph .aw-pinned[data-token-index='{row}']").first.wait_for(state="attached")
    # The slider reaches the last step; previous goes back one.
    control.locator("input[type=range]").fill(str(n_steps - 1))
    last = n_prompt - 1 + n_steps - 1
    pg.locator(f".aw-rollout[data-query='{last}']").wait_for(state="attached")
    control.locator(".aw-step-prev").click()
    pg.locator(f".aw-rollout[data-query='{last - 1}']").wait_for(state="attached")
    pg.locator(".aw-dashboard").first.screenshot(path=str(artifacts / "generation-step.png"))
    # Clicking a prompt token pins it and leaves the step (the graph sits in the dashboard's Graph tab).
    pg.locator(".aw-tab[data-tab='graph']").click()
    pg.locator(".aw-graph [data-token-index='1']").first.click()
    pg.locator(".aw-rollout[data-query='1']").wait_for(state="attached")
    assert control.get_attribute("data-step") == ""
    assert page.errors == []


def test_a_view_on_its_own_has_its_own_step_control(page, gen_page, tmp_path):
    _, gen = gen_page
    path = aw.save_html(aw.RolloutBar(gen), tmp_path / "rollout.html")
    pg = page.page
    pg.goto(path.as_uri())
    control = pg.locator(".aw-rollout .aw-step")
    control.wait_for(state="visible")
    control.locator(".aw-step-next").click()
    row = gen.meta["prompt_length"] - 1  # the query row that produced the first generated token
    pg.locator(f".aw-rollout[data-query='{row}']").wait_for(state="attached")
    assert page.errors == []


def test_graph_says_when_the_step_has_no_edge_over_the_threshold(page, gen_page, tmp_path):
    _, gen = gen_page
    n_prompt = gen.meta["prompt_length"]
    layer = gen.layer_ids[-1]
    fused = gen.fuse("mean", layer=layer)
    rows = [n_prompt - 1 + s for s in range(gen.n_key - n_prompt)]
    step = min(range(len(rows)), key=lambda s: fused[rows[s]].max())
    weakest, strongest = float(fused[rows[step]].max()), float(fused.max())
    assert strongest - weakest > 0.05
    threshold = round((weakest + strongest) / 2, 2)
    path = aw.save_html(aw.AttentionGraph(gen, layer=layer, threshold=threshold), tmp_path / "graph.html")
    pg = page.page
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-attnwidget-ready]")
    control = pg.locator(".aw-graph .aw-step")
    control.locator("input[type=range]").fill(str(step))
    graph = pg.locator(f".aw-graph[data-focus='{rows[step]}']")
    graph.wait_for(state="attached")
    note = graph.locator(".aw-graph-empty")
    note.wait_for(state="attached")
    assert f"no edge over {threshold} at this step" in note.text_content()
    assert f"step {step} (" in control.locator(".aw-step-text").text_content()
    assert page.errors == []
