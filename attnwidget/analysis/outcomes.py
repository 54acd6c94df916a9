"""What the model answers to one prompt, and which template's answer wins.

The outcome helpers of `experiments`: the greedy continuation, ``log P(target | prompt)``, whether an
answer gives the target (`gives_target`), and the verdict over templates (`_verdict`: best, tie or none,
with its evidence in numbers). torch is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from attnwidget.attention.core import Attention
from attnwidget.errors import AttentionError

__all__ = ["greedy_answer", "answer_logprob", "gives_target", "TIE_NATS"]


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


TIE_NATS = 0.1
"""Templates whose log P of the target lies within this many nats of the best tie (1.1x or less)."""


def gives_target(answer: str, targets: Sequence[str]) -> bool:
    """Whether a greedy `answer` gives one of `targets`: it begins with the target's words (spaces
    compared loosely, since tokenizers give them back differently) and the target does not end
    inside a longer word (" positive" is not given by " positively")."""
    said = " ".join(answer.split())
    for target in targets:
        want = " ".join(target.split())
        if want and said.startswith(want) and not (want[-1].isalnum() and said[len(want) : len(want) + 1].isalnum()):
            return True
    return False


def _probability(p: float) -> str:
    """A probability as text: three decimals, or two significant digits below 0.001 (never "0.000")."""
    return f"{p:.3f}" if p >= 1e-3 or p == 0 else f"{p:.1e}"


def _times(ratio: float) -> str:
    """A likelihood ratio as text: 2.5x, 87x, 31,835x."""
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:,.0f}x"


def _verdict(
    logps: dict[str, float], answers: dict[str, str], targets: list[str]
) -> tuple[str | None, tuple[str, ...], str, list[str], str]:
    """best, ties, verdict, the right templates and the evidence, from each template's outcome.

    A template is picked only when its greedy answer gives the target: a higher log P among wrong
    answers is the least wrong, not a working prompt. Within `TIE_NATS` of the best is a tie.
    """
    order = sorted(logps, key=lambda n: logps[n], reverse=True)
    right = [n for n in order if gives_target(answers[n], targets)]
    shown = " or ".join(repr(t) for t in targets)

    def line(n: str, ref: str) -> str:
        p = _probability(math.exp(logps[n]))
        says = "gives the target" if n in right else "does not give the target"
        if n == ref:
            return f"  {n!r}: log P = {logps[n]:.2f} (p {p}), greedy answer {answers[n]!r} ({says})"
        ratio = _times(math.exp(logps[ref] - logps[n]))
        return f"  {n!r}: log P = {logps[n]:.2f} (p {p}, {ratio} less likely), greedy answer {answers[n]!r} ({says})"

    if not right:
        top = order[0]
        near = [repr(n) for n in order[1:] if logps[top] - logps[n] <= TIE_NATS]
        tie = f"; {', '.join(near)} within {TIE_NATS} nats, a tie" if near else ""
        closest = [
            f"no template gives the target; the closest is {top!r} (log P = {logps[top]:.2f}, "
            f"p {_probability(math.exp(logps[top]))}{tie}), which still answers {answers[top]!r}: no greedy "
            f"answer begins with {shown}, so none is picked"
        ]
        return None, (), "none", [], "\n".join(closest + [line(n, top) for n in order])
    top = right[0]
    tied = tuple(n for n in right if logps[top] - logps[n] <= TIE_NATS)
    rest = [line(n, top) for n in order]
    if len(tied) > 1:
        names = ", ".join(repr(n) for n in tied)
        spread = logps[top] - logps[tied[-1]]
        head = (
            f"tie: {names} give {shown} with log P within {spread:.2f} nats of each other "
            f"({_times(math.exp(spread))}, at most {TIE_NATS} nats): none is picked; compare them on more inputs"
        )
        return None, tied, "tie", right, "\n".join([head] + rest)
    head = (
        f"{top!r} gives {shown} the highest probability among the templates whose answer gives it: "
        f"log P = {logps[top]:.2f} (p {_probability(math.exp(logps[top]))}), greedy answer {answers[top]!r}"
    )
    return top, (), "best", right, "\n".join([head] + rest)
