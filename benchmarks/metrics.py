"""Cost of `aw.analyze` (every head's metrics) on the bundled SmolLM2 (CPU), beside the extraction
of the same attention measured in the same run.

    python benchmarks/metrics.py [--lengths 512 2048] [--repeat 1]

For materialised attention the ratio analyze / extract says what the metrics add on top of getting
the weights. For lazy attention (`extract(lazy=True)`) analyze recomputes the softmax blocks it
streams over, so its time includes that; the peak memory shows it never holds layers x heads x n^2.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import measure, print_table, prompt_text  # noqa: E402

import attnwidget as aw  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", type=int, nargs="+", default=[512, 2048])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    model, tok = aw.load_model()
    L, H = model.config.num_hidden_layers, model.config.num_attention_heads
    print(f"SmolLM2-135M-Instruct, {L} layers x {H} heads (all heads analysed), CPU, {torch.get_num_threads()} threads")
    aw.analyze(aw.extract(model, tok, prompt_text(tok, 32)))  # warm-up
    rows = []
    for n in args.lengths:
        text = prompt_text(tok, n)
        t_ext, m_ext, att = measure(lambda: aw.extract(model, tok, text), args.repeat)
        if args.repeat > 1:
            att = aw.extract(model, tok, text)
        t_an, m_an, table = measure(lambda: aw.analyze(att), args.repeat)
        assert len(table) == L * H
        n_real = att.n_key
        att = None  # free the maps before the lazy run (a del would unbind them for the lambdas above)
        t_lext, _, lazy = measure(lambda: aw.extract(model, tok, text, lazy=True), 1)
        t_lan, m_lan, _ = measure(lambda: aw.analyze(lazy), 1)
        lazy = None
        rows.append(
            [
                n_real,
                f"{t_ext:.2f}",
                f"{t_an:.2f}",
                f"{t_an / t_ext:.2f}x",
                f"{m_ext:.0f}",
                f"{m_an:.0f}",
                f"{t_lext:.2f}",
                f"{t_lan:.2f}",
                f"{(t_lext + t_lan) / t_ext:.2f}x",
                f"{m_lan:.0f}",
            ]
        )
    print_table(
        [
            "n",
            "extract s",
            "analyze s",
            "analyze/extract",
            "extract MiB",
            "analyze MiB",
            "lazy extract s",
            "lazy analyze s",
            "lazy total/extract",
            "lazy analyze MiB",
        ],
        rows,
    )
    print(
        "analyze = entropy, sparsity, locality, focus consistency, confidence, sink mass, previous-token "
        "and self scores for every head, in one pass. MiB = peak resident memory above the start of each call."
    )


if __name__ == "__main__":
    main()
