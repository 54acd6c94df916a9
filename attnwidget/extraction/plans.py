"""The plans for text, encoder-decoder, image and raw inputs: each reads its input, says what the
result's parts and token sides are and how to run the model once, and calls `run`.

* `text`: one text or a padded batch (with ``text_pair`` or chat ``messages``) of a decoder or
  encoder; an encoder-decoder model goes on to `seq2seq`.
* `seq2seq`: encoder, decoder and cross attention given a target (the encoder alone without one),
  for text here and for audio frames (`attnwidget.extraction.speech`).
* `image`: a vision encoder's patches (``[CLS]``, ``p(0,0)``, ...).
* `inputs`: any model's own keyword arguments with one label per position.

Vision-language models have their plan in `attnwidget.extraction.multimodal`, speech models in
`attnwidget.extraction.speech`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget.attention.core import Attention
from attnwidget.attention.seq2seq import Seq2SeqAttention
from attnwidget.errors import ArgumentTypeError, AttentionError, ModelError
from attnwidget.extraction.facts import (
    accepts,
    forward_parameters,
    input_device,
    is_encoder_decoder,
    layers_heads,
    model_meta,
    position_limit,
    vision_config,
    vocab_size,
)
from attnwidget.extraction.request import Request
from attnwidget.extraction.run import Part, Side, note, run
from attnwidget.extraction.tokens import encode, patch_labels, readable_tokens

__all__ = ["text", "seq2seq", "image", "inputs", "check_inputs"]


# ---------------------------------------------------------------------------------- text


def text(
    model,
    tokenizer,
    texts,
    req: Request,
    *,
    text_pair=None,
    messages=None,
    target=None,
    target_ids=None,
    add_special_tokens: bool = True,
) -> Attention | list[Attention] | Seq2SeqAttention:
    """One text (or a batch, or chat messages) through the model; `seq2seq` for encoder-decoders."""
    seq2seq_model = is_encoder_decoder(model)
    if (target is not None or target_ids is not None) and not seq2seq_model:
        raise ModelError(
            f"target= is for encoder-decoder models; {type(model).__name__} is not one (its "
            "config has is_encoder_decoder=False). Put the whole text in `text` instead"
        )
    if target is not None and target_ids is not None:
        raise AttentionError("pass either target or target_ids, not both")
    batched = isinstance(texts, (list, tuple))
    if batched and not texts:
        raise AttentionError("text is an empty list; pass at least one text")
    if batched and (target is not None or target_ids is not None):
        raise AttentionError("target= goes with one text; extract each pair on its own")
    if texts is None and messages is None:
        raise ArgumentTypeError("text must be a str or a list of str (or pass messages=[...]); got None")
    texts = list(texts) if batched else (None if texts is None else [texts])
    n_layers, n_heads, n_kv = layers_heads(model)
    # An encoder-decoder's numbers are checked against each tower once it has run.
    req = req.select(None, None) if seq2seq_model else req.select(n_layers, n_heads)
    texts, enc = encode(tokenizer, texts, text_pair, messages, add_special_tokens)
    limit = position_limit(model)
    lengths = enc["attention_mask"].sum(1).tolist()
    if limit is not None and enc["input_ids"].shape[1] > limit:
        raise ModelError(
            f"the text is {max(lengths)} tokens long; the model accepts at most {limit} positions (shorten the text)"
        )
    offsets = enc.pop("offset_mapping", None)
    device = input_device(model)
    model_inputs = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    meta = model_meta(model)
    source = _text_side(tokenizer, enc, offsets, texts)
    if seq2seq_model:
        return seq2seq(model, tokenizer, model_inputs, source, meta, req, target=target, target_ids=target_ids)
    n = enc["input_ids"].shape[1]
    req.guard(n_layers, n_heads, n, n)

    def forward(eager: bool):
        if eager:
            return model(**model_inputs, output_attentions=True)
        return model(**model_inputs, use_cache=False) if accepts(model, "use_cache") else model(**model_inputs)

    part = Part("main", source, source, "attentions", kv_heads=n_kv)
    results = run(model, forward, [part], meta, req)["main"]
    if req.measure == "norms":
        from attnwidget.extraction.norms import apply_value_norms

        results = apply_value_norms(model, model_inputs, results)
    return results if batched else results[0]


def _text_side(tokenizer, enc, offsets, texts) -> Side:
    special_ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    keep = enc["attention_mask"].bool()

    def facts(b, n=None):
        ids = enc["input_ids"][b][keep[b]].tolist()
        return dict(
            tokens=readable_tokens(tokenizer, ids),
            token_ids=ids,
            offsets=None if offsets is None else [tuple(o) for o in offsets[b][keep[b]].tolist()],
            special=[i in special_ids for i in ids],
            text=None if texts is None else texts[b],
        )

    return Side(keep, facts)


# ---------------------------------------------------------------------------------- encoder-decoder


def _decoder_ids(model, tokenizer, target, target_ids):
    """The decoder's input ids for a target text (shifted right, as in training) or as given."""
    import torch

    if target_ids is not None:
        if hasattr(target_ids, "__len__") and not hasattr(target_ids, "shape") and len(target_ids) == 0:
            raise AttentionError("target_ids is empty; the decoder needs at least its start token")
        # Ints only (a float is never truncated to an id), 1-d or the (1, n) a tokenizer returns,
        # each inside the decoder's vocabulary: torch would say only "index out of range".
        ids = V.token_ids("target_ids", target_ids, vocab=vocab_size(model, decoder=True))
        return torch.tensor([ids]), None
    if not isinstance(target, str):
        raise ArgumentTypeError(f"target must be a str; got {type(target).__name__}")
    if not target.strip():
        raise AttentionError("target is empty; the decoder needs at least one token")
    if tokenizer is None or not callable(tokenizer):
        raise AttentionError("target= needs the model's tokenizer (or its processor); or pass target_ids=[...]")
    labels = tokenizer(text_target=target, return_tensors="pt")["input_ids"]
    cfg = model.config
    start = getattr(cfg, "decoder_start_token_id", None)
    if start is None:
        start = getattr(getattr(model, "generation_config", None), "decoder_start_token_id", None)
    if start is None:
        raise ModelError(
            f"{type(model).__name__}'s config has no decoder_start_token_id; pass target_ids= "
            "with the decoder's input ids instead"
        )
    if labels.shape[1] > 1 and int(labels[0, 0]) == int(start):
        # Labels that already open with the start token (Whisper's prefix tokens): the decoder
        # reads them as they are, and predicts each next one.
        return labels[:, :-1], labels[0, 1:].tolist()
    shifted = torch.cat([torch.tensor([[int(start)]]), labels[:, :-1]], dim=1)
    return shifted, labels[0].tolist()


def seq2seq(
    model,
    tokenizer,
    model_inputs: dict,
    source: Side,
    meta: dict,
    req: Request,
    *,
    target=None,
    target_ids=None,
    n_src: int | None = None,
    target_tokens=None,
) -> Attention | list[Attention] | Seq2SeqAttention:
    """Encoder, decoder and cross attention (or the encoder alone without a target).

    `source` names the encoder's positions; `n_src` is its length when `source` has no padding
    mask to read it from (audio frames); `target_tokens` labels the decoder's positions instead of
    the tokenizer. ``req.layers`` and ``req.heads`` are checked selections.
    """
    import torch

    if source.batch() != 1 and (target is not None or target_ids is not None):
        raise AttentionError("target= goes with one text")
    n_layers, n_heads, _ = layers_heads(model)
    if n_src is None:
        n_src = source.keep.shape[1]
    if target is None and target_ids is None:
        return _encoder_alone(model, model_inputs, source, meta, req, n_src, n_layers, n_heads)
    dec_ids, labels = _decoder_ids(model, tokenizer, target, target_ids)
    limit = getattr(model.config, "max_target_positions", None) or position_limit(model)
    if limit is not None and dec_ids.shape[1] > limit:
        raise ModelError(f"the target is {dec_ids.shape[1]} tokens long; the model accepts at most {limit} positions")
    n_tgt = dec_ids.shape[1]
    dec_ids = dec_ids.to(input_device(model))
    req.guard(n_layers, n_heads, n_src + n_tgt, n_src + n_tgt)
    special_ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    ids = dec_ids[0].tolist()
    if target_tokens is not None:
        names = [str(t) for t in target_tokens]
        if len(names) != n_tgt:
            raise AttentionError(f"got {len(names)} tokens for {n_tgt} decoder positions; pass one per target id")
    elif tokenizer is not None and hasattr(tokenizer, "convert_ids_to_tokens"):
        names = readable_tokens(tokenizer, ids)
    else:
        raise AttentionError("pass the model's tokenizer (or processor) to name the target tokens, or tokens=[...]")
    target_side = Side(
        torch.ones(1, n_tgt, dtype=torch.bool),
        lambda b, n: dict(tokens=names, token_ids=ids, special=[i in special_ids for i in ids], text=target),
    )
    args = dict(model_inputs, decoder_input_ids=dec_ids)
    args.pop("token_type_ids", None)

    def forward(eager: bool):
        if eager:
            return model(**args, output_attentions=True)
        return model(**args, use_cache=False) if accepts(model, "use_cache") else model(**args)

    meta = dict(meta, source_text=source.facts(0, n_src).get("text"), target_text=target)
    if labels is not None:
        meta["target_labels"] = labels
    parts = [
        Part("encoder", source, source, "encoder_attentions"),
        Part("decoder", target_side, target_side, "decoder_attentions"),
        Part("cross", target_side, source, "cross_attentions"),
    ]
    got = run(model, forward, parts, meta, req)
    if req.measure == "norms":
        from attnwidget.extraction.norms import apply_value_norms_parts

        got = apply_value_norms_parts(
            model,
            lambda: forward(False),
            got,
            {"encoder": source.keep, "decoder": target_side.keep, "cross": source.keep},
        )
        meta = dict(meta, measure="norm")
    return Seq2SeqAttention(got["encoder"][0], got["decoder"][0], got["cross"][0], meta=meta)


def _encoder_alone(model, model_inputs, source, meta, req, n_src, n_layers, n_heads):
    encoder = model.get_encoder() if hasattr(model, "get_encoder") else None
    if encoder is None:
        raise ModelError(f"{type(model).__name__} has no get_encoder(); pass target= for all three parts")
    req.guard(n_layers, n_heads, n_src, n_src)
    enc_inputs = {k: v for k, v in model_inputs.items() if k in ("input_ids", "attention_mask", "input_features")}

    def forward(eager: bool):
        return encoder(**enc_inputs, output_attentions=True) if eager else encoder(**enc_inputs)

    meta = note(
        meta,
        "encoder-decoder model without a target: the encoder's attention alone; "
        "pass target='...' for the decoder and cross-attention",
    )
    part = Part("encoder", source, source, "attentions")
    atts = run(model, forward, [part], meta, req)["encoder"]
    if req.measure == "norms":
        from attnwidget.extraction.norms import apply_value_norms_parts

        atts = apply_value_norms_parts(
            model, lambda: encoder(**enc_inputs), {"encoder": atts}, {"encoder": source.keep}
        )["encoder"]
    return atts[0] if len(atts) == 1 else atts


# ---------------------------------------------------------------------------------- images


def image(model, processor, picture, req: Request) -> Attention:
    """A vision encoder's attention over one image's patches (a vision-language model's vision tower
    when the image comes alone)."""
    vcfg = vision_config(model)
    patch = getattr(vcfg, "patch_size", None)
    if patch is None or not hasattr(vcfg, "image_size"):
        raise ModelError(
            f"{type(model).__name__} is not a vision model (its config has no image_size / "
            "patch_size); pass text with its tokenizer, or inputs= with tokens="
        )
    if processor is None:
        raise AttentionError("pass the model's image processor: aw.extract(model, processor, image=...)")
    if hasattr(processor, "image_processor"):  # a combined processor (CLIPProcessor): its image half
        processor = processor.image_processor
    try:
        pixels = processor(images=picture, return_tensors="pt")["pixel_values"]
    except Exception as e:
        raise AttentionError(
            f"{type(processor).__name__} could not prepare the image ({type(e).__name__}: {e}); "
            "pass the model's image processor and a PIL image or an (H, W, 3) array"
        ) from e
    size = vcfg.image_size
    size = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
    if tuple(pixels.shape[-2:]) != size:
        raise ModelError(
            f"the processor made {pixels.shape[-2]} x {pixels.shape[-1]} pixel images; the model "
            f"takes {size[0]} x {size[1]}: use the processor that belongs to the model (or resize "
            "to its image_size)"
        )
    grid = (pixels.shape[-2] // patch, pixels.shape[-1] // patch)
    runner = model
    if not accepts(model, "pixel_values") or accepts(model, "input_ids"):
        from attnwidget.extraction.multimodal import is_vision_language, vision_tower

        runner = vision_tower(model)
        if runner is None:
            raise ModelError(f"{type(model).__name__} needs more than an image; pass inputs= with tokens=")
    pixels = pixels.to(device=input_device(model), dtype=next(model.parameters()).dtype)
    meta = dict(model_meta(model), patch_grid=list(grid), patch_size=patch, image_size=list(size))
    if runner is not model and is_vision_language(model):
        meta = note(
            meta,
            "an image alone: the vision tower's attention; pass text holding the image token with the "
            "image (and the model's processor) for the language model's",
        )
    return inputs(
        runner,
        {"pixel_values": pixels},
        None,
        req,
        labels=lambda n: patch_labels(n, grid),
        meta=meta,
        cfg_model=runner if hasattr(runner, "config") else model,
    )


# ---------------------------------------------------------------------------------- raw inputs


def inputs(
    model,
    model_inputs: Any,
    tokens,
    req: Request,
    *,
    labels: Callable[[int], list[str]] | None = None,
    meta: dict | None = None,
    cfg_model=None,
) -> Attention:
    """Attention of one example given as the model's own keyword arguments, labelled by `tokens`
    (or by `labels(n)` for the `n` positions the model made)."""
    if not isinstance(model_inputs, dict) or not model_inputs:
        raise ArgumentTypeError("inputs must be a non-empty dict of the model's forward arguments")
    if labels is None:
        if tokens is None:
            raise AttentionError("inputs= needs tokens=[...]: one label per position of the attention")
        names = V.tokens("tokens", tokens)
        labels = lambda n: names  # noqa: E731
    model_inputs = check_inputs(model, model_inputs)
    for k, v in model_inputs.items():
        if hasattr(v, "shape") and len(v.shape) >= 1 and v.shape[0] != 1:
            raise AttentionError(f"inputs[{k!r}] has batch size {v.shape[0]}; pass one example")
    n_layers, n_heads, n_kv = layers_heads(cfg_model or model)
    req = req.select(n_layers, n_heads)
    meta = dict(meta or model_meta(model))

    def forward(eager: bool):
        return model(**model_inputs, output_attentions=True) if eager else model(**model_inputs)

    def facts(b, n):
        names = labels(n)
        if len(names) != n:
            raise AttentionError(f"got {len(names)} tokens for attention over {n} positions; pass one per position")
        return dict(tokens=list(names))

    side = Side(None, facts)  # every position real; the length comes from the model's run
    ids: Any = model_inputs.get("input_ids")
    if hasattr(ids, "shape"):
        n = ids.shape[-1]
        req.guard(n_layers, n_heads, n, n)
    part = Part("main", side, side, "attentions", kv_heads=n_kv)
    return run(model, forward, [part], meta, req)["main"][0]


def check_inputs(model, model_inputs: dict) -> dict:
    """`model_inputs` checked against the model before it runs: every key one its forward takes,
    ``input_ids`` ints in its vocabulary (1-d or ``(1, n)``; made ``(1, n)``), and an
    ``attention_mask`` as long as the ids. Returns a new dict; the caller's is left as it was."""
    import torch

    takes = forward_parameters(model)
    if takes is not None:
        unknown = [k for k in model_inputs if k not in takes]
        if unknown:
            raise AttentionError(
                f"inputs has the key {unknown[0]!r}, which {type(model).__name__}.forward does not take; "
                f"it takes {takes}"
            )
    out = dict(model_inputs)
    ids = out.get("input_ids")
    if ids is not None:
        checked = V.token_ids("inputs['input_ids']", ids, vocab=vocab_size(model))
        device = ids.device if hasattr(ids, "device") else None
        out["input_ids"] = torch.tensor([checked], device=device)
        mask = out.get("attention_mask")
        if mask is not None and (hasattr(mask, "shape") or isinstance(mask, (list, tuple))):
            n_mask = int(np.asarray(mask.detach().cpu() if hasattr(mask, "detach") else mask).shape[-1])
            if n_mask != len(checked):
                raise AttentionError(
                    f"inputs['attention_mask'] covers {n_mask} positions but inputs['input_ids'] has "
                    f"{len(checked)}; pass one mask entry per id"
                )
    return out
