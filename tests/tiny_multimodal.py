"""Tiny random-weight vision-language and speech models built from configs, with processors built
from local parts (none downloaded)."""

from __future__ import annotations

IMAGE_TOKEN = "<image>"
IMAGE_ID = 95  # after the word vocabulary's w0..w89 and its five specials


def image_tokenizer():
    """The tiny word-level tokenizer with ``<image>`` added as a special token (id 95)."""
    from tiny_models import word_level_tokenizer
    from tokenizers import AddedToken
    from transformers import PreTrainedTokenizerFast

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
