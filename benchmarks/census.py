"""Prompts per second of `aw.analysis.census` in one process and in two (torchrun, gloo on loopback), at
batch sizes 1 and 8, as ratios against the one-process batch-1 run measured in the same run.

    python benchmarks/census.py [--model tiny|smollm2] [--prompts 48] [--words 40]

``tiny`` (default) is the test suite's tiny random Llama (3 layers, 8 query heads over 2 kv heads)
built from its config with the word-level tokenizer; ``smollm2`` is the bundled SmolLM2-135M. Every
process runs torch with one thread (``--threads``), so two processes use two cores where one process
uses one; a row of one process with as many threads as the two processes have together is printed
too. Each time covers the census call only (model loading and torch's start-up are left out), after
one warm-up census; for two processes it is the slower rank's, between two barriers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT, os.path.join(ROOT, "tests")]
from _common import print_table, two_ranks  # noqa: E402

BATCHES = (1, 8)


def _model(name: str):
    if name == "smollm2":
        import attnwidget as aw

        return aw.load_model()
    from helpers.tiny_models import tiny_model, word_level_tokenizer
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level_tokenizer(), unk_token="[UNK]", pad_token="[PAD]", bos_token="<s>"
    )
    return tiny_model("llama"), tokenizer


def _prompts(name: str, n: int, words: int) -> list[str]:
    """`n` prompts of about `words` words, of varied lengths (so batches pad), half with a repeat."""
    out = []
    for i in range(n):
        k = words - (i * 5) % (words // 2)
        if name == "smollm2":
            base = "the model reads each token of the prompt and keeps what it needs from earlier words".split()
            ws = [base[(i + j) % len(base)] for j in range(k)]
        else:
            ws = [f"w{(i * 13 + j * 7) % 90}" for j in range(k)]
        out.append(" ".join(ws + ws[: k // 3] if i % 2 else ws))
    return out


def _time(census, model, tokenizer, prompts, batch_size) -> float:
    t = time.perf_counter()
    census(model, tokenizer, prompts, batch_size=batch_size, progress=False)
    return time.perf_counter() - t


def _one_process(args, threads: int) -> dict[int, float]:
    import torch

    import attnwidget as aw

    torch.set_num_threads(threads)
    model, tokenizer = _model(args.model)
    prompts = _prompts(args.model, args.prompts, args.words)
    aw.analysis.census(model, tokenizer, prompts[:8], batch_size=8, progress=False)  # warm-up
    return {b: _time(aw.analysis.census, model, tokenizer, prompts, b) for b in BATCHES}


def _worker(args) -> None:
    """One rank under torchrun: the same timings, the slower rank's written by rank 0."""
    import torch
    import torch.distributed as dist

    import attnwidget as aw

    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo")
    model, tokenizer = _model(args.model)
    prompts = _prompts(args.model, args.prompts, args.words)
    aw.analysis.census(model, tokenizer, prompts[:8], batch_size=8, progress=False)  # warm-up
    times = {}
    for b in BATCHES:
        dist.barrier()
        seconds = torch.tensor([_time(aw.analysis.census, model, tokenizer, prompts, b)], dtype=torch.float64)
        dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
        times[b] = float(seconds[0])
    if dist.get_rank() == 0:
        with open(args.worker, "w") as f:
            json.dump(times, f)
    dist.destroy_process_group()


def _two_processes(args) -> dict[int, float]:
    worker = ["--model", args.model, "--prompts", str(args.prompts), "--words", str(args.words)]
    times = two_ranks(__file__, [*worker, "--threads", str(args.threads)], args.threads)
    return {int(k): v for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=("tiny", "smollm2"), default="tiny")
    ap.add_argument("--prompts", type=int, default=48)
    ap.add_argument("--words", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return _worker(args)
    runs = [
        (f"1 process x {args.threads} thread(s)", _one_process(args, args.threads)),
        (f"1 process x {2 * args.threads} thread(s)", _one_process(args, 2 * args.threads)),
        (f"2 processes x {args.threads} thread(s) (torchrun)", _two_processes(args)),
    ]
    base = args.prompts / runs[0][1][1]
    rows = []
    for label, times in runs:
        for b in BATCHES:
            rate = args.prompts / times[b]
            rows.append([label, b, f"{times[b]:.2f}", f"{rate:.1f}", f"{rate / base:.2f}x"])
    print(f"census of {args.prompts} prompts of up to {args.words} words, model {args.model}, {os.cpu_count()} CPUs")
    print_table(["run", "batch", "seconds", "prompts/s", "vs 1 process batch 1"], rows)


if __name__ == "__main__":
    main()
