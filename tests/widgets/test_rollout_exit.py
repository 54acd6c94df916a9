"""A script that ends while a rollout worker computes rows of long lazy attention exits cleanly.

The worker is a daemon thread doing numpy work block by block; left running while the interpreter
finalises, it aborted the process (status 134, "Fatal Python error"). The view's exit hook signals
every worker and waits for it to stop at its next row block.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import atexit, time
    import numpy as np
    import attnwidget as aw
    from attnwidget.attention.core import causal_mask
    from attnwidget.attention.sources import QKSource

    L, H, n, d = 6, 4, 3000, 16
    rng = np.random.default_rng(0)
    q = rng.normal(size=(L, H, n, d)).astype(np.float32)
    k = rng.normal(size=(L, H, n, d)).astype(np.float32)
    mask = causal_mask(n, n)
    att = aw.Attention(None, [f"t{i}" for i in range(n)], mask, _source=QKSource(q, k, mask))
    bar = aw.RolloutBar(att)
    bar.request_rows([n - 2, 7, 1500])
    worker = bar._worker
    assert worker is not None and worker.is_alive()
    time.sleep(0.05)
    # atexit handlers run after threading's exit hooks: by then the worker must have stopped.
    atexit.register(lambda: print("worker alive at exit:", worker.is_alive(), flush=True))
    print("mid-computation:", bar._pending, flush=True)
    """
)


@pytest.mark.slow  # about 35 s of repeated subprocess runs: make test runs it, make check leaves it out
def test_script_exits_cleanly_while_a_rollout_worker_runs(tmp_path):
    script = tmp_path / "exit_mid_rollout.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    started, runs = time.monotonic(), 0
    # As many runs as fit in about 30 s (20 at most, 3 at least): the abort came 2 runs in 3.
    while runs < 20 and (runs < 3 or time.monotonic() - started < 30):
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
        runs += 1
        assert proc.returncode == 0, f"run {runs}: exit status {proc.returncode}\n{proc.stderr[-2000:]}"
        assert "Fatal Python error" not in proc.stderr and "Aborted" not in proc.stderr, proc.stderr[-2000:]
        assert "mid-computation: {'rows'" in proc.stdout, proc.stdout
        assert "worker alive at exit: False" in proc.stdout, proc.stdout
