"""Run functions of js/src/lib in node on inputs from Python, to compare with their Python twins."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "js" / "src" / "lib"


def run_js(module: str, body: str, payload) -> object:
    """Import ``js/src/lib/<module>`` as ``lib`` in node, bind the JSON `payload` to ``input``,
    run the async `body` (which returns a JSON-able value) and return its value. Bytes in
    `payload` travel as ``{"b64": ...}`` and are turned back into Uint8Arrays."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")

    def enc(x):
        if isinstance(x, (bytes, bytearray, memoryview)):
            return {"b64": base64.b64encode(bytes(x)).decode("ascii")}
        if isinstance(x, dict):
            return {k: enc(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [enc(v) for v in x]
        return x

    script = f"""
import * as lib from {json.dumps((LIB / module).as_uri())};
const dec = (x) => x && typeof x === "object" && !Array.isArray(x)
  ? ("b64" in x ? new Uint8Array(Buffer.from(x.b64, "base64")) : Object.fromEntries(Object.entries(x).map(([k, v]) => [k, dec(v)])))
  : Array.isArray(x) ? x.map(dec) : x;
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const input = dec(JSON.parse(Buffer.concat(chunks).toString("utf8")));
const out = await (async () => {{ {body} }})();
process.stdout.write(JSON.stringify(out, (k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)));
"""
    proc = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(enc(payload)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise AssertionError(f"node failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)
