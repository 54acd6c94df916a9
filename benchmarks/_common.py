"""Shared helpers for the benchmark scripts: timing, peak memory, tables, prompts of a given length,
the headless Chromium the page benchmarks open."""

from __future__ import annotations

import gc
import os
import threading
import time

import psutil

# Debian's chromium, started as it must be on a machine with no sandbox, GPU or network.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


class PeakRSS:
    """Peak resident memory above the starting point while the block runs (sampled every 5 ms)."""

    def __enter__(self):
        gc.collect()
        self.proc = psutil.Process(os.getpid())
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)
        self.mib = (self.peak - self.base) / 2**20


def measure(fn, repeat: int = 1):
    """(best seconds, peak extra MiB, result) of `fn` over `repeat` runs."""
    best, peak, result = float("inf"), 0.0, None
    for _ in range(repeat):
        result = None
        with PeakRSS() as mem:
            t = time.perf_counter()
            result = fn()
            best = min(best, time.perf_counter() - t)
        peak = max(peak, mem.mib)
        if repeat > 1:
            result = None
            gc.collect()
    return best, peak, result


def prompt_text(tokenizer, n: int) -> str:
    """Ordinary English text that tokenizes to exactly `n` tokens (or the closest below)."""
    base = (
        "Attention lets each token gather information from the tokens before it, and a model "
        "stacks many such layers to build up meaning from the words of a prompt. "
    ).split()
    words = (base * (n // len(base) + 2))[: 2 * n]

    def count(m):
        return len(tokenizer(" ".join(words[:m]))["input_ids"])

    lo, hi = 1, len(words)
    while lo < hi:  # largest word count whose text is at most n tokens
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if count(mid) <= n else (lo, mid - 1)
    return " ".join(words[:lo])


def print_table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).rjust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(r, widths)))


def load(name: str, device: str):
    """The benchmark's model: the bundled SmolLM2, or ``llama8b``, random weights in a Llama-3-8B
    shape (32 layers, 32 query heads over 8 kv heads, hidden 4096) in bfloat16 on `device`: no
    download, for GPU figures (about 16 GB of weights)."""
    import torch

    import attnwidget as aw

    if name == "smollm2":
        return aw.load_model()
    if name == "llama8b":
        from transformers import LlamaConfig, LlamaForCausalLM

        cfg = LlamaConfig(
            hidden_size=4096,
            intermediate_size=14336,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            vocab_size=49152,  # the bundled tokenizer's: its ids fit as they are
            max_position_embeddings=131072,
            attn_implementation="sdpa",
        )
        with torch.device(device):
            model = LlamaForCausalLM(cfg).to(torch.bfloat16).eval()
        _, tok = aw.load_model()  # any tokenizer works for random weights
        return model, tok
    raise SystemExit(f"unknown model {name}")


def sync(device: str) -> None:
    """Wait for the device's queued work, so a wall-clock time covers it."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def two_ranks(script: str, worker_args: list[str], threads: int) -> object:
    """Run `script --worker OUT *worker_args` as two ranks of ``python -m torch.distributed.run``
    (gloo on loopback, `threads` torch threads each) and return the JSON that rank 0 wrote to OUT."""
    import json
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    name = os.path.splitext(os.path.basename(script))[0]
    out = os.path.join(os.path.dirname(os.path.abspath(script)), f".{name}_bench_{os.getpid()}.json")
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", OMP_NUM_THREADS=str(threads))
    if sys.platform.startswith("linux"):
        env["GLOO_SOCKET_IFNAME"] = "lo"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1"]
    command += [f"--master_port={port}", script, "--worker", out, *worker_args]
    try:
        subprocess.run(command, env=env, check=True)
        with open(out) as f:
            return json.load(f)
    finally:
        if os.path.exists(out):
            os.remove(out)
