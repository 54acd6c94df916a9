"""Vision-language models: the language model's attention over text and image placeholders,
against an independent eager run to 1e-5."""

import numpy as np
import pytest
import torch
from helpers.tiny_models import eager_outputs, stacked, words
from helpers.tiny_multimodal import IMAGE_ID, image_tokenizer, tiny_gemma3, tiny_llava
from helpers.tiny_seq2seq import test_image as make_image

import attnwidget as aw

PROMPT = "w1 w2 <image> w3 w4 w5"


@pytest.fixture(scope="module", params=["default", "full"])
def llava(request):
    return request.param, *tiny_llava(request.param)


@pytest.mark.parametrize("lazy", [False, True])
def test_language_model_layers_equal_eager_with_image_patch_tokens(llava, lazy):
    strategy, model, processor = llava
    att = aw.extract(model, processor, PROMPT, image=make_image(), lazy=lazy)
    patches = [f"img p({r},{c})" for r in range(4) for c in range(4)]
    image = (["img [CLS]"] if strategy == "full" else []) + patches  # "default" drops CLIP's class token
    assert att.tokens == ["w1", "w2", *image, "w3", "w4", "w5"]
    assert att.meta["image_tokens"] == list(range(2, 2 + len(image)))
    assert att.token_ids[2 : 2 + len(image)] == [IMAGE_ID] * len(image)
    assert att.meta["patch_grid"] == [4, 4] and att.meta["images"] == 1
    assert att.meta["vision_feature_select_strategy"] == strategy
    assert att.meta["tower"] == "model.language_model" and att.meta["tower_kind"] == "language"
    # Three language layers (the vision tower's two are never part of the stack), grouped kv heads.
    assert att.layer_ids == [0, 1, 2] and att.num_heads == 8 and att.num_kv_heads == 2
    assert att.meta["method"] == "capture" and att.is_lazy == lazy and att.is_causal
    enc = processor(text=PROMPT, images=make_image(), return_tensors="pt")
    out = eager_outputs(model, **enc)
    np.testing.assert_allclose(att.weights, stacked(out.attentions), atol=1e-5, rtol=0)


def test_inputs_and_layer_selection_read_the_language_tower():
    model, processor = tiny_llava()
    enc = dict(processor(text=PROMPT, images=make_image(), return_tensors="pt"))
    ref = stacked(eager_outputs(model, **enc).attentions)
    by_processor = aw.extract(model, processor, inputs=enc)
    by_tokenizer = aw.extract(model, processor.tokenizer, inputs=enc, layers=[0, 1], heads=[3])
    assert by_processor.tokens == by_tokenizer.tokens and by_processor.tokens[2] == "img p(0,0)"
    np.testing.assert_allclose(by_processor.weights, ref, atol=1e-5, rtol=0)
    # Layers 0 and 1 exist in both towers: the numbers are the language model's own.
    assert by_tokenizer.layer_ids == [0, 1] and by_tokenizer.head_ids == [3]
    np.testing.assert_allclose(by_tokenizer.weights, ref[:2, [3]], atol=1e-5, rtol=0)
    names = [f"t{i}" for i in range(21)]
    labelled = aw.extract(model, inputs=enc, tokens=names, lazy=True)
    assert labelled.tokens == names and labelled.meta["image_tokens"] == list(range(2, 18))
    eager = aw.extract(model, processor, PROMPT, image=make_image(), method="eager")
    assert eager.meta["method"] == "eager" and eager.tokens == by_processor.tokens
    np.testing.assert_allclose(eager.weights, ref, atol=1e-6, rtol=0)


def test_padding_is_removed_and_image_positions_follow():
    model, processor = tiny_llava()
    enc = dict(processor(text=PROMPT, images=make_image(), return_tensors="pt"))
    ids, keep = enc["input_ids"], enc["attention_mask"]
    padded = dict(
        enc,
        input_ids=torch.cat([torch.full((1, 2), 93), ids], dim=1),
        attention_mask=torch.cat([torch.zeros(1, 2, dtype=keep.dtype), keep], dim=1),
    )
    att = aw.extract(model, processor, inputs=padded)
    plain = aw.extract(model, processor, inputs=enc)
    assert att.tokens == plain.tokens and att.meta["image_tokens"] == plain.meta["image_tokens"]
    ref = stacked(eager_outputs(model, **padded).attentions)[:, :, 2:, 2:]
    np.testing.assert_allclose(att.weights, ref, atol=1e-5, rtol=0)


def test_patch_map_reads_the_image_placeholders():
    model, processor = tiny_llava("full")
    att = aw.extract(model, processor, PROMPT, image=make_image())
    grid = aw.images.patch_map(att, query=-1, layer=2)
    fused = att.weights[2].mean(axis=0)[-1]
    for r in range(4):
        for c in range(4):
            assert grid[r, c] == pytest.approx(fused[att.tokens.index(f"img p({r},{c})")], abs=1e-7)
    assert grid.sum() < fused.sum() - fused[att.tokens.index("img [CLS]")] + 1e-6
    merged = att.merge([[0, 1]] + [[i] for i in range(2, att.n_key)])
    with pytest.raises(ValueError, match="were tokens merged"):
        aw.images.patch_map(merged, query=-1)


def test_an_image_alone_gives_the_vision_tower():
    model, processor = tiny_llava()
    att = aw.extract(model, processor, image=make_image())
    assert att.tokens[:2] == ["[CLS]", "p(0,0)"] and att.num_layers == 2 and not att.is_causal
    assert "the vision tower's attention" in att.meta["note"]
    pixels = processor.image_processor(images=make_image(), return_tensors="pt")["pixel_values"]
    out = eager_outputs(model.model.vision_tower, pixel_values=pixels)
    np.testing.assert_allclose(att.weights, stacked(out.attentions), atol=1e-5, rtol=0)
    with pytest.raises(IndexError, match="layer 2 out of range"):
        aw.extract(model, processor, image=make_image(), layers=[2])  # the tower has 2 layers


def test_two_images_are_numbered():
    model, processor = tiny_llava()
    prompt = "<image> w1 <image> w2"
    att = aw.extract(model, processor, prompt, image=[make_image(0), make_image(1)])
    assert att.meta["images"] == 2 and len(att.meta["image_tokens"]) == 32
    assert att.tokens[:2] == ["img1 p(0,0)", "img1 p(0,1)"] and att.tokens[16:19] == [
        "w1",
        "img2 p(0,0)",
        "img2 p(0,1)",
    ]
    enc = processor(text=prompt, images=[make_image(0), make_image(1)], return_tensors="pt")
    np.testing.assert_allclose(att.weights, stacked(eager_outputs(model, **enc).attentions), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="patch_map reads one image; this input holds 2"):
        aw.images.patch_map(att, query=-1)


def test_pooled_image_features_label_cells_of_the_coarser_grid():
    """Gemma 3 average-pools the 8 x 8 patch features to a 2 x 2 grid: four placeholders."""
    model = tiny_gemma3()
    ids = torch.tensor([[94, 1, 91] + [IMAGE_ID] * 4 + [90, 2, 3]])
    pixels = torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    inputs = {"input_ids": ids, "pixel_values": pixels, "token_type_ids": (ids == IMAGE_ID).long()}
    att = aw.extract(model, image_tokenizer(), inputs=inputs, lazy=True)
    assert att.tokens[3:7] == ["img p(0,0)", "img p(0,1)", "img p(1,0)", "img p(1,1)"]
    assert att.meta["patch_grid"] == [2, 2] and att.meta["patch_size"] == 16
    assert att.meta["vision_feature_select_strategy"] == "pooled" and att.layer_ids == [0, 1]
    np.testing.assert_allclose(att.weights, stacked(eager_outputs(model, **inputs).attentions), atol=1e-5, rtol=0)
    # Gemma 3 lets the image's tokens see each other both ways: not a causal mask.
    assert att.mask[3, 6] and not att.mask[1, 2]
    wrong = {**inputs, "input_ids": ids[:, :-1].clone(), "token_type_ids": inputs["token_type_ids"][:, :-1]}
    wrong["input_ids"][0, 7] = IMAGE_ID  # five placeholders
    with pytest.raises(aw.ModelError, match="5 image placeholder tokens .* 4 per image from a 2 x 2 patch grid"):
        aw.extract(model, image_tokenizer(), inputs=wrong)
    with pytest.raises(aw.ModelError, match="refused these inputs: Image features and image tokens do not match"):
        aw.extract(model, inputs=wrong, tokens=[f"t{i}" for i in range(9)])


def test_a_layout_the_labels_do_not_cover_takes_given_tokens_and_claims_no_grid(monkeypatch):
    import attnwidget.extraction.multimodal as mm

    model, processor = tiny_llava()
    enc = dict(processor(text=PROMPT, images=make_image(), return_tensors="pt"))
    # Stand in for a model whose image tokens the labelling does not know: it expects 9 per image.
    monkeypatch.setattr(mm, "image_token_labels", lambda m, s=None: ([f"c{i}" for i in range(9)], (3, 3), "other"))
    with pytest.raises(aw.ModelError, match="16 image placeholder tokens .* 9 per image"):
        aw.extract(model, processor, inputs=enc)
    names = [f"t{i}" for i in range(21)]
    att = aw.extract(model, inputs=enc, tokens=names)
    assert att.tokens == names and "patch_grid" not in att.meta and "no patch grid" in att.meta["note"]
    assert att.meta["image_tokens"] == list(range(2, 18))
    np.testing.assert_allclose(att.weights, stacked(eager_outputs(model, **enc).attentions), atol=1e-5, rtol=0)


def test_text_alone_runs_the_language_model_through_the_processors_tokenizer():
    model, processor = tiny_llava()
    att = aw.extract(model, processor, "w1 w2 w3")
    assert att.tokens == ["w1", "w2", "w3"] and att.layer_ids == [0, 1, 2]
    out = eager_outputs(model, **processor.tokenizer("w1 w2 w3", return_tensors="pt"))
    np.testing.assert_allclose(att.weights, stacked(out.attentions), atol=1e-5, rtol=0)


def test_vision_language_bad_input(tiny_llama, word_tokenizer):
    model, processor = tiny_llava()
    enc = dict(processor(text=PROMPT, images=make_image(), return_tensors="pt"))
    one_less = [i for i in range(enc["input_ids"].shape[1]) if i != 2]  # one placeholder dropped
    short = dict(enc, input_ids=enc["input_ids"][:, one_less], attention_mask=enc["attention_mask"][:, one_less])
    with pytest.raises(aw.ModelError, match="15 image placeholder tokens .* 16 per image from a 4 x 4 patch grid"):
        aw.extract(model, processor, inputs=short)
    with pytest.raises(aw.ModelError, match="0 image placeholder tokens .* 1 image"):
        aw.extract(model, processor, inputs=dict(enc, input_ids=torch.full_like(enc["input_ids"], 5)))
    with pytest.raises(ValueError, match="0 <image> tokens .* put the processor's image token"):
        aw.extract(model, processor, "w1 w2 w3", image=make_image())
    with pytest.raises(
        ValueError,
        match=r"needs the model's processor .* got \w+\. Or pass inputs=\{'input_ids': \.\.\., 'pixel_values': \.\.\.\} ",
    ):
        aw.extract(model, image_tokenizer(), PROMPT, image=make_image())
    with pytest.raises(aw.ModelError, match="64 x 64 pixels; the model takes 32 x 32"):
        aw.extract(model, processor, inputs=dict(enc, pixel_values=torch.zeros(1, 3, 64, 64)))
    with pytest.raises(ValueError, match="pass the model's tokenizer or processor .* or tokens="):
        aw.extract(model, inputs=enc)
    with pytest.raises(ValueError, match="got 3 tokens for 21 positions"):
        aw.extract(model, inputs=enc, tokens=["a", "b", "c"])
    with pytest.raises(ValueError, match="not messages, text_pair or target"):
        aw.extract(model, processor, PROMPT, image=make_image(), target=words(2))
    with pytest.raises(ValueError, match="needs a vision-language model, .* LlamaForCausalLM is not one"):
        aw.extract(tiny_llama, word_tokenizer, words(3), image=make_image())
