"""Models that accelerate split across devices or offloaded to CPU and disk: extraction, the
self-check, generation and value norms equal the same model's in one place.

An offloaded layer keeps ``meta`` tensors outside its forward and its ``AlignDevicesHook`` moves the
weights in for each call; the capture records what the layer computed, so nothing may read a weight
outside that forward. The fast tests split a tiny Llama with accelerate itself; the slow ones load
the bundled SmolLM2 with half its layers on disk through ``aw.load_model``.
"""

import time

import numpy as np
import pytest
import torch
from helpers.tiny_models import tiny_model, words

import attnwidget as aw
from attnwidget.errors import ModelError
from attnwidget.extraction.facts import input_device

TOL = 1e-6


def llama_map(n_layers: int, on_disk, embed: str = "cpu") -> dict:
    """A device map of a Llama: the layers numbered in `on_disk` on "disk", the rest on the CPU."""
    device_map = {"model.embed_tokens": embed, "model.rotary_emb": "cpu", "model.norm": "cpu", "lm_head": "cpu"}
    for i in range(n_layers):
        device_map[f"model.layers.{i}"] = "disk" if i in on_disk else "cpu"
    return device_map


def dispatched_llama(folder, on_disk=(1, 2), embed: str = "cpu"):
    """A fresh tiny Llama (the same weights as ``tiny_model("llama")``) with layers on disk."""
    from accelerate import dispatch_model

    model = tiny_model("llama").eval()
    return dispatch_model(model, device_map=llama_map(3, on_disk, embed), offload_dir=str(folder))


def max_diff(a: aw.Attention, b: aw.Attention) -> float:
    return float(np.abs(a.weights.astype(np.float64) - b.weights.astype(np.float64)).max())


@pytest.fixture(scope="module")
def plain_llama():
    return tiny_model("llama").eval()


@pytest.fixture
def offloaded_llama(tmp_path):
    model = dispatched_llama(tmp_path / "offload")
    # The premise: the offloaded layers hold no data outside their forward.
    assert model.model.layers[2].self_attn.o_proj.weight.device.type == "meta"
    return model


# ---------------------------------------------------------------------------------- tiny Llama


def test_offloaded_extract_equals_plain(plain_llama, offloaded_llama, word_tokenizer):
    text = words(24)
    plain = aw.extract(plain_llama, word_tokenizer, text, method="capture")
    off = aw.extract(offloaded_llama, word_tokenizer, text, method="capture")
    assert off.meta["method"] == "capture"
    assert off.shape == plain.shape
    assert max_diff(off, plain) <= TOL


def test_offloaded_lazy_equals_plain(plain_llama, offloaded_llama, word_tokenizer):
    text = words(24)
    plain = aw.extract(plain_llama, word_tokenizer, text)
    lazy = aw.extract(offloaded_llama, word_tokenizer, text, lazy=True, method="capture")
    assert lazy.is_lazy and lazy.meta["method"] == "capture"
    for layer in (0, 2):  # one layer on the CPU, one on disk
        np.testing.assert_allclose(lazy.layer(layer), plain.layer(layer), atol=TOL, rtol=0)


def test_offloaded_batch_with_padding(plain_llama, offloaded_llama, word_tokenizer):
    texts = [words(9), words(16, start=3)]
    plain = aw.extract(plain_llama, word_tokenizer, texts)
    off = aw.extract(offloaded_llama, word_tokenizer, texts, method="capture")
    for a, b in zip(off, plain, strict=True):
        assert a.shape == b.shape and max_diff(a, b) <= TOL


def test_offloaded_norms_equal_plain(plain_llama, offloaded_llama, word_tokenizer):
    text = words(20)
    plain = aw.extract(plain_llama, word_tokenizer, text, measure="norms")
    off = aw.extract(offloaded_llama, word_tokenizer, text, measure="norms")
    assert off.meta["measure"] == "norm"
    assert max_diff(off, plain) <= TOL
    np.testing.assert_allclose(
        aw.extraction.norms.value_norms_of(off), aw.extraction.norms.value_norms_of(plain), rtol=1e-6, atol=1e-7
    )


def test_offloaded_generate_equals_plain(plain_llama, offloaded_llama, word_tokenizer):
    plain = aw.generate(plain_llama, word_tokenizer, words(6), max_new_tokens=4)
    off = aw.generate(offloaded_llama, word_tokenizer, words(6), max_new_tokens=4)
    assert off.token_ids == plain.token_ids
    assert off.meta["method"] == "capture"
    assert max_diff(off, plain) <= TOL


def test_embeddings_on_disk(plain_llama, tmp_path, word_tokenizer):
    model = dispatched_llama(tmp_path / "offload", on_disk=(0,), embed="disk")
    assert model.model.embed_tokens.weight.device.type == "meta"
    assert input_device(model) == torch.device("cpu")
    plain = aw.extract(plain_llama, word_tokenizer, words(12))
    off = aw.extract(model, word_tokenizer, words(12), method="capture")
    assert max_diff(off, plain) <= TOL


def test_projection_under_several_hooks(offloaded_llama):
    """An offloaded projection with another hook appended (a SequentialHook) still gives its weights."""
    from accelerate.hooks import ModelHook, SequentialHook, add_hook_to_module

    from attnwidget.extraction.norms import _offloaded_projection

    proj = offloaded_llama.model.layers[2].self_attn.o_proj
    alone = _offloaded_projection(proj, proj.in_features, True)
    add_hook_to_module(proj, ModelHook(), append=True)
    assert isinstance(proj._hf_hook, SequentialHook)
    stacked = _offloaded_projection(proj, proj.in_features, True)
    plain = tiny_model("llama").model.layers[2].self_attn.o_proj.weight.detach().t()
    assert alone.shape == (proj.in_features, proj.out_features)
    torch.testing.assert_close(alone, plain, atol=0, rtol=0)
    torch.testing.assert_close(stacked, plain, atol=0, rtol=0)
    assert proj.weight.device.type == "meta"  # put back after the read


def test_meta_layer_is_refused_by_name(plain_llama):
    from attnwidget.extraction.capture import Recorder, module_names

    attn = plain_llama.model.layers[1].self_attn
    rec = Recorder(module_names(plain_llama), lambda tower, i: True)
    q = torch.empty(1, 8, 4, 8, device="meta")
    kv = torch.empty(1, 2, 4, 8, device="meta")
    with pytest.raises(ModelError, match=r"layer 1 \(model.layers.\*.self_attn\) ran on the meta device"):
        rec(attn, q, kv, kv, None)


def test_projection_without_weights_is_refused():
    from attnwidget.extraction.norms import _offloaded_projection

    proj = torch.nn.Linear(16, 8, bias=False, device="meta")
    with pytest.raises(ModelError, match="holds no weights"):
        _offloaded_projection(proj, 16, True)


# ---------------------------------------------------------------------------------- load_model


@pytest.fixture(scope="module")
def saved_llama(tmp_path_factory, word_tokenizer):
    folder = tmp_path_factory.mktemp("tiny_llama")
    tiny_model("llama").save_pretrained(folder)
    word_tokenizer.save_pretrained(folder)
    return folder


def test_load_model_offloads_to_disk(saved_llama, plain_llama, tmp_path, word_tokenizer):
    model, tok = aw.load_model(
        str(saved_llama), device_map=llama_map(3, (1, 2)), offload_folder=tmp_path / "offload", dtype=torch.float32
    )
    assert model.model.layers[1].self_attn.q_proj.weight.device.type == "meta"
    plain = aw.extract(plain_llama, word_tokenizer, words(15))
    off = aw.extract(model, tok, words(15), method="capture")
    assert max_diff(off, plain) <= TOL


@pytest.mark.skipif(torch.cuda.device_count() >= 8, reason="the machine has the device the test names")
def test_device_that_does_not_exist(saved_llama):
    device_map = llama_map(3, ())
    device_map["model.layers.1"] = "cuda:7"
    with pytest.raises(ModelError, match=r"'cuda:7'.*device_map with room"):
        aw.load_model(str(saved_llama), device_map=device_map)
    device_map["model.layers.1"] = "gpu-seven"
    with pytest.raises(ModelError, match="not a device"):
        aw.load_model(str(saved_llama), device_map=device_map)


def test_device_map_that_places_nothing_for_a_module(saved_llama, tmp_path):
    device_map = llama_map(3, (1,))
    del device_map["model.layers.2"]
    with pytest.raises(ModelError, match=r"device_map=.*model.layers.2.*device_map with room"):
        aw.load_model(str(saved_llama), device_map=device_map, offload_folder=tmp_path)


def test_disk_without_offload_folder_reads_safetensors_in_place(saved_llama, plain_llama, word_tokenizer):
    model, tok = aw.load_model(str(saved_llama), device_map=llama_map(3, (0, 1, 2)))
    assert model.model.layers[0].self_attn.q_proj.weight.device.type == "meta"
    plain = aw.extract(plain_llama, word_tokenizer, words(10))
    assert max_diff(aw.extract(model, tok, words(10)), plain) <= TOL


# ---------------------------------------------------------------------------------- SmolLM2


SMOL_TEXT = "The capital of France is Paris, and the capital of Italy is Rome. The capital of Spain is"


def smollm2_map() -> dict:
    """The bundled SmolLM2's 30 layers: 0-14 on the CPU, 15-29 on disk."""
    device_map = {"model.embed_tokens": "cpu", "model.rotary_emb": "cpu", "model.norm": "cpu", "lm_head": "cpu"}
    for i in range(30):
        device_map[f"model.layers.{i}"] = "cpu" if i < 15 else "disk"
    return device_map


@pytest.fixture(scope="module")
def smollm2_offloaded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smollm2_offload")
    model, tok = aw.load_model("smollm2", device_map=smollm2_map(), offload_folder=folder)
    assert model.model.layers[20].self_attn.o_proj.weight.device.type == "meta"
    assert model.model.layers[3].self_attn.o_proj.weight.device.type == "cpu"
    return model, tok


@pytest.mark.slow
def test_smollm2_offloaded_extract(smollm2, smollm2_offloaded):
    model, tok = smollm2
    off_model, off_tok = smollm2_offloaded
    t0 = time.perf_counter()
    plain = aw.extract(model, tok, SMOL_TEXT, method="capture")
    t1 = time.perf_counter()
    off = aw.extract(off_model, off_tok, SMOL_TEXT, method="capture")
    t2 = time.perf_counter()
    print(f"SmolLM2 extraction: plain {t1 - t0:.2f} s, half the layers on disk {t2 - t1:.2f} s")
    assert off.meta["method"] == "capture" and off.shape == plain.shape
    assert max_diff(off, plain) <= TOL
    lazy = aw.extract(off_model, off_tok, SMOL_TEXT, lazy=True, method="capture")
    assert lazy.is_lazy and lazy.meta["method"] == "capture"
    for layer in (0, 14, 15, 29):
        np.testing.assert_allclose(lazy.layer(layer), plain.layer(layer), atol=TOL, rtol=0)


@pytest.mark.slow
def test_smollm2_offloaded_generate_and_norms(smollm2, smollm2_offloaded):
    model, tok = smollm2
    off_model, off_tok = smollm2_offloaded
    plain = aw.generate(model, tok, SMOL_TEXT, max_new_tokens=4)
    off = aw.generate(off_model, off_tok, SMOL_TEXT, max_new_tokens=4)
    assert off.token_ids == plain.token_ids and off.meta["method"] == "capture"
    assert max_diff(off, plain) <= TOL
    plain_n = aw.extract(model, tok, SMOL_TEXT, measure="norms", layers=[0, 20])
    off_n = aw.extract(off_model, off_tok, SMOL_TEXT, measure="norms", layers=[0, 20])
    assert max_diff(off_n, plain_n) <= TOL
