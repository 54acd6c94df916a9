"""What a model says about itself: layers, heads, positions, device, the kind of input it reads.

Read from the config and the module tree, never by running the model. Every plan asks these
questions the same way, so a model counts its layers, or is a speech model, once for all of them.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

__all__ = [
    "position_limit",
    "layers_heads",
    "is_encoder_decoder",
    "is_speech",
    "input_device",
    "execution_device",
    "model_meta",
    "accepts",
    "vision_config",
]


def position_limit(model) -> int | None:
    """The most positions the model reads (None when its config does not say)."""
    cfg = getattr(model, "config", None)
    for name in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        v = getattr(cfg, name, None)
        if isinstance(v, int) and v > 0:
            return v
    return None


def layers_heads(model) -> tuple[int | None, int | None, int | None]:
    """``(layers, query heads, kv heads)`` of the model's (text) config; None where it is silent."""
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "get_text_config"):
        cfg = cfg.get_text_config()
    L = getattr(cfg, "num_hidden_layers", None) or getattr(cfg, "n_layer", None)
    H = getattr(cfg, "num_attention_heads", None) or getattr(cfg, "n_head", None)
    kv = getattr(cfg, "num_key_value_heads", None) or H
    return L, H, kv


def is_encoder_decoder(model) -> bool:
    """Whether the config says encoder-decoder (T5, BART, Whisper)."""
    return bool(getattr(getattr(model, "config", None), "is_encoder_decoder", False))


def is_speech(model) -> bool:
    """An encoder-decoder model that reads audio features (Whisper's log-mel ``input_features``)."""
    return is_encoder_decoder(model) and getattr(model, "main_input_name", None) == "input_features"


def execution_device(module):
    """The device accelerate runs `module` on when a device map placed it (its ``AlignDevicesHook``'s
    execution device), or None for a module accelerate does not move."""
    import torch

    hook = getattr(module, "_hf_hook", None)
    for h in getattr(hook, "hooks", None) or ([hook] if hook is not None else []):
        dev = getattr(h, "execution_device", None)
        if dev is not None:
            return torch.device("cuda", dev) if isinstance(dev, int) else torch.device(dev)
    return None


def input_device(model):
    """The device the model's inputs go to: where its input embeddings run (accelerate's execution
    device when a device map placed them, else their weight's device), else its first parameter's
    that holds data. An offloaded parameter is a ``meta`` tensor outside its layer's forward, so
    its device says nothing."""
    import torch

    try:
        emb = model.get_input_embeddings()
    except Exception:  # noqa: BLE001 - a model without (readable) input embeddings
        emb = None
    for part in (emb, model):
        dev = execution_device(part) if part is not None else None
        if dev is not None:
            return dev
    weight = getattr(emb, "weight", None)
    if weight is not None and weight.device.type != "meta":
        return weight.device
    for p in model.parameters():
        if p.device.type != "meta":
            return p.device
    return torch.device("cpu")


def model_meta(model) -> dict:
    """The model facts every result's ``meta`` starts with."""
    cfg = getattr(model, "config", None)
    return {
        "model": getattr(cfg, "_name_or_path", "") or type(model).__name__,
        "architecture": type(model).__name__,
        "model_type": getattr(cfg, "model_type", None),
    }


def accepts(model: Any, name: str) -> bool:
    """Whether ``model.forward`` takes a keyword argument `name`."""
    try:
        return name in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def vision_config(model):
    """The vision part of the config (a vision-language model's ``vision_config``), or the config."""
    cfg = getattr(model, "config", None)
    return getattr(cfg, "vision_config", None) or cfg


def vocab_size(model: Any, decoder: bool = False) -> int | None:
    """How many token ids the model's (or its decoder's) embedding holds: ids at or past it reach
    an index error deep inside torch, so they are refused by name before the run. The embedding's
    rows are the truth (a config's ``vocab_size`` can lag behind resized embeddings)."""
    part = model
    if decoder and hasattr(model, "get_decoder"):
        try:
            part = model.get_decoder() or model
        except (AttributeError, NotImplementedError, TypeError):
            part = model
    try:
        emb = part.get_input_embeddings()
        rows = getattr(emb, "num_embeddings", None)
        if isinstance(rows, int):
            return rows
    except (AttributeError, NotImplementedError, TypeError):
        pass
    cfg = getattr(model, "config", None)
    size = getattr(getattr(cfg, "text_config", None) or cfg, "vocab_size", None)
    return size if isinstance(size, int) and size > 0 else None


def forward_parameters(model: Any) -> list[str] | None:
    """The keyword arguments ``model.forward`` names, or None when it takes any (``**kwargs``) or
    its signature cannot be read."""
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return None
    named = [
        k for k, p in params.items() if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    var = [k for k, p in params.items() if p.kind is inspect.Parameter.VAR_KEYWORD]
    if not var:
        return named
    # transformers types its models' **kwargs as Unpack[SomeKwargs] (a TypedDict): those keys are
    # the rest of what forward takes. A bare **kwargs takes anything, so nothing can be refused.
    try:
        hint = typing.get_type_hints(model.forward, include_extras=True).get(var[0])
    except Exception:  # noqa: BLE001 - unresolvable annotations: take the forward at its word
        return None
    origin = typing.get_origin(hint)
    if origin is None or "Unpack" not in repr(origin):  # typing's or typing_extensions' Unpack
        return None
    typed = typing.get_args(hint)[0]
    keys = getattr(typed, "__required_keys__", set()) | getattr(typed, "__optional_keys__", set())
    return list(dict.fromkeys(named + sorted(keys))) if keys else None
