"""Long contexts: what attention costs at lengths people prompt with.

For each length it measures, in one run: the plain SDPA forward (the baseline), the capture forward
(`aw.extract(..., lazy=True)`: q/k kept, nothing n^2 materialised), one head's full (n x n) map,
every head's entropy (as `aw.metrics.entropy` computes it, then through torch blocks of rows and
through the numpy pass, for comparison), and eager ``output_attentions`` in a child process with a
memory cap (so running out of memory is reported, not fatal). Ratios are against the plain forward.

    python benchmarks/long_context.py                       # bundled SmolLM2 on CPU, n = 1024 4096 8192
    python benchmarks/long_context.py --model llama8b --device cuda --lengths 4096 8192 16384 32768
      (random-weight Llama-3-8B shape, bfloat16, for a machine with a CUDA GPU)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from _common import PeakRSS, load, print_table, prompt_text  # noqa: E402

import attnwidget as aw  # noqa: E402


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class Peak:
    """Peak extra memory: GPU allocator peak on CUDA, resident set on CPU."""

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            self.rss = PeakRSS().__enter__()
        return self

    def __exit__(self, *exc):
        if self.device.startswith("cuda"):
            self.mib = (torch.cuda.max_memory_allocated() - self.base) / 2**20
        else:
            self.rss.__exit__(*exc)
            self.mib = self.rss.mib


CPU_SECONDS: dict = {}  # process CPU seconds of the last call of each timed step, by name


def timed(fn, device, name=None):
    with Peak(device) as p:
        sync(device)
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        sync(device)
        dt = time.perf_counter() - t
    if name:
        CPU_SECONDS[name] = time.process_time() - c
    return dt, p.mib, out


EAGER_CHILD = r"""
import json, resource, sys, time, torch, attnwidget as aw
cap = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
n = int(sys.argv[1])
try:
    model, tok = aw.load_model()
    model.set_attn_implementation("eager")
    ids = torch.tensor([json.loads(sys.stdin.read())])
    with torch.no_grad():
        model(input_ids=ids[:, :16], output_attentions=True)
        t = time.perf_counter()
        out = model(input_ids=ids, output_attentions=True, use_cache=False)
        print(json.dumps({"seconds": time.perf_counter() - t}))
except (MemoryError, RuntimeError) as e:
    print(json.dumps({"error": "out of memory" if "memory" in str(e).lower() or isinstance(e, MemoryError) else str(e)[:80]}))
"""


def eager_in_child(ids, cap_bytes):
    proc = subprocess.run(
        [sys.executable, "-c", EAGER_CHILD, str(len(ids)), str(cap_bytes)],
        input=json.dumps(ids),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue
    return {"error": "out of memory (killed)" if proc.returncode < 0 else f"failed ({proc.returncode})"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2", choices=["smollm2", "llama8b"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096, 8192])
    ap.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["blocks", "numpy", "eager"],
        help="leave out the torch block pass, the numpy pass and/or the eager child (slow at 8192 tokens)",
    )
    ap.add_argument(
        "--eager-cap-gib", type=float, default=16.0, help="address-space cap for the eager child process (CPU only)"
    )
    args = ap.parse_args()
    model, tok = load(args.model, args.device)
    cfg = model.config
    print(
        f"{args.model}: {cfg.num_hidden_layers} layers x {cfg.num_attention_heads} heads "
        f"({cfg.num_key_value_heads} kv), {args.device}, {model.dtype}, torch threads {torch.get_num_threads()}"
    )
    # Count the torch reductions, so the table cannot report the numpy pass under the streamed name.
    from attnwidget.extraction.capture import CapturedQK

    streamed, real_row_stats = [], CapturedQK.row_stats

    def counted_row_stats(self, *a, **k):
        streamed.append(a[0])
        return real_row_stats(self, *a, **k)

    CapturedQK.row_stats = counted_row_stats
    rows = []
    for n in args.lengths:
        text = prompt_text(tok, n)
        ids = tok(text)["input_ids"]
        if args.model == "llama8b":
            ids = [i % cfg.vocab_size for i in ids]
        x = torch.tensor([ids], device=args.device)
        L, H = cfg.num_hidden_layers, cfg.num_attention_heads

        def plain():
            with torch.no_grad():
                return model(input_ids=x, use_cache=False).logits.shape

        plain()  # warm-up
        t_plain, m_plain, _ = timed(plain, args.device, "plain")
        text_for_extract = tok.decode(ids) if args.model == "llama8b" else text
        t_cap, m_cap, att = timed(lambda: aw.extract(model, tok, text_for_extract, lazy=True), args.device, "capture")
        t_head, m_head, head = timed(lambda: att.head(L // 2, 0), args.device)
        t_ent, m_ent, ent = timed(lambda: aw.metrics.entropy(att), args.device, "entropy")
        assert streamed, "entropy of lazy attention did not go through the source's torch row_stats"
        streamed.clear()
        if "blocks" in args.skip:
            blocks_s = "not run"
        else:
            # The torch reduction over blocks of rows, as for layers the fused kernel cannot take.
            real_fused = CapturedQK._fused_row_stats
            CapturedQK._fused_row_stats = lambda self, *a: None
            try:
                t_bl, _, ent_bl = timed(lambda: aw.metrics.entropy(att), args.device)
            finally:
                CapturedQK._fused_row_stats = real_fused
            assert abs(ent - ent_bl).max() < 1e-5
            blocks_s = f"{t_bl:.2f} ({t_bl / t_plain:.2f}x)"
        if "numpy" in args.skip:
            np_s = "not run"
        else:
            # The same numbers through the numpy pass over every block (the reduction on the device off).
            real_stream = aw.metrics._stream_row_stats
            aw.metrics._stream_row_stats = lambda maps, accs: False
            try:
                t_np, _, ent_np = timed(lambda: aw.metrics.entropy(att), args.device)
            finally:
                aw.metrics._stream_row_stats = real_stream
            assert abs(ent - ent_np).max() < 1e-5
            np_s = f"{t_np:.2f} ({t_np / t_plain:.2f}x)"
        assert head.shape == (att.n_query, att.n_key) and ent.shape == (L, H)
        if args.device == "cpu" and args.model == "smollm2" and "eager" not in args.skip:
            eager = eager_in_child(ids, int(args.eager_cap_gib * 2**30))
            eager_s = (
                f"{eager['seconds']:.2f} ({eager['seconds'] / t_plain:.2f}x)" if "seconds" in eager else eager["error"]
            )
        else:
            eager_s = "not run"
        full_gib = L * H * len(ids) ** 2 * 4 / 2**30
        rows.append(
            [
                len(ids),
                f"{t_plain:.2f}",
                f"{t_cap:.2f} ({t_cap / t_plain:.2f}x)",
                f"{t_head:.2f}",
                f"{t_ent:.2f} ({t_ent / t_plain:.2f}x)",
                f"{CPU_SECONDS['plain']:.1f} / {CPU_SECONDS['capture']:.1f} / {CPU_SECONDS['entropy']:.1f} "
                f"({CPU_SECONDS['entropy'] / CPU_SECONDS['plain']:.2f}x)",
                blocks_s,
                np_s,
                f"{m_plain:.0f}",
                f"{m_cap:.0f}",
                f"{m_ent:.0f}",
                f"{full_gib:.1f}",
                eager_s,
            ]
        )
        att = head = None  # free the maps before the next length (a del would unbind them for the lambdas above)
    print_table(
        [
            "n",
            "plain s",
            "capture s (x plain)",
            "1 head map s",
            "all-head entropy s (x plain)",
            "CPU s: plain / capture / entropy (x plain)",
            "same, torch blocks s (x plain)",
            "same, numpy pass s (x plain)",
            "plain MiB",
            "capture MiB",
            "entropy MiB",
            "full weights GiB",
            "eager s (x plain)",
        ],
        rows,
    )
    print(
        "Entropy of lazy captured attention is reduced in torch (checked: the source's row_stats ran), by the "
        "fused attention kernel on plain layers; 'torch blocks' and 'numpy pass' give the same numbers other ways. "
        "CPU s: process CPU seconds, less moved by other work on the machine."
    )
    print(
        f"MiB: peak memory above the start of each step. Eager runs in a child process capped at "
        f"{args.eager_cap_gib:g} GiB of address space."
    )


if __name__ == "__main__":
    main()
