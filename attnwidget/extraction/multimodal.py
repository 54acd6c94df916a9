"""Inputs that are more than text: a vision-language model's image placeholders, speech frames.

A Llava-style model reads text in which each image stands as a run of placeholder tokens
(``config.image_token_id``); the vision tower's features replace them before the language model
runs. The attention returned is the language model's alone, numbered by its own layers: the vision
tower's layers are never recorded, so they cannot join the stack. Each placeholder is labelled
with the image patch it carries (``img p(r,c)``, ``img [CLS]`` when the model keeps the class
token), from the vision tower's patch grid and the model's feature selection
(``vision_feature_select_strategy``: ``"default"`` drops the tower's first token, ``"full"`` keeps
every token; Gemma 3's pooled features are cells of a coarser square grid). A placeholder count that
does not match the grid is an error, never a shifted label.

A speech encoder-decoder (Whisper) reads log-mel features of the audio; its encoder's positions are
audio frames, labelled by their start time (``0.00s``, ``0.02s``, ...: the feature extractor's hop
times the encoder's convolution stride), and its decoder's are the target tokens.
"""

from __future__ import annotations

import math
from typing import Any

from attnwidget.extraction.tokens import patch_labels, readable_tokens

__all__ = [
    "is_vision_language",
    "image_token_id",
    "image_token_labels",
    "vision_tower",
    "extract_vision_language",
    "is_speech",
    "extract_speech",
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
    from attnwidget.errors import ModelError

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
    from attnwidget.errors import ModelError

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
        raise ValueError(
            f"text with an image needs the model's processor (its tokenizer and image processor "
            f"together, e.g. LlavaProcessor); got {got}. Or pass inputs={{'input_ids': ..., "
            f"'pixel_values': ...}} with the image placeholders already expanded"
        )
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty str holding the image placeholder (processor.image_token)")
    try:
        enc = processor(text=text, images=image, return_tensors="pt")
    except Exception as e:
        raise ValueError(
            f"{type(processor).__name__} could not prepare the text and image ({type(e).__name__}: {e}); "
            "put the processor's image token (e.g. '<image>') in the text once per image"
        ) from e
    return dict(enc), processor.tokenizer


def extract_vision_language(
    model, tokenizer, text, image, inputs, tokens, layers, heads, method, lazy, check, storage
):  # -> Attention
    """The language model's attention of a vision-language model over text with image placeholders.

    Either `text` and `image` (prepared by the combined processor passed as `tokenizer`) or
    `inputs` (``input_ids`` with the placeholders expanded, ``pixel_values``, optionally
    ``attention_mask``), labelled by the tokenizer or by `tokens`.
    """
    import torch

    from attnwidget.extraction.api import (
        ModelError,
        _check_selection,
        _guard_size,
        _input_device,
        _model_meta,
        _num_layers_heads,
        _Part,
        _run,
        _Side,
    )

    if inputs is None:
        inputs, tokenizer = _prepare(tokenizer, text, image)
        texts = text
    else:
        if not isinstance(inputs, dict) or "input_ids" not in inputs:
            raise ValueError(
                "inputs= for a vision-language model needs 'input_ids' (image placeholders expanded) and 'pixel_values'"
            )
        inputs, texts = dict(inputs), None
        if tokenizer is not None and hasattr(tokenizer, "tokenizer"):  # a combined processor
            tokenizer = tokenizer.tokenizer
    ids = torch.as_tensor(inputs["input_ids"])
    if ids.ndim == 1:
        ids = ids[None]
    if ids.ndim != 2 or ids.shape[0] != 1:
        raise ValueError(f"input_ids must be one example (1, n); got shape {tuple(ids.shape)}")
    inputs["input_ids"] = ids
    keep = inputs.get("attention_mask")
    keep = None if keep is None else torch.as_tensor(keep).reshape(1, -1).bool()
    if keep is not None and keep.shape != ids.shape:
        raise ValueError(f"attention_mask has shape {tuple(keep.shape)}; input_ids has {tuple(ids.shape)}")
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
            raise ValueError(
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
            raise ValueError(f"got {len(names)} tokens for {n} positions; pass one per position")
    elif tokenizer is not None and hasattr(tokenizer, "convert_ids_to_tokens"):
        names = readable_tokens(tokenizer, kept.tolist())
        for pos, name in zip(positions, image_names, strict=True):
            names[pos] = name
    else:
        raise ValueError(
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
    side = _Side(keep, lambda b, n_: facts)
    # Pixels per grid cell: the patch size, or a block of patches when features are pooled.
    grid_meta: dict = dict(patch_grid=list(grid), patch_size=size[0] // grid[0], image_size=list(size))
    if not matches:  # labels given by the caller; no patch grid is claimed for the placeholders
        grid_meta = dict(
            note=f"{len(positions)} image placeholders do not match {n_images} image(s) of "
            f"{len(per_image)} patch features; tokens as given, no patch grid"
        )

    n_layers, n_heads, n_kv = _num_layers_heads(model)
    layer_sel = _check_selection("layers", layers, n_layers)
    head_sel = _check_selection("heads", heads, n_heads)
    _guard_size(len(layer_sel) if layer_sel else n_layers, len(head_sel) if head_sel else n_heads, n, n, lazy, storage)
    device = _input_device(model)
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
        _model_meta(model),
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

    part = _Part("main", side, side, "attentions", kv_heads=n_kv, prefix=path)
    return _run(model, forward, [part], layer_sel, head_sel, meta, method, lazy, check, dtype=storage)["main"][0]


# ---------------------------------------------------------------------------------- speech


def is_speech(model) -> bool:
    """An encoder-decoder model that reads audio features (Whisper's log-mel ``input_features``)."""
    cfg = getattr(model, "config", None)
    return bool(getattr(cfg, "is_encoder_decoder", False)) and getattr(model, "main_input_name", None) == (
        "input_features"
    )


def _conv_stride(model) -> int:
    """Feature frames per encoder frame: the product of the encoder's 1-D convolution strides."""
    import torch

    encoder = model.get_encoder() if hasattr(model, "get_encoder") else model
    stride = 1
    for m in encoder.modules():
        if isinstance(m, torch.nn.Conv1d):
            stride *= int(m.stride[0])
    return stride


def _audio_samples(audio, sampling_rate, feature_extractor):
    """`audio` as a 1-D float32 array checked against what the feature extractor takes."""
    import numpy as np

    if hasattr(audio, "detach"):
        audio = audio.detach().cpu().numpy()
    try:
        samples = np.asarray(audio, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise TypeError(f"audio must be a 1-D array of samples; got {type(audio).__name__}") from e
    if samples.ndim != 1:
        raise ValueError(
            f"audio must be one channel, a 1-D array of samples; got shape {samples.shape}. For several "
            "channels pass their mean (e.g. audio.mean(axis=0) for (channels, samples))"
        )
    if samples.size == 0:
        raise ValueError("audio is empty; attention needs at least one frame")
    if not np.all(np.isfinite(samples)):
        raise ValueError("audio holds NaN or infinite samples")
    rate = getattr(feature_extractor, "sampling_rate", None)
    if sampling_rate is None:
        raise ValueError(f"pass sampling_rate= (Hz) with audio; the feature extractor takes {rate} Hz")
    if rate is not None and int(sampling_rate) != int(rate):
        raise ValueError(
            f"the audio is sampled at {sampling_rate} Hz; the feature extractor takes {rate} Hz: resample it "
            f"first (e.g. librosa.resample(audio, orig_sr={sampling_rate}, target_sr={rate}))"
        )
    limit = getattr(feature_extractor, "n_samples", None)
    if isinstance(limit, int) and samples.size > limit:
        from attnwidget.errors import ModelError

        raise ModelError(
            f"the audio is {samples.size / sampling_rate:.2f} s long; the model reads at most "
            f"{limit / sampling_rate:.2f} s at a time: cut it into pieces of that length"
        )
    return samples


def extract_speech(
    model,
    processor,
    audio,
    sampling_rate,
    inputs,
    target,
    target_ids,
    tokens,
    layers,
    heads,
    method,
    lazy,
    check,
    measure="weight",
    *,
    storage,
):  # -> Seq2SeqAttention | Attention
    """A speech encoder-decoder's attention: encoder over audio frames labelled by time, decoder over
    the target tokens, cross from target tokens to frames (the encoder alone without a target).

    `processor` is the model's processor (feature extractor and tokenizer), or either part alone:
    the feature extractor prepares `audio` and gives the frame timing, the tokenizer reads `target`
    and names the target tokens (`tokens` names them otherwise).
    """
    import torch

    from attnwidget.extraction.api import (
        ModelError,
        _check_selection,
        _extract_seq2seq,
        _input_device,
        _model_meta,
        _num_layers_heads,
        _Side,
    )

    feature_extractor = getattr(processor, "feature_extractor", None)
    if feature_extractor is None and hasattr(processor, "hop_length"):
        feature_extractor = processor
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None and hasattr(processor, "convert_ids_to_tokens"):
        tokenizer = processor
    meta = dict(_model_meta(model))
    if inputs is None:
        if feature_extractor is None:
            got = "nothing" if processor is None else type(processor).__name__
            raise ValueError(
                f"audio needs the model's feature extractor (or its processor, e.g. WhisperProcessor); got {got}. "
                "Or pass inputs={'input_features': ...}"
            )
        samples = _audio_samples(audio, sampling_rate, feature_extractor)
        try:
            features = feature_extractor(samples, sampling_rate=sampling_rate, return_tensors="pt")["input_features"]
        except Exception as e:
            raise ValueError(
                f"{type(feature_extractor).__name__} could not prepare the audio ({type(e).__name__}: {e})"
            ) from e
        meta.update(audio_seconds=round(samples.size / sampling_rate, 6), sampling_rate=int(sampling_rate))
    else:
        if not isinstance(inputs, dict) or "input_features" not in inputs:
            raise ValueError("inputs= for a speech model needs 'input_features' (the feature extractor's output)")
        features = torch.as_tensor(inputs["input_features"])
        extra = sorted(set(inputs) - {"input_features", "attention_mask"})
        if extra:
            raise ValueError(f"inputs= for a speech model takes input_features (and attention_mask); got also {extra}")
    if features.ndim == 2:
        features = features[None]
    if features.ndim != 3 or features.shape[0] != 1:
        raise ValueError(f"input_features must be one example (1, mel bins, frames); got {tuple(features.shape)}")
    n_mel = int(features.shape[-1])
    stride = _conv_stride(model)
    positions = getattr(model.config, "max_source_positions", None)
    if isinstance(positions, int) and stride > 1 and n_mel != positions * stride:
        raise ModelError(
            f"the features have {n_mel} frames; {type(model).__name__} takes exactly {positions * stride} "
            f"(max_source_positions {positions} x stride {stride}): use the model's own feature extractor, "
            "which pads the audio to that length"
        )
    hop = getattr(feature_extractor, "hop_length", None)
    rate = getattr(feature_extractor, "sampling_rate", None)
    if hop is None or rate is None:
        hop, rate = 160, 16000
        meta["note"] = "frame times assume Whisper's front end (10 ms hop at 16 kHz); pass the feature extractor"
    n_src = n_mel // stride
    seconds = hop / rate * stride  # per encoder frame
    meta.update(frame_seconds=seconds)
    if "audio_seconds" in meta:
        meta["audio_frames"] = min(n_src, int(-(-meta["audio_seconds"] // seconds)))

    def frames(b, n=None):
        n = n_src if n is None else n
        step = hop / rate * n_mel / n  # the frames the model made, in time
        return dict(tokens=[f"{i * step:.2f}s" for i in range(n)], text=None)

    source = _Side(None, frames)
    device = _input_device(model)
    model_inputs = {"input_features": features.to(device=device, dtype=next(model.parameters()).dtype)}
    if inputs is not None and inputs.get("attention_mask") is not None:
        model_inputs["attention_mask"] = torch.as_tensor(inputs["attention_mask"]).to(device)
    if target is None and target_ids is None and tokens is not None:
        raise ValueError("tokens= names the target tokens; pass target= or target_ids= with it")
    n_layers, n_heads, _ = _num_layers_heads(model)
    has_target = target is not None or target_ids is not None
    layer_sel = _check_selection("layers", layers, None if has_target else n_layers)
    head_sel = _check_selection("heads", heads, None if has_target else n_heads)
    L = len(layer_sel) if layer_sel is not None else n_layers
    H = len(head_sel) if head_sel is not None else n_heads
    return _extract_seq2seq(
        model,
        tokenizer,
        model_inputs,
        source,
        target,
        target_ids,
        layer_sel,
        head_sel,
        meta,
        method,
        lazy,
        check,
        L,
        H,
        n_src=n_src,
        target_tokens=tokens,
        measure=measure,
        dtype=storage,
    )
