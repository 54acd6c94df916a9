"""The `Attention` type: one model's attention over one text.

Everything in attnwidget reads or writes this type. It owns validation (shapes, NaN, row sums,
token counts), slicing by layer, head and kv-group, head fusion, and saving to ``.npz``.

Weights may be held in memory (a float32 array of shape ``(layers, heads, n_query, n_key)``) or
computed on demand from captured queries and keys (a *lazy* attention, see `extract(lazy=True)`).
Every accessor goes through `layer`, `head` and `rows`, so both kinds behave the same.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["Attention", "AttentionError", "HEAD_FUSIONS", "max_pool", "renormalize", "fuse_heads", "causal_mask", "infer_mask"]

HEAD_FUSIONS = ("mean", "max", "min")

# Tolerance for "rows sum to 1": attention computed in fp16/bf16 and stored as float32 drifts by
# up to ~1e-3 on long rows; anything past this is not a probability distribution.
ROW_SUM_ATOL = 2e-3

# A materialised array larger than this is refused for lazy attention unless asked for explicitly.
DEFAULT_MAX_BYTES = 8 * 2**30


class AttentionError(ValueError):
    """Raised when attention weights, tokens or masks are not what they claim to be."""


def _as_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor, without importing torch
        x = x.detach()
        if str(getattr(x, "dtype", "")) in ("torch.bfloat16", "torch.float16"):
            x = x.float()
        x = x.cpu().numpy()
    return np.asarray(x)


def _stack_layers(weights: Any) -> np.ndarray:
    """Accept an array or an HF-style tuple of per-layer ``(batch, heads, Q, K)`` tensors."""
    if isinstance(weights, (tuple, list)):
        if len(weights) == 0:
            raise AttentionError(
                "got an empty sequence of attention layers; the model returned no attention "
                "(expected one (batch, heads, n_query, n_key) tensor per layer)"
            )
        if any(w is None for w in weights):
            raise AttentionError(
                "the model returned None for some layers' attention: it exposes no attention "
                "weights (load it with attn_implementation='eager' or use aw.extract)"
            )
        layers = [_as_numpy(w) for w in weights]
        if any(w.ndim != layers[0].ndim for w in layers):
            raise AttentionError("per-layer attention tensors have different ranks")
        if layers[0].ndim == 4:
            if layers[0].shape[0] != 1:
                raise AttentionError(
                    f"per-layer attention has batch size {layers[0].shape[0]}; pass one example "
                    "(use Attention.from_hf(attentions, tokens, batch_index=i))"
                )
            layers = [w[0] for w in layers]
        elif layers[0].ndim != 3:
            raise AttentionError(
                f"each layer's attention must be (batch, heads, n_query, n_key) or "
                f"(heads, n_query, n_key); got shape {layers[0].shape}"
            )
        shapes = {w.shape for w in layers}
        if len(shapes) != 1:
            raise AttentionError(f"layers have different shapes: {sorted(shapes)}")
        return np.stack(layers)
    return _as_numpy(weights)


def causal_mask(n_query: int, n_key: int) -> np.ndarray:
    """Visible-key mask of a causal model whose queries are the last `n_query` of `n_key` tokens."""
    offset = n_key - n_query
    return np.arange(n_key)[None, :] <= (np.arange(n_query)[:, None] + offset)


def infer_mask(weights: np.ndarray) -> np.ndarray:
    """The visible-key mask of weights ``(..., Q, K)`` given without one: causal when every weight
    above the diagonal is exactly zero (and there is more than one query), otherwise all keys."""
    Q, K = weights.shape[-2:]
    causal = causal_mask(Q, K)
    if Q > 1 and not np.any(weights[..., ~causal]):
        return causal
    return np.ones((Q, K), dtype=bool)


class Attention:
    """Attention of one model over one text.

    Parameters
    ----------
    weights : array-like or tuple of tensors
        ``(layers, heads, n_query, n_key)`` probabilities (each visible row sums to 1), or the
        ``attentions`` tuple a Hugging Face model returns (one ``(1, heads, Q, K)`` per layer).
    tokens : sequence of str
        One readable string per key position (``n_key`` of them). Queries are the last
        ``n_query`` tokens.
    mask : bool array ``(n_query, n_key)``, optional
        True where the key is visible to the query. When omitted it is inferred: causal when every
        weight above the diagonal is exactly zero, otherwise all keys are visible.
    layer_ids, head_ids : sequence of int, optional
        The model's layer and head numbers the weights hold (when only some were extracted).
        `layer` and `head` are indexed by these numbers.
    num_kv_heads : int, optional
        Key/value heads of a grouped-query model; query head ``h`` reads kv head
        ``h // (total_heads // num_kv_heads)``. Defaults to one kv head per query head.
    total_heads : int, optional
        Query heads per layer in the model (defaults to the number held).
    token_ids, offsets, special, generated : optional per-token data
        Token ids, ``(start, end)`` character spans in `text`, a bool per token marking special
        tokens, and a bool per query row marking tokens produced by generation.
    text : str, optional
        The text the tokens came from.
    meta : dict, optional
        Facts about the model (name, architecture, causal, ...), saved with the weights.
    validate : bool
        Check NaN, ranges and row sums (default True).
    """

    def __init__(
        self,
        weights: Any,
        tokens: Sequence[str],
        mask: Any = None,
        *,
        layer_ids: Sequence[int] | None = None,
        head_ids: Sequence[int] | None = None,
        num_kv_heads: int | None = None,
        total_heads: int | None = None,
        token_ids: Sequence[int] | None = None,
        offsets: Sequence[tuple[int, int]] | None = None,
        special: Sequence[bool] | None = None,
        generated: Sequence[bool] | None = None,
        text: str | None = None,
        meta: dict | None = None,
        validate: bool = True,
        _source: Any = None,
    ):
        self._source = _source
        if _source is not None:
            self._weights = None
            shape = tuple(_source.shape)
        else:
            w = _stack_layers(weights)
            if w.ndim != 4:
                hint = ""
                if w.ndim == 3:
                    hint = " (for one layer, pass weights[None])"
                elif w.ndim == 2:
                    hint = " (for one head of one layer, pass weights[None, None])"
                raise AttentionError(
                    f"attention weights must have 4 dimensions (layers, heads, n_query, n_key); "
                    f"got shape {w.shape}{hint}"
                )
            if not np.issubdtype(w.dtype, np.floating):
                raise AttentionError(f"attention weights must be floating point, got dtype {w.dtype}")
            self._weights = np.ascontiguousarray(w, dtype=np.float32)
            shape = self._weights.shape
        L, H, Q, K = shape
        if min(shape) == 0:
            raise AttentionError(f"attention weights are empty: shape {shape}")
        if Q > K:
            raise AttentionError(f"more query rows ({Q}) than keys ({K}); expected n_query <= n_key")

        tokens = list(tokens) if tokens is not None else []
        if len(tokens) != K:
            raise AttentionError(
                f"got {len(tokens)} tokens for attention over {K} keys; expected one token per "
                f"key position (weights shape {shape})"
            )
        if not all(isinstance(t, str) for t in tokens):
            raise AttentionError("tokens must be strings")
        self.tokens: list[str] = tokens

        if mask is None:
            mask = infer_mask(self._weights) if self._weights is not None else causal_mask(Q, K)
        mask = _as_numpy(mask)
        if mask.shape != (Q, K):
            raise AttentionError(f"mask must have shape (n_query, n_key) = {(Q, K)}; got {mask.shape}")
        self.mask: np.ndarray = mask.astype(bool)

        self.layer_ids = list(range(L)) if layer_ids is None else [int(i) for i in layer_ids]
        self.head_ids = list(range(H)) if head_ids is None else [int(i) for i in head_ids]
        if len(self.layer_ids) != L:
            raise AttentionError(f"layer_ids has {len(self.layer_ids)} entries for {L} layers")
        if len(self.head_ids) != H:
            raise AttentionError(f"head_ids has {len(self.head_ids)} entries for {H} heads")
        self.total_heads = int(total_heads) if total_heads is not None else max(self.head_ids) + 1
        kv = self.total_heads if num_kv_heads is None else int(num_kv_heads)
        if kv <= 0 or self.total_heads % kv:
            raise AttentionError(
                f"num_kv_heads={kv} must divide the number of query heads ({self.total_heads})"
            )
        self.num_kv_heads = kv

        self.token_ids = None if token_ids is None else [int(t) for t in token_ids]
        self.offsets = None if offsets is None else [(int(a), int(b)) for a, b in offsets]
        self.special = None if special is None else [bool(s) for s in special]
        for name, seq in (("token_ids", self.token_ids), ("offsets", self.offsets), ("special", self.special)):
            if seq is not None and len(seq) != K:
                raise AttentionError(f"{name} has {len(seq)} entries; expected {K} (one per token)")
        self.generated = None if generated is None else np.asarray(generated, dtype=bool)
        if self.generated is not None and self.generated.shape != (Q,):
            raise AttentionError(f"generated must have one bool per query row ({Q}); got {self.generated.shape}")
        self.text = text
        self.meta = dict(meta or {})

        if validate and self._weights is not None:
            # Layer by layer: the checks' temporaries stay one layer in size.
            for li in range(L):
                self._validate(self._weights[li:li + 1], li)

    # ------------------------------------------------------------------ construction helpers

    @classmethod
    def from_hf(cls, attentions: Sequence[Any], tokens: Sequence[str], *, batch_index: int = 0,
                mask: Any = None, **kwargs) -> "Attention":
        """From the ``attentions`` tuple of a Hugging Face model output, for one batch element.

        Padding must be removed by the caller through `mask` or by slicing tokens; weights are
        taken as they are.
        """
        if attentions is None or len(attentions) == 0:
            raise AttentionError(
                "the model output has no attentions: pass output_attentions=True and load the model "
                "with attn_implementation='eager' (SDPA returns none), or use aw.extract"
            )
        if any(a is None for a in attentions):
            raise AttentionError("the model returned None attentions: it exposes no attention weights")
        layers = [_as_numpy(a)[batch_index] for a in attentions]
        return cls(np.stack(layers), tokens, mask, **kwargs)

    @classmethod
    def from_transformer_lens(cls, cache: Any, tokens: Sequence[Any], **kwargs) -> "Attention":
        """From a TransformerLens ``ActivationCache`` (or any mapping with ``blocks.{l}.attn.hook_pattern``
        tensors); see `attnwidget.interop.from_transformer_lens` for the arguments."""
        from .interop import from_transformer_lens

        return from_transformer_lens(cache, tokens, **kwargs)

    def _validate(self, w: np.ndarray, layer_start: int) -> None:
        """Check ``w = weights[layer_start:layer_start + len(w)]``."""
        if not np.all(np.isfinite(w)):
            bad = np.argwhere(~np.isfinite(w))[0]
            raise AttentionError(
                f"attention weights contain NaN or infinity (first at layer index {bad[0] + layer_start}, "
                f"head index {bad[1]}, query {bad[2]}, key {bad[3]})"
            )
        if w.min() < -1e-6 or w.max() > 1 + 1e-4:
            raise AttentionError(
                f"attention weights must lie in [0, 1]; got range [{w.min():.4g}, {w.max():.4g}] "
                "(did you pass scores before softmax?)"
            )
        mask = self.mask
        leak = np.where(mask[None, None], 0, w)
        if leak.max(initial=0) > 1e-4:
            raise AttentionError(
                "attention weights put mass on keys the mask hides (future tokens or padding); "
                "pass the model's mask or mask=np.ones((n_query, n_key), bool)"
            )
        live = mask.any(axis=1)
        sums = np.where(mask[None, None], w, 0).sum(axis=-1)[..., live]
        if sums.size and np.abs(sums - 1).max() > ROW_SUM_ATOL:
            idx = np.unravel_index(np.abs(sums - 1).argmax(), sums.shape)
            raise AttentionError(
                f"attention rows must sum to 1 over visible keys; row sum {sums[idx]:.4f} at layer "
                f"index {idx[0] + layer_start}, head index {idx[1]} (expected softmax probabilities, e.g. from "
                "output_attentions)"
            )

    # ------------------------------------------------------------------ shape and facts

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(layers, heads, n_query, n_key)``."""
        return tuple(self._source.shape) if self._source is not None else self._weights.shape

    @property
    def num_layers(self) -> int:
        return self.shape[0]

    @property
    def num_heads(self) -> int:
        return self.shape[1]

    @property
    def n_query(self) -> int:
        return self.shape[2]

    @property
    def n_key(self) -> int:
        return self.shape[3]

    @property
    def query_tokens(self) -> list[str]:
        """Tokens of the query rows (the last `n_query` tokens)."""
        return self.tokens[self.n_key - self.n_query:]

    @property
    def is_causal(self) -> bool:
        return bool(np.array_equal(self.mask, self.mask & causal_mask(self.n_query, self.n_key))) and self.n_query > 1

    @property
    def is_lazy(self) -> bool:
        return self._source is not None

    @property
    def nbytes(self) -> int:
        """Bytes the full float32 weights take (or would take, for lazy attention)."""
        L, H, Q, K = self.shape
        return L * H * Q * K * 4

    @property
    def weights(self) -> np.ndarray:
        """All weights, ``(layers, heads, n_query, n_key)`` float32.

        For lazy attention they are computed on first access and kept; a `MemoryError` that says
        how big they would be is raised when they would not fit.
        """
        if self._weights is None:
            self._weights = self.materialize(max_bytes=_memory_budget())._weights
        return self._weights

    def materialize(self, max_bytes: int = DEFAULT_MAX_BYTES) -> "Attention":
        """A materialised copy (itself when already materialised).

        Raises
        ------
        MemoryError
            When the weights would take more than `max_bytes`.
        """
        if self._source is None:
            return self
        if self._weights is not None:  # computed earlier through .weights
            return self._replace(_source=None)
        if self.nbytes > max_bytes:
            L, H, Q, K = self.shape
            raise MemoryError(
                f"materialising this attention needs {self.nbytes / 2**30:.1f} GiB "
                f"({L} layers x {H} heads x {Q} x {K} float32), over the {max_bytes / 2**30:.1f} GiB "
                "limit; ask for att.head(l, h), att.layer(l), att.rows(l, start, stop), "
                "att.overview(size) or att.select(layers=..., heads=...) instead, or pass max_bytes"
            )
        empty = getattr(self._source, "empty", None)
        w = empty(self.shape) if empty is not None else np.empty(self.shape, np.float32)
        for li in range(self.num_layers):
            self._source.block(li, None, 0, self.n_query, out=w[li])
        return self._replace(weights=w, _source=None)

    # ------------------------------------------------------------------ indexing

    def _layer_index(self, layer: int) -> int:
        layer = int(layer)
        if layer in self.layer_ids:
            return self.layer_ids.index(layer)
        if layer < 0 and -len(self.layer_ids) <= layer:
            return len(self.layer_ids) + layer
        raise IndexError(f"layer {layer} is not in this attention; it holds layers {_short(self.layer_ids)}")

    def _head_index(self, head: int) -> int:
        head = int(head)
        if head in self.head_ids:
            return self.head_ids.index(head)
        if head < 0 and -len(self.head_ids) <= head:
            return len(self.head_ids) + head
        raise IndexError(f"head {head} is not in this attention; it holds heads {_short(self.head_ids)}")

    def layer(self, layer: int) -> np.ndarray:
        """``(heads, n_query, n_key)`` for one model layer number."""
        li = self._layer_index(layer)
        if self._weights is None:
            return self._source.block(li, None, 0, self.n_query)
        return self._weights[li]

    def head(self, layer: int, head: int) -> np.ndarray:
        """``(n_query, n_key)`` for one model layer and head number."""
        li, hi = self._layer_index(layer), self._head_index(head)
        if self._weights is None:
            return self._source.block(li, [hi], 0, self.n_query)[0]
        return self._weights[li, hi]

    def rows(self, layer: int, start: int, stop: int, heads: Sequence[int] | None = None) -> np.ndarray:
        """``(heads, stop - start, n_key)``: a block of query rows of one layer (cheap when lazy)."""
        li = self._layer_index(layer)
        hi = None if heads is None else [self._head_index(h) for h in heads]
        start, stop = max(0, int(start)), min(self.n_query, int(stop))
        if self._weights is None:
            return self._source.block(li, hi, start, stop)
        w = self._weights[li, :, start:stop]
        return w if hi is None else w[hi]

    def iter_row_blocks(self, block: int = 256) -> Iterable[tuple[int, int, np.ndarray]]:
        """Yield ``(start, stop, weights[:, :, start:stop, :])`` over all layers, block by block.

        Metrics stream over these so lazy attention never holds layers x heads x n^2 at once.
        """
        for start in range(0, self.n_query, block):
            stop = min(self.n_query, start + block)
            if self._weights is not None:
                yield start, stop, self._weights[:, :, start:stop]
            else:
                L, H, _, K = self.shape
                empty = getattr(self._source, "empty", None)
                shape = (L, H, stop - start, K)
                buf = empty(shape) if empty is not None else np.empty(shape, np.float32)
                for li in range(L):  # written in place: no per-layer copies to stack
                    self._source.block(li, None, start, stop, out=buf[li])
                yield start, stop, buf

    def pooled(self, layer: int, factor: int, heads: Sequence[int] | None = None) -> np.ndarray:
        """``(heads, ceil(Q/factor), ceil(K/factor))``: one layer max-pooled by `factor`.

        Computed block by block (``factor`` x a few rows at a time), so for lazy attention an
        overview of a long input never holds the full ``n x n`` map.
        """
        factor = int(factor)
        if factor < 1:
            raise ValueError(f"factor must be a positive int; got {factor}")
        if factor == 1:
            return self.rows(layer, 0, self.n_query, heads=heads)
        step = factor * max(1, 256 // factor)
        parts = [max_pool(self.rows(layer, start, start + step, heads=heads), factor)
                 for start in range(0, self.n_query, step)]
        return np.concatenate(parts, axis=-2)

    def kv_head_of(self, head: int) -> int:
        """The kv head that query head number `head` reads (grouped-query attention)."""
        return int(head) // (self.total_heads // self.num_kv_heads)

    def kv_group(self, layer: int, kv_head: int) -> np.ndarray:
        """``(heads_in_group, n_query, n_key)``: the held query heads that share one kv head."""
        if not 0 <= int(kv_head) < self.num_kv_heads:
            raise IndexError(f"kv head {kv_head} out of range; the model has {self.num_kv_heads} kv heads")
        heads = [h for h in self.head_ids if self.kv_head_of(h) == int(kv_head)]
        if not heads:
            raise IndexError(f"no held query head reads kv head {kv_head}")
        return self.rows(layer, 0, self.n_query, heads=heads)

    def fuse(self, how: str = "mean", layer: int | None = None) -> np.ndarray:
        """Fuse heads with mean, max or min.

        Returns ``(layers, n_query, n_key)``, or ``(n_query, n_key)`` when `layer` is given. Max and
        min fusions are renormalised over visible keys so rows remain distributions.
        """
        if how not in HEAD_FUSIONS:
            raise ValueError(f"head fusion must be one of {HEAD_FUSIONS}; got {how!r}")
        if layer is not None:
            return fuse_heads(self.layer(layer), how, self.mask)
        return np.stack([fuse_heads(self.layer(l), how, self.mask) for l in self.layer_ids])

    def select(self, layers: Sequence[int] | None = None, heads: Sequence[int] | None = None) -> "Attention":
        """A new `Attention` holding only some model layers and heads."""
        lsel = self.layer_ids if layers is None else [self.layer_ids[self._layer_index(l)] for l in layers]
        hsel = self.head_ids if heads is None else [self.head_ids[self._head_index(h)] for h in heads]
        li = [self._layer_index(l) for l in lsel]
        hi = [self._head_index(h) for h in hsel]
        if self._source is not None:
            return self._replace(_source=self._source.subset(li, hi), layer_ids=lsel, head_ids=hsel)
        return self._replace(weights=self._weights[np.ix_(li, hi)], layer_ids=lsel, head_ids=hsel)

    def hide_tokens(self, hide: Iterable[int], layer: int | None = None) -> np.ndarray:
        """Weights with the given key positions removed and rows renormalised over the rest.

        Returns ``(layers, heads, Q, K)`` (or ``(heads, Q, K)`` for one `layer`) with hidden
        columns set to 0. Rows with no visible key left stay 0.
        """
        hide = sorted({int(i) for i in hide})
        for i in hide:
            if not 0 <= i < self.n_key:
                raise IndexError(f"token index {i} out of range for {self.n_key} tokens")
        w = self.weights if layer is None else self.layer(layer)
        keep = self.mask.copy()
        keep[:, hide] = False
        return renormalize(w, keep)

    # ------------------------------------------------------------------ persistence

    def _meta_dict(self) -> dict:
        return {
            "layer_ids": self.layer_ids,
            "head_ids": self.head_ids,
            "num_kv_heads": self.num_kv_heads,
            "total_heads": self.total_heads,
            "token_ids": self.token_ids,
            "offsets": self.offsets,
            "special": self.special,
            "text": self.text,
            "meta": self.meta,
        }

    def _replace(self, **changes: Any) -> "Attention":
        kwargs = self._meta_dict()
        kwargs.pop("meta")
        kwargs.update(meta=self.meta, generated=self.generated, mask=self.mask, tokens=self.tokens,
                      weights=self._weights, _source=self._source, validate=False)
        kwargs.update(changes)
        return Attention(**kwargs)

    def save(self, path: str | Path) -> None:
        """Save to a compressed ``.npz`` file (materialises lazy attention)."""
        arrays = {
            "weights": self.weights,
            "mask": self.mask,
            # JSON keeps token text exact (no pickle, no fixed-width unicode truncation).
            "tokens": np.array(json.dumps(self.tokens)),
            "info": np.array(json.dumps(self._meta_dict())),
        }
        if self.generated is not None:
            arrays["generated"] = self.generated
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Attention":
        """Load what `save` wrote."""
        with np.load(path, allow_pickle=False) as f:
            info = json.loads(str(f["info"]))
            tokens = json.loads(str(f["tokens"]))
            generated = f["generated"] if "generated" in f.files else None
            return cls(f["weights"], tokens, f["mask"], generated=generated, **info)

    def __repr__(self) -> str:
        L, H, Q, K = self.shape
        name = self.meta.get("model", "")
        kind = "lazy " if self.is_lazy else ""
        gqa = f", kv_heads={self.num_kv_heads}" if self.num_kv_heads != self.total_heads else ""
        preview = " ".join(repr(t) for t in self.tokens[:6]) + (" ..." if K > 6 else "")
        return (f"<{kind}Attention {name + ' ' if name else ''}layers={L} heads={H}{gqa} "
                f"n_query={Q} n_key={K} {'causal' if self.is_causal else 'bidirectional'}: {preview}>")


def renormalize(weights: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Zero entries where ``keep`` is False and rescale each row to sum to 1 over the rest."""
    w = np.where(keep, weights, 0).astype(np.float32)
    s = w.sum(axis=-1, keepdims=True)
    return np.divide(w, s, out=np.zeros_like(w), where=s > 0)


def fuse_heads(layer_weights: np.ndarray, how: str, mask: np.ndarray) -> np.ndarray:
    """Fuse ``(heads, Q, K)`` into ``(Q, K)``; max/min results are renormalised over `mask`."""
    if how == "mean":
        return layer_weights.mean(axis=0)
    fused = layer_weights.max(axis=0) if how == "max" else layer_weights.min(axis=0)
    return renormalize(fused, mask)


def _memory_budget() -> int:
    """Bytes a full materialisation may take: half the memory now available, at most 8 GiB."""
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return DEFAULT_MAX_BYTES
    return min(DEFAULT_MAX_BYTES, avail // 2)


def max_pool(maps: np.ndarray, factor: int) -> np.ndarray:
    """Max-pool the last two axes of `maps` by `factor` (edges padded with zeros).

    Max, not mean: an overview must still show a single strong weight, which a mean over a block
    would dilute below visibility.
    """
    if factor == 1:
        return maps
    *lead, q, k = maps.shape
    tq, tk = -(-q // factor), -(-k // factor)
    padded = np.zeros((*lead, tq * factor, tk * factor), dtype=maps.dtype)
    padded[..., :q, :k] = maps
    return padded.reshape(*lead, tq, factor, tk, factor).max(axis=(-3, -1))


def _short(ids: list[int]) -> str:
    if len(ids) > 8 and ids == list(range(ids[0], ids[0] + len(ids))):
        return f"{ids[0]}..{ids[-1]}"
    return str(ids)
