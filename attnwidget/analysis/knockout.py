"""What each part of a prompt does to the model's answer: `part_effects` (attention knockout and
removal of the part's text, each as a change in log P(target)) and its result `PartEffects`.

An attention share says what the answer read, not what it needs; these effects are the evidence
`report` and `segment_attention` put beside the shares. Parts are named as for
`segments.segment_attention`. torch is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from attnwidget.analysis.segments import TokenSpan, _part_tokens
from attnwidget.analysis.table import Table
from attnwidget.errors import ArgumentTypeError, AttentionError, ModelError

__all__ = ["part_effects", "PartEffects"]

# A 4-D mask the model rewrites (or ignores) shows as a difference between its logits with the plain
# causal mask given as a 4-D float mask and with no mask; float32 reorderings stay far below this.
_MASK_TOLERANCE = 1e-3


class PartEffects:
    """`part_effects`' result: how much each prompt part matters to log P(target), in nats.

    Attributes
    ----------
    clean : float
        log P(target | prompt), nats (several targets: the probability of any).
    knockout : dict
        Part -> log P(target) with the answer's positions (the last prompt position and the target
        positions) blocked from that part's keys in every layer, minus `clean`. Negative: the answer
        needs what it reads there.
    removal : dict
        Part -> log P(target) of the prompt with the part's text removed, minus `clean`.
    removed_text : dict
        Part -> the prompt without it (what `removal` ran).
    tokens : dict
        Part -> its token positions in the prompt.
    n_tokens : int
        Tokens in the prompt.
    target : list of str
        The accepted answers.
    table : Table
        Per part: tokens, knockout, removal.
    """

    def __init__(
        self,
        clean: float,
        knockout: dict[str, float],
        removal: dict[str, float],
        removed_text: dict[str, str],
        tokens: dict[str, list[int]],
        n_tokens: int,
        target: list[str],
    ):
        self.clean, self.knockout, self.removal = clean, knockout, removal
        self.removed_text, self.tokens, self.n_tokens, self.target = removed_text, tokens, n_tokens, target
        self.table = Table.from_columns(
            {
                "part": list(tokens),
                "tokens": [len(t) for t in tokens.values()],
                "knockout": [knockout[n] for n in tokens],
                "removal": [removal[n] for n in tokens],
            },
            f"effect of each part on log P({' or '.join(repr(t) for t in target)}) in nats, clean {clean:.3f} "
            "(knockout: the answer's positions may not attend to the part; removal: the part's text removed)",
        )

    def __repr__(self) -> str:
        return repr(self.table)


def _check_target(tokenizer: Any, target: Any) -> list[tuple[str, list[int]]]:
    """Each accepted answer with its token ids; refuse one the tokenizer cannot spell back."""
    targets = [target] if isinstance(target, str) else list(dict.fromkeys(target)) if target is not None else []
    if not targets or not all(isinstance(t, str) and t.strip() for t in targets):
        raise AttentionError(f"target must be a non-empty str or a list of them (accepted answers); got {target!r}")
    unk = getattr(tokenizer, "unk_token_id", None)
    out = []
    for t in targets:
        ids = list(tokenizer(t, add_special_tokens=False)["input_ids"])
        spelled = tokenizer.decode(ids, skip_special_tokens=False) if ids else ""
        # Compare without whitespace: word-level and byte-level tokenizers differ in the spaces they
        # give back, not in the characters a produced answer contains.
        if not ids or (unk is not None and unk in ids) or "".join(spelled.split()) != "".join(t.split()):
            raise AttentionError(
                f"target {t!r}: the tokenizer cannot produce it (it encodes to {ids} and decodes to "
                f"{spelled!r}); give an answer spelled with the model's vocabulary"
            )
        out.append((t, ids))
    return out


def _without(text: str, a: int, b: int) -> str:
    """`text` without characters [a, b); the whitespace after the part goes with it when whitespace
    (or the text's start) precedes it, and the whitespace before it when it ends the text, so no
    double space or trailing space (a different last token) is left where it was."""
    if a == 0 or text[a - 1].isspace():
        while b < len(text) and text[b].isspace():
            b += 1
    if b == len(text):
        while a > 0 and text[a - 1].isspace():
            a -= 1
    return text[:a] + text[b:]


def _char_span(text: str, part: Any, unit: str | None, offsets: list, toks: list[int]) -> tuple[int, int]:
    """The characters a part covers: its substring or character pair as given, else its tokens' span
    (without the edge whitespace byte-level tokens carry)."""
    if isinstance(part, str):
        a = text.index(part)
        return a, a + len(part)
    if unit == "char" and not isinstance(part, TokenSpan):
        a, b = (int(v) for v in part)
        return a, b
    a, b = offsets[toks[0]][0], offsets[toks[-1]][1]
    while a < b and text[a].isspace():
        a += 1
    return a, b


def _logsumexp(values: Sequence[float]) -> float:
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))


def part_effects(
    model: Any,
    tokenizer: Any,
    text: str,
    parts: Mapping[str, Any],
    *,
    target: str | Sequence[str],
    unit: str | None = None,
) -> PartEffects:
    """The effect of each prompt part on log P(target): attention knockout and removal of its text.

    Parameters
    ----------
    model, tokenizer
        A causal language model that takes a 4-D additive float `attention_mask` of shape
        ``(batch, 1, query, key)`` (Llama-like models in transformers, eager or sdpa attention) and
        its fast tokenizer (character offsets are needed to find the parts).
    text : str
        The prompt, tokenised as ``tokenizer(text)`` (special tokens included).
    parts : dict
        Name -> a substring of `text` (once), a ``(start, end)`` pair with `unit`, or
        ``aw.analysis.tokens_span(start, stop)``, as for `aw.analysis.segment_attention`.
    target : str or list of str
        The expected answer as it follows the prompt (mind the leading space); several: P of any.
    unit : {"char", "token"}, optional
        What ``(start, end)`` pairs count.

    Returns
    -------
    PartEffects
        ``.knockout`` and ``.removal``: part -> Δ log P(target) in nats.

    Raises
    ------
    AttentionError
        An empty part, parts that overlap, a part not in the text, a target the tokenizer cannot
        produce (no tokens, an unknown token, or a different spelling when decoded).
    ModelError
        The model does not apply a 4-D float mask as given.

    Notes
    -----
    Knockout: in every layer, the rows that produce the answer (the last prompt position and every
    target position) get ``-inf`` (the dtype's minimum) added on the part's key columns; all other
    rows keep the causal mask. A row's own key is never blocked: a row must read something, and its
    own token reaches it through the residual stream anyway. The rest of the prompt still reads the
    part, so knockout measures what the answer takes from the part directly, removal what the whole
    prompt takes from it (removal also shifts the positions of what follows).

    Removal: the part's characters are cut from `text` (for token parts, from its first token's
    first character to its last token's last); when whitespace or the start of the text precedes
    the part, the whitespace after it is cut too, and when the part ends the text, the whitespace
    before it.
    """
    import torch

    if not isinstance(text, str) or not text.strip():
        raise ArgumentTypeError(f"text must be a non-empty str; got {text!r}")
    targets = _check_target(tokenizer, target)
    enc = tokenizer(text, return_offsets_mapping=True)
    ids = list(enc["input_ids"])
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    # segments' part resolver reads only text, offsets, tokens and n_key: give it those.
    view = SimpleNamespace(text=text, offsets=offsets, tokens=tokens, n_key=len(ids))
    part_tokens = _part_tokens(view, parts, unit)  # type: ignore[arg-type]
    from attnwidget.extraction.facts import input_device

    try:
        # The input device, also for a model accelerate placed or offloaded; a meta weight keeps its dtype.
        device = input_device(model)
        dtype = next(model.parameters()).dtype
    except (StopIteration, AttributeError):
        device, dtype = torch.device("cpu"), torch.float32
    if not dtype.is_floating_point:
        dtype = torch.float32
    low = torch.finfo(dtype).min
    P = len(ids)

    def logprob(prompt: list[int], t: list[int], blocked: list[int] | None) -> tuple[float, Any]:
        x = torch.tensor([prompt + t], device=device)
        T = x.shape[1]
        kwargs: dict[str, Any] = {}
        if blocked is not None:
            mask = torch.full((T, T), low, dtype=dtype, device=device).triu(1)
            rows = torch.arange(len(prompt) - 1, T, device=device)
            cols = torch.tensor(blocked, device=device, dtype=torch.long)
            mask[rows[:, None], cols[None, :]] = low
            mask[rows, rows] = 0.0  # its own key stays (see Notes)
            kwargs["attention_mask"] = mask[None, None]
        with torch.no_grad():
            logits = model(input_ids=x, **kwargs).logits[0].float()
        lp = torch.log_softmax(logits[len(prompt) - 1 : -1], dim=-1)
        return float(lp[torch.arange(len(t)), torch.tensor(t)].sum()), logits

    clean_each = []
    for _, t in targets:
        plain, plain_logits = logprob(ids, t, None)
        _, mask_logits = logprob(ids, t, [])
        if float((plain_logits - mask_logits).abs().max()) > _MASK_TOLERANCE:
            raise ModelError(
                f"{type(model).__name__} does not apply a 4-D float attention_mask as given (the causal "
                "mask passed as one changes its logits); attention knockout needs a Llama-like model"
            )
        clean_each.append(plain)
    clean = _logsumexp(clean_each)
    knockout, removal, removed_text = {}, {}, {}
    for name, toks in part_tokens.items():
        knockout[name] = _logsumexp([logprob(ids, t, toks)[0] for _, t in targets]) - clean
        a, b = _char_span(text, parts[name], unit, offsets, toks)
        removed_text[name] = rest = _without(text, a, b)
        if not rest.strip():
            raise AttentionError(f"part {name!r} is the whole prompt: removing it leaves nothing to run")
        rest_ids = list(tokenizer(rest)["input_ids"])
        removal[name] = _logsumexp([logprob(rest_ids, t, None)[0] for _, t in targets]) - clean
    return PartEffects(clean, knockout, removal, removed_text, part_tokens, P, [t for t, _ in targets])
