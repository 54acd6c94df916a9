"""Encoder-decoder and vision models, each part against an independent eager run to 1e-5."""

import numpy as np
import pytest
import torch
from helpers.tiny_models import eager_outputs, stacked, words
from helpers.tiny_seq2seq import SEQ2SEQ, VISION, tiny_seq2seq, tiny_vision
from helpers.tiny_seq2seq import test_image as make_image

import attnwidget as aw


@pytest.fixture(scope="module", params=SEQ2SEQ)
def seq2seq(request):
    return request.param, tiny_seq2seq(request.param)


@pytest.mark.parametrize("lazy", [False, True])
def test_seq2seq_parts_equal_eager(seq2seq, word_tokenizer, lazy):
    kind, model = seq2seq
    source, target = words(9), words(6, start=2)
    s = aw.extract(model, word_tokenizer, source, target=target, lazy=lazy)
    assert isinstance(s, aw.Seq2SeqAttention)
    # The decoder reads the target shifted right: its start token, then all but the last label.
    labels = word_tokenizer(text_target=target)["input_ids"]
    assert s.decoder.token_ids == [94] + labels[:-1]
    assert s.meta["target_labels"] == labels
    assert s.encoder.tokens == word_tokenizer.convert_ids_to_tokens(word_tokenizer(source)["input_ids"])
    assert s.cross.tokens == s.encoder.tokens and s.cross.query_tokens == s.decoder.tokens
    out = eager_outputs(
        model, **word_tokenizer(source, return_tensors="pt"), decoder_input_ids=torch.tensor([s.decoder.token_ids])
    )
    for part, field, layers in (
        ("encoder", "encoder_attentions", 2),
        ("decoder", "decoder_attentions", 3),
        ("cross", "cross_attentions", 3),
    ):
        att = s[part]
        assert att.is_lazy == lazy and att.meta["method"] == "capture" and att.meta["part"] == part
        assert att.layer_ids == list(range(layers)), part
        np.testing.assert_allclose(att.weights, stacked(getattr(out, field)), atol=1e-5, rtol=0, err_msg=part)
    assert s.decoder.is_causal and not s.encoder.is_causal and not s.cross.is_causal
    assert s.cross.mask.all() and s.cross.shape[2:] == (6, 9)


def test_seq2seq_layers_are_numbered_in_their_own_tower(word_tokenizer):
    model = tiny_seq2seq("bart")  # 2 encoder layers, 3 decoder layers
    s = aw.extract(model, word_tokenizer, words(5), target=words(4), layers=[1], heads=[0])
    full = aw.extract(model, word_tokenizer, words(5), target=words(4))
    for part in ("encoder", "decoder", "cross"):
        assert s[part].layer_ids == [1]
        np.testing.assert_array_equal(s[part].head(1, 0), full[part].head(1, 0))
    with pytest.raises(IndexError, match=r"layers \[2\] out of range: the encoder has 2 layers"):
        aw.extract(model, word_tokenizer, words(5), target=words(4), layers=[2])
    with pytest.raises(IndexError, match="layer 2 out of range: the encoder has 2 layers"):
        aw.extract(model, word_tokenizer, words(5), target=words(4), layers=[2], method="eager")
    dec = aw.extract(model, word_tokenizer, words(5), target=words(4), layers=[0, 1])
    assert dec.decoder.layer_ids == [0, 1] and dec.encoder.layer_ids == [0, 1]


def test_seq2seq_eager_method_gives_the_same(word_tokenizer):
    model = tiny_seq2seq("t5")
    a = aw.extract(model, word_tokenizer, words(7), target=words(5))
    b = aw.extract(model, word_tokenizer, words(7), target=words(5), method="eager")
    for part in ("encoder", "decoder", "cross"):
        assert b[part].meta["method"] == "eager"
        np.testing.assert_allclose(a[part].weights, b[part].weights, atol=1e-5)
    assert b.cross.query_tokens == b.decoder.tokens


def test_target_ids_are_fed_as_given(word_tokenizer):
    model = tiny_seq2seq("marian")
    s = aw.extract(model, word_tokenizer, words(4), target_ids=[94, 5, 6])
    assert s.decoder.token_ids == [94, 5, 6] and "target_labels" not in s.meta
    out = eager_outputs(
        model, **word_tokenizer(words(4), return_tensors="pt"), decoder_input_ids=torch.tensor([[94, 5, 6]])
    )
    np.testing.assert_allclose(s.cross.weights, stacked(out.cross_attentions), atol=1e-5)


def test_without_target_the_encoder_alone_with_a_note(word_tokenizer):
    model = tiny_seq2seq("t5")
    att = aw.extract(model, word_tokenizer, words(8))
    assert isinstance(att, aw.Attention) and att.shape == (2, 4, 8, 8)
    assert "encoder's attention alone" in att.meta["note"] and "target=" in att.meta["note"]
    out = eager_outputs(model.get_encoder(), **word_tokenizer(words(8), return_tensors="pt"))
    np.testing.assert_allclose(att.weights, stacked(out.attentions), atol=1e-5)


def test_t5_position_bias_with_padding(word_tokenizer):
    """A padded batch through T5's encoder: relative position bias and padding mask together."""
    model = tiny_seq2seq("t5")
    batch = aw.extract(model, word_tokenizer, [words(3), words(10)], lazy=True)
    for text, att in zip([words(3), words(10)], batch, strict=True):
        out = eager_outputs(model.get_encoder(), **word_tokenizer(text, return_tensors="pt"))
        np.testing.assert_allclose(att.weights, stacked(out.attentions), atol=1e-5)


def test_square_views_refuse_cross_attention_instead_of_mislabelling_it(word_tokenizer):
    s = aw.extract(tiny_seq2seq("bart"), word_tokenizer, words(5), target=words(3))
    with pytest.raises(ValueError, match="this is cross-attention"):
        aw.HeadGrid(s.cross)
    assert aw.AttentionHeatmap(s.cross)._query_tokens == s.decoder.tokens
    with pytest.raises(ValueError, match="AttentionHeatmap"):
        aw.show(s.cross)
    assert isinstance(aw.show(s), aw.widgets.PartsDashboard)
    assert aw.AttentionHeatmap(s.decoder) is not None


def test_seq2seq_bad_input(word_tokenizer, tiny_llama):
    model = tiny_seq2seq("bart")
    with pytest.raises(aw.ModelError, match="target= is for encoder-decoder models; LlamaForCausalLM is not one"):
        aw.extract(tiny_llama, word_tokenizer, words(3), target=words(2))
    with pytest.raises(ValueError, match="target is empty"):
        aw.extract(model, word_tokenizer, words(3), target=" ")
    with pytest.raises(ValueError, match="either target or target_ids"):
        aw.extract(model, word_tokenizer, words(3), target=words(2), target_ids=[94])
    with pytest.raises(ValueError, match="target= goes with one text"):
        aw.extract(model, word_tokenizer, [words(3), words(2)], target=words(2))
    with pytest.raises(aw.ModelError, match="encoder-decoder model; generate its output with model.generate"):
        aw.generate(tiny_seq2seq("t5"), word_tokenizer, words(3))


# ---------------------------------------------------------------------------------- images


@pytest.mark.parametrize("kind", VISION)
@pytest.mark.parametrize("lazy", [False, True])
def test_vision_encoders_equal_eager_with_patch_tokens(kind, lazy):
    model, processor = tiny_vision(kind)
    image = make_image()
    att = aw.extract(model, processor, image=image, lazy=lazy)
    prefix = {"vit": ["[CLS]"], "deit": ["[CLS]", "[DIST]"], "clip": ["[CLS]"], "siglip": []}[kind]
    assert att.tokens == prefix + [f"p({r},{c})" for r in range(4) for c in range(4)]
    assert att.meta["patch_grid"] == [4, 4] and att.meta["method"] == "capture" and att.is_lazy == lazy
    out = eager_outputs(model, pixel_values=processor(images=image, return_tensors="pt")["pixel_values"])
    np.testing.assert_allclose(att.weights, stacked(out.attentions), atol=1e-5, rtol=0)
    assert not att.is_causal


def test_generic_inputs_with_tokens():
    model, processor = tiny_vision("vit")
    pixels = processor(images=make_image(), return_tensors="pt")["pixel_values"]
    names = [f"x{i}" for i in range(17)]
    att = aw.extract(model, inputs={"pixel_values": pixels}, tokens=names, layers=[1])
    assert att.tokens == names and att.layer_ids == [1]
    np.testing.assert_allclose(
        att.layer(1), stacked(eager_outputs(model, pixel_values=pixels).attentions)[1], atol=1e-5
    )
    with pytest.raises(ValueError, match="got 3 tokens for attention over 17 positions"):
        aw.extract(model, inputs={"pixel_values": pixels}, tokens=["a", "b", "c"])
    with pytest.raises(ValueError, match="inputs= needs tokens="):
        aw.extract(model, inputs={"pixel_values": pixels})
    with pytest.raises(ValueError, match="batch size 2; pass one example"):
        aw.extract(model, inputs={"pixel_values": pixels.repeat(2, 1, 1, 1)}, tokens=names)


def test_image_bad_input(tiny_llama, word_tokenizer):
    import transformers as T

    model, processor = tiny_vision("vit")
    with pytest.raises(aw.ModelError, match="not a vision model"):
        aw.extract(tiny_llama, processor, image=make_image())
    with pytest.raises(ValueError, match="could not prepare the image"):
        aw.extract(model, word_tokenizer, image=make_image())
    big = T.ViTImageProcessorPil(size={"height": 64, "width": 64})
    with pytest.raises(aw.ModelError, match="64 x 64 pixel images; the model takes 32 x 32"):
        aw.extract(model, big, image=make_image())
    with pytest.raises(ValueError, match="one kind of input"):
        aw.extract(model, processor, "text", image=make_image())
