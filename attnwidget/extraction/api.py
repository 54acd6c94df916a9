"""Getting attention out of a model: model + text (or image, or any inputs) -> `Attention`.

Three paths, tried in this order by `extract(method="auto")`:

* ``"capture"``: the model keeps its fast SDPA attention; `capture` records each layer's queries,
  keys and logit biases during one forward pass and computes probabilities afterwards, only for the
  layers and heads asked for. A self-check compares the captured weights times the values with the
  attention output the model computed; weights that do not reproduce it are never returned.
* ``"eager"``: ``output_attentions=True`` with the eager implementation switched on for the call.
* ``"hooks"``: forward hooks on any ``torch.nn.Module`` whose output carries attention weights
  (``torch.nn.MultiheadAttention`` by default), for models outside transformers (`extract_hooks`).

Encoder-decoder models given a target give a `Seq2SeqAttention` (encoder, decoder, cross); vision
encoders given an image give patch tokens (``[CLS]``, ``p(0,0)``, ...); vision-language models given
text and an image give their language model's attention with the image placeholders labelled
(`attnwidget.extraction.multimodal`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from attnwidget._optional import require_models
from attnwidget.attention.core import Attention, _memory_budget, storage_dtype
from attnwidget.attention.seq2seq import Seq2SeqAttention
from attnwidget.errors import AttentionError, ModelError
from attnwidget.extraction.capture import (
    CapturedQK,
    Recorder,
    attn_implementation,
    capturing,
    configs,
    drop_check_data,
    module_names,
    self_check,
    tower_kind,
)
from attnwidget.extraction.tokens import encode, patch_labels, readable_tokens

__all__ = ["extract", "extract_hooks"]


# Names other modules import from here.
_attn_implementation = attn_implementation
_configs = configs


# ---------------------------------------------------------------------------------- model facts


def _model_position_limit(model) -> int | None:
    cfg = getattr(model, "config", None)
    for name in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        v = getattr(cfg, name, None)
        if isinstance(v, int) and v > 0:
            return v
    return None


def _num_layers_heads(model) -> tuple[int | None, int | None, int | None]:
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "get_text_config"):
        cfg = cfg.get_text_config()
    L = getattr(cfg, "num_hidden_layers", None) or getattr(cfg, "n_layer", None)
    H = getattr(cfg, "num_attention_heads", None) or getattr(cfg, "n_head", None)
    kv = getattr(cfg, "num_key_value_heads", None) or H
    return L, H, kv


def _speech_model(model) -> bool:
    from attnwidget.extraction.multimodal import is_speech

    return is_speech(model)


def _is_encoder_decoder(model) -> bool:
    return bool(getattr(getattr(model, "config", None), "is_encoder_decoder", False))


def _check_selection(name: str, sel, limit: int | None) -> list[int] | None:
    if sel is None:
        return None
    if isinstance(sel, (int, np.integer)) and not isinstance(sel, (bool, np.bool_)):
        sel = [sel]
    if isinstance(sel, (str, bytes, bool, np.bool_)) or not hasattr(sel, "__iter__"):
        raise TypeError(f"{name} must be a list of ints; got {sel!r}")
    out = []
    for i in sel:
        if not isinstance(i, (int, np.integer)) or isinstance(i, (bool, np.bool_)):
            raise TypeError(f"{name} must be a list of ints; got {sel!r}")
        i = int(i)
        if limit is not None:
            if i < 0:
                i += limit
            if not 0 <= i < limit:
                raise IndexError(f"{name[:-1]} {i} out of range: the model has {limit} {name}")
        elif i < 0:
            raise IndexError(f"{name[:-1]} {i}: negative numbers need a model whose config gives its {name}")
        out.append(i)
    if not out:
        raise ValueError(f"{name} is empty; pass None for all {name}")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} names the same {name[:-1]} twice: {sel!r}")
    return sorted(set(out))


def _input_device(model):
    import torch

    try:
        return model.get_input_embeddings().weight.device
    except Exception:
        try:
            return next(model.parameters()).device
        except StopIteration:
            return torch.device("cpu")


def _model_meta(model) -> dict:
    cfg = getattr(model, "config", None)
    return {
        "model": getattr(cfg, "_name_or_path", "") or type(model).__name__,
        "architecture": type(model).__name__,
        "model_type": getattr(cfg, "model_type", None),
    }


def _accepts(model, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def _guard_size(n_layers, n_heads, n_query, n_key, lazy: bool, dtype: np.dtype) -> None:
    """Refuse a full extraction that cannot fit, before the model allocates anything."""
    if lazy or not n_layers or not n_heads:
        return
    nbytes = n_layers * n_heads * n_query * n_key * dtype.itemsize
    budget = _memory_budget()
    if nbytes > budget:
        raise MemoryError(
            f"all weights of {n_layers} layers x {n_heads} heads x {n_query} x {n_key} tokens take "
            f"{nbytes / 2**30:.1f} GiB as {dtype.name}, over the {budget / 2**30:.1f} GiB this machine can spare; "
            "pass lazy=True (maps are computed on demand, the same accessors work), or layers=[...] / "
            "heads=[...] for fewer maps"
        )


# ---------------------------------------------------------------------------------- the core


@dataclass
class _Side:
    """One token sequence of the input: which positions are real (not padding) per batch row, and
    the token facts of row b with the padding removed."""

    keep: Any  # torch bool (batch, n), or None: one example, every position real
    facts: Callable[[int, int], dict]  # (batch row, length) -> tokens and their facts

    def batch(self) -> int:
        return 1 if self.keep is None else self.keep.shape[0]

    def row(self, b: int):
        return None if self.keep is None else self.keep[b]


@dataclass
class _Part:
    """One attention of the result: its queries' side, its keys' side, and where eager keeps it."""

    kind: str  # "main", "encoder", "decoder", "cross"
    queries: _Side
    keys: _Side
    eager_field: str  # attribute of the eager output holding this part's attention
    kv_heads: int | None = None  # kv heads per layer from the config, for the eager path
    # Module path of the sub-model whose layers make this part (a vision-language model's language
    # model): only its attention is recorded, so another tower's layers can never join the stack.
    prefix: str | None = None


class _CheckFailed(Exception):
    pass


def _note(meta: dict, text: str) -> dict:
    meta = dict(meta)
    meta["note"] = (meta["note"] + " " if meta.get("note") else "") + text
    return meta


def _run(
    model,
    forward: Callable[[bool], Any],
    parts: list[_Part],
    layer_sel,
    head_sel,
    meta: dict,
    method: str,
    lazy: bool,
    check: bool,
    *,
    dtype: np.dtype,
) -> dict[str, list[Attention]]:
    """Run `forward` on the capture path (falling back to eager when allowed) and build every part,
    its weights held at `dtype` (float32 or float16).

    ``forward(eager)`` runs the model once: with ``output_attentions=True`` when `eager`.
    """
    if method in ("auto", "capture"):
        reason = None
        try:
            return _capture_parts(model, forward, parts, layer_sel, head_sel, meta, lazy, check, method, dtype)
        except _CheckFailed as e:
            reason = (
                f"the capture did not reproduce the model's attention output ({e}); "
                "the weights come from output_attentions under eager attention"
            )
        except _NoCapture as e:
            if method == "capture":
                raise ModelError(f"{e}; use method='eager'") from None
            reason = f"{e}; the weights come from output_attentions under eager attention"
        if method == "capture":
            raise ModelError(reason)
        if lazy:
            warnings.warn(
                f"lazy=True is not available for {type(model).__name__}: {reason}; the returned "
                "attention is materialised",
                stacklevel=3,
            )
            reason += " (lazy=True was ignored: eager attention is materialised by the model)"
        meta = _note(meta, reason)
    out = _eager_parts(model, forward, parts, layer_sel, head_sel, meta)
    if dtype != np.float32:
        out = {kind: [a._replace(dtype=dtype) for a in atts] for kind, atts in out.items()}
    return out


class _NoCapture(Exception):
    pass


def _capture_parts(model, forward, parts, layer_sel, head_sel, meta, lazy, check, method, dtype):
    import torch

    if not configs(model):
        raise _NoCapture(f"{type(model).__name__} has no transformers config to switch to the capture")
    prefixes = tuple(p.prefix + "." for p in parts if p.prefix)
    wanted = set(layer_sel) if layer_sel is not None else None

    def keep(tower: str, i: int) -> bool:
        if prefixes and not tower.startswith(prefixes):
            return False
        return wanted is None or i in wanted

    rec = Recorder(module_names(model), keep, check=check)
    try:
        with torch.no_grad(), capturing(model, rec):
            forward(False)
    except (ModelError, MemoryError):
        raise
    except Exception as e:  # a model whose own code breaks under the capture (MPT's mask builder)
        raise _NoCapture(
            f"{type(model).__name__} failed under the capture implementation ({type(e).__name__}: {e})"
        ) from e
    if rec.calls == 0:
        raise _NoCapture(f"{type(model).__name__} does not route attention through transformers' AttentionInterface")
    towers: dict[str, list[dict]] = {}
    for r in rec.records:
        towers.setdefault(r["tower"], []).append(r)
    out: dict[str, list[Attention]] = {}
    for part in parts:
        tower = _tower_for(part, rec)
        records = sorted(towers.get(tower, []), key=lambda r: r["layer"])
        if layer_sel is not None:
            have = {r["layer"] for r in records}
            missing = [i for i in layer_sel if i not in have]
            if missing:
                n = rec.calls_in(tower)
                raise IndexError(f"layers {missing} out of range: the {_part_name(part.kind)} has {n} layers")
        n_heads = records[0]["q"].shape[1]
        if head_sel is not None and max(head_sel) >= n_heads:
            raise IndexError(f"head {max(head_sel)} out of range: the {_part_name(part.kind)} has {n_heads} heads")
        lids = [r["layer"] for r in records]
        atts = []
        for b in range(part.queries.batch()):
            qpos = _positions(part.queries.row(b))
            kpos = _positions(part.keys.row(b))
            if check:
                failure = self_check(records, b, qpos, kpos)
                if failure is not None:
                    raise _CheckFailed(str(failure))
            source = CapturedQK(records, list(range(n_heads)), b, qpos, kpos)
            if head_sel is not None:
                source = source.subset(range(len(records)), head_sel)
            facts = _facts(part, b, records, source.shape[2], source.shape[3])
            part_meta = dict(meta, method="capture")
            if part.kind != "main":
                part_meta.update(part=part.kind, tower=tower)
            att = Attention(
                None,
                mask=source.mask(),
                layer_ids=lids,
                head_ids=source.head_ids,
                _source=source,
                meta=part_meta,
                dtype=dtype,
                **facts,
            )
            atts.append(att)
        out[part.kind] = atts
    for recs in towers.values():
        drop_check_data(recs)
    if not lazy:
        for kind in out:
            out[kind] = [a.materialize(max_bytes=2**62) for a in out[kind]]
    return out


def _part_name(kind: str) -> str:
    return {"main": "model", "cross": "cross-attention"}.get(kind, kind)


def _positions(keep_row):
    import torch

    if keep_row is None or bool(keep_row.all()):
        return None
    return torch.nonzero(keep_row, as_tuple=False).flatten()


def _facts(part: _Part, b: int, records: list[dict], n_query: int, n_key: int) -> dict:
    facts = dict(part.keys.facts(b, n_key))
    if part.queries is not part.keys:
        facts["query_tokens"] = part.queries.facts(b, n_query)["tokens"]
    if records:
        facts.setdefault("num_kv_heads", records[0]["k"].shape[1])
        facts.setdefault("total_heads", records[0]["q"].shape[1])
    return facts


def _tower_for(part: _Part, rec: Recorder) -> str:
    """The tower that holds `part`: by kind for encoder-decoder parts; for a single attention, the
    only tower, or the only one whose shapes match the input."""
    towers = rec.towers()
    if part.prefix:
        found = [t for t in towers if t.startswith(part.prefix + ".") and tower_kind(t) != "cross"]
    elif part.kind != "main":
        found = [t for t in towers if tower_kind(t) == part.kind]
    elif len(towers) == 1:
        found = list(towers)
    elif part.queries.keep is None:
        found = []
    else:
        nq, nk = part.queries.keep.shape[1], part.keys.keep.shape[1]
        found = [t for t, shape in towers.items() if shape == (nq, nk)]
    if len(found) != 1:
        listing = ", ".join(f"{t} ({tower_kind(t)})" for t in towers) or "none kept"
        raise ModelError(
            f"cannot tell which attention layers make the {_part_name(part.kind)}'s attention: "
            f"{'several' if found else 'no'} candidates among {listing}"
        )
    return found[0]


def _eager_parts(model, forward, parts, layer_sel, head_sel, meta) -> dict[str, list[Attention]]:
    import torch

    ctx = attn_implementation(model, "eager") if configs(model) else contextlib.nullcontext()
    with torch.no_grad(), ctx:
        try:
            out = forward(True)
        except TypeError as e:
            raise ModelError(f"{type(model).__name__} does not accept output_attentions: {e}") from e
    result = {}
    for part in parts:
        atts = getattr(out, part.eager_field, None)
        if atts is None and isinstance(out, dict):
            atts = out.get(part.eager_field)
        if not atts or any(a is None for a in atts):
            raise ModelError(
                f"{type(model).__name__} returned no attention weights (neither through the "
                "AttentionInterface nor output_attentions=True); for a plain torch module use "
                "aw.extraction.extract_hooks"
            )
        lids = layer_sel if layer_sel is not None else list(range(len(atts)))
        if max(lids) >= len(atts):
            raise IndexError(f"layer {max(lids)} out of range: the {_part_name(part.kind)} has {len(atts)} layers")
        n_heads = atts[0].shape[1]
        hids = head_sel if head_sel is not None else list(range(n_heads))
        if max(hids) >= n_heads:
            raise IndexError(f"head {max(hids)} out of range: the {_part_name(part.kind)} has {n_heads} heads")
        rows = []
        for b in range(part.queries.batch()):
            w = torch.stack([atts[i][b].float().cpu() for i in lids]).numpy()[:, hids]
            if part.queries.keep is not None:
                w = w[:, :, part.queries.keep[b].cpu().numpy()]
            if part.keys.keep is not None:
                w = w[:, :, :, part.keys.keep[b].cpu().numpy()]
            facts = _facts(part, b, [], w.shape[2], w.shape[3])
            if part.kv_heads and n_heads % part.kv_heads == 0:
                facts.update(num_kv_heads=part.kv_heads, total_heads=n_heads)
            part_meta = dict(meta, method="eager")
            if part.kind != "main":
                part_meta["part"] = part.kind
            mask = None if part.queries is part.keys else np.ones(w.shape[2:], dtype=bool)
            rows.append(Attention(w, mask=mask, layer_ids=lids, head_ids=hids, meta=part_meta, **facts))
        result[part.kind] = rows
    return result


# ---------------------------------------------------------------------------------- extract


def extract(
    model: Any,
    tokenizer: Any = None,
    text: str | Sequence[str] | None = None,
    *,
    text_pair: str | Sequence[str] | None = None,
    messages: list[dict] | None = None,
    target: str | None = None,
    target_ids: Sequence[int] | None = None,
    image: Any = None,
    audio: Any = None,
    sampling_rate: int | None = None,
    inputs: dict | None = None,
    tokens: Sequence[str] | None = None,
    layers: Sequence[int] | int | None = None,
    heads: Sequence[int] | int | None = None,
    method: str = "auto",
    lazy: bool = False,
    add_special_tokens: bool = True,
    check: bool = True,
    measure: str = "weight",
    dtype: str = "float32",
) -> Attention | list[Attention] | Seq2SeqAttention:
    """Run `model` on `text` (or an image, or any inputs) and return its attention.

    Parameters
    ----------
    model
        A Hugging Face model (`load_model` gives one with its tokenizer).
    tokenizer
        The model's tokenizer; for `image`, its image processor.
    text : str or list of str
        The input, tokenized exactly as ``tokenizer(text)`` does. A list runs as one padded batch
        and returns a list of `Attention`, each with its padding removed.
    text_pair : str or list of str, optional
        Second segment for encoders (``[CLS] text [SEP] text_pair [SEP]``).
    messages : list of dict, optional
        Chat messages rendered with the tokenizer's chat template (instead of `text`).
    target : str, optional
        Encoder-decoder models: the target text. It is tokenized as the model's labels
        (``tokenizer(text_target=target)``) and fed to the decoder shifted right, as in training:
        decoder row ``t`` is the step that predicts target token ``t``. Returns a
        `Seq2SeqAttention` with ``.encoder``, ``.decoder`` and ``.cross``.
    target_ids : list of int, optional
        Encoder-decoder models: the decoder's input ids exactly as fed (start token included).
    image : PIL image or array, optional
        Vision encoders (ViT, DeiT, CLIP and SigLIP vision towers): the image, prepared by the
        processor passed as `tokenizer`. Tokens are ``[CLS]`` (``[DIST]`` for DeiT) and patches
        ``p(row,col)``; ``meta["patch_grid"]`` is ``[rows, cols]``. Vision-language models
        (Llava-style) take `text` holding the image token with the image, prepared by their
        combined processor: the language model's attention, image placeholders labelled
        ``img p(row,col)`` and listed in ``meta["image_tokens"]`` (see `attnwidget.extraction.multimodal`).
    audio : 1-D array, optional
        Speech encoder-decoder models (Whisper): one channel of samples at `sampling_rate`, prepared
        by the feature extractor (or processor) passed as `tokenizer`. The encoder's tokens are
        audio frames labelled by start time (``"0.00s"``, ``"0.02s"``...); with `target` or
        `target_ids` a `Seq2SeqAttention` as for text. ``inputs={"input_features": ...}`` works too.
    sampling_rate : int, optional
        With `audio`: its sampling rate in Hz, which must be the feature extractor's.
    inputs : dict, optional
        Any model: the keyword arguments of its forward (one example), with `tokens` naming the
        positions of the attention to return.
    tokens : list of str, optional
        With `inputs`: one label per position.
    layers, heads : list of int, optional
        Model layer and head numbers to keep (default all); numbers within each tower for
        encoder-decoder models. Only these are computed.
    method : {"auto", "capture", "eager"}
        ``"capture"`` keeps SDPA and recomputes probabilities from captured q/k; ``"eager"`` runs
        ``output_attentions=True`` under the eager implementation. ``"auto"`` tries capture first
        and falls back to eager, saying why in ``meta["note"]``.
    lazy : bool
        Return an `Attention` that keeps the captured q/k and computes maps on demand. When the
        model can only give eager attention, a warning says so and the result is materialised.
    check : bool
        Self-check the capture (default True): for a few query rows per layer, the captured weights
        times the values must equal the attention output the model computed. On a mismatch
        ``method="auto"`` falls back to eager attention (with a note) and ``method="capture"``
        raises `ModelError` naming the layer and the difference.
    measure : {"weight", "norm"}
        ``"norm"`` gives value-weighted maps ``||alpha_ij f_h(x_j)||``, rows normalised (see
        `attnwidget.extraction.norms`); one more forward pass records the value vectors. Text inputs;
        for encoder-decoder models each part (cross-attention: the encoder output's values).
    dtype : {"float32", "float16"}
        How the weights are held (default float32). float16 computes every weight in float32 and
        rounds it to 11 significant bits as it is written, in half the memory (in about the same
        time); accessors, metrics and views still read float32 (see `Attention`). A lazy result
        materialises at this dtype.

    Raises
    ------
    ValueError
        Empty text, bad layer/head numbers, inputs that do not fit together.
    ModelError
        The model exposes no attention by any path, the text is longer than its positions, a
        target for a decoder-only model, an image for a text model.
    MemoryError
        The full weights would not fit in memory (before anything is computed); `lazy=True` works.
    """
    require_models("aw.extract")
    if model is None or isinstance(model, (str, bytes)):
        raise TypeError(f"model must be a loaded model, e.g. model, tokenizer = aw.load_model(); got {model!r:.60}")
    if method not in ("auto", "capture", "eager"):
        raise ValueError(f"method must be 'auto', 'capture' or 'eager'; got {method!r}")
    if lazy and method == "eager":
        raise ValueError("lazy=True needs method='capture' (eager attention is materialised by the model)")
    if measure not in ("weight", "norm"):
        raise ValueError(f"measure must be 'weight' or 'norm'; got {measure!r}")
    storage = storage_dtype(dtype)
    if audio is not None or sampling_rate is not None:
        if audio is None:
            raise ValueError("sampling_rate= goes with audio=")
        if not _speech_model(model):
            raise ModelError(
                f"audio= is for speech encoder-decoder models that read input_features (Whisper); "
                f"{type(model).__name__} is not one. Pass text with its tokenizer, or inputs= with tokens="
            )
    if audio is not None or (isinstance(inputs, dict) and "input_features" in inputs and _speech_model(model)):
        from attnwidget.extraction.multimodal import extract_speech

        if inputs is not None and audio is not None:
            raise ValueError("pass either audio= or inputs=, not both")
        if text is not None or messages is not None or text_pair is not None or image is not None:
            raise ValueError("pass audio= (with target= or target_ids=) or text: one kind of input")
        if target is not None and target_ids is not None:
            raise ValueError("pass either target or target_ids, not both")
        return extract_speech(
            model,
            tokenizer,
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
            measure,
            storage=storage,
        )
    if measure == "norm" and (inputs is not None or image is not None):
        raise ValueError("measure='norm' covers text and audio inputs, not images or inputs=")
    if inputs is not None or image is not None:
        from attnwidget.extraction.multimodal import extract_vision_language, is_vision_language

        if inputs is not None and image is not None:
            raise ValueError("pass either image= or inputs=, not both")
        if is_vision_language(model) and (
            (text is not None and image is not None) or (isinstance(inputs, dict) and "input_ids" in inputs)
        ):
            if messages is not None or text_pair is not None or target is not None or target_ids is not None:
                raise ValueError(
                    "a vision-language model takes text= and image= (or inputs=); not messages, text_pair or target"
                )
            if inputs is not None and text is not None:
                raise ValueError("pass text= with image=, or inputs=: one kind of input")
            return extract_vision_language(
                model, tokenizer, text, image, inputs, tokens, layers, heads, method, lazy, check, storage
            )
        if (
            text is not None
            or messages is not None
            or text_pair is not None
            or target is not None
            or target_ids is not None
        ):
            why = ""
            if text is not None and image is not None:
                why = (
                    f" (text with an image needs a vision-language model, whose config has vision_config, "
                    f"text_config and image_token_id; {type(model).__name__} is not one)"
                )
            raise ValueError(
                f"pass text (with text_pair, messages, target), an image, or inputs=: one kind of input{why}"
            )
        if image is not None:
            return _extract_image(model, tokenizer, image, layers, heads, method, lazy, check, storage)
        return _extract_inputs(model, inputs, tokens, layers, heads, method, lazy, check, storage)
    if tokens is not None:
        raise ValueError("tokens= goes with inputs=; for text the tokenizer names the tokens")
    if tokenizer is None:
        raise ValueError("pass the model's tokenizer: aw.extract(model, tokenizer, text)")
    if _speech_model(model):
        raise ModelError(
            f"{type(model).__name__} reads audio, not text: pass audio=samples, sampling_rate=... "
            "(and target='...' for the decoder and cross-attention)"
        )
    if hasattr(tokenizer, "tokenizer") and (
        hasattr(tokenizer, "image_processor") or hasattr(tokenizer, "feature_extractor")
    ):  # a combined processor (Llava's, CLIP's, Whisper's): text goes through its tokenizer
        tokenizer = tokenizer.tokenizer
    seq2seq = _is_encoder_decoder(model)
    if (target is not None or target_ids is not None) and not seq2seq:
        raise ModelError(
            f"target= is for encoder-decoder models; {type(model).__name__} is not one (its "
            "config has is_encoder_decoder=False). Put the whole text in `text` instead"
        )
    if target is not None and target_ids is not None:
        raise ValueError("pass either target or target_ids, not both")
    batched = isinstance(text, (list, tuple))
    if batched and not text:
        raise ValueError("text is an empty list; pass at least one text")
    if batched and (target is not None or target_ids is not None):
        raise ValueError("target= goes with one text; extract each pair on its own")
    if text is None and messages is None:
        raise TypeError("text must be a str or a list of str (or pass messages=[...]); got None")
    texts = list(text) if isinstance(text, (list, tuple)) else (None if text is None else [text])
    n_layers, n_heads, n_kv = _num_layers_heads(model)
    layer_sel = _check_selection("layers", layers, None if seq2seq else n_layers)
    head_sel = _check_selection("heads", heads, None if seq2seq else n_heads)
    texts, enc = encode(tokenizer, texts, text_pair, messages, add_special_tokens)
    limit = _model_position_limit(model)
    lengths = enc["attention_mask"].sum(1).tolist()
    if limit is not None and enc["input_ids"].shape[1] > limit:
        raise ModelError(
            f"the text is {max(lengths)} tokens long; the model accepts at most {limit} positions (shorten the text)"
        )
    offsets = enc.pop("offset_mapping", None)
    device = _input_device(model)
    model_inputs = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    meta = _model_meta(model)
    source = _text_side(tokenizer, enc, offsets, texts)
    n = enc["input_ids"].shape[1]
    L = len(layer_sel) if layer_sel is not None else n_layers
    H = len(head_sel) if head_sel is not None else n_heads
    if seq2seq:
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
            measure=measure,
            dtype=storage,
        )
    _guard_size(L, H, n, n, lazy, storage)

    def forward(eager: bool):
        if eager:
            return model(**model_inputs, output_attentions=True)
        return model(**model_inputs, use_cache=False) if _accepts(model, "use_cache") else model(**model_inputs)

    part = _Part("main", source, source, "attentions", kv_heads=n_kv)
    results = _run(model, forward, [part], layer_sel, head_sel, meta, method, lazy, check, dtype=storage)["main"]
    if measure == "norm":
        from attnwidget.extraction.norms import apply_value_norms

        results = apply_value_norms(model, model_inputs, results)
    return results if batched else results[0]


def _text_side(tokenizer, enc, offsets, texts) -> _Side:
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

    return _Side(keep, facts)


def _decoder_ids(model, tokenizer, target, target_ids):
    """The decoder's input ids for a target text (shifted right, as in training) or as given."""
    import torch

    if target_ids is not None:
        ids = [int(i) for i in target_ids]
        if not ids:
            raise ValueError("target_ids is empty; the decoder needs at least its start token")
        return torch.tensor([ids]), None
    if not isinstance(target, str):
        raise TypeError(f"target must be a str; got {type(target).__name__}")
    if not target.strip():
        raise ValueError("target is empty; the decoder needs at least one token")
    if tokenizer is None or not callable(tokenizer):
        raise ValueError("target= needs the model's tokenizer (or its processor); or pass target_ids=[...]")
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


def _extract_seq2seq(
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
    n_src=None,
    target_tokens=None,
    measure="weight",
    *,
    dtype,
):
    """Encoder, decoder and cross attention (or the encoder alone without a target).

    `source` names the encoder's positions; `n_src` is its length when `source` has no padding
    mask to read it from (audio frames); `target_tokens` labels the decoder's positions instead of
    the tokenizer.
    """
    import torch

    if source.batch() != 1 and (target is not None or target_ids is not None):
        raise ValueError("target= goes with one text")
    if n_src is None:
        n_src = source.keep.shape[1]
    if target is None and target_ids is None:
        encoder = model.get_encoder() if hasattr(model, "get_encoder") else None
        if encoder is None:
            raise ModelError(f"{type(model).__name__} has no get_encoder(); pass target= for all three parts")
        _guard_size(L, H, n_src, n_src, lazy, dtype)
        enc_inputs = {k: v for k, v in model_inputs.items() if k in ("input_ids", "attention_mask", "input_features")}

        def forward(eager: bool):
            return encoder(**enc_inputs, output_attentions=True) if eager else encoder(**enc_inputs)

        meta = _note(
            meta,
            "encoder-decoder model without a target: the encoder's attention alone; "
            "pass target='...' for the decoder and cross-attention",
        )
        part = _Part("encoder", source, source, "attentions")
        atts = _run(model, forward, [part], layer_sel, head_sel, meta, method, lazy, check, dtype=dtype)["encoder"]
        if measure == "norm":
            from attnwidget.extraction.norms import apply_value_norms_parts

            atts = apply_value_norms_parts(
                model, lambda: encoder(**enc_inputs), {"encoder": atts}, {"encoder": source.keep}
            )["encoder"]
        return atts[0] if len(atts) == 1 else atts
    dec_ids, labels = _decoder_ids(model, tokenizer, target, target_ids)
    limit = getattr(model.config, "max_target_positions", None) or _model_position_limit(model)
    if limit is not None and dec_ids.shape[1] > limit:
        raise ModelError(f"the target is {dec_ids.shape[1]} tokens long; the model accepts at most {limit} positions")
    n_tgt = dec_ids.shape[1]
    dec_ids = dec_ids.to(_input_device(model))
    _guard_size(L, H, n_src + n_tgt, n_src + n_tgt, lazy, dtype)
    special_ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    ids = dec_ids[0].tolist()
    if target_tokens is not None:
        names = [str(t) for t in target_tokens]
        if len(names) != n_tgt:
            raise ValueError(f"got {len(names)} tokens for {n_tgt} decoder positions; pass one per target id")
    elif tokenizer is not None and hasattr(tokenizer, "convert_ids_to_tokens"):
        names = readable_tokens(tokenizer, ids)
    else:
        raise ValueError("pass the model's tokenizer (or processor) to name the target tokens, or tokens=[...]")
    target_side = _Side(
        torch.ones(1, n_tgt, dtype=torch.bool),
        lambda b, n: dict(tokens=names, token_ids=ids, special=[i in special_ids for i in ids], text=target),
    )
    args = dict(model_inputs, decoder_input_ids=dec_ids)
    args.pop("token_type_ids", None)

    def forward(eager: bool):
        if eager:
            return model(**args, output_attentions=True)
        return model(**args, use_cache=False) if _accepts(model, "use_cache") else model(**args)

    meta = dict(meta, source_text=source.facts(0, n_src).get("text"), target_text=target)
    if labels is not None:
        meta["target_labels"] = labels
    parts = [
        _Part("encoder", source, source, "encoder_attentions"),
        _Part("decoder", target_side, target_side, "decoder_attentions"),
        _Part("cross", target_side, source, "cross_attentions"),
    ]
    got = _run(model, forward, parts, layer_sel, head_sel, meta, method, lazy, check, dtype=dtype)
    if measure == "norm":
        from attnwidget.extraction.norms import apply_value_norms_parts

        got = apply_value_norms_parts(
            model,
            lambda: forward(False),
            got,
            {"encoder": source.keep, "decoder": target_side.keep, "cross": source.keep},
        )
        meta = dict(meta, measure="norm")
    return Seq2SeqAttention(got["encoder"][0], got["decoder"][0], got["cross"][0], meta=meta)


def _vision_config(model):
    cfg = getattr(model, "config", None)
    return getattr(cfg, "vision_config", None) or cfg


def _extract_image(model, processor, image, layers, heads, method, lazy, check, dtype):

    vcfg = _vision_config(model)
    patch = getattr(vcfg, "patch_size", None)
    if patch is None or not hasattr(vcfg, "image_size"):
        raise ModelError(
            f"{type(model).__name__} is not a vision model (its config has no image_size / "
            "patch_size); pass text with its tokenizer, or inputs= with tokens="
        )
    if processor is None:
        raise ValueError("pass the model's image processor: aw.extract(model, processor, image=...)")
    if hasattr(processor, "image_processor"):  # a combined processor (CLIPProcessor): its image half
        processor = processor.image_processor
    try:
        pixels = processor(images=image, return_tensors="pt")["pixel_values"]
    except Exception as e:
        raise ValueError(
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
    if not _accepts(model, "pixel_values") or _accepts(model, "input_ids"):
        from attnwidget.extraction.multimodal import is_vision_language, vision_tower

        runner = vision_tower(model)
        if runner is None:
            raise ModelError(f"{type(model).__name__} needs more than an image; pass inputs= with tokens=")
    pixels = pixels.to(device=_input_device(model), dtype=next(model.parameters()).dtype)
    meta = dict(_model_meta(model), patch_grid=list(grid), patch_size=patch, image_size=list(size))
    if runner is not model and is_vision_language(model):
        meta = _note(
            meta,
            "an image alone: the vision tower's attention; pass text holding the image token with the "
            "image (and the model's processor) for the language model's",
        )
    att = _extract_inputs(
        runner,
        {"pixel_values": pixels},
        None,
        layers,
        heads,
        method,
        lazy,
        check,
        dtype,
        labels=lambda n: patch_labels(n, grid),
        meta=meta,
        cfg_model=runner if hasattr(runner, "config") else model,
    )
    return att


def _extract_inputs(
    model, inputs, tokens, layers, heads, method, lazy, check, dtype, labels=None, meta=None, cfg_model=None
):
    """Attention of one example given as the model's own keyword arguments."""

    if not isinstance(inputs, dict) or not inputs:
        raise TypeError("inputs must be a non-empty dict of the model's forward arguments")
    if labels is None:
        if tokens is None:
            raise ValueError("inputs= needs tokens=[...]: one label per position of the attention")
        tokens = [str(t) for t in tokens]
        labels = lambda n: tokens  # noqa: E731
    for k, v in inputs.items():
        if hasattr(v, "shape") and len(v.shape) >= 1 and v.shape[0] != 1:
            raise ValueError(f"inputs[{k!r}] has batch size {v.shape[0]}; pass one example")
    n_layers, n_heads, n_kv = _num_layers_heads(cfg_model or model)
    layer_sel = _check_selection("layers", layers, n_layers)
    head_sel = _check_selection("heads", heads, n_heads)
    meta = dict(meta or _model_meta(model))

    def forward(eager: bool):
        return model(**inputs, output_attentions=True) if eager else model(**inputs)

    def facts(b, n):
        names = labels(n)
        if len(names) != n:
            raise ValueError(f"got {len(names)} tokens for attention over {n} positions; pass one per position")
        return dict(tokens=list(names))

    side = _Side(None, facts)  # every position real; the length comes from the model's run
    n = inputs["input_ids"].shape[-1] if hasattr(inputs.get("input_ids"), "shape") else None
    if n is not None:
        _guard_size(
            len(layer_sel) if layer_sel else n_layers, len(head_sel) if head_sel else n_heads, n, n, lazy, dtype
        )
    part = _Part("main", side, side, "attentions", kv_heads=n_kv)
    return _run(model, forward, [part], layer_sel, head_sel, meta, method, lazy, check, dtype=dtype)["main"][0]


# ---------------------------------------------------------------------------------- hooks


def extract_hooks(
    module: Any,
    run: Callable[[], Any],
    tokens: Sequence[str],
    *,
    modules: Sequence[Any] | None = None,
    weights_from: Callable[[Any], Any] | None = None,
    mask: Any = None,
) -> Attention:
    """Attention from any ``torch.nn.Module`` through forward hooks.

    Parameters
    ----------
    module : torch.nn.Module
        The model. Its attention submodules are found by type unless `modules` is given.
    run : callable
        Runs the model's forward pass, e.g. ``lambda: model(x)``.
    tokens : sequence of str
        One string per position.
    modules : list of torch.nn.Module, optional
        Submodules whose outputs carry attention weights, in layer order. Default: every
        ``torch.nn.MultiheadAttention`` inside `module`, asked for per-head weights.
    weights_from : callable, optional
        Takes a submodule's output and returns its weights ``(batch, heads, Q, K)``. Default: the
        second element of a tuple output.
    mask : bool array (Q, K), optional
        Visible keys. Inferred from the weights when omitted.
    """
    require_models("aw.extraction.extract_hooks")
    import torch

    if modules is None:
        modules = [m for m in module.modules() if isinstance(m, torch.nn.MultiheadAttention)]
        if not modules:
            raise ModelError(
                f"{type(module).__name__} has no torch.nn.MultiheadAttention; pass modules=[...] "
                "with the submodules that return attention weights"
            )
    records: dict[int, Any] = {}
    handles = []

    def force_weights(mod, args, kwargs):
        if isinstance(mod, torch.nn.MultiheadAttention):
            kwargs = dict(kwargs)
            kwargs["need_weights"] = True
            kwargs["average_attn_weights"] = False
            return args, kwargs
        return None

    def record(i):
        def hook(mod, args, output):
            w = (
                weights_from(output)
                if weights_from is not None
                else (output[1] if isinstance(output, tuple) and len(output) > 1 else None)
            )
            records[i] = None if w is None else w.detach().float().cpu()

        return hook

    for i, m in enumerate(modules):
        handles.append(m.register_forward_pre_hook(force_weights, with_kwargs=True))
        handles.append(m.register_forward_hook(record(i)))
    try:
        # TransformerEncoderLayer's fused fast path skips MultiheadAttention.forward (and so the
        # hooks) when gradients are off; running with them on keeps the modules observable.
        with torch.enable_grad():
            run()
    finally:
        for h in handles:
            h.remove()
    if len(records) < len(modules) or any(w is None for w in records.values()):
        missing = [i for i in range(len(modules)) if records.get(i) is None]
        fix = "check `run` and `modules` (a module must return (output, weights))"
        impl = (
            {getattr(c, "_attn_implementation", None) for c in configs(module)} if hasattr(module, "modules") else set()
        )
        named = sorted(str(x) for x in impl if x not in (None, "eager"))
        if named:
            fix = (
                f"the model computes attention with {named[0]!r}, which returns no weights: "
                "load it with attn_implementation='eager' (or call model.set_attn_implementation('eager')), "
                "or use aw.extract(model, tokenizer, text), which needs neither"
            )
        raise ModelError(f"attention modules {missing} were not called or returned no weights; {fix}")
    layers = []
    for i in range(len(modules)):
        w = records[i]
        if w.ndim == 3:  # (batch, Q, K) averaged weights: one head
            w = w[:, None]
        if w.ndim != 4:
            raise AttentionError(
                f"module {i} returned weights of shape {tuple(w.shape)}; expected (batch, heads, Q, K)"
            )
        layers.append(w[0].numpy())
    return Attention(np.stack(layers), tokens, mask, meta={"model": type(module).__name__, "method": "hooks"})
