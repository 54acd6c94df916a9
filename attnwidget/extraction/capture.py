"""The capture path: record what each attention layer received, compute its weights on demand.

For one forward pass an attention function registered in transformers' ``AttentionInterface``
records every layer's post-RoPE queries and keys and whatever the layer adds to its logits (the
mask, as booleans or additive floats, T5's ``position_bias``, the scaling, a soft-cap, a sliding
window), then hands over to SDPA, so the model computes exactly what it always does. Afterwards
`CapturedQK` computes ``softmax(q k^T * scaling [soft-capped] + bias + mask)`` in blocks of query
rows, only for the layers and heads asked for.

Each record knows its layer by identity: the attention module's place in the model
(``decoder.layers.*.encoder_attn`` number 1), never the order of calls, so the towers of an
encoder-decoder or vision-language model cannot interleave.

For the self-check (`attnwidget.extraction.selfcheck`) the recorder also keeps each layer's values
and, for a few sampled query rows, the attention output the model itself computed.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from attnwidget.attention.sources import AttentionSource

__all__ = [
    "AttentionSource",
    "CapturedQK",
    "LayerRecord",
    "Recorder",
    "CAPTURE_IMPLEMENTATION",
    "capturing",
    "configs",
    "attn_implementation",
    "tower_kind",
    "ROW_CHUNK",
    "FILL_ROWS",
    "CHECK_ROWS",
    "module_names",
    "layer_place",
]

CAPTURE_IMPLEMENTATION = "attnwidget_capture"

# Query rows per softmax block: big enough for BLAS, small enough that a block of scores stays in
# cache-sized memory at long lengths (heads x rows x n x 4 bytes).
ROW_CHUNK = 512

# Query rows per block when a whole layer is written into a zeroed array (`CapturedQK.fill`): small
# blocks keep the scores in cache and leave the causal future of each block untouched.
FILL_ROWS = 128

# Query rows per layer whose model output the self-check compares with A @ V.
CHECK_ROWS = 4


# ---------------------------------------------------------------------------------- identity


def layer_place(name: str) -> tuple[str, int | None]:
    """``"decoder.layers.1.encoder_attn"`` -> ``("decoder.layers.*.encoder_attn", 1)``: the tower
    (the module path with its layer number starred) and the layer number in it."""
    parts = name.split(".")
    for i, p in enumerate(parts):
        if p.isdigit():
            return ".".join(parts[:i] + ["*"] + parts[i + 1 :]), int(p)
    return name, None


def tower_kind(tower: str) -> str:
    """What a tower is, from its module path: "cross", "decoder", "encoder", "vision" or "main"."""
    low = tower.lower()
    if any(w in low for w in ("encoder_attn", "encdecattention", "crossattention", "cross_attn", "cross_attention")):
        return "cross"
    parts = low.split(".")
    if any("vision" in p or "visual" in p for p in parts):
        return "vision"
    if any("decoder" in p for p in parts):
        return "decoder"
    if any("encoder" in p for p in parts):
        return "encoder"
    return "main"


# ---------------------------------------------------------------------------------- recording


@dataclass(eq=False)
class LayerRecord:
    """What one attention layer received in the captured pass, for one tower and layer number.

    ``q`` and ``k`` are the post-RoPE queries ``(batch, heads, n_query, d)`` and keys
    ``(batch, kv heads, n_key, d)``; ``mask`` and ``bias`` what the layer adds to its logits;
    ``scaling``, ``softcap`` and ``sliding_window`` as the layer passed them (None: not used). With
    the self-check on, ``v`` (the values), ``check_rows`` and ``check_out`` (the model's own output
    at those query rows) are kept until `drop_check_data` frees them.
    """

    tower: str
    layer: int
    q: Any
    k: Any
    mask: Any = None
    bias: Any = None
    scaling: float | None = None
    softcap: float | None = None
    sliding_window: int | None = None
    is_causal: bool = False
    v: Any = None
    check_rows: list[int] | None = None
    check_out: Any = None

    # Item access by field name, for readers written against the earlier dict records
    # (``rec["q"]``); new code reads the attributes.
    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in self.__dataclass_fields__:
            raise KeyError(name)
        setattr(self, name, value)

    def get(self, name: str, default: Any = None) -> Any:
        value = getattr(self, name, None)
        return default if value is None else value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.__dataclass_fields__ and getattr(self, name) is not None


class Recorder:
    """Per-forward record of what each attention call received, by layer identity.

    Parameters
    ----------
    names : dict
        ``id(module) -> qualified name`` for the model's modules.
    keep : callable
        ``keep(tower, layer)`` says whether to hold that layer's queries and keys.
    check : bool
        Keep values and sampled output rows for `self_check`.
    """

    def __init__(self, names: dict[int, str], keep: Callable[[str, int], bool], check: bool = True):
        self.names = names
        self.keep = keep
        self.check = check
        self.calls = 0
        self.records: list[LayerRecord] = []
        self._seen: set[int] = set()
        self._per_tower: dict[str, int] = {}
        self._shapes: dict[str, tuple[int, int]] = {}

    def towers(self) -> dict[str, tuple[int, int]]:
        """Every tower that ran (kept or not), with its first call's (n_query, n_key)."""
        return dict(self._shapes)

    def calls_in(self, tower: str) -> int:
        """How many attention calls a tower made in this pass (its number of layers)."""
        return self._per_tower.get(tower, 0)

    def _place(self, module) -> tuple[str, int]:
        name = self.names.get(id(module), type(module).__name__)
        tower, number = layer_place(name)
        count = self._per_tower.get(tower, 0)
        self._per_tower[tower] = count + 1
        # A module called again in one pass (shared layers, as ALBERT's) is numbered by its call.
        if number is None or id(module) in self._seen:
            number = count
        self._seen.add(id(module))
        return tower, number

    def __call__(self, module, query, key, value, attention_mask, *args, **kwargs):
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        self.calls += 1
        tower, number = self._place(module)
        if query.device.type == "meta":
            from attnwidget.errors import ModelError

            # A layer whose weights were never loaded (made under init_empty_weights, or offloaded
            # without the accelerate hook that brings them in) computes shapes, not numbers.
            raise ModelError(
                f"{tower_kind(tower)} layer {number} ({tower}) ran on the meta device: its weights hold no "
                "data; load the model with aw.load_model(name, device_map=..., offload_folder=...) or "
                "place it with accelerate.dispatch_model"
            )
        self._shapes.setdefault(tower, (query.shape[2], key.shape[2]))
        rec = None
        if self.keep(tower, number):
            is_causal = kwargs.get("is_causal")
            if is_causal is None:
                is_causal = getattr(module, "is_causal", True)
            bias = kwargs.get("position_bias")
            rec = LayerRecord(
                tower=tower,
                layer=number,
                # Contiguous copies (O(n x d) each): row slicing them later is then cheap.
                q=query.detach().contiguous(),
                k=key.detach().contiguous(),
                mask=None if attention_mask is None else attention_mask.detach(),
                bias=None if bias is None else bias.detach(),
                scaling=kwargs.get("scaling"),
                softcap=kwargs.get("softcap"),
                sliding_window=kwargs.get("sliding_window"),
                # The rule SDPA applies: causal only without a mask and with more than one query.
                is_causal=bool(query.shape[2] > 1 and attention_mask is None and is_causal),
            )
            self.records.append(rec)
        if kwargs.get("softcap") is not None:
            # SDPA cannot soft-cap logits; run the eager formula so the model's output is unchanged.
            out = _softcapped_attention(module, query, key, value, attention_mask, **kwargs)
        else:
            out = sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)
        if rec is not None and self.check:
            n = query.shape[2]
            rows = sorted({0, n // 3, (2 * n) // 3, n - 1})[:CHECK_ROWS]
            rec.v = value.detach()
            rec.check_rows = rows
            rec.check_out = out[0][:, rows].detach().clone()  # (batch, rows, heads, d)
        return out


def _softcapped_attention(module, query, key, value, attention_mask, scaling=None, softcap=None, is_causal=None, **_):
    """Eager soft-capped attention with SDPA's masking rule: without a mask, causal unless the
    layer says otherwise (the mask builder leaves the mask out when causality alone describes it)."""
    import torch

    if is_causal is None:
        is_causal = getattr(module, "is_causal", True)
    if attention_mask is None and is_causal and query.shape[2] > 1:
        n_q, n_k = query.shape[2], key.shape[2]
        attention_mask = torch.ones(n_q, n_k, dtype=torch.bool, device=query.device).tril(n_k - n_q)
    group = query.shape[1] // key.shape[1]
    key = key.repeat_interleave(group, dim=1)
    value = value.repeat_interleave(group, dim=1)
    scaling = scaling if scaling is not None else query.shape[-1] ** -0.5
    s = torch.matmul(query, key.transpose(-1, -2)) * scaling
    s = torch.tanh(s / softcap) * softcap
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            s = s.masked_fill(~attention_mask, float("-inf"))
        else:
            s = s + attention_mask
    p = torch.softmax(s.float(), dim=-1).to(query.dtype)
    return torch.matmul(p, value).transpose(1, 2).contiguous(), None


# The registry holds one function; the active recorder is swapped in for the duration of a call.
_ACTIVE: list[Recorder] = []


def _dispatch(module, query, key, value, attention_mask, *args, **kwargs):
    if not _ACTIVE:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)
    return _ACTIVE[-1](module, query, key, value, attention_mask, *args, **kwargs)


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(CAPTURE_IMPLEMENTATION, _dispatch)
    ALL_MASK_ATTENTION_FUNCTIONS.register(CAPTURE_IMPLEMENTATION, sdpa_mask)


def configs(model) -> list:
    """The model's config and every sub-config that carries an attention implementation."""
    seen, out = set(), []
    for m in model.modules():
        cfg = getattr(m, "config", None)
        if cfg is not None and id(cfg) not in seen and hasattr(cfg, "_attn_implementation"):
            seen.add(id(cfg))
            out.append(cfg)
    return out


@contextlib.contextmanager
def attn_implementation(model, name: str):
    """Switch every config of `model` to attention implementation `name` for the block."""
    cfgs = configs(model)
    saved = [cfg._attn_implementation for cfg in cfgs]
    try:
        for cfg in cfgs:
            cfg._attn_implementation = name
        yield
    finally:
        for cfg, old in zip(cfgs, saved, strict=True):
            cfg._attn_implementation = old


@contextlib.contextmanager
def capturing(model, recorder: Recorder):
    """Run the block with `model` switched to the capture implementation, recording into `recorder`."""
    _register()
    _ACTIVE.append(recorder)
    try:
        with attn_implementation(model, CAPTURE_IMPLEMENTATION):
            yield recorder
    finally:
        _ACTIVE.remove(recorder)


# ---------------------------------------------------------------------------------- weights


class CapturedQK:
    """Captured queries and keys of some layers; computes attention blocks on demand.

    ``shape`` is ``(layers, heads, n_query, n_key)`` for the held layers and heads. `block`
    computes ``softmax(q k^T * scaling [soft-capped] + bias + mask)`` for a range of query rows on
    the device the layer ran on, in float32, and returns numpy. `q_positions` and `k_positions`
    (torch LongTensors, or None for all) are the unpadded positions of the queries and keys.
    """

    def __init__(
        self, layers: list[LayerRecord], head_ids: list[int], batch_index: int, q_positions=None, k_positions=None
    ):
        self.layers = layers
        self.head_ids = list(head_ids)
        self.batch_index = batch_index
        self.q_positions = q_positions
        self.k_positions = k_positions
        first = layers[0]
        n_query = first.q.shape[2] if q_positions is None else len(q_positions)
        n_key = first.k.shape[2] if k_positions is None else len(k_positions)
        self.shape = (len(layers), len(self.head_ids), n_query, n_key)

    def subset(self, layer_idx: Sequence[int], head_idx: Sequence[int]) -> CapturedQK:
        return CapturedQK(
            [self.layers[i] for i in layer_idx],
            [self.head_ids[i] for i in head_idx],
            self.batch_index,
            self.q_positions,
            self.k_positions,
        )

    def _query_rows(self, li: int, start: int, stop: int, device):
        import torch

        if self.q_positions is not None:
            return self.q_positions.to(device)[start:stop]
        return torch.arange(start, stop, device=device) + (self.layers[li].q.shape[2] - self.shape[2])

    def scores(self, li: int, head_idx: Sequence[int] | None, start: int, stop: int):
        """Masked float32 logits ``(heads, stop-start, kmax)`` as a torch tensor, where keys from
        ``kmax`` on are hidden from every row of the block; and the visibility mask."""
        import torch

        rec = self.layers[li]
        q, k = rec.q[self.batch_index], rec.k[self.batch_index]  # (H, n, d), (Hkv, n, d)
        heads = self.head_ids if head_idx is None else [self.head_ids[i] for i in head_idx]
        group = q.shape[0] // k.shape[0]
        scaling = rec.scaling if rec.scaling is not None else 1.0 / math.sqrt(q.shape[-1])
        q_rows = self._query_rows(li, start, stop, q.device)
        k_cols = None if self.k_positions is None else self.k_positions.to(q.device)
        all_heads = heads == list(range(q.shape[0]))
        visible = self.visible(li, q_rows, k_cols, q.device)
        # Keys past the last visible one (the causal future) are skipped: about half the work.
        cols_any = visible.any(dim=0)
        kmax = int(cols_any.nonzero().max()) + 1 if bool(cols_any.any()) else 1
        visible = visible[:, :kmax]
        kv = k[:, :kmax] if k_cols is None else k.index_select(1, k_cols[:kmax])
        kv = kv.float()
        contiguous_rows = self.q_positions is None
        if all_heads:
            qs = q[:, q_rows[0] : q_rows[-1] + 1] if contiguous_rows else q.index_select(1, q_rows)
            # Scale the small query block rather than the large score block.
            qs = (qs.float() * scaling).contiguous()
            # Grouped-query heads are consecutive per kv head: one batched matmul per kv head,
            # without materialising repeated keys.
            n_kv, rows = kv.shape[0], qs.shape[1]
            s = torch.matmul(qs.view(n_kv, group * rows, -1), kv.transpose(-1, -2))
            s = s.view(q.shape[0], rows, kmax)
        else:
            hq = torch.as_tensor(heads, device=q.device)
            qs = q.index_select(0, hq).index_select(1, q_rows).float() * scaling
            kv = kv.index_select(0, torch.div(hq, group, rounding_mode="floor"))
            s = torch.matmul(qs, kv.transpose(-1, -2))
        if rec.softcap is not None:
            s = torch.tanh(s / rec.softcap) * rec.softcap
        for extra in (rec.bias, rec.mask):
            if extra is not None and extra.dtype != torch.bool:
                s += self._additive(extra, heads, q_rows, k_cols, kmax, s.device)
        return s.masked_fill_(~visible.to(s.device), float("-inf")), visible

    def _additive(self, t, heads, q_rows, k_cols, kmax, device):
        """The part of an additive ``(batch, heads or 1, Q, K)`` tensor this block adds: finite
        values where visible (hidden cells are set to -inf through the mask anyway)."""
        import torch

        t = t[self.batch_index if t.shape[0] > 1 else 0]
        if t.shape[0] > 1:
            t = t.index_select(0, torch.as_tensor(heads, device=t.device))
        t = t.index_select(1, q_rows.to(t.device))
        t = t[:, :, :kmax] if k_cols is None else t.index_select(2, k_cols[:kmax].to(t.device))
        t = t.to(device=device, dtype=torch.float32)
        return torch.where(t > torch.finfo(torch.float32).min / 2, t, torch.zeros((), device=device))

    def visible(self, li: int, q_rows, k_cols, device):
        """Bool ``(rows, n_key)``: keys each query row may see in this layer."""
        import torch

        rec = self.layers[li]
        mask = rec.mask
        n_all = rec.k.shape[2]
        if mask is not None:
            m = mask[self.batch_index if mask.shape[0] > 1 else 0]
            if m.dtype != torch.bool:
                m = m > torch.finfo(m.dtype).min / 2
            m = m.any(dim=0) if m.shape[0] > 1 else m[0]  # heads axis: visible to some head
            m = m.expand(rec.q.shape[2], n_all) if m.shape[0] == 1 else m  # (1, K) padding masks
            m = m.index_select(0, q_rows.to(m.device))
            if k_cols is not None:
                m = m.index_select(1, k_cols.to(m.device))
            return m.to(device)
        cols = torch.arange(n_all, device=device) if k_cols is None else k_cols.to(device)
        if not rec.is_causal:
            return torch.ones(len(q_rows), len(cols), dtype=torch.bool, device=device)
        vis = cols[None, :] <= q_rows.to(device)[:, None]
        if rec.sliding_window:
            vis &= cols[None, :] > q_rows.to(device)[:, None] - rec.sliding_window
        return vis

    def empty(self, shape) -> np.ndarray:
        """An uninitialised float32 array for results; torch's allocator maps large blocks far
        faster than numpy's here (huge pages), which dominates at n^2 sizes."""
        import torch

        return torch.empty(tuple(shape), dtype=torch.float32).numpy()

    def block(
        self, li: int, head_idx: Sequence[int] | None, start: int, stop: int, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Probabilities ``(heads, stop-start, n_key)`` float32, written into `out` when given (in
        `out`'s dtype)."""
        import torch

        n_heads = len(self.head_ids) if head_idx is None else len(head_idx)
        if out is None:
            out = self.empty((n_heads, max(0, stop - start), self.shape[3]))
        dst = torch.from_numpy(out)
        with torch.no_grad():
            for s0, s1, p in self._probabilities(li, head_idx, start, stop):
                kmax = p.shape[-1]
                dst[:, s0 - start : s1 - start, :kmax].copy_(p)
                dst[:, s0 - start : s1 - start, kmax:].zero_()
        return out

    def fill(self, li: int, out: np.ndarray) -> None:
        """Write every held head and query row of one layer into `out`, ``(heads, n_query, n_key)``
        of zeros (float32 or float16), leaving alone the cells no row of a block of rows can see.

        Blocks are `FILL_ROWS` rows, so for a causal layer about half of the cells of `out` are
        written. In a freshly mapped zero array (`_arrays.lazy_zeros`) the memory pages that lie
        wholly past the diagonal are then never touched: none while a row fits in one page (4 KiB),
        a quarter of the pages of a 2048-token float32 layer, approaching half for longer inputs.
        """
        import torch

        dst = torch.from_numpy(out)
        with torch.no_grad():
            for s0, s1, p in self._probabilities(li, None, 0, self.shape[2], rows=FILL_ROWS):
                dst[:, s0:s1, : p.shape[-1]].copy_(p)

    def _probabilities(self, li: int, head_idx: Sequence[int] | None, start: int, stop: int, rows: int = 0):
        """``(s0, s1, p)`` per chunk of query rows (`ROW_CHUNK` unless `rows` is given): float32
        probabilities ``(heads, s1-s0, kmax)`` as torch tensors; keys from ``kmax`` on carry no
        weight in any row of the chunk."""
        import torch

        step = rows or ROW_CHUNK
        for s0 in range(start, stop, step):
            s1 = min(stop, s0 + step)
            s, visible = self.scores(li, head_idx, s0, s1)
            # torch's softmax works row by row in cache (max, exponentials and their sum, scaling)
            # instead of four passes over the whole block.
            p = torch.softmax(s, dim=-1)
            if not bool(visible.any(dim=-1).all()):
                # A row with no visible key (impossible once padding is removed, but possible with
                # a user mask) would be NaN; it carries nothing.
                torch.nan_to_num_(p, nan=0.0)
            yield s0, s1, p

    def row_stats(self, li: int, start: int, stop: int, *, plogp: bool = False, sink: Sequence[int] = ()) -> dict:
        """Per-row sums of one layer's probabilities, reduced on the device as each block is made
        (no ``n^2`` array reaches numpy): float64 numpy arrays ``(heads, stop - start)``.

        ``"plogp"``: ``sum_j a_ij ln a_ij``, from the shifted logits ``s`` (row maximum 0) as
        ``sum_j e_ij s_ij / Z - ln Z`` with ``e = exp(s)``, ``Z = sum_j e_ij``: one exponential
        pass and no logarithm of the ``n^2`` block. ``("sink", k)``: ``sum_{j<k} a_ij`` for each
        ``k`` in `sink`. Rows that see no key give 0.

        A whole plain layer (every row, causal or full attention, no bias, mask, soft-cap or
        window: one text's self-attention in most models) goes through `_fused_row_stats`
        instead, which never makes an ``n^2`` block at all.
        """
        import torch

        if start == 0 and stop == self.shape[2]:
            fused = self._fused_row_stats(li, plogp, sink)
            if fused is not None:
                return fused
        lowest = torch.finfo(torch.float32).min
        parts: dict = {"plogp": []} if plogp else {}
        for k in sink:
            parts[("sink", int(k))] = []
        with torch.no_grad():
            for s0 in range(start, stop, ROW_CHUNK):
                s1 = min(stop, s0 + ROW_CHUNK)
                s, _ = self.scores(li, None, s0, s1)
                s.sub_(s.amax(dim=-1, keepdim=True))
                e = torch.exp(s)  # hidden keys: exactly 0
                # Sums over keys in float32 (torch sums pairwise; casting the block to float64
                # would cost more than everything else here), the per-row arithmetic in float64.
                z = e.sum(dim=-1).double()
                if plogp:
                    # Hidden keys hold -inf: a finite stand-in makes their 0 x s exactly 0.
                    es = s.clamp_min_(lowest).mul_(e).sum(dim=-1).double()
                    parts["plogp"].append(torch.nan_to_num(es / z - z.log(), nan=0.0).cpu())
                for k in sink:
                    mass = e[..., : int(k)].sum(dim=-1).double() / z
                    parts[("sink", int(k))].append(torch.nan_to_num(mass, nan=0.0).cpu())
        out: dict = {}
        for key, chunks in parts.items():
            out[key] = torch.cat(chunks, dim=1).numpy() if chunks else np.zeros((self.shape[1], 0))
        return out

    def _fused_row_stats(self, li: int, plogp: bool, sink: Sequence[int]) -> dict | None:
        """`row_stats` of a whole plain layer on CPU from torch's fused attention kernel, or None
        when the layer is not plain (or the kernel is missing).

        With logits ``s_ij = scaling q_i . k_j``, ``ln a_ij = s_ij - L_i`` where ``L_i`` is the
        row's log-sum-exp, so ``sum_j a_ij ln a_ij = scaling q_i . o_i - L_i`` with
        ``o_i = sum_j a_ij k_j``: attention with the keys as values. The kernel returns both
        ``o`` and ``L``, working in cache-sized tiles and skipping the causal future, so the cost
        is about one attention pass of the model. It runs in float64: the difference of two
        numbers of the logits' size keeps 1e-6 of the entropy. Sink mass is
        ``exp(logsumexp_{j<k} s_ij - L_i)`` from the first ``k`` columns of logits alone.
        """
        import torch

        rec = self.layers[li]
        kernel: Any = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
        n_q, n_k = self.shape[2], self.shape[3]
        plain = (
            kernel is not None
            and rec.q.device.type == "cpu"
            and rec.mask is None
            and rec.bias is None
            and rec.softcap is None
            and not rec.sliding_window
            and self.q_positions is None
            and self.k_positions is None
            and (n_q == n_k or not rec.is_causal)
        )
        if not plain:
            return None
        q, k = rec.q[self.batch_index], rec.k[self.batch_index]  # (H, n, d), (Hkv, n, d)
        group = q.shape[0] // k.shape[0]
        heads = torch.as_tensor(self.head_ids, device=q.device)
        q = q.index_select(0, heads).double()
        k = k.index_select(0, torch.div(heads, group, rounding_mode="floor")).double()
        scaling = rec.scaling if rec.scaling is not None else 1.0 / math.sqrt(q.shape[-1])
        causal = bool(rec.is_causal)
        out: dict = {}
        with torch.no_grad():
            try:
                o, lse = kernel(q[None], k[None], k[None], 0.0, causal, scale=scaling)
            except RuntimeError:  # a build whose kernel refuses these inputs: the block path
                return None
            lse = lse[0]  # (heads, n)
            if plogp:
                out["plogp"] = ((q * o[0]).sum(dim=-1) * scaling - lse).cpu().numpy()
            for kk in sink:
                cols = min(int(kk), n_k)
                first = torch.matmul(q, k[:, :cols].transpose(-1, -2)) * scaling  # (heads, n, cols)
                if causal:
                    hidden = torch.arange(cols)[None, :] > torch.arange(n_q)[:, None]
                    first = first.masked_fill(hidden, float("-inf"))
                mass = torch.exp(torch.logsumexp(first, dim=-1) - lse) if cols > 0 else torch.zeros_like(lse)
                out[("sink", int(kk))] = mass.cpu().numpy()
        return out

    def export_qk(self) -> dict[str, np.ndarray]:
        """Queries, keys and per-layer facts as numpy arrays, for ``Attention.save(lazy=True)``.

        Only what `attention.QKSource` can recompute exactly: no additive bias or float mask, and
        each layer's visible keys equal to the union mask cut to the layer's sliding window.
        """
        import torch

        from attnwidget.errors import AttentionError

        for rec in self.layers:
            if rec.bias is not None or (rec.mask is not None and rec.mask.dtype != torch.bool):
                raise AttentionError(
                    "this model adds a position bias or float mask to its logits, which a lazy "
                    "file cannot hold; save(path) stores the weights"
                )
        union = torch.from_numpy(self.mask())
        n_q, n_k = self.shape[2:]
        qs, ks, scaling, softcap, window = [], [], [], [], []
        for li, rec in enumerate(self.layers):
            device = rec.q.device
            vis = self.visible(li, self._query_rows(li, 0, n_q, device), self.k_positions, device).cpu()
            win = int(rec.sliding_window or 0)
            expect = union.clone()
            if win:
                rows = torch.arange(n_q)[:, None] + (n_k - n_q)
                expect &= torch.arange(n_k)[None, :] > rows - win
            if not torch.equal(vis, expect):
                raise AttentionError(
                    f"layer {li}'s mask differs from the others beyond a sliding window; save(path) stores the weights"
                )
            q, k = rec.q[self.batch_index], rec.k[self.batch_index]
            if self.q_positions is not None:
                q = q.index_select(1, self.q_positions.to(q.device))
            if self.k_positions is not None:
                k = k.index_select(1, self.k_positions.to(k.device))
            q = q.index_select(0, torch.as_tensor(self.head_ids, device=q.device))
            qs.append(q.float().cpu().numpy())
            ks.append(k.float().cpu().numpy())
            scaling.append(rec.scaling if rec.scaling is not None else 1.0 / math.sqrt(q.shape[-1]))
            softcap.append(np.nan if rec.softcap is None else float(rec.softcap))
            window.append(win)
        group = self.layers[0].q.shape[1] // self.layers[0].k.shape[1]
        return {
            "queries": np.stack(qs),
            "keys": np.stack(ks),
            "kv_index": np.array([h // group for h in self.head_ids], dtype=np.int64),
            "scaling": np.array(scaling, dtype=np.float64),
            "softcap": np.array(softcap, dtype=np.float64),
            "window": np.array(window, dtype=np.int64),
        }

    def mask(self) -> np.ndarray:
        """Visible-key mask ``(n_query, n_key)``: keys visible in any held layer.

        Layers differ when some use a sliding window (Gemma-2, Mistral variants); the union keeps
        every key a layer may attend to, so no layer's weight falls on a "hidden" key.
        """
        union = None
        for li in range(len(self.layers)):
            device = self.layers[li].q.device
            q_rows = self._query_rows(li, 0, self.shape[2], device)
            m = self.visible(li, q_rows, self.k_positions, device).cpu()
            union = m if union is None else union | m
            if li == 0 and self.layers[li].mask is None and not self.layers[li].sliding_window:
                break  # plain causal or full attention: every layer sees the same keys
        assert union is not None
        return union.numpy()


def module_names(model: Any) -> dict[int, str]:
    """``id(module) -> qualified name`` for every submodule of `model`."""
    return {id(m): name for name, m in model.named_modules()}
