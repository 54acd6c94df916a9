"""Getting attention out of a model: model + text -> `Attention`.

Three paths, tried in this order by `extract(method="auto")`:

* ``"capture"``: the model keeps its fast SDPA attention. For one forward pass we register an
  attention function in transformers' ``AttentionInterface`` that records each layer's post-RoPE
  queries and keys (and the mask, scaling and soft-cap the layer passes), then hands over to SDPA.
  Probabilities ``softmax(q k^T * scaling + mask)`` are computed afterwards, in chunks of query
  rows, only for the layers and heads asked for. Captured memory is O(layers x heads x n x d).
* ``"eager"``: ``output_attentions=True`` with the eager implementation switched on for the call.
* ``"hooks"``: forward hooks on any ``torch.nn.Module`` whose output carries attention weights
  (``torch.nn.MultiheadAttention`` by default), for models outside transformers (`extract_hooks`).
"""

from __future__ import annotations

from ._optional import require_models

import contextlib
import math
from typing import Any, Callable, Sequence

import numpy as np

from .attention import Attention, AttentionError

__all__ = ["extract", "extract_hooks", "generate", "generation_step_row", "readable_tokens",
           "CAPTURE_IMPLEMENTATION", "ModelError"]

CAPTURE_IMPLEMENTATION = "attnwidget_capture"

# Query rows per softmax block: big enough for BLAS, small enough that a block of scores stays in
# cache-sized memory at long lengths (heads x rows x n x 4 bytes).
ROW_CHUNK = 512


class ModelError(ValueError):
    """The model cannot give attention for this input (no attention exposed, input too long...)."""


# ---------------------------------------------------------------------------------- tokens

def _byte_level_alphabet() -> dict[str, int]:
    """Byte-level BPE's reversible map from printable characters back to bytes (GPT-2 scheme:
    printable Latin-1 bytes stand for themselves, the rest are shifted past U+0100)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = {b: chr(b) for b in keep}
    shift = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + shift)
            shift += 1
    return {c: b for b, c in chars.items()}


_BYTE_OF = _byte_level_alphabet()


def _token_bytes(tok: str) -> bytes | None:
    """The bytes a byte-level BPE token stands for, or None if it is not byte-level text."""
    if tok and all(c in _BYTE_OF for c in tok):
        return bytes(_BYTE_OF[c] for c in tok)
    return None


def _split_characters(raw: list[str], texts: list[str]) -> list[str]:
    """Name tokens that hold part of a multi-byte character (common for CJK in byte-level BPE).

    A run of such tokens that together decode to text gets that text with its part number, e.g.
    '北[1/2]', '北[2/2]'; a run that never completes shows its bytes as escapes.
    """
    out = list(texts)
    i = 0
    while i < len(raw):
        if "\ufffd" not in texts[i] or _token_bytes(raw[i]) is None:
            i += 1
            continue
        j, buf = i, b""
        while j < len(raw) and _token_bytes(raw[j]) is not None:
            buf += _token_bytes(raw[j])
            j += 1
            try:
                whole = buf.decode("utf-8")
                break
            except UnicodeDecodeError:
                whole = None
        if whole is None:
            for k in range(i, j):
                out[k] = _token_bytes(raw[k]).decode("utf-8", errors="backslashreplace")
        else:
            m = j - i
            for k in range(i, j):
                out[k] = f"{whole}[{k - i + 1}/{m}]" if m > 1 else whole
        i = j
    return out


def readable_tokens(tokenizer: Any, ids: Sequence[int]) -> list[str]:
    """One readable string per token id: byte-level markers ('Ġ', 'Ċ', '▁') become the spaces and
    newlines they stand for, WordPiece's '##' continuation prefix is dropped, and tokens holding
    part of a multi-byte character are named by that character and their part ('北[1/2]').

    Special tokens keep their literal text (``<|im_start|>``, ``[CLS]``).
    """
    raw = tokenizer.convert_ids_to_tokens(list(ids))
    raw = ["" if tok is None else tok for tok in raw]
    special = set(getattr(tokenizer, "all_special_tokens", []) or [])
    texts = []
    for tok in raw:
        if tok in special:
            texts.append(tok)
            continue
        try:
            text = tokenizer.convert_tokens_to_string([tok])
        except Exception:  # some slow tokenizers refuse single tokens
            text = tok
        if tok.startswith("##") and text.startswith("##"):
            text = text[2:]
        # A token that starts a word decodes with its leading space stripped by some tokenizers;
        # keep it so the reader sees word boundaries.
        if tok[:1] in ("Ġ", "▁") and not text.startswith(" "):
            text = " " + text
        texts.append(text if text else tok)
    return _split_characters(raw, texts)


# ---------------------------------------------------------------------------------- capture


class _Capture:
    """Per-forward record of what each attention call received."""

    def __init__(self, keep: Callable[[int], bool]):
        self.keep = keep
        self.calls = 0
        self.layers: dict[int, dict] = {}

    def __call__(self, module, query, key, value, attention_mask, *args, **kwargs):
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        index = self.calls
        self.calls += 1
        if self.keep(index):
            is_causal = kwargs.get("is_causal")
            if is_causal is None:
                is_causal = getattr(module, "is_causal", True)
            self.layers[index] = {
                # Contiguous copies (O(n x d) each): row slicing them later is then cheap.
                "q": query.detach().contiguous(),
                "k": key.detach().contiguous(),
                "mask": None if attention_mask is None else attention_mask.detach(),
                "scaling": kwargs.get("scaling"),
                "softcap": kwargs.get("softcap"),
                "sliding_window": kwargs.get("sliding_window"),
                "is_causal": bool(is_causal),
                "module": type(module).__name__,
            }
        if kwargs.get("softcap") is not None:
            # SDPA cannot soft-cap logits; run the eager formula so the model's output is unchanged.
            return _softcapped_attention(module, query, key, value, attention_mask, **kwargs)
        return sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)


def _softcapped_attention(module, query, key, value, attention_mask, scaling=None, softcap=None, **_):
    import torch

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


def _register_capture() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(CAPTURE_IMPLEMENTATION, _dispatch)
    ALL_MASK_ATTENTION_FUNCTIONS.register(CAPTURE_IMPLEMENTATION, sdpa_mask)


# The registry holds one function; the active capture is swapped in for the duration of a call.
_ACTIVE: list[_Capture] = []


def _dispatch(module, query, key, value, attention_mask, *args, **kwargs):
    if not _ACTIVE:
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward(module, query, key, value, attention_mask, *args, **kwargs)
    return _ACTIVE[-1](module, query, key, value, attention_mask, *args, **kwargs)


def _configs(model) -> list:
    """The model's config and every sub-config that carries an attention implementation."""
    seen, out = set(), []
    for m in model.modules():
        cfg = getattr(m, "config", None)
        if cfg is not None and id(cfg) not in seen and hasattr(cfg, "_attn_implementation"):
            seen.add(id(cfg))
            out.append(cfg)
    return out


@contextlib.contextmanager
def _attn_implementation(model, name: str):
    """Switch every config of `model` to attention implementation `name` for the block."""
    configs = _configs(model)
    saved = [cfg._attn_implementation for cfg in configs]
    try:
        for cfg in configs:
            cfg._attn_implementation = name
        yield
    finally:
        for cfg, old in zip(configs, saved):
            cfg._attn_implementation = old


class CapturedQK:
    """Captured queries and keys of some layers; computes attention blocks on demand.

    ``shape`` is ``(layers, heads, n_query, n_key)`` for the held layers and heads. `block`
    computes ``softmax(q k^T * scaling [soft-capped] + mask)`` for a range of query rows on the
    device the layer ran on, in float32, and returns numpy.
    """

    def __init__(self, layers: list[dict], head_ids: list[int], batch_index: int, keep_positions):
        self.layers = layers
        self.head_ids = list(head_ids)
        self.batch_index = batch_index
        self.positions = keep_positions  # torch LongTensor of unpadded positions, or None
        first = layers[0]
        n_key = first["k"].shape[2] if keep_positions is None else len(keep_positions)
        n_query = first["q"].shape[2] if keep_positions is None else len(keep_positions)
        self.shape = (len(layers), len(self.head_ids), n_query, n_key)

    def subset(self, layer_idx: Sequence[int], head_idx: Sequence[int]) -> "CapturedQK":
        return CapturedQK([self.layers[i] for i in layer_idx], [self.head_ids[i] for i in head_idx],
                          self.batch_index, self.positions)

    def scores(self, li: int, head_idx: Sequence[int] | None, start: int, stop: int):
        """Masked float32 logits ``(heads, stop-start, kmax)`` as a torch tensor, where keys from
        ``kmax`` on are hidden from every row of the block; and the visibility mask."""
        import torch

        rec = self.layers[li]
        q, k = rec["q"][self.batch_index], rec["k"][self.batch_index]  # (H, n, d), (Hkv, n, d)
        heads = self.head_ids if head_idx is None else [self.head_ids[i] for i in head_idx]
        group = q.shape[0] // k.shape[0]
        scaling = rec["scaling"] if rec["scaling"] is not None else 1.0 / math.sqrt(q.shape[-1])
        pos = self.positions
        if pos is not None:
            pos = pos.to(q.device)
            q_rows = pos[start:stop]
            k_cols = pos
        else:
            q_rows = torch.arange(start, stop, device=q.device) + (q.shape[1] - self.shape[2])
            k_cols = None
        all_heads = heads == list(range(q.shape[0]))
        visible = self.visible(li, q_rows, k_cols, q.device)
        # Keys past the last visible one (the causal future) are skipped: about half the work.
        cols_any = visible.any(dim=0)
        kmax = int(cols_any.nonzero().max()) + 1 if bool(cols_any.any()) else 1
        visible = visible[:, :kmax]
        kv = k[:, :kmax] if k_cols is None else k.index_select(1, k_cols[:kmax])
        kv = kv.float()
        if all_heads:
            qs = q[:, q_rows[0]:q_rows[-1] + 1] if pos is None else q.index_select(1, q_rows)
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
        if rec["softcap"] is not None:
            s = torch.tanh(s / rec["softcap"]) * rec["softcap"]
        return s.masked_fill_(~visible.to(s.device), float("-inf")), visible

    def visible(self, li: int, q_rows, k_cols, device):
        """Bool ``(rows, n_key)``: keys each query row may see in this layer."""
        import torch

        rec = self.layers[li]
        mask = rec["mask"]
        n_all = rec["k"].shape[2]
        if mask is not None:
            m = mask[self.batch_index if mask.shape[0] > 1 else 0]
            m = m[0] if m.shape[0] == 1 else m  # heads axis broadcast
            m = m.index_select(0, q_rows.to(m.device))
            if k_cols is not None:
                m = m.index_select(1, k_cols.to(m.device))
            if m.dtype != torch.bool:
                m = m > torch.finfo(m.dtype).min / 2
            return m.to(device)
        cols = torch.arange(n_all, device=device) if k_cols is None else k_cols.to(device)
        if not rec["is_causal"] or rec["q"].shape[2] == 1:
            return torch.ones(len(q_rows), len(cols), dtype=torch.bool, device=device)
        vis = cols[None, :] <= q_rows.to(device)[:, None]
        if rec["sliding_window"]:
            vis &= cols[None, :] > q_rows.to(device)[:, None] - rec["sliding_window"]
        return vis

    def empty(self, shape) -> np.ndarray:
        """An uninitialised float32 array for results; torch's allocator maps large blocks far
        faster than numpy's here (huge pages), which dominates at n^2 sizes."""
        import torch

        return torch.empty(tuple(shape), dtype=torch.float32).numpy()

    def block(self, li: int, head_idx: Sequence[int] | None, start: int, stop: int,
              out: np.ndarray | None = None) -> np.ndarray:
        """Probabilities ``(heads, stop-start, n_key)`` float32, written into `out` when given."""
        import torch

        n_heads = len(self.head_ids) if head_idx is None else len(head_idx)
        if out is None:
            out = self.empty((n_heads, max(0, stop - start), self.shape[3]))
        dst = torch.from_numpy(out)
        with torch.no_grad():
            for s0 in range(start, stop, ROW_CHUNK):
                s1 = min(stop, s0 + ROW_CHUNK)
                s, _ = self.scores(li, head_idx, s0, s1)
                kmax = s.shape[-1]
                # In-place softmax: one buffer per block. Rows with no visible key (impossible once
                # padding is removed, but possible with a user mask) would be NaN; they carry nothing.
                s.sub_(s.amax(dim=-1, keepdim=True)).exp_()
                s.div_(s.sum(dim=-1, keepdim=True))
                torch.nan_to_num_(s, nan=0.0)
                dst[:, s0 - start:s1 - start, :kmax].copy_(s)
                dst[:, s0 - start:s1 - start, kmax:].zero_()
        return out

    def mask(self) -> np.ndarray:
        """Visible-key mask ``(n_query, n_key)``: keys visible in any held layer.

        Layers differ when some use a sliding window (Gemma-2, Mistral variants); the union keeps
        every key a layer may attend to, so no layer's weight falls on a "hidden" key.
        """
        import torch

        union = None
        for li in range(len(self.layers)):
            device = self.layers[li]["q"].device
            n_q = self.shape[2]
            if self.positions is not None:
                q_rows = self.positions.to(device)
            else:
                q_rows = torch.arange(n_q, device=device) + (self.layers[li]["q"].shape[2] - n_q)
            m = self.visible(li, q_rows, self.positions, device).cpu()
            union = m if union is None else union | m
            if li == 0 and self.layers[li]["mask"] is None and not self.layers[li]["sliding_window"]:
                break  # plain causal or full attention: every layer sees the same keys
        return union.numpy()


# ---------------------------------------------------------------------------------- extract


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


def _check_selection(name: str, sel, limit: int | None) -> list[int] | None:
    if sel is None:
        return None
    if isinstance(sel, int):
        sel = [sel]
    out = []
    for i in sel:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"{name} must be a list of ints; got {sel!r}")
        i = int(i)
        if limit is not None:
            if i < 0:
                i += limit
            if not 0 <= i < limit:
                raise IndexError(f"{name[:-1]} {i} out of range: the model has {limit} {name}")
        out.append(i)
    if not out:
        raise ValueError(f"{name} is empty; pass None for all {name}")
    return sorted(set(out))


def _encode(tokenizer, texts, text_pair, messages, add_special_tokens, max_positions):
    """Tokenize one text or a batch (padded), exactly as ``tokenizer(text)`` does."""
    if messages is not None:
        if texts is not None:
            raise ValueError("pass either text or messages, not both")
        if not messages:
            raise ValueError("messages is empty; expected a list of {'role': ..., 'content': ...}")
        texts = [tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)]
        add_special_tokens = False  # the template already holds them
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"text must be a str (or a list of str); got {type(t).__name__}")
        if not t.strip():
            raise ValueError("text is empty; attention needs at least one token")
    pairs = None
    if text_pair is not None:
        pairs = [text_pair] if isinstance(text_pair, str) else list(text_pair)
        if len(pairs) != len(texts):
            raise ValueError(f"got {len(pairs)} text_pair entries for {len(texts)} texts")
    kwargs: dict = {"add_special_tokens": add_special_tokens, "return_tensors": "pt"}
    if len(texts) > 1:
        if tokenizer.pad_token is None:
            raise ValueError("batching needs a tokenizer with a pad token (set tokenizer.pad_token)")
        kwargs["padding"] = True
    if getattr(tokenizer, "is_fast", False):
        kwargs["return_offsets_mapping"] = True
    enc = tokenizer(texts, pairs, **kwargs) if pairs is not None else tokenizer(texts, **kwargs)
    if "attention_mask" not in enc:
        enc["attention_mask"] = enc["input_ids"].new_ones(enc["input_ids"].shape)
    lengths = enc["attention_mask"].sum(1).tolist()
    if min(lengths) == 0:
        raise ValueError("the tokenizer produced no tokens for a text")
    if max_positions is not None and enc["input_ids"].shape[1] > max_positions:
        raise ModelError(
            f"the text is {max(lengths)} tokens long; the model accepts at most {max_positions} "
            "positions (shorten the text)"
        )
    return texts, enc


def extract(
    model: Any,
    tokenizer: Any,
    text: str | Sequence[str] | None = None,
    *,
    text_pair: str | Sequence[str] | None = None,
    messages: list[dict] | None = None,
    layers: Sequence[int] | int | None = None,
    heads: Sequence[int] | int | None = None,
    method: str = "auto",
    lazy: bool = False,
    add_special_tokens: bool = True,
    measure: str = "weight",
) -> Attention | list[Attention]:
    """Run `model` on `text` and return its attention.

    Parameters
    ----------
    model, tokenizer
        A Hugging Face model and its tokenizer (`load_model` gives both).
    text : str or list of str
        The input, tokenized exactly as ``tokenizer(text)`` does. A list runs as one padded batch
        and returns a list of `Attention`, each with its padding removed.
    text_pair : str or list of str, optional
        Second segment for encoders (``[CLS] text [SEP] text_pair [SEP]``).
    messages : list of dict, optional
        Chat messages rendered with the tokenizer's chat template (instead of `text`).
    layers, heads : list of int, optional
        Model layer and head numbers to keep (default all). Only these are computed.
    method : {"auto", "capture", "eager"}
        ``"capture"`` keeps SDPA and recomputes probabilities from captured q/k; ``"eager"`` runs
        ``output_attentions=True`` under the eager implementation. ``"auto"`` tries capture first.
    lazy : bool
        Return an `Attention` that keeps the captured q/k and computes maps on demand.
    measure : {"weight", "norm"}
        ``"norm"`` gives value-weighted maps ``||alpha_ij f_h(x_j)||``, rows normalised (see
        `attnwidget.norms`); one more forward pass records the value vectors.

    Raises
    ------
    ValueError
        Empty text, text longer than the model's position limit, bad layer/head numbers.
    ModelError
        The model exposes no attention by any path.
    """
    require_models("aw.extract")
    if method not in ("auto", "capture", "eager"):
        raise ValueError(f"method must be 'auto', 'capture' or 'eager'; got {method!r}")
    if lazy and method == "eager":
        raise ValueError("lazy=True needs method='capture' (eager attention is materialised by the model)")
    if measure not in ("weight", "norm"):
        raise ValueError(f"measure must be 'weight' or 'norm'; got {measure!r}")
    batched = isinstance(text, (list, tuple))
    if batched and not text:
        raise ValueError("text is an empty list; pass at least one text")
    texts = list(text) if batched else (None if text is None else [text])
    n_layers, n_heads, n_kv = _num_layers_heads(model)
    layer_sel = _check_selection("layers", layers, n_layers)
    head_sel = _check_selection("heads", heads, n_heads)
    texts, enc = _encode(tokenizer, texts, text_pair, messages, add_special_tokens, _model_position_limit(model))
    offsets = enc.pop("offset_mapping", None)
    device = _input_device(model)
    inputs = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    special_ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    meta = _model_meta(model)

    def per_text(b):
        """Token facts for batch row b, padding removed, and the kept positions."""
        keep = enc["attention_mask"][b].bool()
        ids = enc["input_ids"][b][keep].tolist()
        return keep, dict(
            tokens=readable_tokens(tokenizer, ids),
            token_ids=ids,
            offsets=None if offsets is None else [tuple(o) for o in offsets[b][keep].tolist()],
            special=[i in special_ids for i in ids],
            text=texts[b],
            num_kv_heads=n_kv,
            total_heads=n_heads,
        )

    results = None
    if method in ("auto", "capture"):
        results = _capture_forward(model, inputs, layer_sel, head_sel, per_text, meta, lazy)
        if results is None and method == "capture":
            raise ModelError(
                f"{type(model).__name__} does not route attention through transformers' "
                "AttentionInterface, so it cannot be captured; use method='eager'"
            )
    if results is None:
        results = _eager_forward(model, inputs, layer_sel, head_sel, per_text, meta)
    if measure == "norm":
        from .norms import apply_value_norms

        results = apply_value_norms(model, inputs, results)
    return results if batched else results[0]


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


def _capture_forward(model, inputs, layer_sel, head_sel, per_text, meta, lazy) -> list[Attention] | None:
    import torch

    if not _configs(model):
        return None
    _register_capture()
    keep = (lambda i: True) if layer_sel is None else (lambda i, s=set(layer_sel): i in s)
    cap = _Capture(keep)
    _ACTIVE.append(cap)
    try:
        with torch.no_grad(), _attn_implementation(model, CAPTURE_IMPLEMENTATION):
            model(**inputs, use_cache=False) if _accepts_use_cache(model) else model(**inputs)
    finally:
        _ACTIVE.remove(cap)
    if cap.calls == 0:
        return None
    if layer_sel is not None:
        missing = [i for i in layer_sel if i not in cap.layers]
        if missing:
            raise IndexError(f"layers {missing} out of range: the model ran {cap.calls} attention layers")
    layers = [cap.layers[i] for i in sorted(cap.layers)]
    lids = sorted(cap.layers)
    n_heads = layers[0]["q"].shape[1]
    out = []
    for b in range(inputs["input_ids"].shape[0]):
        keep_b, facts = per_text(b)
        positions = None if bool(keep_b.all()) else torch.nonzero(keep_b, as_tuple=False).flatten()
        source = CapturedQK(layers, list(range(n_heads)), b, positions)
        if head_sel is not None:
            source = source.subset(range(len(layers)), head_sel)
        att = Attention(None, mask=source.mask(), layer_ids=lids, head_ids=source.head_ids, _source=source,
                        meta=dict(meta, method="capture"), **facts)
        out.append(att if lazy else att.materialize(max_bytes=2**62))
    return out


def _accepts_use_cache(model) -> bool:
    import inspect

    try:
        return "use_cache" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def _eager_forward(model, inputs, layer_sel, head_sel, per_text, meta) -> list[Attention]:
    import torch

    ctx = _attn_implementation(model, "eager") if _configs(model) else contextlib.nullcontext()
    with torch.no_grad(), ctx:
        try:
            out = model(**inputs, output_attentions=True)
        except TypeError as e:
            raise ModelError(f"{type(model).__name__} does not accept output_attentions: {e}") from e
    atts = getattr(out, "attentions", None)
    if atts is None and isinstance(out, dict):
        atts = out.get("attentions")
    if not atts or any(a is None for a in atts):
        raise ModelError(
            f"{type(model).__name__} returned no attention weights (neither through the "
            "AttentionInterface nor output_attentions=True); for a plain torch module use "
            "aw.extract_hooks"
        )
    lids = layer_sel if layer_sel is not None else list(range(len(atts)))
    if max(lids) >= len(atts):
        raise IndexError(f"layer {max(lids)} out of range: the model returned {len(atts)} layers")
    hids = head_sel if head_sel is not None else list(range(atts[0].shape[1]))
    results = []
    for b in range(inputs["input_ids"].shape[0]):
        keep_b, facts = per_text(b)
        keep = keep_b.cpu().numpy()
        w = torch.stack([atts[i][b].float().cpu() for i in lids]).numpy()[:, hids]
        w = w[:, :, keep][:, :, :, keep]
        results.append(Attention(w, mask=None, layer_ids=lids, head_ids=hids,
                                 meta=dict(meta, method="eager"), **facts))
    return results


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
    require_models("aw.extract_hooks")
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
            w = weights_from(output) if weights_from is not None else (
                output[1] if isinstance(output, tuple) and len(output) > 1 else None)
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
        raise ModelError(
            f"attention modules {missing} were not called or returned no weights; check `run` and "
            "`modules` (a module must return (output, weights))"
        )
    layers = []
    for i in range(len(modules)):
        w = records[i]
        if w.ndim == 3:  # (batch, Q, K) averaged weights: one head
            w = w[:, None]
        if w.ndim != 4:
            raise AttentionError(f"module {i} returned weights of shape {tuple(w.shape)}; expected (batch, heads, Q, K)")
        layers.append(w[0].numpy())
    return Attention(np.stack(layers), tokens, mask, meta={"model": type(module).__name__, "method": "hooks"})


# ---------------------------------------------------------------------------------- generation


def generate(
    model: Any,
    tokenizer: Any,
    prompt: str | None = None,
    *,
    messages: list[dict] | None = None,
    max_new_tokens: int = 20,
    layers: Sequence[int] | int | None = None,
    heads: Sequence[int] | int | None = None,
    lazy: bool | None = None,
    **generate_kwargs: Any,
) -> Attention:
    """Generate from `prompt` (or chat `messages`) and return the attention of every token.

    The model generates with its KV cache as usual; then one capture pass over the whole sequence
    records every position's attention. For a causal decoder the row of position ``t`` in that pass
    is exactly the attention the model computed at step ``t`` with its cache (each step's query
    sees the same cached keys), which the tests check against a step-by-step eager run.

    The result covers the prompt and all generated tokens. ``att.generated[i]`` is True for query
    rows whose token was generated; ``att.meta["prompt_length"]`` is the number of prompt tokens.
    Step ``s`` (0-based) produced token ``prompt_length + s`` while reading row
    ``prompt_length - 1 + s`` (`generation_step_row`).

    Parameters
    ----------
    max_new_tokens : int
        At most this many tokens are generated (fewer if the model ends the sequence).
    lazy : bool, optional
        Keep q/k and compute maps on demand. Default: lazy when the full weights would exceed 1 GiB.
    generate_kwargs
        Passed to ``model.generate`` (``do_sample``, ``temperature``...). Greedy by default.
    """
    require_models("aw.generate")
    import torch

    if not hasattr(model, "generate"):
        raise ModelError(f"{type(model).__name__} cannot generate (no .generate method); use aw.extract")
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a positive int; got {max_new_tokens!r}")
    add_special = messages is None
    limit = _model_position_limit(model)
    texts, enc = _encode(tokenizer, None if prompt is None else [prompt], None, messages, add_special, limit)
    n_prompt = enc["input_ids"].shape[1]
    if limit is not None and n_prompt + max_new_tokens > limit:
        raise ModelError(
            f"prompt ({n_prompt} tokens) + max_new_tokens ({max_new_tokens}) exceeds the model's "
            f"{limit} positions"
        )
    device = _input_device(model)
    gen_kwargs = {"do_sample": False, "max_new_tokens": max_new_tokens}
    if tokenizer.pad_token_id is not None:
        gen_kwargs["pad_token_id"] = tokenizer.pad_token_id
    gen_kwargs.update(generate_kwargs)
    with torch.no_grad():
        seq = model.generate(input_ids=enc["input_ids"].to(device),
                             attention_mask=enc["attention_mask"].to(device), **gen_kwargs)
    ids = seq[0].tolist()
    n_total = len(ids)
    prompt_text = texts[0]
    generated_text = tokenizer.decode(ids[n_prompt:], skip_special_tokens=False)
    n_layers, n_heads, n_kv = _num_layers_heads(model)
    layer_sel = _check_selection("layers", layers, n_layers)
    head_sel = _check_selection("heads", heads, n_heads)
    inputs = {"input_ids": seq[:, :n_total], "attention_mask": torch.ones_like(seq)}
    special_ids = set(getattr(tokenizer, "all_special_ids", []) or [])

    def per_text(b):
        return torch.ones(n_total, dtype=torch.bool), dict(
            tokens=readable_tokens(tokenizer, ids), token_ids=ids,
            special=[i in special_ids for i in ids], text=prompt_text + generated_text,
            num_kv_heads=n_kv, total_heads=n_heads,
            generated=[i >= n_prompt for i in range(n_total)],
        )

    meta = dict(_model_meta(model), prompt_length=n_prompt, generated_text=generated_text)
    if lazy is None:
        L = len(layer_sel) if layer_sel is not None else (n_layers or 1)
        H = len(head_sel) if head_sel is not None else (n_heads or 1)
        lazy = L * H * n_total * n_total * 4 > 2**30
    out = _capture_forward(model, inputs, layer_sel, head_sel, per_text, meta, lazy)
    if out is None:
        raise ModelError(f"{type(model).__name__} does not route attention through the AttentionInterface")
    return out[0]


def generation_step_row(att: Attention, step: int) -> int:
    """The query row whose attention produced generated token number `step` (0-based)."""
    n_prompt = att.meta.get("prompt_length")
    if n_prompt is None:
        raise ValueError("this attention did not come from aw.generate")
    n_steps = att.n_key - n_prompt
    if not 0 <= step < n_steps:
        raise IndexError(f"step {step} out of range: {n_steps} tokens were generated")
    return n_prompt - 1 + step
