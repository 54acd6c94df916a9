"""Shared data of the *_refusals.py tests: small causal attentions, a minimal lazy source, an npz writer."""

from __future__ import annotations

import numpy as np

import attnwidget as aw
from attnwidget.attention.arrays import causal_mask


def softmax_rows(n=4, L=2, H=2, causal=True, seed=0):
    rng = np.random.default_rng(seed)
    mask = causal_mask(n, n) if causal else np.ones((n, n), bool)
    x = np.where(mask, rng.normal(size=(L, H, n, n)), -np.inf)
    x = np.exp(x - x.max(-1, keepdims=True))
    return (x / x.sum(-1, keepdims=True)).astype(np.float32)


def att(n=4, **kw):
    return aw.Attention(softmax_rows(n), [f"t{i}" for i in range(n)], **kw)


W = softmax_rows()
TOKS = ["t0", "t1", "t2", "t3"]
MAP = softmax_rows(L=1, H=1)[0, 0]  # one (4, 4) causal map


class Source:
    """A minimal lazy source over held weights (the protocol Attention reads: shape, block, subset)."""

    def __init__(self, w):
        self.w, self.shape = w, w.shape
        self.calls = 0

    def subset(self, li, hi):
        return Source(self.w[np.ix_(li, hi)])

    def block(self, li, hi, start, stop, out=None):
        self.calls += 1
        b = self.w[li, :, start:stop] if hi is None else self.w[li, hi, start:stop]
        if out is None:
            return b.copy()
        out[...] = b
        return out


def write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
