"""Attention from any ``torch.nn.Module`` through forward hooks: models outside transformers.

`extract_hooks` asks each attention submodule (``torch.nn.MultiheadAttention`` by default) for its
per-head weights and records them as the model runs; no capture, no self-check: the weights are the
ones the module returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from attnwidget._optional import require_models
from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionError, ModelError
from attnwidget.extraction.capture import configs

__all__ = ["extract_hooks"]


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
