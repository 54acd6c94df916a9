"""Cost of `head_effects` (every head of the bundled SmolLM2 ablated, exact) as a multiple of one plain
forward pass measured in the same run, and how well the first-order attribution ranks the heads.

    OMP_NUM_THREADS=1 python benchmarks/effects.py [--batch-sizes 16 32 64] [--ablation zero]

The exact effects are 270 ablated forward passes (30 layers x 9 heads) batched many to one, each
starting at the ablated layer (the layers below are clean and are not run again), with logits only at
the target's positions. Attribution is one forward and one backward pass; its Spearman rank
correlation with the exact effects and the overlap of their top 10 heads are printed beside it.

Two more lines say what bounds the exact cost. The arithmetic: a head in layer l reruns layers l to L-1,
so the 270 ablations together do the work of sum_l H (L - l) / L plain forwards (139.5 for SmolLM2),
whatever the batching. The batching gain: how much faster per row a batch of `--batch-sizes[0]` rows
runs than one plain forward. Their quotient is the cost the exact method can reach on this machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import print_table  # noqa: E402

import attnwidget as aw  # noqa: E402
from attnwidget.analysis.ablation import head_effects  # noqa: E402

PROMPT = (
    "Paris is the capital of France, Berlin is the capital of Germany, Madrid is the capital of Spain, "
    "Lisbon is the capital of Portugal, and Rome is the capital of"
)
TARGET = " Italy"


def _ranks(x: np.ndarray) -> np.ndarray:
    r = np.empty(x.size)
    r[np.argsort(x, kind="stable")] = np.arange(x.size)
    return r


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (no ties expected among float effects)."""
    return float(np.corrcoef(_ranks(a.ravel()), _ranks(b.ravel()))[0, 1])


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[32])
    ap.add_argument("--ablation", choices=["zero", "mean"], default="zero")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    model, tok = aw.load_model()
    L, H = model.config.num_hidden_layers, model.config.num_attention_heads
    prompt = tok(PROMPT)["input_ids"]
    ids = torch.tensor([prompt + tok(TARGET, add_special_tokens=False)["input_ids"]])
    print(
        f"SmolLM2-135M-Instruct, {L} layers x {H} heads, prompt {len(prompt)} tokens + target {TARGET!r}, "
        f"{args.ablation} ablation, CPU, {torch.get_num_threads()} threads"
    )
    with torch.no_grad():
        model(ids)  # warm-up
        t_fwd, _ = best_of(lambda: model(ids), 5)

    # What bounds the exact cost: the layers it must rerun, and how much a batch gains per row.
    work = H * sum(L - lay for lay in range(L)) / L
    b0 = args.batch_sizes[0]
    with torch.no_grad():
        t_batch, _ = best_of(lambda: model(input_ids=ids.expand(b0, -1), use_cache=False), 2)
    gain = t_fwd * b0 / t_batch

    rows, exact = [], None
    for b in args.batch_sizes:
        t, res = best_of(
            lambda b=b: head_effects(model, tok, PROMPT, target=TARGET, ablation=args.ablation, batch_size=b),
            args.repeat,
        )
        exact = res
        rows.append(["exact", b, f"{t:.2f}", f"{t / t_fwd:.1f}x", f"{t / t_fwd / (L * H):.3f}", "1.000", "10/10"])
    t_attr, attr = best_of(
        lambda: head_effects(model, tok, PROMPT, target=TARGET, ablation=args.ablation, method="attribution"),
        max(args.repeat, 3),
    )
    rho = spearman(exact.delta, attr.delta)
    top_exact = {(r["layer"], r["head"]) for r in exact.table.head(10)}
    top_attr = {(r["layer"], r["head"]) for r in attr.table.head(10)}
    rows.append(
        [
            "attribution",
            "-",
            f"{t_attr:.2f}",
            f"{t_attr / t_fwd:.1f}x",
            f"{t_attr / t_fwd / (L * H):.3f}",
            f"{rho:.3f}",
            f"{len(top_exact & top_attr)}/10",
        ]
    )
    print(f"one plain forward pass: {t_fwd * 1000:.0f} ms")
    print(
        f"arithmetic of the exact method: {work:.1f} forwards' worth (each head reruns the layers above it); "
        f"a batch of {b0} runs {gain:.2f}x faster per row than one forward; "
        f"so about {work / gain:.0f}x a forward is the floor here"
    )
    print_table(["method", "batch", "seconds", "x forward", "forwards per head", "spearman", "top-10 shared"], rows)
    print()
    print(f"clean log P({TARGET!r}) = {exact.clean:.3f}; strongest heads (exact vs attribution):")
    attr_at = {(r["layer"], r["head"]): r["delta"] for r in attr.table}
    print_table(
        ["layer", "head", "exact delta", "attribution"],
        [
            [r["layer"], r["head"], f"{r['delta']:+.3f}", f"{attr_at[(r['layer'], r['head'])]:+.3f}"]
            for r in exact.table.head(10)
        ],
    )


if __name__ == "__main__":
    main()
