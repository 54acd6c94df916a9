"""Property-based tests of the public API (Hypothesis).

Whatever the input (shapes, masks, dtypes, NaN and infinity, token lists, argument values and
types), each call either returns a valid result or raises the library's own error
(`aw.AttentionError` or a subclass, which are also ValueError/TypeError/IndexError) with a
message; never an exception from numpy's or Python's internals. Save and load round-trip.

Examples are few and small so the suite stays fast; set HYPOTHESIS_PROFILE=thorough for more.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import attnwidget as aw
from attnwidget import metrics as M
from attnwidget.attention.arrays import causal_mask

# "fast" (make test) draws the same examples on every run, so a red run is reproducible and not
# luck; "thorough" (HYPOTHESIS_PROFILE=thorough) searches afresh with many more.
settings.register_profile(
    "fast",
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


def refused_cleanly(error: BaseException) -> bool:
    """True for the library's own refusal: an AttentionError with a message."""
    return isinstance(error, aw.AttentionError) and len(str(error)) > 10


def call(f, *args, **kwargs):
    """``(result, None)`` or ``(None, error)``; any error that is not the library's own fails."""
    try:
        return f(*args, **kwargs), None
    except Exception as e:  # noqa: BLE001 - the point is to see which exception it is
        if not refused_cleanly(e):
            raise AssertionError(f"{f.__name__} raised {type(e).__module__}.{type(e).__name__}: {e}") from e
        return None, e


# ------------------------------------------------------------------------------ strategies

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 12),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.text(max_size=4),
    st.lists(st.integers(-3, 8), max_size=4),
    st.just(np.int64(1)),
    st.just(np.float32(0.5)),
    st.just(()),
    st.just({1, 2}),
    st.just({"a": 1}),
    st.just(np.array([[1, 0]])),
    st.just(b"\x00"),
)
TOKEN_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from(["\u202e", "\u200d", "\u2028", "\n", " ", "\ud800"]), max_size=6
)


@st.composite
def shapes(draw):
    L, H = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    K = draw(st.integers(1, 6))
    Q = draw(st.integers(1, K))
    return L, H, Q, K


@st.composite
def masks(draw, Q, K):
    kind = draw(st.sampled_from(["causal", "full", "random"]))
    if kind == "causal":
        return causal_mask(Q, K)
    if kind == "full":
        return np.ones((Q, K), bool)
    return np.array(draw(st.lists(st.lists(st.booleans(), min_size=K, max_size=K), min_size=Q, max_size=Q)), bool)


def softmax(logits, mask):
    x = np.where(mask, logits, -np.inf)
    top = np.max(x, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    e = np.exp(x - top)
    s = e.sum(-1, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


@st.composite
def valid_attention(draw, max_layers=3):
    L, H, Q, K = draw(shapes())
    L = min(L, max_layers)
    mask = draw(masks(Q, K))
    assume(mask.any())
    seed = draw(st.integers(0, 2**16))
    logits = np.random.default_rng(seed).normal(size=(L, H, Q, K)) * draw(st.sampled_from([0.1, 1.0, 30.0]))
    w = softmax(logits, mask).astype(draw(st.sampled_from([np.float16, np.float32, np.float64])))
    tokens = draw(st.lists(TOKEN_TEXT, min_size=K, max_size=K))
    return aw.Attention(w, tokens, mask)


@st.composite
def perturbed_weights(draw):
    """Probabilities, then maybe broken: NaN, infinity, negatives, scaled rows, zero rows, ints."""
    L, H, Q, K = draw(shapes())
    mask = draw(masks(Q, K))
    w = softmax(np.random.default_rng(draw(st.integers(0, 999))).normal(size=(L, H, Q, K)), mask)
    how = draw(
        st.sampled_from(["none", "nan", "inf", "negative", "scale", "zero_row", "int", "complex", "hidden_mass"])
    )
    i = tuple(draw(st.integers(0, d - 1)) for d in (L, H, Q, K))
    if how == "nan":
        w[i] = np.nan
    elif how == "inf":
        w[i] = np.inf
    elif how == "negative":
        w[i] = -0.5
    elif how == "scale":
        w = w * draw(st.sampled_from([0.5, 2.0, 5.0]))
    elif how == "zero_row":
        w[i[:3]] = 0
    elif how == "int":
        w = (w > 0.5).astype(np.int64)
    elif how == "complex":
        w = w.astype(np.complex64)
    elif how == "hidden_mass":
        w = w + (~mask) * 0.3
    return w.astype(draw(st.sampled_from([np.float16, np.float32, np.float64]))) if how not in (
        "int",
        "complex",
    ) else w, mask


# ------------------------------------------------------------------------------ Attention


def check_valid(att: aw.Attention) -> None:
    L, H, Q, K = att.shape
    assert att.weights.shape == (L, H, Q, K) and att.weights.dtype == np.float32
    assert att.mask.shape == (Q, K) and att.mask.dtype == bool
    assert len(att.tokens) == K and all(isinstance(t, str) for t in att.tokens)
    assert len(set(att.layer_ids)) == L and len(set(att.head_ids)) == H
    assert att.total_heads >= max(att.head_ids) + 1 and att.total_heads % att.num_kv_heads == 0


@given(perturbed_weights(), st.data())
def test_construction_gives_a_valid_attention_or_a_clear_error(wm, data):
    w, mask = wm
    K = w.shape[-1]
    tokens = data.draw(st.one_of(st.lists(TOKEN_TEXT, min_size=K, max_size=K), ANY_VALUE), label="tokens")
    kwargs = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "mask": st.one_of(
                    st.just(mask), st.just(mask.astype(float) * 0.5), st.just(mask.astype(int)), ANY_VALUE
                ),
                "layer_ids": st.one_of(st.lists(st.integers(-2, 9), max_size=4), ANY_VALUE),
                "head_ids": st.one_of(st.lists(st.integers(-2, 9), max_size=4), ANY_VALUE),
                "total_heads": ANY_VALUE,
                "num_kv_heads": ANY_VALUE,
                "token_ids": ANY_VALUE,
                "offsets": ANY_VALUE,
                "special": ANY_VALUE,
                "generated": ANY_VALUE,
                "text": ANY_VALUE,
                "meta": st.one_of(st.dictionaries(st.text(max_size=3), ANY_VALUE, max_size=3), ANY_VALUE),
                "validate": st.one_of(st.booleans(), ANY_VALUE),
            },
        ),
        label="kwargs",
    )
    att, err = call(aw.Attention, w, tokens, **kwargs)
    if att is not None:
        check_valid(att)
        if kwargs.get("validate", True) is not False:
            wv = att.weights
            assert np.all(np.isfinite(wv)) and wv.min() >= -1e-6 and wv.max() <= 1 + 1e-4
            live = att.mask.any(-1)
            sums = np.where(att.mask, wv, 0).sum(-1)[..., live]
            assert np.all(np.abs(sums - 1) <= 2e-3)


@given(valid_attention(), st.data())
def test_accessors_return_their_shapes_or_a_clear_error(att, data):
    L, H, Q, K = att.shape
    idx = st.one_of(st.integers(-4, 4), ANY_VALUE)
    layer, head = data.draw(idx, label="layer"), data.draw(idx, label="head")
    got, _ = call(att.layer, layer)
    if got is not None:
        assert got.shape == (H, Q, K)
    got, _ = call(att.head, layer, head)
    if got is not None:
        assert got.shape == (Q, K)
    start, stop = data.draw(idx, label="start"), data.draw(idx, label="stop")
    heads = data.draw(st.one_of(st.none(), st.lists(st.integers(-3, 3), max_size=3), ANY_VALUE), label="heads")
    got, _ = call(att.rows, layer, start, stop, heads=heads)
    if got is not None:
        assert got.shape[1:] == (min(stop, Q) - start, K)
    factor = data.draw(st.one_of(st.integers(-1, 5), ANY_VALUE), label="factor")
    got, _ = call(att.pooled, layer, factor)
    if got is not None:
        assert got.shape == (H, -(-Q // factor), -(-K // factor))
    fusion = data.draw(st.one_of(st.sampled_from(["mean", "max", "min"]), ANY_VALUE), label="fusion")
    got, _ = call(att.fuse, fusion)
    if got is not None:
        assert got.shape == (L, Q, K) and np.all(np.isfinite(got))
    layers = data.draw(st.one_of(st.none(), st.lists(st.integers(-3, 3), max_size=3), ANY_VALUE), label="layers")
    sub, _ = call(att.select, layers=layers, heads=heads)
    if sub is not None:
        check_valid(sub)
    hide = data.draw(st.one_of(st.lists(st.integers(-1, K), max_size=K + 1), ANY_VALUE), label="hide")
    with warnings.catch_warnings():  # float16 rows left with almost no weight are warned about, not refused
        warnings.filterwarnings("ignore", "(?s).*renormalised coarsely", UserWarning)
        hidden, _ = call(att.hide_tokens, hide)
    if hidden is not None:
        check_valid(hidden)
        gone = sorted(set(hide))
        assert not hidden.mask[:, gone].any() and np.all(hidden.weights[..., gone] == 0)
        # Rows keep a distribution where weight on the keys left survived storage; a row whose
        # remaining weights all rounded to 0 (float16, everything on a hidden key) stays 0.
        left = np.where(hidden.mask, att.weights.astype(np.float64), 0).sum(-1) > 0
        np.testing.assert_allclose(hidden.weights.sum(-1)[left], 1, atol=2e-3)
        assert np.all(hidden.weights.sum(-1)[~left] == 0)
    call(att.kv_group, layer, data.draw(idx, label="kv_head"))


# ------------------------------------------------------------------------------ metrics

BOUNDED = {
    "sparsity": (0, 1),
    "coverage": (0, 1),
    "confidence": (0, 1),
    "locality": (0, 1),
    "sink_mass": (0, 1),
    "focus_consistency": (0, 1),
    "entropy": (0, math.inf),
}


@given(perturbed_weights(), st.data())
def test_metrics_return_values_in_range_or_a_clear_error(wm, data):
    w, mask = wm
    a = data.draw(st.sampled_from([w, w[0], w[0, 0]]), label="array")
    m = data.draw(st.one_of(st.none(), st.just(mask), ANY_VALUE), label="mask")
    probabilities = data.draw(st.one_of(st.just(True), st.just(False), ANY_VALUE), label="probabilities")
    threshold = data.draw(st.one_of(st.floats(0, 1), ANY_VALUE), label="threshold")
    for name, kwargs in (
        ("entropy", {}),
        ("sparsity", {"threshold": threshold}),
        ("coverage", {"threshold": threshold}),
        ("confidence", {}),
        ("locality", {}),
        ("sink_mass", {"k": data.draw(ANY_VALUE)}),
        ("focus_consistency", {"top_k": data.draw(st.one_of(st.integers(1, 4), ANY_VALUE))}),
    ):
        got, _ = call(getattr(M, name), a, m, probabilities=probabilities, **kwargs)
        if got is not None:
            got = np.asarray(got)
            assert got.shape == a.shape[:-2] and np.all(np.isfinite(got)), name
            lo, hi = BOUNDED[name]
            if probabilities is True:
                assert np.all(got >= lo - 1e-6) and np.all(got <= hi + 1e-6), (name, got)
    name = data.draw(st.one_of(st.sampled_from(M.PATTERNS), ANY_VALUE), label="pattern")
    call(M.pattern_match, a, name, m, token_ids=data.draw(ANY_VALUE), probabilities=probabilities)


@given(perturbed_weights(), st.data())
def test_rollout_is_row_stochastic_or_a_clear_error(wm, data):
    w, mask = wm
    m = data.draw(st.one_of(st.none(), st.just(mask)), label="mask")
    residual = data.draw(st.one_of(st.floats(0, 1), ANY_VALUE), label="residual")
    fusion = data.draw(st.one_of(st.sampled_from(["mean", "max", "min"]), ANY_VALUE), label="fusion")
    R, _ = call(M.rollout, w, m, residual=residual, fusion=fusion)
    if R is not None:
        n = w.shape[-1]
        assert R.shape == (n, n) and np.all(np.isfinite(R)) and np.all(R >= -1e-9)
        np.testing.assert_allclose(R.sum(-1), 1, atol=1e-6)


@given(valid_attention(max_layers=2))
def test_metrics_of_an_attention_match_its_array(att):
    for name in ("entropy", "confidence", "locality"):
        got_att, err_att = call(getattr(M, name), att)
        got_arr, err_arr = call(getattr(M, name), att.weights, att.mask)
        assert (err_att is None) == (err_arr is None), name
        if got_att is not None:
            np.testing.assert_allclose(got_att, got_arr, rtol=1e-6)


# ------------------------------------------------------------------------------ save and load

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(valid_attention(), st.data())
def test_save_then_load_gives_back_what_was_saved(tmp_path_factory, att, data):
    K, Q = att.n_key, att.n_query
    att.meta = data.draw(st.dictionaries(st.text(max_size=4), JSON, max_size=3), label="meta")
    if data.draw(st.booleans(), label="facts"):
        att = att._replace(
            token_ids=data.draw(st.lists(st.integers(0, 10**6), min_size=K, max_size=K)),
            special=data.draw(st.lists(st.booleans(), min_size=K, max_size=K)),
            generated=data.draw(st.lists(st.booleans(), min_size=Q, max_size=Q)),
            text=data.draw(TOKEN_TEXT),
            layer_ids=[3 + 2 * i for i in range(att.num_layers)],
        )
    path = tmp_path_factory.mktemp("rt") / data.draw(st.sampled_from(["a.npz", "a.attn", "noext", "a b.npz"]))
    att.save(path)
    back = aw.Attention.load(path)
    np.testing.assert_array_equal(back.weights, att.weights)
    assert back.weights.dtype == att.weights.dtype == np.float32
    np.testing.assert_array_equal(back.mask, att.mask)
    assert back.tokens == att.tokens and back.meta == att.meta
    for field in ("layer_ids", "head_ids", "num_kv_heads", "total_heads", "token_ids", "offsets", "special", "text"):
        assert getattr(back, field) == getattr(att, field), field
    assert (back.generated is None) == (att.generated is None)
    if att.generated is not None:
        np.testing.assert_array_equal(back.generated, att.generated)


@given(st.data())
def test_load_of_damaged_files_is_a_format_error(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("bad")
    att = aw.Attention(softmax(np.zeros((1, 1, 3, 3)), causal_mask(3, 3)).astype(np.float32), ["a", "b", "c"])
    att.save(tmp / "ok.npz")
    raw = bytearray((tmp / "ok.npz").read_bytes())
    how = data.draw(st.sampled_from(["truncate", "flip", "random"]), label="damage")
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] ^= data.draw(st.integers(1, 255))
    else:
        raw = bytearray(data.draw(st.binary(max_size=200)))
    (tmp / "bad.npz").write_bytes(bytes(raw))
    back, err = call(aw.Attention.load, tmp / "bad.npz")
    if back is not None:  # a flip in padding or a stored timestamp can leave the data intact
        check_valid(back)
    else:
        assert isinstance(err, aw.errors.FileFormatError)


@pytest.mark.slow
@settings(max_examples=300)
@given(valid_attention())
def test_save_load_round_trip_many(tmp_path_factory, att):
    path = tmp_path_factory.mktemp("many") / "x.attn"
    att.save(path)
    back = aw.Attention.load(path)
    np.testing.assert_array_equal(back.weights, att.weights)
    assert back.tokens == att.tokens


@st.composite
def qk_attention(draw):
    L, H = draw(st.integers(1, 2)), draw(st.sampled_from([1, 2, 4]))
    kv = draw(st.sampled_from([h for h in (1, 2, 4) if H % h == 0]))
    n, d = draw(st.integers(1, 6)), draw(st.sampled_from([2, 4]))
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    dtype = draw(st.sampled_from([np.float16, np.float32]))
    q = (rng.normal(size=(L, H, n, d)) * draw(st.sampled_from([0.1, 1.0, 8.0]))).astype(dtype)
    k = rng.normal(size=(L, kv, n, d)).astype(dtype)
    mask = draw(masks(n, n))
    window = draw(st.lists(st.integers(0, 3), min_size=L, max_size=L))
    softcap = draw(st.lists(st.sampled_from([float("nan"), 1.0, 30.0]), min_size=L, max_size=L))
    src = aw.attention.QKSource(q, k, mask, window=window, softcap=softcap)
    return aw.Attention(None, [f"t{i}" for i in range(n)], mask, num_kv_heads=kv, _source=src)


@given(qk_attention())
def test_queries_and_keys_round_trip_lazily(tmp_path_factory, att):
    w = att.weights
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    n = att.n_key
    for li, win in enumerate(att._source.window):
        # A sliding-window layer sees the keys of the mask within its last `win` positions.
        seen = att.mask & ((np.arange(n)[None, :] > np.arange(n)[:, None] - win) if win else True)
        live = seen.any(-1)
        np.testing.assert_allclose(w[li].sum(-1)[:, live], 1, atol=1e-5)
        assert np.all(w[li][:, ~seen] == 0)
    path = tmp_path_factory.mktemp("qk") / "a.attn"
    att.save(path, lazy=True)
    back = aw.Attention.load(path)
    assert back.is_lazy and back._source.queries.dtype == att._source.queries.dtype
    np.testing.assert_array_equal(back.weights, w)


@settings(max_examples=15)
@given(valid_attention(max_layers=2), st.data())
def test_every_view_accepts_a_valid_attention(att, data):
    hide = data.draw(st.lists(st.integers(0, att.n_key - 1), max_size=att.n_key, unique=True), label="hide")
    views = [aw.AttentionHeatmap(att, hide=hide), aw.HeadGrid(att, hide=hide), aw.AttentionGraph(att, hide=hide)]
    ids = att.layer_ids
    if att.n_query == att.n_key and ids == list(range(ids[0], ids[0] + len(ids))):
        views.append(aw.RolloutBar(att, hide=hide))
    sel = aw.link(*views)
    assert all(v.selection is sel for v in views)
    dash = aw.show(att)
    assert dash.heatmap.attention is att
