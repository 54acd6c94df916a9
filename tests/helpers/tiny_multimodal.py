"""Tiny random-weight vision-language and speech models built from configs, with processors built
from local parts (none downloaded)."""

from __future__ import annotations

IMAGE_TOKEN = "<image>"
IMAGE_ID = 95  # after the word vocabulary's w0..w89 and its five specials


def image_tokenizer():
    """The tiny word-level tokenizer with ``<image>`` added as a special token (id 95)."""
    from tokenizers import AddedToken
    from transformers import PreTrainedTokenizerFast

    from helpers.tiny_models import word_level_tokenizer

    tk = word_level_tokenizer()
    tk.add_special_tokens([AddedToken(IMAGE_TOKEN, special=True)])
    assert tk.token_to_id(IMAGE_TOKEN) == IMAGE_ID
    return PreTrainedTokenizerFast(
        tokenizer_object=tk,
        unk_token="[UNK]",
        pad_token="[PAD]",
        bos_token="<s>",
        extra_special_tokens={"image_token": IMAGE_TOKEN},
    )


def tiny_llava(strategy: str = "default"):
    """A Llava model (CLIP vision tower over 32 x 32 images in 8 x 8 patches, 2 layers; Llama text
    model with 3 layers, 8 query heads over 2 kv heads) and a LlavaProcessor for it."""
    import torch
    import transformers as T

    torch.manual_seed(0)
    vision = T.CLIPVisionConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, image_size=32, patch_size=8
    )
    text = T.LlamaConfig(
        vocab_size=100,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=3,
        num_attention_heads=8,
        num_key_value_heads=2,
        max_position_embeddings=128,
        pad_token_id=93,
        bos_token_id=94,
        eos_token_id=92,
    )
    cfg = T.LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_id=IMAGE_ID,
        vision_feature_layer=-1,
        vision_feature_select_strategy=strategy,
    )
    model = T.LlavaForConditionalGeneration(cfg).eval()
    size = {"height": 32, "width": 32}
    images = T.CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size=size)
    processor = T.LlavaProcessor(
        image_processor=images,
        tokenizer=image_tokenizer(),
        patch_size=8,
        vision_feature_select_strategy=strategy,
        image_token=IMAGE_TOKEN,
        num_additional_image_tokens=1,
    )
    return model, processor


def tiny_gemma3():
    """A Gemma 3 model whose SigLIP tower cuts 32 x 32 images into an 8 x 8 patch grid, average-pooled
    to 4 image tokens (a 2 x 2 grid); Gemma 3 text with 2 layers (one sliding), 4 heads over 2 kv heads."""
    import torch
    import transformers as T

    torch.manual_seed(0)
    vision = T.SiglipVisionConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, image_size=32, patch_size=4
    )
    text = T.Gemma3TextConfig(
        vocab_size=100,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=128,
        sliding_window=4,
        pad_token_id=93,
        bos_token_id=94,
        eos_token_id=92,
    )
    cfg = T.Gemma3Config(
        vision_config=vision,
        text_config=text,
        mm_tokens_per_image=4,
        image_token_id=IMAGE_ID,
        boi_token_index=91,
        eoi_token_index=90,
    )
    return T.Gemma3ForConditionalGeneration(cfg).eval()


def tiny_whisper():
    """A Whisper model reading 1 s of 16 kHz audio (100 mel frames of 10 ms, 50 encoder frames of
    20 ms after the stride-2 convolution; 2 encoder and 2 decoder layers of 4 heads) and a
    WhisperProcessor over the word-level tokenizer (decoder start 94)."""
    import torch
    import transformers as T

    from helpers.tiny_models import word_level_tokenizer

    torch.manual_seed(0)
    cfg = T.WhisperConfig(
        vocab_size=100,
        num_mel_bins=80,
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_source_positions=50,
        max_target_positions=32,
        pad_token_id=93,
        bos_token_id=94,
        eos_token_id=92,
        decoder_start_token_id=94,
    )
    model = T.WhisperForConditionalGeneration(cfg).eval()
    features = T.WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160, chunk_length=1)
    tokenizer = T.PreTrainedTokenizerFast(
        tokenizer_object=word_level_tokenizer(), unk_token="[UNK]", pad_token="[PAD]", bos_token="<s>"
    )
    return model, T.WhisperProcessor(feature_extractor=features, tokenizer=tokenizer)


def tone(seconds: float = 0.5, rate: int = 16000, seed: int = 0):
    """A 1-D float32 test signal: a 440 Hz tone that steps to 880 Hz halfway, with a little noise."""
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    f = np.where(t < seconds / 2, 440.0, 880.0)
    noise = np.random.default_rng(seed).normal(0, 0.01, t.size)
    return (0.5 * np.sin(2 * np.pi * f * t) + noise).astype(np.float32)
