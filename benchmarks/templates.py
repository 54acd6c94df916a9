"""Template sets per second of `aw.experiments.compare_template_sets` in one process and in two
(torchrun, gloo on loopback), as a ratio against one process measured in the same run.

    python benchmarks/templates.py [--model tiny|smollm2] [--sets 24] [--threads 1]

Each set holds three templates of one example (a short lead, a long lead, the bare question) with a
part marked and a target, so every (set, template) pair costs an extraction, a greedy answer of four
tokens and a log P. ``tiny`` (default) is the test suite's tiny random Llama built from its config with
the word-level tokenizer; ``smollm2`` is the bundled SmolLM2-135M. Every process runs torch with
``--threads`` threads; a row of one process with as many threads as the two processes have together is
printed too. Each time covers the comparison call only, after one warm-up set; for two processes it is
the slower rank's, between two barriers.
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
from census import _model  # noqa: E402


def _sets(name: str, n: int) -> tuple[list[dict], list[str]]:
    """`n` sets of three templates around one question each, and their targets."""
    sets, targets = [], []
    for i in range(n):
        if name == "smollm2":
            country, capital = [("France", "Paris"), ("Italy", "Rome"), ("Japan", "Tokyo"), ("Spain", "Madrid")][i % 4]
            question = f"The capital of {country} is"
            lead, long = "Answer briefly.", "You are a careful assistant. Read the question and answer in one word."
            targets.append(f" {capital}")
        else:
            question = " ".join(f"w{(30 + 9 * i + 2 * j) % 90}" for j in range(3))
            lead = " ".join(f"w{(i + 7 * j) % 90}" for j in range(4))
            long = " ".join(f"w{(2 * i + 3 * j) % 90}" for j in range(14))
            targets.append(" w7")
        sets.append(
            {
                "lead": {"text": f"{lead} {question}", "parts": {"question": question}},
                "long": {"text": f"{long} {question}", "parts": {"question": question}},
                "bare": question,
            }
        )
    return sets, targets


def _time(model, tokenizer, sets, targets) -> float:
    import attnwidget as aw

    t = time.perf_counter()
    aw.experiments.compare_template_sets(model, tokenizer, sets, targets=targets, max_new_tokens=4)
    return time.perf_counter() - t


def _one_process(args, threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    model, tokenizer = _model(args.model)
    sets, targets = _sets(args.model, args.sets)
    _time(model, tokenizer, sets[:1], targets[:1])  # warm-up
    return _time(model, tokenizer, sets, targets)


def _worker(args) -> None:
    """One rank under torchrun: the timing, the slower rank's written by rank 0."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo")
    model, tokenizer = _model(args.model)
    sets, targets = _sets(args.model, args.sets)
    _time(model, tokenizer, sets[:2], targets[:2])  # warm-up (both ranks run one pair)
    dist.barrier()
    seconds = torch.tensor([_time(model, tokenizer, sets, targets)], dtype=torch.float64)
    dist.all_reduce(seconds, op=dist.ReduceOp.MAX)
    if dist.get_rank() == 0:
        with open(args.worker, "w") as f:
            json.dump(float(seconds[0]), f)
    dist.destroy_process_group()


def _two_processes(args) -> float:
    worker = ["--model", args.model, "--sets", str(args.sets), "--threads", str(args.threads)]
    return float(two_ranks(__file__, worker, args.threads))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=("tiny", "smollm2"), default="tiny")
    ap.add_argument("--sets", type=int, default=24)
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
    base = args.sets / runs[0][1]
    rows = [[label, f"{t:.2f}", f"{args.sets / t:.2f}", f"{args.sets / t / base:.2f}x"] for label, t in runs]
    print(f"compare_template_sets over {args.sets} sets of 3 templates, model {args.model}, {os.cpu_count()} CPUs")
    print_table(["run", "seconds", "sets/s", "vs 1 process"], rows)


if __name__ == "__main__":
    main()
