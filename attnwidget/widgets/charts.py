"""bqplot charts of analysis results: per-layer metric lines, head roles, comparison bars, the parts
a query read, and the part-by-part matrix.

Each function takes an analysis result (`attnwidget.analysis`: a `Report`, `ShapeScore`, `Table`,
`SegmentAttention`, or a comparison from `attnwidget.analysis.experiments`) and returns a
``bqplot.Figure`` of the numbers it holds; the charts draw, they compute nothing new, and the results
never import them (``aw.widgets.charts.segment_shares(seg)``, not a method of ``seg``). bqplot is imported inside the functions so that
``import attnwidget`` stays fast.

The figures display like the views do (`attnwidget.widgets.export.ipython_display`): beside the
figure, the export host. A notebook exported with ``jupyter nbconvert --execute --to html`` and
opened offline cannot draw bqplot (its renderer loads from the network); the host then puts a line
in the figure's place saying so, instead of an empty output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from attnwidget.analysis.experiments import LanguageComparison, TemplateComparison
from attnwidget.analysis.heads import ROLES
from attnwidget.analysis.reporting import Report, ShapeScore
from attnwidget.analysis.segments import SegmentAttention
from attnwidget.analysis.table import Table
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionIndexError

__all__ = ["metric_lines", "head_roles_chart", "comparison_bars", "segment_heatmap", "segment_shares", "UNITS"]

_FIGURE = None


def _figure(**kwargs: Any) -> Any:
    """A bqplot Figure that displays with the export host beside it (module docstring)."""
    global _FIGURE
    if _FIGURE is None:
        import bqplot

        from attnwidget.widgets.export import ipython_display

        class Figure(bqplot.Figure):
            """bqplot's Figure; displayed with the export host, which says offline why it is not drawn."""

            def _ipython_display_(self, **kwargs: Any) -> None:
                ipython_display(self)

        _FIGURE = Figure
    return _FIGURE(**kwargs)


# The unit of each metric name a chart may draw; metrics in different units get different axes.
UNITS = {
    "entropy": "nats",
    "logprob": "nats",
    "entropy_per_char": "nats per character",
    "tokens": "tokens",
    "characters": "characters",
    "chars_per_token": "characters per token",
    "unknown": "tokens",
}
SHARE = "share (0-1)"


def unit_of(metric: str) -> str:
    """The axis unit of a metric name: nats, counts, or a share in [0, 1] (everything else)."""
    return UNITS.get(metric, SHARE)


# One colour per role, and grey for heads without one (Tableau 10).
ROLE_COLORS = dict(
    zip(ROLES + ("mixed",), ("#d62728", "#1f77b4", "#9467bd", "#ff7f0e", "#2ca02c", "#17becf", "#aaaaaa"), strict=False)
)


def _layer_table(result: Any) -> Table:
    if isinstance(result, (Report, ShapeScore)):
        return result.layers
    if isinstance(result, Table) and "layer" in result.columns:
        return result
    raise ArgumentTypeError(
        "metric_lines takes a Report, a ShapeScore or a Table with a 'layer' column "
        f"(aw.analyze, aw.report, aw.analysis.shape_score); got {type(result).__name__}"
    )


def metric_lines(result: Any, metrics: Sequence[str] | None = None, *, title: str = "") -> Any:
    """One line per metric over the layers, with one y axis per unit.

    Entropy is in nats and the other metrics are shares in [0, 1]; each unit gets its own scale
    and axis (the first on the left, a second on the right), so a 0-1 metric is never flattened
    against a nats axis. More than two units is an error: draw them in separate charts.

    Parameters
    ----------
    result : Report, ShapeScore or Table
        `report` and `shape_score` results give per-layer values; an `analyze` table (one row
        per head) is averaged over the heads of each layer.
    metrics : list of str, optional
        Columns to draw (default: every numeric column but layer and head).
    """
    from bqplot import Axis, LinearScale, Lines

    table = _layer_table(result)
    numeric = [c for c in table.columns if c not in ("layer", "head") and table[c].dtype.kind == "f"]
    metrics = numeric if metrics is None else list(metrics)
    unknown = [m for m in metrics if m not in numeric]
    if unknown or not metrics:
        raise AttentionError(f"metrics {unknown or metrics} not in the table; choose from {numeric}")
    units = list(dict.fromkeys(unit_of(m) for m in metrics))
    if len(units) > 2:
        raise AttentionError(f"metrics {metrics} have {len(units)} units ({units}); draw at most two units per chart")
    layers = np.unique(table["layer"])
    xs = LinearScale()
    marks, axes = [], [Axis(scale=xs, label="layer")]
    for side, unit in zip(("left", "right"), units, strict=False):
        group = [m for m in metrics if unit_of(m) == unit]
        y = np.array([[table[m][table["layer"] == layer].mean() for layer in layers] for m in group])
        ys = LinearScale(min=0.0, max=1.0) if unit == SHARE else LinearScale()
        marks.append(
            Lines(
                x=layers.astype(float),
                y=y,
                scales={"x": xs, "y": ys},
                labels=[f"{m} ({unit})" for m in group],
                display_legend=True,
                marker="circle",
                marker_size=16,
                line_style="solid" if side == "left" else "dashed",
            )
        )
        axes.append(Axis(scale=ys, side=side, label=unit, grid_lines="solid" if side == "left" else "none"))
    return _figure(marks=marks, axes=axes, title=title or "metrics per layer", legend_location="top-right")


def head_roles_chart(roles: Table, *, title: str = "") -> Any:
    """Heads placed by layer and head number, coloured by role; the tooltip shows the score.

    Parameters
    ----------
    roles : Table
        The result of `aw.experiments.head_roles` (or `aw.analysis.roles_from_scores`).
    """
    from bqplot import Axis, LinearScale, Scatter, Tooltip

    if not isinstance(roles, Table) or not {"layer", "head", "role", "score"} <= set(roles.columns):
        raise ArgumentTypeError("head_roles_chart takes the Table aw.experiments.head_roles returns")
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
        marks.append(
            Scatter(
                x=roles["layer"][sel].astype(float),
                y=roles["head"][sel].astype(float),
                names=[f"{s:.2f}" for s in roles["score"][sel]],
                display_names=False,
                colors=[color],
                scales={"x": xs, "y": ys},
                labels=[f"{role} ({int(sel.sum())})"],
                display_legend=True,
                default_size=48,
                tooltip=Tooltip(fields=["x", "y", "name"], labels=["layer", "head", "score"]),
            )
        )
    axes = [
        Axis(scale=xs, label="layer", tick_values=_ticks(layers)),
        Axis(scale=ys, side="left", label="head", tick_values=_ticks(heads)),
    ]
    return _figure(marks=marks, axes=axes, title=title or "head roles", legend_location="top-right")


def _ticks(values: np.ndarray, most: int = 16) -> np.ndarray:
    """At most `most` evenly spaced ticks among integer `values`."""
    step = max(1, int(np.ceil(len(values) / most)))
    return values[::step].astype(float)


def comparison_bars(comparison: Any, metric: str | None = None, *, title: str = "") -> Any:
    """Bars of one number per template or per language, on an axis labelled with its unit.

    Parameters
    ----------
    comparison : TemplateComparison or LanguageComparison
    metric : str, optional
        A numeric column of ``comparison.table`` (templates: ``logprob``, ``p_target``,
        ``read_<part>``, ``entropy``...) or of ``comparison.summary()`` (languages). Default: the
        outcome, ``logprob``, for templates compared with a target, else ``entropy``.
    """
    from bqplot import Axis, Bars, LinearScale, OrdinalScale

    if isinstance(comparison, TemplateComparison):
        table, key = comparison.table, "template"
    elif isinstance(comparison, LanguageComparison):
        table, key = comparison.summary(), "language"
    else:
        raise ArgumentTypeError(
            "comparison_bars takes the result of aw.experiments.compare_templates or aw.experiments.compare_languages; "
            f"got {type(comparison).__name__}"
        )
    numeric = [c for c in table.columns if table[c].dtype.kind in "fi"]
    if metric is None:
        metric = "logprob" if "logprob" in numeric else "entropy"
    if metric not in numeric:
        raise AttentionError(f"unknown metric {metric!r}; choose from {numeric}")
    names, values = [str(v) for v in table[key]], np.asarray(table[metric], dtype=float)
    unit = unit_of(metric)
    xs = OrdinalScale()
    ys = (
        LinearScale(min=0.0, max=1.0)
        if unit == SHARE
        else (LinearScale() if values.min() < 0 else LinearScale(min=0.0))
    )
    bars = Bars(x=names, y=values, scales={"x": xs, "y": ys})
    axes = [Axis(scale=xs), Axis(scale=ys, side="left", label=f"{metric} ({unit})")]
    return _figure(marks=[bars], axes=axes, title=title or metric)


def segment_shares(seg: SegmentAttention, *, layer: int | None = None, content: bool = False, title: str = "") -> Any:
    """Bars: the share of the queries' attention each part (and "other", "sinks", "local") takes.

    Parameters
    ----------
    seg : SegmentAttention
    layer : int, optional
        One model layer; default the mean over layers.
    content : bool
        Shares with the sinks and the local reads apart (`SegmentAttention.content_shares`) instead of all.
    """
    from bqplot import Axis, Bars, LinearScale, OrdinalScale

    if not isinstance(seg, SegmentAttention):
        raise ArgumentTypeError(
            f"segment_shares takes the result of aw.analysis.segment_attention; got {type(seg).__name__}"
        )
    if content and layer is not None:
        raise AttentionError("content=True draws the mean over layers; leave layer unset")
    shares = seg.content_shares() if content else (seg.shares if layer is None else seg.layer(layer))
    names = list(shares)
    xs, ys = OrdinalScale(), LinearScale(min=0.0, max=1.0)
    bars = Bars(x=names, y=np.array([shares[n] for n in names]), scales={"x": xs, "y": ys})
    axes = [Axis(scale=xs, label="part"), Axis(scale=ys, side="left", label=SHARE)]
    where = "mean over layers" if layer is None else f"layer {layer}"
    local = "local" in seg.names
    if content:
        what = "sinks and local reads excluded" if local else "sinks excluded"
    else:
        what = "sinks apart" if seg.sinks else "nothing hidden"
    return _figure(
        marks=[bars], axes=axes, title=title or f"what the {seg.queries_label} queries read ({where}, {what})"
    )


def segment_heatmap(seg: SegmentAttention, layer: int | None = None, *, title: str = "") -> Any:
    """The part-by-part matrix (rows: from, columns: to) of one layer or the mean of all.

    The ``local`` column (each token's reads of itself and the previous token) has no row.

    Parameters
    ----------
    seg : SegmentAttention
        The result of `aw.analysis.segment_attention`.
    layer : int, optional
        A model layer number; default the mean over layers.
    """
    from bqplot import Axis, ColorAxis, ColorScale, GridHeatMap, OrdinalScale

    if not isinstance(seg, SegmentAttention):
        raise ArgumentTypeError(
            f"segment_heatmap takes the result of aw.analysis.segment_attention; got {type(seg).__name__}"
        )
    if layer is None:
        m = seg.matrix.mean(axis=0)
    else:
        if layer not in seg.layer_ids:
            raise AttentionIndexError(f"layer {layer} is not in this result; it holds layers {seg.layer_ids}")
        m = seg.matrix[seg.layer_ids.index(layer)]
    rows = [i for i, n in enumerate(seg.names) if n != "local"]  # no token is "local": it has no row
    rs, cs, col = OrdinalScale(reverse=True), OrdinalScale(), ColorScale(scheme="Blues", min=0.0, max=1.0)
    grid = GridHeatMap(
        color=m[rows],
        row=[seg.names[i] for i in rows],
        column=list(seg.names),
        scales={"row": rs, "column": cs, "color": col},
        display_format=".2f",
    )
    axes = [
        Axis(scale=cs, label="to"),
        Axis(scale=rs, side="left", label="from"),
        ColorAxis(scale=col, side="right", label=SHARE),
    ]
    name = "mean over layers" if layer is None else f"layer {layer}"
    return _figure(marks=[grid], axes=axes, title=title or f"part-to-part attention ({name})")
