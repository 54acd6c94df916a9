"""Whisper's text side: encoder over audio frames, decoder over target tokens, cross from target to
frames, each part against an independent eager run to 1e-5."""

import numpy as np
import pytest
import torch
from helpers.tiny_models import eager_outputs, stacked, words
from helpers.tiny_multimodal import tiny_whisper, tone

import attnwidget as aw


@pytest.fixture(scope="module")
def whisper():
    return tiny_whisper()


@pytest.mark.parametrize("lazy", [False, True])
def test_whisper_parts_equal_eager_with_frames_labelled_by_time(whisper, lazy):
    model, processor = whisper
    audio = tone(0.5)
    s = aw.extract(model, processor, audio=audio, sampling_rate=16000, target=words(5), lazy=lazy)
    assert isinstance(s, aw.Seq2SeqAttention)
    # 1 s of audio in 10 ms mel frames, halved by the stride-2 convolution: 50 frames of 20 ms.
    assert s.encoder.tokens == [f"{0.02 * i:.2f}s" for i in range(50)]
    assert s.encoder.tokens[:3] == ["0.00s", "0.02s", "0.04s"] and s.encoder.tokens[-1] == "0.98s"
    assert s.meta["frame_seconds"] == pytest.approx(0.02) and s.meta["audio_seconds"] == 0.5
    assert s.meta["audio_frames"] == 25 and s.meta["sampling_rate"] == 16000
    labels = processor.tokenizer(text_target=words(5))["input_ids"]
    assert s.decoder.token_ids == [94] + labels[:-1] and s.meta["target_labels"] == labels
    assert s.cross.query_tokens == s.decoder.tokens and s.cross.tokens == s.encoder.tokens
    features = processor.feature_extractor(audio, sampling_rate=16000, return_tensors="pt")["input_features"]
    out = eager_outputs(model, input_features=features, decoder_input_ids=torch.tensor([s.decoder.token_ids]))
    for part, field in (
        ("encoder", "encoder_attentions"),
        ("decoder", "decoder_attentions"),
        ("cross", "cross_attentions"),
    ):
        att = s[part]
        assert att.meta["method"] == "capture" and att.is_lazy == lazy and att.layer_ids == [0, 1], part
        np.testing.assert_allclose(att.weights, stacked(getattr(out, field)), atol=1e-5, rtol=0, err_msg=part)
    assert s.decoder.is_causal and not s.encoder.is_causal
    assert s.cross.shape == (2, 4, 5, 50)


def test_input_features_with_target_ids(whisper):
    model, processor = whisper
    features = processor.feature_extractor(tone(0.3), sampling_rate=16000, return_tensors="pt")["input_features"]
    ids = [94, 3, 17, 40]
    s = aw.extract(model, processor, inputs={"input_features": features}, target_ids=ids, layers=[1], heads=[2])
    assert s.decoder.token_ids == ids and s.decoder.tokens == ["<s>", "w3", "w17", "w40"]
    assert s.encoder.tokens[1] == "0.02s" and "audio_seconds" not in s.meta
    out = eager_outputs(model, input_features=features, decoder_input_ids=torch.tensor([ids]))
    for part, field in (
        ("encoder", "encoder_attentions"),
        ("decoder", "decoder_attentions"),
        ("cross", "cross_attentions"),
    ):
        assert s[part].layer_ids == [1] and s[part].head_ids == [2]
        np.testing.assert_allclose(s[part].weights, stacked(getattr(out, field))[1:, [2]], atol=1e-5, rtol=0)
    named = aw.extract(model, inputs={"input_features": features}, target_ids=ids, tokens=["S", "a", "b", "c"])
    assert named.decoder.tokens == ["S", "a", "b", "c"] and "Whisper's front end" in named.meta["note"]
    eager = aw.extract(model, processor, inputs={"input_features": features}, target_ids=ids, method="eager")
    np.testing.assert_allclose(eager.cross.weights, stacked(out.cross_attentions), atol=1e-6)


def test_audio_without_target_gives_the_encoder_alone(whisper):
    model, processor = whisper
    att = aw.extract(model, processor.feature_extractor, audio=tone(0.2), sampling_rate=16000)
    assert isinstance(att, aw.Attention) and att.shape == (2, 4, 50, 50) and "target=" in att.meta["note"]
    features = processor.feature_extractor(tone(0.2), sampling_rate=16000, return_tensors="pt")["input_features"]
    out = eager_outputs(model.get_encoder(), input_features=features)
    np.testing.assert_allclose(att.weights, stacked(out.attentions), atol=1e-5, rtol=0)


def test_speech_bad_input(whisper, tiny_llama, word_tokenizer):
    model, processor = whisper
    with pytest.raises(aw.ModelError, match="audio= is for speech encoder-decoder models .* LlamaForCausalLM"):
        aw.extract(tiny_llama, word_tokenizer, audio=tone(), sampling_rate=16000)
    with pytest.raises(ValueError, match=r"sampled at 8000 Hz; the feature extractor takes 16000 Hz: resample"):
        aw.extract(model, processor, audio=tone(rate=8000), sampling_rate=8000, target=words(2))
    with pytest.raises(ValueError, match=r"one channel, a 1-D array .* got shape \(2, 8000\)"):
        aw.extract(model, processor, audio=np.stack([tone(), tone()]), sampling_rate=16000)
    with pytest.raises(ValueError, match="pass sampling_rate="):
        aw.extract(model, processor, audio=tone())
    with pytest.raises(aw.ModelError, match="the audio is 1.50 s long; the model reads at most 1.00 s"):
        aw.extract(model, processor, audio=tone(1.5), sampling_rate=16000)
    with pytest.raises(ValueError, match="NaN"):
        aw.extract(model, processor, audio=np.full(100, np.nan, np.float32), sampling_rate=16000)
    with pytest.raises(ValueError, match="audio needs the model's feature extractor"):
        aw.extract(model, processor.tokenizer, audio=tone(), sampling_rate=16000)
    short = torch.zeros(1, 80, 60)
    with pytest.raises(aw.ModelError, match="60 frames; WhisperForConditionalGeneration takes exactly 100"):
        aw.extract(model, processor, inputs={"input_features": short}, target_ids=[94])
    with pytest.raises(ValueError, match="target= needs the model's tokenizer"):
        aw.extract(model, processor.feature_extractor, audio=tone(), sampling_rate=16000, target=words(2))
    with pytest.raises(ValueError, match="to name the target tokens, or tokens="):
        aw.extract(model, processor.feature_extractor, audio=tone(), sampling_rate=16000, target_ids=[94, 1])
    with pytest.raises(ValueError, match="one kind of input"):
        aw.extract(model, processor, "w1", audio=tone(), sampling_rate=16000)
    with pytest.raises(aw.ModelError, match="reads audio, not text: pass audio=samples, sampling_rate="):
        aw.extract(model, processor, "w1 w2", target=words(2))


def test_labels_that_open_with_the_start_token_are_not_shifted_twice(whisper):
    """Whisper's tokenizer puts its start-of-transcript token first, as the decoder's start."""
    import transformers as T
    from helpers.tiny_models import word_level_tokenizer
    from tokenizers import processors

    model, processor = whisper
    tk = word_level_tokenizer()
    tk.post_processor = processors.TemplateProcessing(
        single="<s> $A [SEP]", special_tokens=[("<s>", 94), ("[SEP]", 92)]
    )
    prefixed = T.PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", bos_token="<s>")
    both = T.WhisperProcessor(feature_extractor=processor.feature_extractor, tokenizer=prefixed)
    s = aw.extract(model, both, audio=tone(0.2), sampling_rate=16000, target="w1 w2")
    assert s.decoder.token_ids == [94, 1, 2] and s.meta["target_labels"] == [1, 2, 92]
