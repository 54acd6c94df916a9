"""Head effects, part effects and template comparisons on a model accelerate offloaded to disk equal
the same model's in one place (the inputs go where the embeddings run; no weight is read outside
its layer's forward)."""

import numpy as np
import pytest
from helpers.tiny_models import tiny_model, words

import attnwidget as aw


@pytest.fixture
def models(tmp_path):
    from accelerate import dispatch_model

    device_map = {"model.embed_tokens": "disk", "model.rotary_emb": "cpu", "model.norm": "cpu", "lm_head": "cpu"}
    device_map.update({f"model.layers.{i}": ("disk" if i else "cpu") for i in range(3)})
    off = dispatch_model(tiny_model("llama").eval(), device_map=device_map, offload_dir=str(tmp_path / "off"))
    assert off.model.layers[1].self_attn.o_proj.weight.device.type == "meta"  # the premise
    return tiny_model("llama").eval(), off


def test_head_effects_of_an_offloaded_model_equal_the_plain_ones(models, word_tokenizer):
    plain, off = models
    text, target = words(10), " w3"
    a = aw.experiments.head_effects(plain, word_tokenizer, text, target=target)
    b = aw.experiments.head_effects(off, word_tokenizer, text, target=target)
    assert b.clean == pytest.approx(a.clean, abs=1e-6)
    np.testing.assert_allclose(b.delta, a.delta, atol=1e-6, rtol=0)


def test_part_effects_of_an_offloaded_model_equal_the_plain_ones(models, word_tokenizer):
    plain, off = models
    text = words(12)
    parts = {"head": " ".join(text.split()[:4]), "tail": " ".join(text.split()[6:10])}
    a = aw.experiments.part_effects(plain, word_tokenizer, text, parts, target=" w3")
    b = aw.experiments.part_effects(off, word_tokenizer, text, parts, target=" w3")
    for name in parts:
        assert b.knockout[name] == pytest.approx(a.knockout[name], abs=1e-6)
        assert b.removal[name] == pytest.approx(a.removal[name], abs=1e-6)
