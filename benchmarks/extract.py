"""Extraction cost on the bundled SmolLM2 (CPU): plain SDPA forward vs eager output_attentions vs
attnwidget's capture (all heads held at float32, the default, and at float16), at several lengths.
Ratios are against the plain forward measured in the same run: the steps run in turn, --repeat
rounds, and each column keeps its best round, so a change in the machine's load hits every column.

A second table prices the capture's self-check: lazy extraction (the capture pass, no n^2 maps)
with and without ``check=``, against the plain forward.

    python benchmarks/extract.py [--lengths 128 512 2048] [--repeat 2] [--check-only | --no-check-table] [--no-eager]
    python benchmarks/extract.py --model llama8b --device cuda --lengths 2048 8192   # GPU figures, random 8B-shape weights
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import load, measure, print_table, prompt_text, sync  # noqa: E402

import attnwidget as aw  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", type=int, nargs="+", default=[128, 512, 2048])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--check-only", action="store_true", help="only the self-check table")
    ap.add_argument("--no-eager", action="store_true", help="leave out eager output_attentions")
    ap.add_argument("--no-check-table", action="store_true", help="leave out the self-check table")
    ap.add_argument("--model", default="smollm2", choices=["smollm2", "llama8b"])
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = ap.parse_args()

    model, tok = load(args.model, args.device)
    eager = copy.deepcopy(model)
    eager.set_attn_implementation("eager")
    where = (
        torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    )
    print(
        f"{args.model}, {model.config.num_hidden_layers} layers x {model.config.num_attention_heads} heads, "
        f"{where}, {next(model.parameters()).dtype}"
    )
    # Time spent inside the self-check, per extraction (summed over its calls).
    run_module = sys.modules["attnwidget.extraction.run"]  # the run calls the self-check by this name
    real_check, spent, current = run_module.self_check, [], [0.0, 0.0]

    def timed_check(*a, **k):
        t, c = time.perf_counter(), time.process_time()
        try:
            return real_check(*a, **k)
        finally:
            current[0] += time.perf_counter() - t
            current[1] += time.process_time() - c

    def run_checked(text):
        current[0] = current[1] = 0.0
        shape = aw.extract(model, tok, text, lazy=True, check=True).shape
        spent.append(tuple(current))
        return shape

    def cpu_seconds(fn, repeat):
        """Best process CPU time of `fn` (all threads): the work done, whatever else the machine runs."""
        best = float("inf")
        for _ in range(repeat):
            c = time.process_time()
            fn()
            best = min(best, time.process_time() - c)
        return best

    run_module.self_check = timed_check
    rows, check_rows = [], []

    def append_check_row(n_real, text, plain):
        t_plain, _, _ = measure(plain, args.repeat)
        t_lazy, _, _ = measure(lambda: aw.extract(model, tok, text, lazy=True, check=False).shape, args.repeat)
        spent.clear()
        t_check, _, _ = measure(lambda: run_checked(text), args.repeat)
        t_in_check = min(w for w, _ in spent)  # the check itself, timed inside each run
        c_in_check = min(c for _, c in spent)
        c_plain = cpu_seconds(plain, args.repeat)
        check_rows.append(
            [
                n_real,
                f"{t_plain:.3f}",
                f"{t_lazy:.3f} ({t_lazy / t_plain:.2f}x)",
                f"{t_check:.3f} ({t_check / t_plain:.2f}x)",
                f"{t_in_check:.4f} ({100 * t_in_check / t_plain:.1f}%)",
                f"{c_plain:.3f}",
                f"{c_in_check:.4f} ({100 * c_in_check / c_plain:.1f}%)",
            ]
        )

    for n in args.lengths:
        text = prompt_text(tok, n)
        x = tok(text, return_tensors="pt").to(args.device)
        n_real = x["input_ids"].shape[1]

        def plain():
            with torch.no_grad():
                shape = model(**x, use_cache=False).logits.shape
            sync(args.device)
            return shape

        def eager_attn():
            with torch.no_grad():
                n = len(eager(**x, use_cache=False, output_attentions=True).attentions)
            sync(args.device)
            return n

        plain()  # warm-up: first calls pay for allocator and kernel set-up
        if args.no_check_table:
            check_rows.append([n_real] + ["not run"] * 6)
        else:
            append_check_row(n_real, text, plain)
        if args.check_only:
            continue
        eager_attn()
        steps = {
            "plain": plain,
            "eager": eager_attn,
            "all": lambda: aw.extract(model, tok, text).shape,
            "all16": lambda: aw.extract(model, tok, text, dtype="float16").shape,
            "one": lambda: aw.extract(model, tok, text, layers=[15], heads=[0]).shape,
        }
        if args.no_eager:
            del steps["eager"]
        best = {k: (float("inf"), 0.0) for k in steps}
        cpu = {k: float("inf") for k in steps}
        for _ in range(args.repeat):  # interleaved rounds: each step's best against the same load
            for k, fn in steps.items():
                c = time.process_time()
                t, m, _ = measure(fn, 1)
                cpu[k] = min(cpu[k], time.process_time() - c)
                best[k] = (min(best[k][0], t), max(best[k][1], m))
        t_plain, m_plain = best["plain"]

        def cell(k):
            if k not in best:
                return "not run"
            return f"{best[k][0]:.3f} ({best[k][0] / t_plain:.2f}x; CPU {cpu[k] / cpu['plain']:.2f}x)"

        kept = model.config.num_hidden_layers * model.config.num_attention_heads * n_real**2 * 4 / 2**20
        rows.append(
            [
                n_real,
                f"{t_plain:.3f}",
                cell("eager"),
                cell("all"),
                cell("all16"),
                cell("one"),
                f"{m_plain:.0f}",
                f"{best['eager'][1]:.0f}" if "eager" in best else "-",
                f"{best['all'][1]:.0f}",
                f"{best['all16'][1]:.0f}",
                f"{best['one'][1]:.0f}",
                f"{kept:.0f}",
            ]
        )
    print_table(
        [
            "n",
            "plain s",
            "capture, no check s (x plain)",
            "capture + self-check s (x plain)",
            "in the self-check s (% of plain)",
            "plain CPU s",
            "self-check CPU s (% of plain CPU)",
        ],
        check_rows,
    )
    print("capture = lazy extraction (the capture pass, no n^2 maps); best of --repeat runs. 'in the self-check' is")
    print("the time spent inside the self-check (A @ V on 4 sampled rows per layer), timed within each run.")
    print("CPU columns: process CPU seconds (all threads), which a loaded machine does not inflate.")
    if args.check_only:
        return
    print_table(
        [
            "n",
            "plain s",
            "eager s (x plain)",
            "aw all s (x plain)",
            "aw all float16 s (x plain)",
            "aw 1 head s (x plain)",
            "plain MiB",
            "eager MiB",
            "aw all MiB",
            "aw float16 MiB",
            "aw 1 head MiB",
            "kept weights MiB",
        ],
        rows,
    )
    print(
        "CPU: the same ratio in process CPU seconds (all threads), less moved by other work on the machine "
        "but blind to time spent waiting for memory pages."
    )
    print(
        "MiB = peak resident memory above the start of each call; 'kept weights' = layers x heads x n^2 float32. "
        "A causal map is written only on and below its diagonal: pages wholly above it are never touched."
    )


if __name__ == "__main__":
    main()
