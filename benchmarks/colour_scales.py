"""Which colour scale shows the structure of SmolLM2's heads? Prints a table against linear.

For every head of the bundled SmolLM2 on a 128-token prompt, the values the heatmap would draw
(visible cells, scale maximum = the head's largest visible weight) go through the frontend's own
scale and colour-map code (js/src/lib/colormap.js, run by node). Per scale it reports, averaged over
heads:

* ``off-floor``: share of visible cells outside the sink column whose colour position is at least
  0.1, i.e. cells a reader can tell from the darkest colour;
* ``colours``: distinct colours drawn over the head's visible cells (of 256).

Run: ``python benchmarks/colour_scales.py`` (about 30 s on two cores).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import prompt_text  # noqa: E402

import attnwidget as aw  # noqa: E402

SCALES = [("linear", 1.0), ("log", 1.0), ("power", 0.3), ("power", 0.4), ("power", 0.5), ("power", 0.7)]

NODE = r"""
import { readFileSync } from "node:fs";
const [colormap, meta, bin, scalesJson] = process.argv.slice(2);
const { makeScale } = await import(colormap);
const { heads, n } = JSON.parse(readFileSync(meta, "utf8"));
const buf = readFileSync(bin);
const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const out = [];
for (const [kind, gamma] of JSON.parse(scalesJson)) {
  let off = 0, colours = 0;
  for (let h = 0; h < heads; h++) {
    const v = all.subarray(h * n * n, (h + 1) * n * n);
    let vmax = 0, sinkCol = 0, best = -1;
    const colSum = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) { const x = v[i * n + j]; if (x > vmax) vmax = x; colSum[j] += x; }
    for (let j = 0; j < n; j++) if (colSum[j] > best) { best = colSum[j]; sinkCol = j; }
    const s = makeScale(kind, { vmax, gamma });
    const seen = new Set();
    let cells = 0, visible = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
      const t = s(v[i * n + j]);
      seen.add(Math.round(t * 255));
      if (j === sinkCol) continue;
      cells++;
      if (t >= 0.1) visible++;
    }
    off += visible / cells;
    colours += seen.size;
  }
  out.push({ kind, gamma, off: off / heads, colours: colours / heads });
}
console.log(JSON.stringify(out));
"""


def main() -> None:
    model, tokenizer = aw.load_model()
    att = aw.extract(model, tokenizer, prompt_text(tokenizer, 128))
    L, H, Q, K = att.shape
    maps = np.stack([att.layer(l) for l in att.layer_ids]).reshape(L * H, Q, K).astype(np.float32)
    sink = float(np.mean([att.layer(l)[:, 1:, 0].mean() for l in att.layer_ids]))
    with tempfile.TemporaryDirectory() as tmp:
        meta, binf, script = Path(tmp, "meta.json"), Path(tmp, "maps.f32"), Path(tmp, "run.mjs")
        meta.write_text(json.dumps({"heads": L * H, "n": K}))
        binf.write_bytes(maps.tobytes())
        script.write_text(NODE)
        colormap = (ROOT / "js" / "src" / "lib" / "colormap.js").as_uri()
        res = subprocess.run(
            ["node", str(script), colormap, str(meta), str(binf), json.dumps(SCALES)],
            capture_output=True,
            text=True,
            check=True,
        )
    rows = json.loads(res.stdout)
    base = rows[0]
    print(f"SmolLM2-135M-Instruct, {K} tokens, {L * H} heads; mean weight on the first token {sink:.2f}")
    print(f"{'scale':<16} {'off-floor':>10} {'x linear':>9} {'colours':>8} {'x linear':>9}")
    for r in rows:
        name = r["kind"] if r["kind"] != "power" else f"power {r['gamma']}"
        print(
            f"{name:<16} {r['off']:>10.3f} {r['off'] / base['off']:>9.1f} {r['colours']:>8.1f} "
            f"{r['colours'] / base['colours']:>9.1f}"
        )


if __name__ == "__main__":
    main()
