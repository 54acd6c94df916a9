"""Value-weighted attention: how much each key moves each query, not only how much it is looked at.

A head's output at query ``i`` is ``sum_j alpha_ij f_h(x_j)`` with ``f_h(x) = (x W_V + b_V)_h W_O[h]``:
the value vector of key ``j`` carried through the head's slice of the output projection. A large
weight on a key whose transformed value is tiny moves nothing (the usual fate of attention sinks).
The *norm* map of a head is ``||alpha_ij f_h(x_j)|| = alpha_ij ||f_h(x_j)||`` (alpha is a scalar),
each row divided by its sum so it reads as a distribution like the weights.

This module owns recording the value vectors (one forward pass through transformers'
AttentionInterface, every architecture that routes attention through it), finding each layer's
output projection, and turning weights into norm maps, in memory or on demand for lazy attention.
``aw.extract(..., measure="norms")`` calls it. Encoder-decoder models get a norm map per part
(`apply_value_norms_parts`): each call's values are matched to its part by the module's place in the
model, and cross-attention's are the encoder output's, through the cross-attention's projections.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np

from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionError

__all__ = [
    "value_norms",
    "value_norms_of",
    "norm_attention",
    "apply_value_norms",
    "apply_value_norms_parts",
    "raw_norms",
    "NormSource",
    "VALUES_IMPLEMENTATION",
]

VALUES_IMPLEMENTATION = "attnwidget_values"

# Names an attention module gives its output projection (Llama/Mistral/Qwen, BART/Whisper, GPT-2,
# Phi/Falcon, T5-style); BERT-style encoders keep it beside the self-attention in ``parent.output.dense``.
_OUTPUT_NAMES = ("o_proj", "out_proj", "c_proj", "dense", "wo", "o")


class _ValueRecorder:
    """Records, per attention call, the module and the value states it received."""

    def __init__(self):
        self.calls: list[tuple[Any, Any]] = []

    def __call__(self, module, query, key, value, attention_mask, *args, **kwargs):
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        self.calls.append((module, value.detach()))
        return sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)


_ACTIVE: list[_ValueRecorder] = []


def _dispatch(module, query, key, value, attention_mask, *args, **kwargs):
    if not _ACTIVE:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)
    return _ACTIVE[-1](module, query, key, value, attention_mask, *args, **kwargs)


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(VALUES_IMPLEMENTATION, _dispatch)
    ALL_MASK_ATTENTION_FUNCTIONS.register(VALUES_IMPLEMENTATION, sdpa_mask)


def _output_projection(parents: dict, module, in_features: int):
    """``W_O`` as an ``(in_features, hidden)`` tensor for one attention module.

    The weight is read where it holds data: a layer that accelerate offloaded keeps a ``meta``
    tensor outside its forward, so its weights are brought in through the layer's own hook.

    Raises ModelError when no projection of that input width sits in or beside the module.
    """
    candidates = [getattr(module, n, None) for n in _OUTPUT_NAMES]
    parent = parents.get(id(module))
    if parent is not None:
        out = getattr(parent, "output", None)
        candidates.append(getattr(out, "dense", None))
    for proj in candidates:
        w = getattr(proj, "weight", None)
        if w is None or w.ndim != 2:
            continue
        # nn.Linear stores (out, in); GPT-2's Conv1D stores (in, out) and says so with `nf`.
        transposed = not hasattr(proj, "nf")
        if (w.shape[1] if transposed else w.shape[0]) == in_features:
            if w.device.type == "meta":
                return _offloaded_projection(proj, in_features, transposed)
            return (w.t() if transposed else w).detach()
    from attnwidget.errors import ModelError

    raise ModelError(
        f"cannot find the output projection of {type(module).__name__} (looked for "
        f"{', '.join(_OUTPUT_NAMES)} and the parent's output.dense with {in_features} inputs); "
        "value-weighted norms need it"
    )


def _offloaded_projection(proj, in_features: int, transposed: bool):
    """``W_O`` ``(in_features, hidden)`` of a projection whose weight accelerate offloaded (a
    ``meta`` tensor outside the forward): loaded onto its execution device through its
    ``AlignDevicesHook`` (alone or inside a ``SequentialHook``) for the moment of the read, as its
    forward would.

    Running the projection's forward instead is no safe substitute: torch multiplies a CPU input
    by a meta weight without complaint and returns uninitialised numbers.
    """
    import torch

    from attnwidget.errors import ModelError

    hook = getattr(proj, "_hf_hook", None)
    align = [h for h in getattr(hook, "hooks", None) or [hook] if getattr(h, "offload", False)]
    if align:
        try:
            with torch.no_grad():
                align[0].pre_forward(proj)
                try:
                    w = proj.weight.detach().clone()
                finally:
                    align[0].post_forward(proj, None)
        except (RuntimeError, KeyError, NotImplementedError) as e:
            raise ModelError(f"cannot load the offloaded output projection's weights ({type(e).__name__}: {e})") from e
        if w.device.type != "meta":
            return w.t() if transposed else w
    raise ModelError(
        f"the output projection {type(proj).__name__} holds no weights (a meta tensor) and no accelerate "
        "hook brings them in; value-weighted norms need them (place the model with aw.load_model(..., "
        "device_map=...) or accelerate.dispatch_model)"
    )


def _parents(model) -> dict[int, Any]:
    return {id(child): m for m in model.modules() for child in m.children()}


def _record_values(model, run) -> list[tuple[Any, Any]]:
    """``(module, value states)`` of every attention call made while `run()` runs `model` (or a part
    of it) with the values recorder switched in."""
    import torch

    from attnwidget.errors import ModelError
    from attnwidget.extraction.capture import attn_implementation, configs

    if not configs(model):
        raise ModelError(
            f"{type(model).__name__} does not route attention through transformers' AttentionInterface, "
            "so its value vectors cannot be recorded for measure='norms'"
        )
    _register()
    rec = _ValueRecorder()
    _ACTIVE.append(rec)
    try:
        with torch.no_grad(), attn_implementation(model, VALUES_IMPLEMENTATION):
            run()
    finally:
        _ACTIVE.remove(rec)
    if not rec.calls:
        raise ModelError(f"{type(model).__name__} ran no attention through the AttentionInterface")
    return rec.calls


def _call_norms(parents: dict, module, value, num_heads: int | None):
    """``||f_h(x_j)||`` as a float32 ``(batch, heads, n_key)`` tensor for one call's value states."""
    import torch

    from attnwidget.errors import ModelError

    b, n_kv, n, d = value.shape
    heads = int(
        getattr(module, "num_heads", 0)
        or getattr(module, "num_attention_heads", 0)
        or getattr(module, "n_heads", 0)
        or num_heads
        or 0
    )
    if heads % n_kv:
        raise ModelError(f"{heads} query heads do not share {n_kv} kv heads evenly")
    with torch.no_grad():
        w_o = _output_projection(parents, module, heads * d).to(value.device, torch.float32)
        w_o = w_o.reshape(heads, d, -1)  # head h's slice: rows h*d .. (h+1)*d
        # ||v W_h||^2 = v (W_h W_h^T) v^T: a d x d Gram matrix per head instead of projecting
        # every token to the hidden size (d^2 rather than d x hidden work per token).
        gram = torch.matmul(w_o.double(), w_o.double().transpose(1, 2))  # (heads, d, d)
        v = value.double().repeat_interleave(heads // n_kv, dim=1)  # (b, heads, n, d)
        sq = torch.einsum("bhnd,hde,bhne->bhn", v, gram, v).clamp_min_(0)
        return sq.sqrt().float().cpu()


def _config_heads(model) -> int | None:
    cfg = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    return getattr(cfg, "num_attention_heads", None) or getattr(cfg, "n_head", None)


def value_norms(model, inputs: dict, num_heads: int | None = None) -> list:
    """``||f_h(x_j)||`` for every attention call of one forward pass.

    Parameters
    ----------
    model
        A Hugging Face model whose attention runs through transformers' AttentionInterface.
    inputs : dict
        Keyword inputs for ``model(**inputs)`` (ids, attention mask, ...), on the model's device.
    num_heads : int, optional
        Query heads per layer (read from the model's config when omitted).

    Returns
    -------
    list of torch.Tensor
        One float32 ``(batch, heads, n_key)`` tensor per attention call, in call order (layer
        order for decoder-only and encoder-only models). Grouped-query heads use their kv head's
        values through their own slice of the output projection.
    """

    def run():
        try:
            model(**inputs, use_cache=False)
        except TypeError:
            model(**inputs)

    calls = _record_values(model, run)
    num_heads = num_heads or _config_heads(model)
    parents = _parents(model)
    return [_call_norms(parents, module, value, num_heads) for module, value in calls]


def norm_attention(att: Attention, norms: np.ndarray) -> Attention:
    """The norm map of `att` given ``||f_h(x_j)||`` as ``(layers, heads, n_key)`` for its held layers and heads.

    Rows are ``alpha_ij ||f_h(x_j)||`` divided by their sum; the value norms go into
    ``meta["value_norms"]`` (with the layer and head numbers they belong to) so `raw_norms` can
    give the unnormalised ``||alpha_ij f_h(x_j)||``. Lazy attention stays lazy.
    """
    norms = np.asarray(norms, dtype=np.float32)
    L, H, _, K = att.shape
    if norms.shape != (L, H, K):
        raise AttentionError(f"norms must have shape (layers, heads, n_key) = {(L, H, K)}; got {norms.shape}")
    # Packed as base64 float32: a JSON list of layers x heads x tokens numbers would be checked
    # number by number every time the attention is copied (select, hide_tokens), slow on long inputs.
    meta = dict(
        att.meta,
        measure="norm",
        value_norms={
            "layers": list(att.layer_ids),
            "heads": list(att.head_ids),
            "shape": list(norms.shape),
            "float32_base64": base64.b64encode(np.ascontiguousarray(norms, "<f4").tobytes()).decode("ascii"),
        },
    )
    if att.is_lazy:
        return att._replace(_source=NormSource(att._source, norms), weights=None, meta=meta)
    w = att.weights * norms[:, :, None, :]
    s = w.sum(axis=-1, keepdims=True)
    w = np.divide(w, s, out=np.zeros_like(w), where=s > 0)
    return att._replace(weights=w, meta=meta)


def apply_value_norms(model, inputs: dict, results: Sequence[Attention]) -> list[Attention]:
    """Turn the weights `extract` returned for a batch into norm maps (one more forward pass).

    `results` holds one `Attention` per batch row, padding removed; ``inputs["attention_mask"]``
    says which positions each kept.
    """
    from attnwidget.errors import ModelError

    if getattr(getattr(model, "config", None), "is_encoder_decoder", False):
        raise ModelError(
            "apply_value_norms covers decoder-only and encoder-only models; an encoder-decoder's parts "
            "go through apply_value_norms_parts (aw.extract(..., target=..., measure='norms'))"
        )
    calls = value_norms(model, inputs)
    keep_all = inputs["attention_mask"].bool().cpu()
    out = []
    for b, att in enumerate(results):
        if max(att.layer_ids) >= len(calls):
            raise ModelError(f"the model ran {len(calls)} attention calls for {att.num_layers} layers")
        keep = keep_all[b].numpy()
        norms = np.stack([calls[layer][b][att.head_ids][:, keep].numpy() for layer in att.layer_ids])
        out.append(norm_attention(att, norms))
    return out


def apply_value_norms_parts(model, run, parts: dict, key_keep: dict) -> dict:
    """Norm maps for the parts of an encoder-decoder extraction (one more forward pass, `run()`).

    `parts` maps "encoder", "decoder" and "cross" to one `Attention` per batch row; `key_keep` maps
    each to its keys' padding mask ``(batch, n_key)`` bool (or None: every key real). Each
    attention call's values are found by identity: the module's tower in the model
    (``decoder.layers.*.encoder_attn`` is cross-attention) and its layer number there, as the
    capture numbers them. The cross part's values are the encoder output's, carried through the
    cross-attention's own output projection.
    """
    from attnwidget.errors import ModelError
    from attnwidget.extraction.capture import layer_place, module_names, tower_kind

    calls = _record_values(model, run)
    names, parents, num_heads = module_names(model), _parents(model), _config_heads(model)
    towers: dict[str, dict[str, dict[int, Any]]] = {}
    seen: set[int] = set()
    for module, value in calls:
        tower, number = layer_place(names.get(id(module), type(module).__name__))
        layers = towers.setdefault(tower_kind(tower), {}).setdefault(tower, {})
        if number is None or id(module) in seen:  # a module called twice: numbered by its call
            number = len(layers)
        seen.add(id(module))
        layers[number] = _call_norms(parents, module, value, num_heads)
    out = {}
    for kind, atts in parts.items():
        found = towers.get(kind, {})
        if len(found) != 1:
            raise ModelError(
                f"cannot tell which attention calls hold the {kind} part's values: "
                f"{len(found)} towers of that kind ({', '.join(found) or 'none'})"
            )
        layers = next(iter(found.values()))
        keep = key_keep.get(kind)
        rows = []
        for b, att in enumerate(atts):
            missing = [layer for layer in att.layer_ids if layer not in layers]
            if missing:
                raise ModelError(f"the {kind} ran no attention for layers {missing}")
            cols = slice(None) if keep is None else keep[b].cpu().numpy()
            norms = np.stack([layers[layer][b][att.head_ids][:, cols].numpy() for layer in att.layer_ids])
            rows.append(norm_attention(att, norms))
        out[kind] = rows
    return out


def value_norms_of(att: Attention) -> np.ndarray:
    """``(layers, heads, n_key)`` value norms ``||f_h(x_j)||`` kept by a norm attention, for the layers
    and heads it holds now (after `select` too).

    Raises
    ------
    AttentionError
        For an attention of weights (extract with ``measure="norms"``).
    """
    info = att.meta.get("value_norms")
    if att.meta.get("measure") != "norm" or not info:
        raise AttentionError("this attention holds weights, not value-weighted norms; extract with measure='norms'")
    table = np.frombuffer(base64.b64decode(info["float32_base64"]), "<f4").reshape(info["shape"])
    li = [info["layers"].index(layer) for layer in att.layer_ids]
    hi = [info["heads"].index(h) for h in att.head_ids]
    return table[np.ix_(li, hi)].astype(np.float32)


def raw_norms(att: Attention, layer: int, head: int) -> np.ndarray:
    """``(n_query, n_key)`` unnormalised ``||alpha_ij f_h(x_j)||`` of one head of a norm attention.

    Recovered from the normalised map ``w`` and the value norms ``v``: the attention weights are
    ``alpha_ij = w_ij S_i / v_j`` and sum to 1, so the row total is ``S_i = 1 / sum_j (w_ij / v_j)``.
    """
    norms = value_norms_of(att)
    w = att.head(layer, head).astype(np.float64)  # IndexError for a layer or head not held
    v = norms[att._layer_index(layer), att._head_index(head)].astype(np.float64)
    inv = np.divide(w, v, out=np.zeros_like(w), where=v > 0).sum(axis=-1, keepdims=True)
    total = np.divide(1.0, inv, out=np.zeros_like(inv), where=inv > 0)
    return (w * total).astype(np.float32)


class NormSource:
    """A lazy source of norm maps: another source's weight blocks times value norms, rows renormalised."""

    def __init__(self, base: Any, norms: np.ndarray):
        self.base = base
        self.norms = norms
        self.shape = tuple(base.shape)

    @property
    def head_ids(self):
        return self.base.head_ids

    def subset(self, layer_idx: Sequence[int], head_idx: Sequence[int]) -> NormSource:
        return NormSource(self.base.subset(layer_idx, head_idx), self.norms[np.ix_(list(layer_idx), list(head_idx))])

    def empty(self, shape) -> np.ndarray:
        empty = getattr(self.base, "empty", None)
        return empty(shape) if empty is not None else np.empty(shape, np.float32)

    def mask(self) -> np.ndarray:
        return self.base.mask()

    def block(
        self, li: int, head_idx: Sequence[int] | None, start: int, stop: int, out: np.ndarray | None = None
    ) -> np.ndarray:
        w = self.base.block(li, head_idx, start, stop, out=out)
        v = self.norms[li] if head_idx is None else self.norms[li][list(head_idx)]
        w *= v[:, None, :]
        s = w.sum(axis=-1, keepdims=True)
        np.divide(w, s, out=w, where=s > 0)
        return w
