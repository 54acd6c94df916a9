"""Synthetic attention for the analysis and chart tests: layers, prompt parts and head roles made by hand."""

import numpy as np

import attnwidget as aw


def two_layer_attention():
    """Bidirectional, 4 tokens: layer 0 attends to itself, layer 1 uniformly (two identical heads)."""
    eye = np.eye(4)
    uni = np.full((4, 4), 0.25)
    w = np.stack([np.stack([eye, eye]), np.stack([uni, uni])]).astype(np.float32)
    return aw.Attention(w, ["a", "b", "c", "d"], np.ones((4, 4), bool))


def text_attention(weights, text, spans, mask=None, **kwargs):
    tokens = [text[a:b] for a, b in spans]
    return aw.Attention(np.asarray(weights, np.float32), tokens, mask, offsets=spans, text=text, **kwargs)


def role_heads(n=6):
    """Causal heads with known roles: previous token, first token, self, and uniform."""
    prev = np.zeros((n, n))
    prev[0, 0] = 1
    prev[np.arange(1, n), np.arange(n - 1)] = 1
    first = np.zeros((n, n))
    first[:, 0] = 1
    self_ = np.eye(n)
    uni = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
    return aw.Attention(np.stack([prev, first, self_, uni])[None].astype(np.float32), [f"t{i}" for i in range(n)])
