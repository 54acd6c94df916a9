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
    rollout = pg.locator(".aw-rollout").first
    rollout.locator(".aw-step").wait_for(state="visible")
    n_prompt = gen.meta["prompt_length"]
    n_steps = gen.n_key - n_prompt
    for kind in ("heatmap", "rollout", "graph"):
        assert pg.locator(f".aw-{kind} .aw-step").count() == 1, f"{kind} has no step control"
    # Next from no step goes to step 0, then step 1; any view's control moves all of them.
    rollout.locator(".aw-step-next").click()
    pg.locator(".aw-graph .aw-step-next").click()
    for step in (1, 2):
        if step == 2:
            pg.locator(".aw-heatmap .aw-step-next").click()
        row = aw.generation_step_row(gen, step)
        pg.locator(f".aw-rollout[data-query='{row}']").wait_for(state="attached")
        pg.locator(f".aw-graph[data-focus='{row}']").wait_for(state="attached")
        for kind in ("heatmap", "rollout", "graph"):
            control = pg.locator(f".aw-{kind} .aw-step")
            assert control.get_attribute("data-step") == str(step)
            text = control.locator(".aw-step-text").text_content()
            assert f"step {step + 1} of {n_steps}" in text
            assert f"produced {json.dumps(gen.tokens[n_prompt + step])}" in text
        # The pinned row is marked in the heatmap's labels and the graph's nodes.
        pg.locator(f".aw-graph .aw-pinned[data-token-index='{row}']").first.wait_for(state="attached")
    # The slider reaches the last step; previous goes back one.
    slider = pg.locator(".aw-heatmap .aw-step input[type=range]")
    slider.fill(str(n_steps - 1))
    last = aw.generation_step_row(gen, n_steps - 1)
    pg.locator(f".aw-rollout[data-query='{last}']").wait_for(state="attached")
    pg.locator(".aw-rollout .aw-step-prev").click()
    pg.locator(f".aw-rollout[data-query='{last - 1}']").wait_for(state="attached")
    pg.locator(".aw-dashboard").first.screenshot(path=str(artifacts / "generation-step.png"))
    # Clicking a prompt token pins it and leaves the step.
    pg.locator(".aw-graph [data-token-index='1']").first.click()
    pg.locator(".aw-rollout[data-query='1']").wait_for(state="attached")
    assert pg.locator(".aw-heatmap .aw-step").get_attribute("data-step") == ""
    assert page.errors == []
