"""The self-check of the capture: captured weights times values must give the model's own output.

It makes a silent error impossible: during the captured pass the recorder keeps each layer's
values and, for a few sampled query rows, the attention output the model itself computed
(`attnwidget.extraction.capture`). The captured weights of those rows times the values must
reproduce that output; a bias, mask or scaling the capture did not see shows up as a difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from attnwidget.extraction.capture import CapturedQK, LayerRecord, tower_kind

__all__ = ["CheckFailure", "self_check", "drop_check_data"]


@dataclass
class CheckFailure:
    """Where the captured weights failed to reproduce the model's attention output."""

    tower: str
    layer: int
    row: int
    difference: float
    tolerance: float

    def __str__(self) -> str:
        return (
            f"{tower_kind(self.tower)} layer {self.layer} ({self.tower}), query row {self.row}: "
            f"captured weights x values differ from the model's attention output by "
            f"{self.difference:.3g} (relative to the largest value; tolerance {self.tolerance:.1g})"
        )


def _tolerance(dtype) -> float:
    import torch

    return 1e-4 if dtype in (torch.float32, torch.float64) else 3e-2


def self_check(records: list[LayerRecord], batch_index: int, q_positions=None, k_positions=None) -> CheckFailure | None:
    """Check each record's sampled rows: captured weights @ values against the model's output.

    The weights come from the same `CapturedQK` code that computes every returned map, for all
    sampled rows of a layer in one block. Returns the first failure (or None). Rows that are
    padding in this batch element are skipped.
    """
    import torch

    for rec in records:
        if rec.check_out is None or rec.check_rows is None:
            continue
        rows, picks = [], []
        kept = None if q_positions is None else set(q_positions.tolist())
        for j, row in enumerate(rec.check_rows):
            if kept is None or row in kept:
                rows.append(row)
                picks.append(j)
        if not rows:
            continue
        n_heads = rec.q.shape[1]
        src = CapturedQK([rec], list(range(n_heads)), batch_index, torch.tensor(rows), k_positions)
        v = rec.v[batch_index]  # (Hkv, n_key_all, d)
        if k_positions is not None:
            v = v.index_select(1, k_positions.to(v.device))
        v = v.float()
        n_kv, r = v.shape[0], len(rows)
        p = torch.from_numpy(src.block(0, None, 0, r)).to(v.device)  # (H, r, n_key)
        # Grouped-query heads are consecutive per kv head: one matmul per kv head.
        mine = torch.matmul(p.reshape(n_kv, (n_heads // n_kv) * r, -1), v).reshape(n_heads, r, -1)
        theirs = rec.check_out[batch_index, picks].float().transpose(0, 1)  # (H, r, d)
        scale = max(float(v.abs().max()), 1e-6)
        per_row = (mine - theirs).abs().amax(dim=(0, 2)) / scale
        tol = _tolerance(rec.q.dtype)
        worst = int(torch.nan_to_num(per_row, nan=float("inf")).argmax())
        diff = float(per_row[worst])
        if not diff <= tol:  # NaN fails too
            return CheckFailure(rec.tower, rec.layer, rows[worst], diff, tol)
    return None


def drop_check_data(records: list[LayerRecord]) -> None:
    """Free the values and output rows once checked (a lazy attention keeps only q, k, masks)."""
    for rec in records:
        rec.v = rec.check_rows = rec.check_out = None
