"""Head effects: which attention heads matter for the model's answer, measured by ablating them.

Owns `head_effects` and its result `HeadEffects`. A head's effect is the change in the teacher-forced
log-probability of a target continuation when that head's output is removed: evidence about the
answer, where an attention share is only evidence about where a head looks.

A head's output is its slice of the input of the layer's attention output projection (``o_proj`` for
Llama, Mistral and Qwen-like models, ``c_proj`` for GPT-2, ``attention.output.dense`` for BERT): the
heads' outputs sit side by side there, ``num_attention_heads`` slices of ``head_dim`` (grouped-query
models too: one slice per query head). Ablating sets that slice to zero, or to its mean over the
prompt's positions in the clean run, at every position.

The exact effects run the model in batches, one ablated (layer, head) per batch row: a forward pre-hook
on each output projection multiplies the rows that ablate that layer by a per-row head mask. Layers
below the lowest ablated one give their clean output, recorded once, instead of running again.
``method="attribution"`` is the first-order estimate instead (one forward and one backward pass).
torch is imported inside the functions that need it.
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget.analysis.table import Table
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError, ModelError

__all__ = ["HeadEffects", "head_effects", "OUTPUT_PROJECTIONS"]

# Module-name endings of a layer's attention output projection, whose input holds the heads' outputs
# side by side. Each pattern must match once per layer: the MLP's ``mlp.c_proj`` (GPT-2) and BERT's
# ``output.dense`` after the MLP are other modules that the longer endings keep out.
OUTPUT_PROJECTIONS = (
    "self_attn.o_proj",  # Llama, Mistral, Qwen, Gemma, Phi-3
    "attn.c_proj",  # GPT-2
    "attention.output.dense",  # BERT, RoBERTa
    "attention.dense",  # GPT-NeoX, Pythia
    "self_attention.dense",  # Falcon, BLOOM
    "attention.out_proj",  # GPT-Neo
    "self_attn.out_proj",  # OPT
    "self_attn.dense",  # Phi
)

ABLATIONS = ("zero", "mean")
METHODS = ("exact", "attribution")


class HeadEffects:
    """`head_effects`' result: how much each head's output matters for the target's log-probability.

    Attributes
    ----------
    delta : numpy.ndarray
        Float array ``(len(layers), len(heads))``: ``log P(target | head ablated) - log P(target | clean)``
        in nats; ``delta[i, j]`` is layer ``layers[i]``, head ``heads[j]``. Negative: the head helps
        the target; positive: it works against it.
    clean : float
        ``log P(target | prompt)`` without ablation: the sum over the target's tokens of their
        log-probabilities given the prompt and the target tokens before them (teacher-forced).
    layers, heads : list of int
        The layers and (query) heads measured.
    ablation : str
        ``"zero"`` or ``"mean"``.
    method : str
        ``"exact"`` (one ablated forward pass per head) or ``"attribution"`` (first-order estimate).
    target : str
        The target as text (its token ids decoded).
    target_ids : list of int
        The target's token ids.
    target_tokens : list of str
        The target's tokens as text.
    """

    def __init__(
        self,
        delta: np.ndarray,
        clean: float,
        layers: list[int],
        heads: list[int],
        ablation: str,
        method: str,
        target_ids: list[int],
        target_tokens: list[str],
        target: str = "",
    ):
        self.delta, self.clean = delta, clean
        self.layers, self.heads = layers, heads
        self.ablation, self.method = ablation, method
        self.target_ids, self.target_tokens = target_ids, target_tokens
        self.target = target or "".join(target_tokens)

    @property
    def table(self) -> Table:
        """One row per head (layer, head, delta, p_ratio = P ablated / P clean), largest |delta| first."""
        layer = np.repeat(np.asarray(self.layers, dtype=np.int64), len(self.heads))
        head = np.tile(np.asarray(self.heads, dtype=np.int64), len(self.layers))
        delta = self.delta.reshape(-1).astype(np.float64)
        order = np.argsort(-np.abs(delta), kind="stable")
        return Table.from_columns(
            {
                "layer": layer[order],
                "head": head[order],
                "delta": delta[order],
                "p_ratio": np.exp(delta[order]),
            },
            title=f"head effects on log P({self.target!r}) = {self.clean:.3f}, "
            f"{self.ablation} ablation ({self.method})",
        )

    def strongest(self, n: int = 5) -> list[tuple[int, int, float]]:
        """The `n` heads with the largest |delta|, as ``(layer, head, delta)``."""
        n = V.integer("n", n, low=1)
        return [(r["layer"], r["head"], r["delta"]) for r in self.table.to_dicts()[:n]]

    def _summary(self) -> str:
        heads = ", ".join(f"L{lay}H{h} {d:+.3f}" for lay, h, d in self.strongest(5))
        return (
            f"HeadEffects: log P({self.target!r}) = {self.clean:.3f} clean; "
            f"{self.delta.size} heads, {self.ablation} ablation ({self.method}); strongest: {heads}"
        )

    def __repr__(self) -> str:
        return self._summary() + "\n" + repr(self.table.head(15))

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self._summary())}</p>" + self.table.head(15)._repr_html_()


def head_effects(
    model: Any,
    tokenizer: Any,
    text: str,
    *,
    target: str | Sequence[int],
    ablation: str = "zero",
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
    batch_size: int = 32,
    method: str = "exact",
) -> HeadEffects:
    """The effect of each attention head on the log-probability of `target` after `text`.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A causal language model (Llama-, GPT-2-like, ...) whose attention layers end in an output
        projection (module `OUTPUT_PROJECTIONS`).
    tokenizer : transformers.PreTrainedTokenizerBase
        Its tokenizer; `text` is tokenized with its special tokens, `target` without (a continuation).
    text : str
        The prompt.
    target : str or sequence of int
        The continuation whose log-probability is measured: a string (mind its leading space,
        ``" Paris"``) or token ids.
    ablation : {"zero", "mean"}
        What replaces a head's output: zeros, or its mean over the prompt's positions in the clean run.
    layers, heads : sequence of int, optional
        The layers and query heads to ablate (every pair of them); all by default.
    batch_size : int
        Ablated heads per forward pass (rows of one batch); memory grows with it.
    method : {"exact", "attribution"}
        ``"exact"``: one ablated forward pass per head (in batches). ``"attribution"``: the first-order
        estimate ``sum grad(log P) * (ablated - clean)`` over each head's outputs, from one forward
        and one backward pass; cheap, and good for ranking where effects are small.

    Returns
    -------
    HeadEffects

    Raises
    ------
    AttentionError
        An empty `text`, or a `target` that tokenizes to nothing.
    AttentionIndexError
        A layer or head the model does not have, or a target token id outside the vocabulary.
    ModelError
        A model without separable head outputs (no output projection found), or not a causal
        language model, or an input longer than its positions.
    """
    import torch

    prompt = V.text("text", text)
    if not prompt or not prompt.strip():
        raise AttentionError("text must be a non-empty prompt; got an empty or blank str")
    ablation = V.choice("ablation", ablation, ABLATIONS)
    method = V.choice("method", method, METHODS)
    batch_size = V.integer("batch_size", batch_size, low=1)
    _check_causal(model)
    projections, blocks = _output_projections(model)
    n_layers = len(projections)
    n_heads = _n_heads(model)
    layers = _indices("layers", layers, n_layers, "layer")
    heads = _indices("heads", heads, n_heads, "head")
    prompt_ids = list(tokenizer(prompt)["input_ids"])
    if not prompt_ids:
        raise AttentionError(f"text {V.show(prompt)} gives no tokens")
    target_ids = _target_ids(tokenizer, target, _vocab_size(model))
    ids = prompt_ids + target_ids
    limit = _position_limit(model)
    if limit is not None and len(ids) > limit:
        raise ModelError(f"prompt and target are {len(ids)} tokens, more than the model's {limit} positions")
    device = _input_device(model)
    input_ids = torch.tensor([ids], device=device)
    was_training = model.training
    model.eval()  # dropout would make every ablated run differ by chance
    try:
        if method == "attribution":
            clean, delta = _attribution(model, input_ids, projections, len(prompt_ids), target_ids, n_heads, ablation)
            delta = delta[np.ix_(layers, heads)]
        else:
            clean, delta = _exact(
                model,
                input_ids,
                projections,
                blocks,
                len(prompt_ids),
                target_ids,
                n_heads,
                ablation,
                layers,
                heads,
                batch_size,
            )
    finally:
        model.train(was_training)
    pieces = [str(tokenizer.decode([t])) for t in target_ids]
    whole = str(tokenizer.decode(target_ids))
    return HeadEffects(delta, clean, layers, heads, ablation, method, target_ids, pieces, whole)


# ------------------------------------------------------------------------------------- the runs


def _forward_logp(model: Any, input_ids: Any, n_prompt: int, target_ids: list[int]) -> Any:
    """Per batch row, the summed log-probability of the target tokens (teacher-forced), float32."""
    import torch

    n = len(target_ids)
    kwargs: dict[str, Any] = {"use_cache": False}
    if _accepts(model, "logits_to_keep"):
        # The logits at the last n + 1 positions are enough; the vocabulary projection of every other
        # position is a fifth of a small model's forward cost.
        kwargs["logits_to_keep"] = n + 1
    out = model(input_ids=input_ids, **kwargs)
    logits = getattr(out, "logits", None)
    if logits is None:
        raise ModelError(f"{type(model).__name__} gives no logits: head effects need a language-model head")
    logits = logits[:, -(n + 1) : -1] if "logits_to_keep" in kwargs else logits[:, n_prompt - 1 : n_prompt - 1 + n]
    # Half-precision logits are widened; float64 ones (a model in double) are kept as they are.
    logp = torch.log_softmax(logits.float() if logits.element_size() < 4 else logits, dim=-1)
    index = torch.tensor(target_ids, device=logp.device).view(1, n, 1).expand(logp.shape[0], n, 1)
    return logp.gather(-1, index).squeeze(-1).sum(-1)


def _exact(
    model: Any,
    input_ids: Any,
    projections: list[Any],
    blocks: list[Any],
    n_prompt: int,
    target_ids: list[int],
    n_heads: int,
    ablation: str,
    layers: list[int],
    heads: list[int],
    batch_size: int,
) -> tuple[float, np.ndarray]:
    import torch

    # The clean run records each projection's input (for the means) and each block's output (to stand
    # in for the blocks below an ablation, whose rows are all still clean there).
    z_clean: dict[int, Any] = {}
    block_out: dict[int, Any] = {}
    handles = []
    for i, proj in enumerate(projections):
        handles.append(proj.register_forward_pre_hook(_recorder(z_clean, i)))
    for i, block in enumerate(blocks):
        handles.append(block.register_forward_hook(_output_recorder(block_out, i)))
    try:
        with torch.no_grad():
            clean = float(_forward_logp(model, input_ids, n_prompt, target_ids)[0])
    finally:
        for h in handles:
            h.remove()
    head_dim = _head_dim(z_clean[0].shape[-1], n_heads)
    means = {i: z[0, :n_prompt].mean(0).view(n_heads, head_dim) for i, z in z_clean.items()}
    skippable = all(_expandable(o) for o in block_out.values())

    # Pack the (layer, head) pairs by layer, lowest layer first, so a batch spans few layers and the
    # blocks below its lowest layer can be skipped.
    pairs = [(lay, h) for lay in layers for h in heads]
    delta = np.empty(len(pairs), dtype=np.float64)
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        rows = len(chunk)
        masks: dict[int, Any] = {}
        for r, (lay, h) in enumerate(chunk):
            if lay not in masks:
                masks[lay] = torch.ones(rows, n_heads, dtype=z_clean[lay].dtype, device=z_clean[lay].device)
            masks[lay][r, h] = 0
        handles = [
            projections[lay].register_forward_pre_hook(_ablator(m, means[lay] if ablation == "mean" else None, n_heads))
            for lay, m in masks.items()
        ]
        first = min(masks)
        stand_ins = blocks[:first] if skippable else []
        for i, block in enumerate(stand_ins):
            block.forward = _stand_in(block_out[i], rows)  # an instance attribute shadows the method
        try:
            with torch.no_grad():
                logp = _forward_logp(model, input_ids.expand(rows, -1), n_prompt, target_ids)
        finally:
            for h in handles:
                h.remove()
            for block in stand_ins:
                del block.forward
        delta[start : start + rows] = logp.double().cpu().numpy() - clean
    return clean, delta.reshape(len(layers), len(heads))


def _attribution(
    model: Any,
    input_ids: Any,
    projections: list[Any],
    n_prompt: int,
    target_ids: list[int],
    n_heads: int,
    ablation: str,
) -> tuple[float, np.ndarray]:
    """First-order estimate of every head's effect: grad of log P wrt its outputs . (ablated - clean)."""
    import torch

    zs: dict[int, Any] = {}
    handles = [proj.register_forward_pre_hook(_recorder(zs, i)) for i, proj in enumerate(projections)]

    def grad_from_here(module: Any, args: Any, out: Any) -> Any:
        # With frozen weights nothing before the first layer needs a gradient, and autograd would
        # stop there: the embeddings are made to ask for one.
        return out if out.requires_grad else out.detach().requires_grad_(True)

    handles.append(model.get_input_embeddings().register_forward_hook(grad_from_here))
    try:
        with torch.enable_grad():
            logp = _forward_logp(model, input_ids, n_prompt, target_ids)[0]
            z = [zs[i] for i in range(len(projections))]
            grads = torch.autograd.grad(logp, z)
    finally:
        for h in handles:
            h.remove()
    head_dim = _head_dim(z[0].shape[-1], n_heads)
    est = np.empty((len(z), n_heads), dtype=np.float64)
    for i, (zi, gi) in enumerate(zip(z, grads, strict=True)):
        zi = zi.detach()[0].view(-1, n_heads, head_dim).double()
        gi = gi[0].view(-1, n_heads, head_dim).double()
        replaced = zi[:n_prompt].mean(0, keepdim=True).expand_as(zi) if ablation == "mean" else torch.zeros_like(zi)
        est[i] = (gi * (replaced - zi)).sum(dim=(0, 2)).cpu().numpy()
    return float(logp.detach()), est


def _recorder(store: dict[int, Any], i: int) -> Any:
    def hook(module: Any, args: Any) -> None:
        store[i] = args[0]

    return hook


def _output_recorder(store: dict[int, Any], i: int) -> Any:
    def hook(module: Any, args: Any, out: Any) -> None:
        store[i] = out

    return hook


def _ablator(mask: Any, mean: Any, n_heads: int) -> Any:
    """A pre-hook replacing, per batch row, the heads whose mask entry is 0 (by zeros or `mean`)."""

    def hook(module: Any, args: Any) -> Any:
        x = args[0]
        b, t, w = x.shape
        keep = mask.view(b, 1, n_heads, 1)
        # x * 1 + 0 * mean is x exactly: rows that keep a head see the clean values bit for bit.
        y = x.view(b, t, n_heads, w // n_heads) * keep
        if mean is not None:
            y = y + (1 - keep) * mean
        return (y.view(b, t, w), *args[1:])

    return hook


def _expandable(out: Any) -> bool:
    """Whether a block's recorded output can stand in for it: its hidden states, and nothing else held."""
    if hasattr(out, "shape"):
        return True
    return isinstance(out, tuple) and len(out) > 0 and hasattr(out[0], "shape") and all(o is None for o in out[1:])


def _stand_in(out: Any, rows: int) -> Any:
    """A forward that returns the block's clean output for `rows` batch rows without computing it."""
    if hasattr(out, "shape"):
        hidden = out.expand(rows, *out.shape[1:]).contiguous()
        return lambda *args, **kwargs: hidden
    first = out[0].expand(rows, *out[0].shape[1:]).contiguous()
    return lambda *args, **kwargs: (first, *out[1:])


# ------------------------------------------------------------------------------------- the model


def _output_projections(model: Any) -> tuple[list[Any], list[Any]]:
    """Each layer's attention output projection and the layer (block) holding it, in layer order."""
    names = dict(model.named_modules())
    n_layers = _n_layers(model)
    for ending in OUTPUT_PROJECTIONS:
        found = []
        for name in names:
            if name == ending or name.endswith("." + ending):
                prefix = name[: -len(ending)].rstrip(".")
                index = re.search(r"(?:^|\.)(\d+)$", prefix)
                if index is not None:
                    found.append((int(index.group(1)), prefix, name))
        if found and (n_layers is None or len(found) == n_layers):
            found.sort()
            if [i for i, _, _ in found] != list(range(len(found))):
                continue
            return [names[n] for _, _, n in found], [names[p] for _, p, _ in found]
    raise ModelError(
        f"no separable head outputs in {type(model).__name__}: looked for one attention output projection "
        f"per layer, a module named *.{', *.'.join(OUTPUT_PROJECTIONS)}"
    )


def _text_config(model: Any) -> Any:
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "get_text_config"):
        cfg = cfg.get_text_config()
    return cfg


def _n_layers(model: Any) -> int | None:
    cfg = _text_config(model)
    return next(
        (int(getattr(cfg, n)) for n in ("num_hidden_layers", "n_layer", "num_layers") if getattr(cfg, n, None)), None
    )


def _n_heads(model: Any) -> int:
    cfg = _text_config(model)
    for n in ("num_attention_heads", "n_head", "num_heads"):
        if getattr(cfg, n, None):
            return int(getattr(cfg, n))
    raise ModelError(f"{type(model).__name__}'s config does not say how many attention heads it has")


def _vocab_size(model: Any) -> int | None:
    v = getattr(_text_config(model), "vocab_size", None)
    return int(v) if v else None


def _position_limit(model: Any) -> int | None:
    cfg = _text_config(model)
    v = next((getattr(cfg, n) for n in ("n_positions", "max_position_embeddings") if getattr(cfg, n, None)), None)
    return int(v) if v else None


def _head_dim(width: int, n_heads: int) -> int:
    """Features per head of the output projection's input, which holds the heads side by side."""
    if width % n_heads:
        raise ModelError(
            f"the attention output projection's input has {width} features, not a multiple of {n_heads} heads"
        )
    return width // n_heads


def _input_device(model: Any) -> Any:
    # Where the inputs go, also for a model accelerate placed or offloaded (its weights may be meta).
    from attnwidget.extraction.facts import input_device

    return input_device(model)


def _accepts(model: Any, name: str) -> bool:
    try:
        return name in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def _check_causal(model: Any) -> None:
    name = type(model).__name__
    if getattr(getattr(model, "config", None), "is_encoder_decoder", False):
        raise ModelError(
            f"{name} is an encoder-decoder model: head effects read a causal language model's "
            "log-probabilities of a continuation"
        )
    head = getattr(model, "get_output_embeddings", lambda: None)()
    # A masked language model has a head too, but its logits at a position do not predict the next token.
    if head is None or "MaskedLM" in name:
        raise ModelError(
            f"{name} is not a causal language model: head effects need one with a language-model head "
            "(AutoModelForCausalLM) to read log P(target | prompt)"
        )


def _indices(name: str, value: Any, n: int, what: str) -> list[int]:
    if value is None:
        return list(range(n))
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        value = [int(value)]
    out = V.int_list(name, value, nonempty=True)
    bad = [i for i in out if not 0 <= i < n]
    if bad:
        raise AttentionIndexError(f"{name}: the model has {n} {what}s (0 to {n - 1}); got {bad[0]} in {V.show(value)}")
    return out


def _target_ids(tokenizer: Any, target: Any, vocab: int | None) -> list[int]:
    if isinstance(target, str):
        ids = list(tokenizer(target, add_special_tokens=False)["input_ids"])
        if not ids:
            raise AttentionError(f"target {V.show(target)} gives no tokens; expected text the tokenizer can produce")
        return [int(i) for i in ids]
    if target is None or isinstance(target, (bytes, dict)):
        raise ArgumentTypeError(f"target must be a str or a list of token ids; got {V.show(target)}")
    ids = V.int_list("target", target, unique=False, nonempty=True)
    bad = [i for i in ids if i < 0 or (vocab is not None and i >= vocab)]
    if bad:
        raise AttentionIndexError(f"target: token id {bad[0]} is outside the vocabulary (0 to {(vocab or 0) - 1})")
    return ids
