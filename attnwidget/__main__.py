"""Command line: ``python -m attnwidget demo`` runs the bundled model on a prompt and writes a
standalone HTML page with the five linked views and the analysis report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEMO_PROMPT = "The cat sat on the mat because it was tired. Where did the cat sit?"


def _summary_lines(att) -> list[str]:
    """Per layer, averaged over heads: entropy, top weight, mass on the first token and on the previous one."""
    from attnwidget import metrics

    columns = {
        "entropy": metrics.entropy(att),
        "max weight": metrics.confidence(att),
        "on first token": metrics.sink_mass(att, k=1),
        "on previous": metrics.pattern_match(att, "previous_token"),
    }
    lines = [f"{'layer':>5}  " + "  ".join(f"{name:>14}" for name in columns)]
    for i, layer in enumerate(att.layer_ids):
        lines.append(f"{layer:>5}  " + "  ".join(f"{values[i].mean():>14.3f}" for values in columns.values()))
    return lines


def _heading(name: str, prompt: str):
    """The page's heading: the model's name, and the prompt in a smaller line (both set as text)."""
    import anywidget
    import traitlets as t

    class Heading(anywidget.AnyWidget):
        _esm = """
export default { render({ model, el }) {
  const box = document.createElement("div");
  box.style.cssText = "font:13px/1.4 system-ui,sans-serif;display:flex;flex-wrap:wrap;align-items:baseline;gap:0 10px";
  const name = document.createElement("h1");
  name.style.cssText = "font-size:18px;margin:0;line-height:1.3";
  name.textContent = model.get("name");
  const prompt = document.createElement("span");
  prompt.style.cssText = "opacity:.75;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:100%";
  prompt.textContent = model.get("prompt");
  prompt.title = model.get("prompt");
  box.append(name, prompt);
  el.replaceChildren(box);
} };
"""
        name = t.Unicode("").tag(sync=True)
        prompt = t.Unicode("").tag(sync=True)

    return Heading(name=name, prompt=prompt)


def _report_panel(text: str):
    """A read-only text panel for the page (the report is plain text; shown with textContent)."""
    import anywidget
    import traitlets as t

    class ReportPanel(anywidget.AnyWidget):
        _esm = """
export default { render({ model, el }) {
  const box = document.createElement("pre");
  // The views' theme variables (set on .attnwidget by their stylesheet) when present, else light.
  box.style.cssText = "font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;border:1px solid var(--aw-border,#d0d7de);border-radius:6px;padding:10px 12px;margin:0;white-space:pre-wrap;background:var(--aw-bg,#fff);color:var(--aw-fg,#1f2328)";
  box.className = "attnwidget aw-report";
  box.textContent = model.get("text");
  el.replaceChildren(box);
} };
"""
        text = t.Unicode("").tag(sync=True)

    return ReportPanel(text=text)


def demo(args) -> int:
    import attnwidget as aw

    model, tokenizer = aw.load_model(args.model)
    att = aw.extract(model, tokenizer, args.prompt)
    if not isinstance(att, aw.Attention):  # one text gives one Attention; an encoder-decoder needs a target
        raise SystemExit(f"demo draws one Attention; {args.model!r} gave {type(att).__name__}")
    print(att)
    print("tokens:", " | ".join(repr(t) for t in att.tokens))
    print("per-layer summary (head-averaged, over visible keys):")
    print("\n".join(_summary_lines(att)))
    name = str(att.meta.get("model", args.model))
    # A short heading (the model) and the prompt in a smaller line, so the views start high on the page.
    views = [_heading(name, args.prompt), aw.show(att), _report_panel(repr(aw.report(att)))]
    out = Path(args.out).resolve()
    aw.save_html(views, out)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB): open it in a browser, no kernel or network needed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attnwidget", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "demo", help="extract attention from the bundled model, summarise it and write a linked-views HTML page"
    )
    p.add_argument("--model", default="smollm2", help="smollm2 (default), minilm, or a hub id/path")
    p.add_argument("--prompt", default=DEMO_PROMPT)
    p.add_argument("--out", default="attnwidget-demo.html", help="HTML page to write (default: ./attnwidget-demo.html)")
    p.set_defaults(func=demo)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
