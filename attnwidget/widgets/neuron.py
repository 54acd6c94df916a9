"""`NeuronView`: why a head attends, from the queries and keys a lazy attention keeps.

For one query and one key the view shows the query vector ``q_i``, the key vector ``k_j`` and
their element-wise product ``q_i * k_j``, whose sum times the head's scaling is the score before
softmax: which dimensions make the head look where it looks. Vectors are the ones the model used
(after rotary embeddings); a grouped-query head shows its kv head's keys. An axis numbers the
dimensions, and for models whose rotary embedding is known (`rotary_style`) it says which
dimensions turn together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets as t

from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionError
from attnwidget.widgets.base import DEFAULT_GAMMA, AttentionView, array_payload, check_attention, positive_int
from attnwidget.widgets.cache import DEFAULT_MAX_BYTES, LruCache
from attnwidget.widgets.selection import Selection

__all__ = ["NeuronView", "query_key_vectors", "rotary_style"]

# Model types whose attention rotates every query and key dimension i with i + head_dim / 2
# (transformers' `rotate_half` over the whole head). Models that rotate part of the head (GPT-NeoX,
# Phi, GPT-J) or pair neighbours are left out rather than drawn wrong.
ROTATE_HALF = frozenset(
    {"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2", "olmo", "olmo2"}
    | {"granite", "starcoder2"}
)


def rotary_style(att: Attention) -> str | None:
    """How the model's rotary embedding pairs query and key dimensions, from ``att.meta["model_type"]``.

    Returns
    -------
    str or None
        ``"half"`` when dimension ``i`` turns with ``i + head_dim / 2`` (Llama's ``rotate_half``,
        SmolLM2 included); None when the model has no rotary embedding or its pairing is not known
        here (GPT-2's learned positions, BERT, a model that rotates part of each head).
    """
    return "half" if att.meta.get("model_type") in ROTATE_HALF else None


def _captured(att: Attention):
    """The captured q/k source under `att` (through wrappers that hide keys or weight by norms)."""
    src = att._source
    while src is not None and not hasattr(src, "layers"):
        src = getattr(src, "base", None) or getattr(src, "source", None)
    if src is None or not src.layers or "q" not in src.layers[0]:
        raise AttentionError(
            "NeuronView needs attention that keeps its queries and keys: extract it with "
            "aw.extract(model, tokenizer, text, lazy=True)"
        )
    return src


def query_key_vectors(att: Attention, layer: int, head: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """The query and key vectors of one head of a lazy attention.

    Returns
    -------
    q : float32 ``(n_query, head_dim)``
    k : float32 ``(n_key, head_dim)``
        The vectors the model multiplied (after rotary position embeddings); for a grouped-query
        head, the keys of the kv head it reads.
    facts : dict
        ``scaling`` (the factor on ``q . k``), ``softcap`` (or None), ``kv_head``, and ``exact``:
        False when the scores also carry a bias or soft-cap, so ``q . k * scaling`` is not the
        whole logit.
    """
    src = _captured(att)
    li = att._layer_index(layer)
    hi = att._head_index(head)
    model_head = att.head_ids[hi]
    rec = src.layers[li]
    q = rec["q"][src.batch_index]  # (heads, n, d)
    k = rec["k"][src.batch_index]  # (kv heads, n, d)
    group = q.shape[0] // k.shape[0]
    qh, kh = q[model_head], k[model_head // group]
    q_pos = getattr(src, "q_positions", getattr(src, "positions", None))
    k_pos = getattr(src, "k_positions", getattr(src, "positions", None))
    qh = qh[qh.shape[0] - att.n_query :] if q_pos is None else qh.index_select(0, q_pos.to(qh.device))
    kh = kh if k_pos is None else kh.index_select(0, k_pos.to(kh.device))
    d = qh.shape[-1]
    scaling = rec.get("scaling")
    scaling = float(scaling) if scaling is not None else d**-0.5
    softcap = rec.get("softcap")
    facts = {
        "scaling": scaling,
        "softcap": None if softcap is None else float(softcap),
        "kv_head": int(model_head // group),
        "exact": softcap is None and rec.get("bias") is None,
    }
    return qh.float().cpu().numpy(), kh.float().cpu().numpy(), facts


def _entry_bytes(entry: tuple) -> int:
    """Bytes one held head crosses as: float32 query and key vectors, the float16 map."""
    q, k, w, _ = entry
    return (q.size + k.size) * 4 + w.nbytes


class NeuronView(AttentionView):
    """Query vector, key vector and their element-wise product for one head of a lazy attention.

    Click a token to choose the query (the pinned token; the last token until one is pinned) and
    hover a token to choose the key. Below, every key's product with the query, one row per key,
    shows which dimensions give which keys their weight. An axis numbers the dimensions and, for
    rotary models (`rotary_style`), marks which dimensions turn together.

    Parameters
    ----------
    att : Attention
        From ``aw.extract(..., lazy=True)`` (it keeps the captured queries and keys).
    layer, head : int
        Model layer and head numbers (default: the selection's, or the first held). The view
        follows the selection when another view selects a head.
    max_bytes : int
        Budget for the vectors and weights of heads held in the widget state
        (`widgets.cache.DEFAULT_MAX_BYTES`, 384 KiB, by default; the shown head is always held,
        then the rest of its layer); an exported page keeps what it was saved with.
    selection : Selection, optional
        Share the selection of other views of `att`.
    """

    _view_kind = t.Unicode("neuron").tag(sync=True)
    _heads = t.Dict().tag(sync=True)
    # "half" (dimension i turns with i + head_dim / 2) or "" (no rotary pairs drawn): `rotary_style`.
    _rotary = t.Unicode("").tag(sync=True)
    layer_shown = t.Int(0).tag(sync=True)
    head_shown = t.Int(0).tag(sync=True)

    def __init__(
        self,
        att: Attention,
        *,
        layer: int | None = None,
        head: int | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        selection: Selection | None = None,
        **kwargs: Any,
    ):
        att = check_attention(att, "NeuronView")
        _captured(att)
        self._max_bytes = positive_int("max_bytes", max_bytes)
        self._held: LruCache[str, tuple] = LruCache(_entry_bytes, self._max_bytes)
        super().__init__(att, selection=selection, scale="linear", gamma=DEFAULT_GAMMA, **kwargs)
        self._rotary = rotary_style(att) or ""
        sel = self.selection
        if layer is not None:
            sel.layer = layer
        if head is not None:
            sel.head = head
        self._show(sel.layer, sel.head if sel.head is not None else att.head_ids[0])
        self._fill()
        sel.observe(self._follow, names=["layer", "head"])

    def _show(self, layer: int, head: int) -> None:
        att = self.attention
        self.layer_shown = att.layer_ids[att._layer_index(layer)]
        self.head_shown = att.head_ids[att._head_index(head)]

    def vectors(self, layer: int | None = None, head: int | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
        """`query_key_vectors` of the shown head (or of `layer`, `head`)."""
        return query_key_vectors(
            self.attention, self.layer_shown if layer is None else layer, self.head_shown if head is None else head
        )

    def _entry(self, layer: int, head: int) -> tuple:
        q, k, facts = query_key_vectors(self.attention, layer, head)
        return q, k, self.attention.head(layer, head).astype(np.float16), facts

    def _fill(self) -> None:
        att = self.attention
        order = [(self.layer_shown, self.head_shown)] + [(self.layer_shown, h) for h in att.head_ids]
        order += [(layer, h) for layer in att.layer_ids for h in att.head_ids]
        (layer, h), *rest = dict.fromkeys(order)
        self._held.add(f"{layer}/{h}", self._entry(layer, h))
        for layer, h in rest:
            key = f"{layer}/{h}"
            if key not in self._held and not self._held.offer(key, self._entry(layer, h)):
                break
        self._publish()

    def _follow(self, change=None) -> None:
        sel = self.selection
        if sel.head is None:
            return  # fused heads have no single query and key; keep the head shown
        self._show(sel.layer, sel.head)
        key = f"{self.layer_shown}/{self.head_shown}"
        if self._held.touch(key):
            return
        self._held.add(key, self._entry(self.layer_shown, self.head_shown))
        self._publish()

    def _publish(self) -> None:
        keys = self._held.keys()
        entries = [self._held[k] for k in keys]
        self._heads = {
            "keys": keys,
            "q": array_payload(np.stack([e[0] for e in entries]), "float32"),
            "k": array_payload(np.stack([e[1] for e in entries]), "float32"),
            "w": array_payload(np.stack([e[2] for e in entries]), "float16"),
            "facts": [e[3] for e in entries],
            "total": self.attention.num_layers * self.attention.num_heads,
            "max_bytes": self._max_bytes,
        }

    @property
    def held_heads(self) -> list[str]:
        """Keys (``"layer/head"``) of the heads whose vectors the widget state holds."""
        return list(self._heads.get("keys", []))
