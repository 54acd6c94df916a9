"""Independent references: each metric written as a plain loop over rows, for tests to compare against."""

from math import log

import numpy as np


def ref_rows(A, mask):
    """(query position, visible key list, row values) for rows that see a key, by loops."""
    Q, K = A.shape
    off = K - Q
    for r in range(Q):
        keys = [j for j in range(K) if mask[r][j]]
        if keys:
            yield r + off, keys, [float(A[r][j]) for j in keys]


def ref_entropy(A, mask, normalized=False):
    vals = []
    for _i, keys, row in ref_rows(A, mask):
        h = -sum(p * log(p) for p in row if p > 0)
        if normalized:
            if len(keys) < 2:
                continue
            h /= log(len(keys))
        vals.append(h)
    return sum(vals) / len(vals)


def ref_sparsity(A, mask, threshold):
    n = below = 0
    for _i, _keys, row in ref_rows(A, mask):
        n += len(row)
        below += sum(1 for p in row if p < threshold)
    return below / n


def ref_coverage(A, mask, threshold):
    n = above = 0
    for _i, _keys, row in ref_rows(A, mask):
        n += len(row)
        above += sum(1 for p in row if p > threshold)
    return above / n


def ref_locality(A, mask):
    vals = [1 / (1 + sum(abs(i - j) * p for j, p in zip(keys, row, strict=True))) for i, keys, row in ref_rows(A, mask)]
    return sum(vals) / len(vals)


def ref_confidence(A, mask):
    vals = [max(row) for _, _, row in ref_rows(A, mask)]
    return sum(vals) / len(vals)


def ref_sink(A, mask, k):
    vals = [sum(p for j, p in zip(keys, row, strict=True) if j < k) for i, keys, row in ref_rows(A, mask) if i >= k]
    return sum(vals) / len(vals)


def ref_focus(A, mask, top_k):
    Q, K = A.shape
    vals = []
    for _i, keys, row in ref_rows(A, mask):
        top = [j for _, j in sorted(zip(row, keys, strict=True), reverse=True)[:top_k]]
        entries = [float(A[r][j]) for j in top for r in range(Q) if mask[r][j]]
        vals.append(sum(entries) / len(entries))
    return sum(vals) / len(vals)


def ref_pattern(A, mask, P):
    num = den = 0.0
    Q, K = A.shape
    for r in range(Q):
        for j in range(K):
            if mask[r][j]:
                num += A[r][j] * P[r][j]
                den += A[r][j]
    return num / den


def ref_pattern_matrix(name, Q, K, ids):
    """Each named pattern written from its definition, one entry at a time (query row r sits at
    absolute position i = K - Q + r)."""
    P = [[0.0] * K for _ in range(Q)]
    for r in range(Q):
        i = K - Q + r
        for j in range(K):
            if name == "previous_token":
                hit = j == i - 1
            elif name == "first_token":
                hit = j == 0
            elif name == "self":
                hit = j == i
            elif name == "duplicate_token":
                hit = j < i and ids[j] == ids[i]
            elif name == "induction":
                hit = 1 <= j <= i and ids[j - 1] == ids[i]
            else:
                raise AssertionError(name)
            P[r][j] = 1.0 if hit else 0.0
    return np.array(P)


def random_maps(lead, Q, K, mask, seed=0):
    rng = np.random.default_rng(seed)
    x = np.where(mask, np.exp(2 * rng.standard_normal(lead + (Q, K))), 0)
    s = x.sum(-1, keepdims=True)
    return np.divide(x, s, out=np.zeros_like(x), where=s > 0).astype(np.float32)


def ref_js(p, q):
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]

    def kl(x):
        return sum(a * log(a / c) for a, c in zip(x, m, strict=True) if a > 0)

    return (kl(p) + kl(q)) / 2


def ref_rollout(A, residual, fuse=np.mean):
    """Loops: fuse heads, add identity, normalise each row over keys, compose from the bottom."""
    L, _, n, _ = A.shape
    R = None
    for li in range(L):
        F = fuse(A[li], axis=0)
        F = [[float(F[i][j]) for j in range(n)] for i in range(n)]
        if fuse is not np.mean:
            F = [[v / sum(row) for v in row] for row in F]
        aug = [[residual * (i == j) + (1 - residual) * F[i][j] for j in range(n)] for i in range(n)]
        aug = [[v / sum(row) for v in row] for row in aug]
        if R is None:
            R = aug
        else:
            R = [[sum(aug[i][k] * R[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
    return np.array(R)
