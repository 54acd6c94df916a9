"""Two CPU processes under torchrun (gloo on loopback), for the tests of work shared across ranks:
the test file is its own rank script and writes what each rank returned into `out`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_two_ranks(script: str, out: Path, timeout: float) -> subprocess.CompletedProcess:
    """Run `script out` as two ranks of ``python -m torch.distributed.run`` and wait for both.

    The ranks import this checkout (ROOT and tests/ lead PYTHONPATH), run torch on one thread each
    and talk over loopback."""
    path = os.pathsep.join([str(ROOT), str(TESTS), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = dict(os.environ, PYTHONPATH=path, MASTER_ADDR="127.0.0.1", OMP_NUM_THREADS="1")
    env["TOKENIZERS_PARALLELISM"] = "false"
    if sys.platform.startswith("linux"):
        env["GLOO_SOCKET_IFNAME"] = "lo"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--nnodes=1",
        "--master_addr=127.0.0.1",
        f"--master_port={free_port()}",
        script,
        str(out),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
