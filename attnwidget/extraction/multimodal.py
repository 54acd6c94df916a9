"""The vision-language plan: a Llava-style model's language attention over text with images.

A Llava-style model reads text in which each image stands as a run of placeholder tokens
(``config.image_token_id``); the vision tower's features replace them before the language model
runs. The attention returned is the language model's alone, numbered by its own layers: the vision
tower's layers are never recorded, so they cannot join the stack. Each placeholder is labelled
with the image patch it carries (``img p(r,c)``, ``img [CLS]`` when the model keeps the class
token), from the vision tower's patch grid and the model's feature selection
(``vision_feature_select_strategy``: ``"default"`` drops the tower's first token, ``"full"`` keeps
every token; Gemma 3's pooled features are cells of a coarser square grid). A placeholder count that
does not match the grid is an error, never a shifted label.

Speech models (Whisper's audio frames) have their plan in `attnwidget.extraction.speech`.
"""

from __future__ import annotations

import math
from typing import Any

from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionError, ModelError
from attnwidget.extraction.facts import input_device, layers_heads, model_meta
from attnwidget.extraction.request import Request
from attnwidget.extraction.run import Part, Side, run
from attnwidget.extraction.tokens import patch_labels, readable_tokens

__all__ = [
    "is_vision_language",
    "image_token_id",
    "image_token_labels",
    "vision_tower",
    "vision_language",
]


def image_token_id(model) -> int | None:
    """The placeholder id a vision-language model replaces with image features (None for others)."""
    cfg = getattr(model, "config", None)
    for name in ("image_token_id", "image_token_index"):
        v = getattr(cfg, name, None)
        if isinstance(v, int):
            return v
    return None


def is_vision_language(model) -> bool:
    """A model whose config has a vision tower, a text model and an image placeholder token."""
    cfg = getattr(model, "config", None)
    return (
        getattr(cfg, "vision_config", None) is not None
        and getattr(cfg, "text_config", None) is not None
        and image_token_id(model) is not None
    )


def _named(model, last: str) -> tuple[str, Any] | None:
    """The shallowest submodule whose name ends in `last`."""
    found = [(n, m) for n, m in model.named_modules() if n.split(".")[-1] == last]
    return min(found, key=lambda nm: nm[0].count(".")) if found else None


def vision_tower(model):
    """The module that encodes images (``vision_model`` / ``vision_tower``, at any depth), or None."""
    for name in ("vision_model", "vision_tower"):
        direct = getattr(model, name, None)
        if direct is not None:
            return direct
    hit = _named(model, "vision_tower") or _named(model, "vision_model")
    return None if hit is None else hit[1]


def _language_model_path(model) -> str:
    hit = _named(model, "language_model")
    if hit is None and hasattr(model, "get_decoder"):
        decoder = model.get_decoder()
        hit = next(((n, m) for n, m in model.named_modules() if m is decoder and n), None)
    if hit is None:
        raise ModelError(f"cannot find the language model inside {type(model).__name__} (no .language_model)")
    return hit[0]


def _vision_prefix_tokens(model, vcfg) -> int:
    """Tokens the vision tower puts before its patches ([CLS] for CLIP, none for SigLIP)."""
    tower = vision_tower(model)
    if tower is not None:
        for m in tower.modules():
            n_pos, n_patch = getattr(m, "num_positions", None), getattr(m, "num_patches", None)
            if isinstance(n_pos, int) and isinstance(n_patch, int):
                return n_pos - n_patch
    return 1 if "clip" in str(getattr(vcfg, "model_type", "")) else 0


def image_token_labels(model, strategy: str | None = None) -> tuple[list[str], tuple[int, int], str]:
    """Labels of one image's placeholder tokens, its patch grid ``(rows, cols)`` and the feature
    selection used (the model's ``vision_feature_select_strategy`` unless `strategy` is given;
    ``"pooled"`` for models that average-pool patch features to ``mm_tokens_per_image`` tokens on a
    square grid, as Gemma 3 does: then each label names a cell of that coarser grid)."""
    cfg = model.config
    vcfg = cfg.vision_config
    size, patch = getattr(vcfg, "image_size", None), getattr(vcfg, "patch_size", None)
    if not size or not patch:
        raise ModelError(f"{type(model).__name__}'s vision config has no image_size / patch_size")
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    grid = (h // patch, w // patch)
    pooled = getattr(cfg, "mm_tokens_per_image", None)
    if isinstance(pooled, int) and pooled > 0 and strategy is None:
        # Features average-pooled to a square grid (Gemma 3): each token is one cell of it.
        side = math.isqrt(pooled)
        if side * side != pooled or grid[0] != grid[1] or grid[0] % side:
            raise ModelError(
                f"{type(model).__name__} pools a {grid[0]} x {grid[1]} patch grid into {pooled} image tokens, "
                "not a square grid of whole cells; pass inputs= with tokens="
            )
        return patch_labels(pooled, (side, side)), (side, side), "pooled"
    strategy = strategy or getattr(cfg, "vision_feature_select_strategy", None) or "full"
    if strategy not in ("default", "full"):
        raise ModelError(f"unknown vision_feature_select_strategy {strategy!r}; expected 'default' or 'full'")
    n_prefix = _vision_prefix_tokens(model, vcfg)
    names = patch_labels(grid[0] * grid[1] + n_prefix, grid)
    if strategy == "default":  # the model drops the tower's first token
        names = names[1:]
    return names, grid, strategy


def _prepare(processor, text, image) -> tuple[dict, Any]:
    """Run a combined processor (tokenizer and image processor) on text and image."""
    if processor is None or not hasattr(processor, "image_processor") or not hasattr(processor, "tokenizer"):
        got = "nothing" if processor is None else type(processor).__name__
        raise AttentionError(
            f"text with an image needs the model's processor (its tokenizer and image processor "
            f"together, e.g. LlavaProcessor); got {got}. Or pass inputs={{'input_ids': ..., "
            f"'pixel_values': ...}} with the image placeholders already expanded"
        )
    if not isinstance(text, str) or not text.strip():
        raise AttentionError("text must be a non-empty str holding the image placeholder (processor.image_token)")
    try:
        enc = processor(text=text, images=image, return_tensors="pt")
    except Exception as e:
        raise AttentionError(
            f"{type(processor).__name__} could not prepare the text and image ({type(e).__name__}: {e}); "
            "put the processor's image token (e.g. '<image>') in the text once per image"
        ) from e
    return dict(enc), processor.tokenizer


def vision_language(model, tokenizer, text, image, inputs, tokens, req: Request) -> Attention:
    """The language model's attention of a vision-language model over text with image placeholders.

    Either `text` and `image` (prepared by the combined processor passed as `tokenizer`) or
    `inputs` (``input_ids`` with the placeholders expanded, ``pixel_values``, optionally
    ``attention_mask``), labelled by the tokenizer or by `tokens`.
    """
    import torch

    if inputs is None:
        inputs, tokenizer = _prepare(tokenizer, text, image)
        texts = text
    else:
        if not isinstance(inputs, dict) or "input_ids" not in inputs:
            raise AttentionError(
                "inputs= for a vision-language model needs 'input_ids' (image placeholders expanded) and 'pixel_values'"
            )
        inputs, texts = dict(inputs), None
        if tokenizer is not None and hasattr(tokenizer, "tokenizer"):  # a combined processor
            tokenizer = tokenizer.tokenizer
    ids = torch.as_tensor(inputs["input_ids"])
    if ids.ndim == 1:
        ids = ids[None]
    if ids.ndim != 2 or ids.shape[0] != 1:
        raise AttentionError(f"input_ids must be one example (1, n); got shape {tuple(ids.shape)}")
    inputs["input_ids"] = ids
    keep = inputs.get("attention_mask")
    keep = None if keep is None else torch.as_tensor(keep).reshape(1, -1).bool()
    if keep is not None and keep.shape != ids.shape:
        raise AttentionError(f"attention_mask has shape {tuple(keep.shape)}; input_ids has {tuple(ids.shape)}")
    if keep is not None and bool(keep.all()):
        keep = None
    kept = ids[0] if keep is None else ids[0][keep[0]]

    tid = image_token_id(model)
    strategy = inputs.get("vision_feature_select_strategy")
    per_image, grid, strategy = image_token_labels(model, strategy)
    pixels = inputs.get("pixel_values")
    n_images = 0
    vcfg = model.config.vision_config
    size = vcfg.image_size
    size = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
    if pixels is not None:
        if not hasattr(pixels, "shape") or len(pixels.shape) != 4:
            raise AttentionError(
                f"pixel_values must be (images, channels, height, width); got {getattr(pixels, 'shape', pixels)!r:.60}"
            )
        if tuple(pixels.shape[-2:]) != size:
            raise ModelError(
                f"the images are {pixels.shape[-2]} x {pixels.shape[-1]} pixels; the model takes "
                f"{size[0]} x {size[1]}: use the processor that belongs to the model"
            )
        n_images = int(pixels.shape[0])
    positions = [i for i, t in enumerate(kept.tolist()) if t == tid]
    matches = len(positions) == n_images * len(per_image)
    if not matches and tokens is None:
        drop = ", the first (class) token dropped" if strategy == "default" else ""
        raise ModelError(
            f"the input has {len(positions)} image placeholder tokens (id {tid}) but {n_images} "
            f"image(s) make {n_images * len(per_image)}: {len(per_image)} per image from a "
            f"{grid[0]} x {grid[1]} patch grid ({strategy!r} feature selection{drop}). Let the "
            "model's processor expand the image token, one per image. (Labels cover Llava-style models, "
            "one placeholder per vision-tower feature; models that pool or tile image features are not covered: "
            "pass inputs= with tokens=)"
        )
    image_names = [(f"img{k + 1} " if n_images > 1 else "img ") + name for k in range(n_images) for name in per_image]
    n = len(kept)
    if tokens is not None:
        names = [str(t) for t in tokens]
        if len(names) != n:
            raise AttentionError(f"got {len(names)} tokens for {n} positions; pass one per position")
    elif tokenizer is not None and hasattr(tokenizer, "convert_ids_to_tokens"):
        names = readable_tokens(tokenizer, kept.tolist())
        for pos, name in zip(positions, image_names, strict=True):
            names[pos] = name
    else:
        raise AttentionError(
            "pass the model's tokenizer or processor (aw.extract(model, processor, inputs=...)) or tokens="
        )
    special_ids = set(getattr(tokenizer, "all_special_ids", []) or []) - {tid}
    image_set = set(positions)
    facts = dict(
        tokens=names,
        token_ids=kept.tolist(),
        special=[i not in image_set and t in special_ids for i, t in enumerate(kept.tolist())],
        text=texts,
    )
    side = Side(keep, lambda b, n_: facts)
    # Pixels per grid cell: the patch size, or a block of patches when features are pooled.
    grid_meta: dict = dict(patch_grid=list(grid), patch_size=size[0] // grid[0], image_size=list(size))
    if not matches:  # labels given by the caller; no patch grid is claimed for the placeholders
        grid_meta = dict(
            note=f"{len(positions)} image placeholders do not match {n_images} image(s) of "
            f"{len(per_image)} patch features; tokens as given, no patch grid"
        )

    n_layers, n_heads, n_kv = layers_heads(model)
    req = req.select(n_layers, n_heads)
    req.guard(n_layers, n_heads, n, n)
    device = input_device(model)
    dtype = next(model.parameters()).dtype
    args = {}
    for k, v in inputs.items():
        if k == "pixel_values" and hasattr(v, "to"):
            v = v.to(device=device, dtype=dtype)
        elif hasattr(v, "to"):
            v = v.to(device)
        args[k] = v
    path = _language_model_path(model)
    meta = dict(
        model_meta(model),
        tower=path,
        tower_kind="language",
        image_tokens=positions,
        images=n_images,
        image_token_id=tid,
        vision_feature_select_strategy=strategy,
        **grid_meta,
    )

    def forward(eager: bool):
        if not eager:
            return model(**args, use_cache=False)
        try:
            return model(**args, output_attentions=True)
        except (ValueError, RuntimeError) as e:  # the model's own check of its inputs
            raise ModelError(f"{type(model).__name__} refused these inputs: {e}") from e

    part = Part("main", side, side, "attentions", kv_heads=n_kv, prefix=path)
    return run(model, forward, [part], meta, req)["main"][0]
