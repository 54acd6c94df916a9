"""What the model answers to one prompt: its attention, its greedy answer, log P of a target.

The model-running helpers of `experiments` (templates, languages, induction): a template given as text
or ``{"text"|"messages", "parts"}`` extracted to one `Attention` after a memory check, the greedy
continuation, and ``log P(target | prompt)``. torch is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from attnwidget.attention.core import Attention, _memory_budget
from attnwidget.errors import ArgumentTypeError, AttentionError

__all__ = ["greedy_answer", "answer_logprob"]


def _model_shape(model: Any) -> tuple[int, int, int | None]:
    """(layers, heads, positions) from the model's config, 1 where unknown."""
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "get_text_config"):
        cfg = cfg.get_text_config()
    layers = next((getattr(cfg, n) for n in ("num_hidden_layers", "n_layer", "num_layers") if getattr(cfg, n, None)), 1)
    heads = next((getattr(cfg, n) for n in ("num_attention_heads", "n_head", "num_heads") if getattr(cfg, n, None)), 1)
    positions = next(
        (getattr(cfg, n) for n in ("max_position_embeddings", "n_positions") if getattr(cfg, n, None)), None
    )
    return int(layers), int(heads), positions


def _check_memory(
    model: Any, n_tokens: int, what: str, layers: Sequence[int] | None = None, heads: Sequence[int] | None = None
) -> None:
    """Raise a clear error before extraction when the attention would not fit in memory."""
    L, H, _ = _model_shape(model)
    L = len(layers) if layers is not None else L
    H = len(heads) if heads is not None else H
    need = L * H * n_tokens * n_tokens * 4
    budget = _memory_budget()
    if need > budget:
        raise MemoryError(
            f"{what} needs the attention of {L} layers x {H} heads over {n_tokens} tokens: "
            f"{_size(need)} of float32, more than the {_size(budget)} this machine can spare; "
            "pass layers=/heads= to keep fewer, or a shorter input"
        )


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _tokenizer_count(tokenizer: Any, spec: Any) -> int:
    if isinstance(spec, Mapping) and spec.get("messages") is not None:
        return len(tokenizer.apply_chat_template(spec["messages"], tokenize=True, add_generation_prompt=True))
    text = spec if isinstance(spec, str) else (spec or {}).get("text", "")
    return len(tokenizer(text)["input_ids"]) if isinstance(text, str) else 0


def _run(model, tokenizer, spec: Any, what: str) -> tuple[Attention, dict]:
    """Extract a template given as text or {"text"|"messages", "parts"}; return it and its parts."""
    from attnwidget.extraction.api import extract

    if isinstance(spec, str):
        _check_memory(model, _tokenizer_count(tokenizer, spec), what)
        return _one(extract(model, tokenizer, spec)), {}
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"text", "messages", "parts", "segments"}
        if unknown or ("text" in spec) == ("messages" in spec) or ("parts" in spec and "segments" in spec):
            raise AttentionError(
                f"{what} must be a str or a dict with 'text' or 'messages' (one of them) and "
                f"optional 'parts'; got keys {sorted(spec)}"
            )
        _check_memory(model, _tokenizer_count(tokenizer, spec), what)
        att = _one(extract(model, tokenizer, spec.get("text"), messages=spec.get("messages")))
        return att, dict(spec.get("parts") or spec.get("segments") or {})
    raise ArgumentTypeError(f"{what} must be a str or a dict with 'text' or 'messages'; got {type(spec).__name__}")


def _one(att: object) -> Attention:
    """The single `Attention` aw.extract returns for one text."""
    if isinstance(att, list):
        (att,) = att
    if not isinstance(att, Attention):
        raise AttentionError(
            f"this comparison reads one Attention per prompt; the model gave {type(att).__name__} "
            "(encoder-decoder models need a target and are not compared here)"
        )
    return att


def _ids(att: Attention) -> list[int]:
    if att.token_ids is None:
        raise AttentionError("the attention carries no token ids; extract it with aw.extract")
    return list(att.token_ids)


def _device(model: Any):
    # The input device, also for a model accelerate placed or offloaded (its weights may be meta).
    from attnwidget.extraction.facts import input_device

    try:
        return input_device(model)
    except (StopIteration, AttributeError):
        return "cpu"


def _greedy(model: Any, tokenizer: Any, ids: Sequence[int], max_new_tokens: int) -> str:
    import torch

    x = torch.tensor([list(ids)], device=_device(model))
    kwargs = {"do_sample": False, "max_new_tokens": max_new_tokens}
    if getattr(tokenizer, "pad_token_id", None) is not None:
        kwargs["pad_token_id"] = tokenizer.pad_token_id
    with torch.no_grad():
        out = model.generate(input_ids=x, attention_mask=torch.ones_like(x), **kwargs)
    return tokenizer.decode(out[0, len(ids) :].tolist(), skip_special_tokens=True)


def _logprob(model: Any, tokenizer: Any, ids: Sequence[int], targets: Sequence[str]) -> float:
    """log P(any of `targets` follows `ids`): the log of the summed probabilities of each full target."""
    import torch

    logps = []
    for target in targets:
        t = tokenizer(target, add_special_tokens=False)["input_ids"]
        if not t:
            raise AttentionError(f"target {target!r} encodes to no tokens")
        x = torch.tensor([list(ids) + list(t)], device=_device(model))
        with torch.no_grad():
            logits = model(input_ids=x).logits[0].float()
        lp = torch.log_softmax(logits[len(ids) - 1 : -1], dim=-1)
        logps.append(float(lp[torch.arange(len(t)), torch.tensor(t)].sum()))
    m = max(logps)
    return m + math.log(sum(math.exp(v - m) for v in logps))


def _targets(target: Any) -> list[str]:
    targets = [target] if isinstance(target, str) else list(dict.fromkeys(target))
    if not targets or not all(isinstance(t, str) and t for t in targets):
        raise AttentionError(f"target must be a non-empty str or a list of them (accepted answers); got {target!r}")
    return targets


def greedy_answer(model: Any, tokenizer: Any, prompt: str | Mapping, *, max_new_tokens: int = 8) -> str:
    """The model's greedy continuation of `prompt` (text, or ``{"messages": [...]}``), tokenised as aw.extract does."""
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise AttentionError(f"max_new_tokens must be a positive int; got {max_new_tokens!r}")
    return _greedy(model, tokenizer, _prompt_ids(tokenizer, prompt), max_new_tokens)


def answer_logprob(model: Any, tokenizer: Any, prompt: str | Mapping, target: str | Sequence[str]) -> float:
    """log P(target | prompt) in nats, summed over the target's tokens (several targets: P of any)."""
    return _logprob(model, tokenizer, _prompt_ids(tokenizer, prompt), _targets(target))


def _prompt_ids(tokenizer: Any, prompt: Any) -> list[int]:
    if isinstance(prompt, Mapping) and prompt.get("messages") is not None:
        text = tokenizer.apply_chat_template(prompt["messages"], tokenize=False, add_generation_prompt=True)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    text = prompt.get("text") if isinstance(prompt, Mapping) else prompt
    if not isinstance(text, str) or not text.strip():
        raise AttentionError(f"prompt must be a non-empty str or a dict with 'text' or 'messages'; got {prompt!r}")
    return tokenizer(text)["input_ids"]
