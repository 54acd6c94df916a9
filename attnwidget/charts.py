"""bqplot charts of analysis results: per-layer metric lines, head roles, comparison bars and the
segment-by-segment matrix.

Each function returns a ``bqplot.Figure`` built from the numbers `attnwidget.analysis` computed; the
charts draw, they compute nothing new. bqplot is imported inside the functions so that
``import attnwidget`` stays fast.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .analysis import ROLES, LanguageComparison, Quality, Report, SegmentAttention, Table, TemplateComparison

__all__ = ["metric_lines", "head_roles_chart", "comparison_bars", "segment_heatmap"]

# One colour per role, and grey for heads without one (Tableau 10).
ROLE_COLORS = dict(zip(ROLES + ("mixed",),
                       ("#d62728", "#1f77b4", "#9467bd", "#ff7f0e", "#2ca02c", "#17becf", "#aaaaaa")))


def _layer_table(result: Any) -> Table:
    if isinstance(result, (Report, Quality)):
        return result.layers
    if isinstance(result, Table) and "layer" in result.columns:
        return result
    raise TypeError("metric_lines takes a Report, a Quality or a Table with a 'layer' column "
                    f"(aw.analyze, aw.report, aw.evaluate_quality); got {type(result).__name__}")


def metric_lines(result: Any, metrics: Sequence[str] | None = None, *, title: str = "") -> Any:
    """One line per metric over the layers.

    Parameters
    ----------
    result : Report, Quality or Table
        `report` and `evaluate_quality` results give per-layer values; an `analyze` table (one row
        per head) is averaged over the heads of each layer.
    metrics : list of str, optional
        Columns to draw (default: every numeric column but layer and head).
    """
    from bqplot import Axis, Figure, LinearScale, Lines

    table = _layer_table(result)
    numeric = [c for c in table.columns if c not in ("layer", "head") and table[c].dtype.kind == "f"]
    metrics = numeric if metrics is None else list(metrics)
    unknown = [m for m in metrics if m not in numeric]
    if unknown or not metrics:
        raise ValueError(f"metrics {unknown or metrics} not in the table; choose from {numeric}")
    layers = np.unique(table["layer"])
    y = np.array([[table[m][table["layer"] == l].mean() for l in layers] for m in metrics])
    xs, ys = LinearScale(), LinearScale()
    lines = Lines(x=layers.astype(float), y=y, scales={"x": xs, "y": ys}, labels=list(metrics),
                  display_legend=True, marker="circle", marker_size=16)
    axes = [Axis(scale=xs, label="layer"), Axis(scale=ys, side="left", label="value")]
    return Figure(marks=[lines], axes=axes, title=title or "metrics per layer", legend_location="top-right")


def head_roles_chart(roles: Table, *, title: str = "") -> Any:
    """Heads placed by layer and head number, coloured by role; the tooltip shows the score.

    Parameters
    ----------
    roles : Table
        The result of `aw.head_roles`.
    """
    from bqplot import Axis, Figure, LinearScale, Scatter, Tooltip

    if not isinstance(roles, Table) or not {"layer", "head", "role", "score"} <= set(roles.columns):
        raise TypeError("head_roles_chart takes the Table aw.head_roles returns")
    layers, heads = np.unique(roles["layer"]), np.unique(roles["head"])
    shown = [r for r in ROLE_COLORS if np.any(roles["role"] == r)]
    # Leave an empty band above the top head for the legend (about 6% of the height per entry),
    # so it never covers a head; the axes tick only real layers and heads.
    band = min(0.06 * len(shown), 0.6)
    span = heads.max() - heads.min() + 1
    xs = LinearScale(min=float(layers.min()) - 0.5, max=float(layers.max()) + 0.5)
    ys = LinearScale(min=float(heads.min()) - 0.5, max=float(heads.min()) - 0.5 + span / (1 - band))
    marks = []
    for role, color in ROLE_COLORS.items():
        sel = roles["role"] == role
        if not sel.any():
            continue
        marks.append(Scatter(
            x=roles["layer"][sel].astype(float), y=roles["head"][sel].astype(float),
            names=[f"{s:.2f}" for s in roles["score"][sel]], display_names=False,
            colors=[color], scales={"x": xs, "y": ys}, labels=[f"{role} ({int(sel.sum())})"],
            display_legend=True, default_size=48,
            tooltip=Tooltip(fields=["x", "y", "name"], labels=["layer", "head", "score"])))
    axes = [Axis(scale=xs, label="layer", tick_values=_ticks(layers)),
            Axis(scale=ys, side="left", label="head", tick_values=_ticks(heads))]
    return Figure(marks=marks, axes=axes, title=title or "head roles", legend_location="top-right")


def _ticks(values: np.ndarray, most: int = 16) -> np.ndarray:
    """At most `most` evenly spaced ticks among integer `values`."""
    step = max(1, int(np.ceil(len(values) / most)))
    return values[::step].astype(float)


def comparison_bars(comparison: Any, metric: str = "entropy", *, title: str = "") -> Any:
    """Bars of one number per template or per language.

    Parameters
    ----------
    comparison : TemplateComparison or LanguageComparison
    metric : str
        A column of ``comparison.table`` (templates) or ``comparison.summary()`` (languages), or,
        for templates, a shared segment name: the attention that segment receives in each.
    """
    from bqplot import Axis, Bars, Figure, LinearScale, OrdinalScale

    table, shared = None, []
    if isinstance(comparison, TemplateComparison):
        shared = sorted(comparison.segments)
        if metric in comparison.segments:
            names = list(comparison.segments[metric])
            values = [comparison.segments[metric][n] for n in names]
            label = f"attention on {metric!r}"
        else:
            table, key = comparison.table, "template"
    elif isinstance(comparison, LanguageComparison):
        table, key = comparison.summary(), "language"
    else:
        raise TypeError("comparison_bars takes the result of aw.compare_templates or aw.compare_languages; "
                        f"got {type(comparison).__name__}")
    if table is not None:
        numeric = [c for c in table.columns if table[c].dtype.kind in "fi"]
        if metric not in numeric:
            extra = f", or a shared segment from {shared}" if shared else ""
            raise ValueError(f"unknown metric {metric!r}; choose from {numeric}{extra}")
        names, values, label = [str(v) for v in table[key]], list(table[metric]), metric
    xs, ys = OrdinalScale(), LinearScale(min=0.0)
    bars = Bars(x=names, y=np.asarray(values, dtype=float), scales={"x": xs, "y": ys})
    axes = [Axis(scale=xs), Axis(scale=ys, side="left", label=label)]
    return Figure(marks=[bars], axes=axes, title=title or label)


def segment_heatmap(seg: SegmentAttention, layer: int | None = None, *, title: str = "") -> Any:
    """The segment-by-segment matrix (rows: from, columns: to) of one layer or the mean of all.

    Parameters
    ----------
    seg : SegmentAttention
        The result of `aw.segment_attention`.
    layer : int, optional
        A model layer number; default the mean over layers.
    """
    from bqplot import Axis, ColorAxis, ColorScale, Figure, GridHeatMap, OrdinalScale

    if not isinstance(seg, SegmentAttention):
        raise TypeError(f"segment_heatmap takes the result of aw.segment_attention; got {type(seg).__name__}")
    m = seg.mean() if layer is None else seg.layer(layer)
    rs, cs, col = OrdinalScale(reverse=True), OrdinalScale(), ColorScale(scheme="Blues", min=0.0, max=1.0)
    grid = GridHeatMap(color=m, row=list(seg.names), column=list(seg.names),
                       scales={"row": rs, "column": cs, "color": col}, display_format=".2f")
    axes = [Axis(scale=cs, label="to"), Axis(scale=rs, side="left", label="from"),
            ColorAxis(scale=col, side="right")]
    name = "mean over layers" if layer is None else f"layer {layer}"
    return Figure(marks=[grid], axes=axes, title=title or f"segment attention ({name})")
