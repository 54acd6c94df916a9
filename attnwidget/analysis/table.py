"""`Table`, the result type of the analyses: rows of named values held as a numpy structured array,
with a text form, an HTML form for notebooks and a pandas DataFrame on request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget.errors import AttentionError

__all__ = ["Table"]


class Table:
    """Rows of named values: a numpy structured array with a readable text form.

    Index with a column name for a column array, an int for one row as a dict; iterate for dicts.
    In a notebook it shows as an HTML table (through pandas when installed); `sort` orders it and
    `to_frame` gives a pandas DataFrame to sort and filter interactively.
    """

    def __init__(self, records: np.ndarray, title: str = "", missing: str = "nan"):
        self.records = records
        self.title = title
        self.missing = missing  # how a NaN cell is shown; the data keep NaN

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], title: str = "", missing: str = "nan") -> Table:
        cols = {k: np.asarray(v) for k, v in columns.items()}
        n = {len(v) for v in cols.values()}
        if len(n) != 1:
            raise AttentionError(f"columns have different lengths: { {k: len(v) for k, v in cols.items()} }")
        dtype = [(k, v.dtype if v.dtype.kind != "U" else object) for k, v in cols.items()]
        rec = np.empty(n.pop(), dtype=dtype)
        for k, v in cols.items():
            rec[k] = v
        return cls(rec, title, missing)

    @property
    def columns(self) -> list[str]:
        return list(self.records.dtype.names or ())

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(f"no column {key!r}; columns are {self.columns}")
            return self.records[key]
        return self.to_dicts()[key]

    def __iter__(self):
        return iter(self.to_dicts())

    def to_dicts(self) -> list[dict]:
        return [{k: _plain(row[k]) for k in self.columns} for row in self.records]

    def where(self, **equal: Any) -> Table:
        """Rows whose columns equal the given values, e.g. ``table.where(layer=3)``."""
        keep = np.ones(len(self), bool)
        for k, v in equal.items():
            keep &= self[k] == v
        return Table(self.records[keep], self.title, self.missing)

    def sort(self, column: str, *, descending: bool = True) -> Table:
        """Rows ordered by one column (largest first by default; NaN last)."""
        descending = V.boolean("descending", descending)
        values = self[column]
        if values.dtype.kind in "fiub":
            key = np.where(np.isnan(values.astype(float)), np.inf, -values.astype(float) if descending else values)
            order = np.argsort(key, kind="stable")
        else:
            order = np.argsort(values.astype(str), kind="stable")
            order = order[::-1] if descending else order
        return Table(self.records[order], self.title, self.missing)

    def head(self, n: int = 15) -> Table:
        """The first `n` rows (after `sort`, the top ones); the title says how many of how many."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise V.ArgumentTypeError(f"head takes a positive int; got {V.show(n)}")
        if n >= len(self):
            return self
        title = f"{self.title} (first {n} of {len(self)} rows)" if self.title else f"first {n} of {len(self)} rows"
        return Table(self.records[:n], title, self.missing)

    def to_frame(self):
        """A pandas DataFrame of the rows (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Table.to_frame needs pandas: pip install pandas") from None
        return pd.DataFrame({k: self.records[k] for k in self.columns})

    def _repr_html_(self) -> str:
        import html

        try:
            frame = self.to_frame()
        except ImportError:
            frame = None
        title = f"<b>{html.escape(V.visible(self.title))}</b>" if self.title else ""
        if frame is not None:
            numeric = [c for c in frame.columns if frame[c].dtype.kind == "f"]
            styler = frame.style.format({c: "{:.3f}" for c in numeric}, na_rep=self.missing).hide(axis="index")
            # Bars need no matplotlib (a background gradient would); one bar scale per column.
            varied = [c for c in numeric if np.isfinite(frame[c]).any() and frame[c].max() > frame[c].min()]
            styler = styler.bar(subset=varied, color="#9ecae1")
            return title + styler.to_html()
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(row[k], self.missing))}</td>" for k in self.columns) + "</tr>"
            for row in self.records
        )
        head = "".join(f"<th>{html.escape(V.visible(c))}</th>" for c in self.columns)
        return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"

    def __repr__(self) -> str:
        rows = [[row[k] for k in self.columns] for row in self.records]
        return _format_table(self.columns, rows, self.title, missing=self.missing)


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _cell(v: Any, missing: str = "nan") -> str:
    if isinstance(v, (float, np.floating)):
        return missing if np.isnan(v) else f"{v:.3f}"
    v = str(v)
    return v if v.isprintable() else repr(v)  # newlines in answers would break the rows


def _format_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "", limit: int = 40, missing: str = "nan"
) -> str:
    shown = list(rows[:limit])
    cells = [[_cell(v, missing) for v in r] for r in shown]
    # Titles and column names carry model and part names: invisible characters shown as marks.
    columns = [V.visible(c) for c in columns]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["\n".join(V.visible(line) for line in title.split("\n"))] if title else []
    lines.append("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=False)))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=False)) for r in cells]
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more rows")
    return "\n".join(lines)
