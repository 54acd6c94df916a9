"""Tiny random-weight encoder-decoder, vision and other-family models built from configs (none downloaded)."""

from __future__ import annotations

SEQ2SEQ = ("bart", "mbart", "marian", "t5")
VISION = ("vit", "deit", "clip", "siglip")


def tiny_seq2seq(kind: str):
    """An encoder-decoder model over the tiny word vocabulary (ids < 100; 93 pads, 92 ends)."""
    import torch
    import transformers as T

    torch.manual_seed(0)
    common = dict(vocab_size=100, pad_token_id=93, eos_token_id=92, bos_token_id=94, decoder_start_token_id=94)
    if kind in ("bart", "mbart", "marian"):
        cfg_cls, model_cls = {
            "bart": (T.BartConfig, T.BartModel),
            "mbart": (T.MBartConfig, T.MBartModel),
            "marian": (T.MarianConfig, T.MarianMTModel),
        }[kind]
        cfg = cfg_cls(
            d_model=32,
            encoder_layers=2,
            decoder_layers=3,
            encoder_attention_heads=4,
            decoder_attention_heads=2,
            encoder_ffn_dim=64,
            decoder_ffn_dim=64,
            max_position_embeddings=64,
            **common,
        )
        return model_cls(cfg).eval()
    if kind == "t5":
        cfg = T.T5Config(
            d_model=32,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_decoder_layers=3,
            num_heads=4,
            relative_attention_num_buckets=8,
            relative_attention_max_distance=16,
            **common,
        )
        return T.T5ForConditionalGeneration(cfg).eval()
    raise ValueError(kind)


def tiny_vision(kind: str):
    """A vision encoder over 32 x 32 images in 8 x 8 patches, and an image processor for it."""
    import torch
    import transformers as T

    torch.manual_seed(0)
    size = {"height": 32, "width": 32}
    common = dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, image_size=32, patch_size=8
    )
    if kind == "vit":
        model = T.ViTModel(T.ViTConfig(**common), add_pooling_layer=False)
        proc = T.ViTImageProcessorPil(size=size)
    elif kind == "deit":
        model = T.DeiTModel(T.DeiTConfig(**common), add_pooling_layer=False)
        proc = T.DeiTImageProcessorPil(size=size, crop_size=size)
    elif kind == "clip":
        model = T.CLIPVisionModel(T.CLIPVisionConfig(**common))
        proc = T.CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size=size)
    elif kind == "siglip":
        model = T.SiglipVisionModel(T.SiglipVisionConfig(**common))
        proc = T.SiglipImageProcessorPil(size=size)
    else:
        raise ValueError(kind)
    return model.eval(), proc


def test_image(seed: int = 0):
    """A 40 x 48 RGB image with a bright square, so patches differ."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    a = (rng.random((40, 48, 3)) * 80).astype(np.uint8)
    a[8:24, 16:32] = 240
    return Image.fromarray(a)
