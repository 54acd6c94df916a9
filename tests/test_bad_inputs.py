"""Bad, hostile and edge-case inputs, one row each: a clear error naming the problem, or a result.

Every refusal must be one of the library's own errors (``aw.AttentionError`` and its subclasses,
which are also ``ValueError``/``TypeError``/``IndexError``) and its message must name the argument.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest

import attnwidget as aw
from attnwidget import metrics as M
from attnwidget.attention.arrays import causal_mask

ROOT = Path(__file__).resolve().parents[1]


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

# (id, call, expected error, regex the message must match)
REFUSED = [
    # ---- Attention: arguments that used to be accepted silently
    (
        "tokens as one str",
        lambda: aw.Attention(W, "abcd"),
        aw.errors.ArgumentTypeError,
        r"tokens must be a list of str.*'abcd'",
    ),
    (
        "tokens not str",
        lambda: aw.Attention(W, [1, 2, 3, 4]),
        aw.errors.ArgumentTypeError,
        r"tokens must be a list of str; item 0 is 1",
    ),
    ("tokens None", lambda: aw.Attention(W, None), aw.errors.ArgumentTypeError, r"tokens must be a list of str"),
    (
        "float mask 0.5",
        lambda: aw.Attention(W, TOKS, mask=np.full((4, 4), 0.5)),
        aw.AttentionError,
        r"mask must be boolean",
    ),
    (
        "duplicate layer ids",
        lambda: aw.Attention(W, TOKS, layer_ids=[3, 3]),
        aw.AttentionError,
        r"layer_ids must not repeat.*\[3\]",
    ),
    (
        "negative head id",
        lambda: aw.Attention(W, TOKS, head_ids=[0, -1]),
        aw.AttentionError,
        r"head_ids must hold ints >= 0; got -1",
    ),
    (
        "string layer ids",
        lambda: aw.Attention(W, TOKS, layer_ids=["0", "1"]),
        aw.errors.ArgumentTypeError,
        r"layer_ids must be a list of ints.*'0'",
    ),
    (
        "bool head ids",
        lambda: aw.Attention(W, TOKS, head_ids=[True, False]),
        aw.errors.ArgumentTypeError,
        r"head_ids must be a list of ints",
    ),
    (
        "total_heads below held",
        lambda: aw.Attention(W, TOKS, head_ids=[0, 5], total_heads=4),
        aw.AttentionError,
        r"total_heads=4 is fewer than the heads held",
    ),
    (
        "total_heads float",
        lambda: aw.Attention(W, TOKS, total_heads=2.5),
        aw.errors.ArgumentTypeError,
        r"total_heads must be an int; got 2.5",
    ),
    (
        "num_kv_heads str",
        lambda: aw.Attention(W, TOKS, num_kv_heads="2"),
        aw.errors.ArgumentTypeError,
        r"num_kv_heads must be an int; got '2'",
    ),
    (
        "validate str",
        lambda: aw.Attention(W, TOKS, validate="no"),
        aw.errors.ArgumentTypeError,
        r"validate must be True or False; got 'no'",
    ),
    (
        "text not str",
        lambda: aw.Attention(W, TOKS, text=5),
        aw.errors.ArgumentTypeError,
        r"text must be a str or None; got 5",
    ),
    (
        "token_ids negative",
        lambda: aw.Attention(W, TOKS, token_ids=[1, 2, -3, 4]),
        aw.AttentionError,
        r"token_ids must hold ints >= 0; got -3",
    ),
    (
        "offsets reversed",
        lambda: aw.Attention(W, TOKS, offsets=[(0, 1), (3, 2), (3, 4), (4, 5)]),
        aw.AttentionError,
        r"offsets\[1\]\[1\] must be an int >= 3; got 2",
    ),
    ("special 0.5", lambda: aw.Attention(W, TOKS, special=[0.5] * 4), aw.AttentionError, r"special must be boolean"),
    (
        "generated floats",
        lambda: aw.Attention(W, TOKS, generated=[0.2] * 4),
        aw.AttentionError,
        r"generated must be boolean",
    ),
    ("weights str", lambda: aw.Attention("weights", TOKS), aw.errors.ArgumentTypeError, r"weights must be an array"),
    ("weights None", lambda: aw.Attention(None, TOKS), aw.errors.ArgumentTypeError, r"weights must be an array"),
    (
        "weights ragged",
        lambda: aw.Attention([[[[1.0]], [[1.0, 0.0]]]], ["a"]),
        aw.AttentionError,
        r"array of numbers|different shapes|ragged",
    ),
    ("weights complex", lambda: aw.Attention(W.astype(complex), TOKS), aw.AttentionError, r"floating point"),
    ("NaN weights", lambda: aw.Attention(np.where(W > 0.5, np.nan, W), TOKS), aw.AttentionError, r"NaN"),
    ("meta not a dict", lambda: aw.Attention(W, TOKS, meta=[1]), aw.errors.ArgumentTypeError, r"meta must be a dict"),
    (
        "meta set",
        lambda: aw.Attention(W, TOKS, meta={"s": {1, 2}}),
        aw.errors.ArgumentTypeError,
        r"meta\['s'\] must hold only .*got \{1, 2\} \(set\)",
    ),
    (
        "meta int key",
        lambda: aw.Attention(W, TOKS, meta={1: "a"}),
        aw.errors.ArgumentTypeError,
        r"meta keys must be str.*got key 1",
    ),
    (
        "meta NaN",
        lambda: aw.Attention(W, TOKS, meta={"x": float("nan")}),
        aw.AttentionError,
        r"meta\['x'\] must be a finite number",
    ),
    (
        "meta array",
        lambda: aw.Attention(W, TOKS, meta={"a": np.zeros(3)}),
        aw.errors.ArgumentTypeError,
        r"meta\['a'\] must hold only",
    ),
    # ---- Attention accessors
    ("layer 1.7", lambda: att().layer(1.7), aw.errors.ArgumentTypeError, r"layer must be an int; got 1.7"),
    ("layer str", lambda: att().layer("1"), aw.errors.ArgumentTypeError, r"layer must be an int; got '1'"),
    ("layer missing", lambda: att().layer(9), aw.errors.AttentionIndexError, r"layer 9 is not in this attention"),
    ("head True", lambda: att().head(0, True), aw.errors.ArgumentTypeError, r"head must be an int; got True"),
    (
        "heads=True",
        lambda: att().select(heads=True),
        aw.errors.ArgumentTypeError,
        r"heads must be a list of ints; got True",
    ),
    ("heads repeated", lambda: att().select(heads=[1, 1]), aw.AttentionError, r"heads must not repeat"),
    ("layers empty", lambda: att().select(layers=[]), aw.AttentionError, r"layers must hold at least one entry"),
    ("rows reversed", lambda: att().rows(0, 4, 2), aw.AttentionError, r"stop must be >= start \(4\); got 2"),
    (
        "rows negative start",
        lambda: att().rows(0, -1, 2),
        aw.AttentionError,
        r"start must be an int in \[0, 4\]; got -1",
    ),
    ("hide 1.5", lambda: att().hide_tokens([1.5]), aw.errors.ArgumentTypeError, r"hide must be a list of ints.*1.5"),
    (
        "hide out of range",
        lambda: att().hide_tokens([4]),
        aw.errors.AttentionIndexError,
        r"hide: token position 4 is out of range for 4 tokens",
    ),
    ("hide str", lambda: att().hide_tokens("0"), aw.errors.ArgumentTypeError, r"hide must be a list of ints"),
    ("pooled factor 0", lambda: att().pooled(0, 0), aw.AttentionError, r"factor must be an int >= 1; got 0"),
    (
        "pooled factor float",
        lambda: att().pooled(0, 2.0),
        aw.errors.ArgumentTypeError,
        r"factor must be an int; got 2.0",
    ),
    (
        "fuse unknown",
        lambda: att().fuse("median"),
        aw.AttentionError,
        r"fusion must be one of \('mean', 'max', 'min'\); got 'median'",
    ),
    ("kv_group str", lambda: att().kv_group(0, "0"), aw.errors.ArgumentTypeError, r"kv_head must be an int"),
    (
        "kv_head_of out of range",
        lambda: att().kv_head_of(7),
        aw.AttentionError,
        r"head must be an int in \[0, 1\]; got 7",
    ),
    (
        "materialize max_bytes",
        lambda: att().materialize(max_bytes="1GB"),
        aw.errors.ArgumentTypeError,
        r"max_bytes must be an int",
    ),
    (
        "from_hf batch index",
        lambda: aw.Attention.from_hf(tuple(W[:, None]), TOKS, batch_index=3),
        aw.AttentionError,
        r"batch_index must be an int in \[-1, 0\]; got 3",
    ),
    # ---- metrics: arrays that are not probabilities, thresholds out of range
    (
        "unchecked Attention",
        lambda: M.entropy(aw.Attention(W * 5, TOKS, validate=False)),
        aw.AttentionError,
        r"att must hold probabilities",
    ),
    ("rows sum to 5", lambda: M.entropy(MAP * 5), aw.AttentionError, r"att must hold probabilities in \[0, 1\]"),
    (
        "row sums 2",
        lambda: M.confidence(np.full((3, 3), 2 / 3)),
        aw.AttentionError,
        r"att rows must sum to 1 over visible keys; a row sums to 2",
    ),
    ("all-zero rows", lambda: M.rollout(np.zeros((2, 1, 3, 3))), aw.AttentionError, r"att rows must sum to 1"),
    (
        "scores",
        lambda: M.entropy(np.random.default_rng(0).normal(size=(3, 3))),
        aw.AttentionError,
        r"probabilities=False",
    ),
    (
        "sparsity NaN",
        lambda: M.sparsity(MAP, threshold=float("nan")),
        aw.AttentionError,
        r"threshold must be a finite number in \[0.0, 1.0\]; got nan",
    ),
    (
        "sparsity negative",
        lambda: M.sparsity(MAP, threshold=-0.1),
        aw.AttentionError,
        r"threshold must be a number in \[0.0, 1.0\]; got -0.1",
    ),
    (
        "coverage above 1",
        lambda: M.coverage(MAP, threshold=1.5),
        aw.AttentionError,
        r"threshold must be a number in \[0.0, 1.0\]; got 1.5",
    ),
    (
        "coverage str",
        lambda: M.coverage(MAP, threshold="0.1"),
        aw.errors.ArgumentTypeError,
        r"threshold must be a number; got '0.1'",
    ),
    (
        "coverage bool",
        lambda: M.coverage(MAP, threshold=True),
        aw.errors.ArgumentTypeError,
        r"threshold must be a number; got True",
    ),
    (
        "top_k True",
        lambda: M.focus_consistency(MAP, top_k=True),
        aw.errors.ArgumentTypeError,
        r"top_k must be an int; got True",
    ),
    ("sink k float", lambda: M.sink_mass(MAP, k=1.0), aw.errors.ArgumentTypeError, r"k must be an int; got 1.0"),
    (
        "normalized str",
        lambda: M.entropy(MAP, normalized="yes"),
        aw.errors.ArgumentTypeError,
        r"normalized must be True or False",
    ),
    (
        "probabilities None",
        lambda: M.entropy(MAP, probabilities=None),
        aw.errors.ArgumentTypeError,
        r"probabilities must be True or False",
    ),
    (
        "residual NaN",
        lambda: M.rollout(MAP[None, None], residual=float("nan")),
        aw.AttentionError,
        r"residual must be a finite number",
    ),
    ("fusion unknown", lambda: M.rollout(MAP[None, None], fusion="sum"), aw.AttentionError, r"fusion must be one of"),
    (
        "flow query str",
        lambda: M.attention_flow(MAP[None, None], query="1"),
        aw.errors.ArgumentTypeError,
        r"query must be an int",
    ),
    (
        "flow query out of range",
        lambda: M.attention_flow(MAP[None, None], query=9),
        aw.errors.AttentionIndexError,
        r"query must be a token position",
    ),
    ("att str", lambda: M.entropy("attention"), aw.errors.ArgumentTypeError, r"att must be an Attention or an array"),
    (
        "att object array",
        lambda: M.entropy(np.array([[None]])),
        aw.errors.ArgumentTypeError,
        r"att must be an array of numbers",
    ),
    (
        "att int dtype",
        lambda: M.entropy(np.eye(3, dtype=int)),
        aw.errors.ArgumentTypeError,
        r"att must be a floating-point array; got dtype int",
    ),
    (
        "mask ragged",
        lambda: M.entropy(MAP, mask=[[True], [True, False]]),
        aw.AttentionError,
        r"mask must be an array of numbers",
    ),
    (
        "token_ids str",
        lambda: M.pattern_match(MAP, "induction", token_ids="abcd"),
        aw.errors.ArgumentTypeError,
        r"token_ids must be a list of ints",
    ),
    (
        "pattern negative",
        lambda: M.pattern_match(MAP, -np.eye(4)),
        aw.AttentionError,
        r"pattern array must hold weights in \[0, 1\]",
    ),
    ("pattern None", lambda: M.pattern_match(MAP, None), aw.errors.ArgumentTypeError, r"pattern must be one of"),
    ("pattern name int", lambda: M.pattern(3, 4), aw.errors.ArgumentTypeError, r"name must be one of"),
    ("pattern n_query 0", lambda: M.pattern("self", 0), aw.AttentionError, r"n_query must be an int >= 1; got 0"),
    (
        "compute spec",
        lambda: M.compute(MAP, {"h": ("entropy", "normalized")}),
        aw.errors.ArgumentTypeError,
        r"metrics\['h'\] must be a metric name or",
    ),
    (
        "compute unknown keyword",
        lambda: M.compute(MAP, {"h": ("entropy", {"thresh": 0.1})}),
        aw.errors.ArgumentTypeError,
        r"entropy takes no argument thresh",
    ),
    ("compute not a dict", lambda: M.compute(MAP, ["entropy"]), aw.errors.ArgumentTypeError, r"metrics must be a dict"),
    # ---- widgets, at their boundary
    (
        "Selection of an array",
        lambda: aw.widgets.Selection(np.zeros((4, 4))),
        aw.errors.ArgumentTypeError,
        r"Selection takes an aw.Attention; got an array",
    ),
    (
        "HeadGrid tint of str",
        lambda: aw.HeadGrid(att(), tint=[["a", "b"], ["c", "d"]]),
        aw.errors.ArgumentTypeError,
        r"tint must be an array of numbers",
    ),
    (
        "link different token counts",
        lambda: aw.link(aw.AttentionHeatmap(att(4)), aw.AttentionHeatmap(att(5))),
        aw.AttentionError,
        r"different numbers of tokens \(4 and 5\)",
    ),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(c, e, m, id=i) for i, c, e, m in REFUSED])
def test_bad_input_is_refused_with_a_clear_error(call, error, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert isinstance(info.value, aw.AttentionError)


def test_error_types_are_also_the_builtin_ones():
    assert issubclass(aw.AttentionError, ValueError)
    assert issubclass(aw.errors.ArgumentTypeError, TypeError) and issubclass(
        aw.errors.ArgumentTypeError, aw.AttentionError
    )
    assert issubclass(aw.errors.AttentionIndexError, IndexError) and issubclass(
        aw.errors.AttentionIndexError, aw.AttentionError
    )
    assert issubclass(aw.errors.FileFormatError, aw.AttentionError)
    import traitlets

    from attnwidget.errors import ViewIndexError

    assert issubclass(ViewIndexError, aw.errors.AttentionIndexError) and issubclass(
        ViewIndexError, traitlets.TraitError
    )


# ------------------------------------------------------------------------------ valid inputs that must work


def test_meta_is_checked_and_normalised_when_set():
    a = att(meta={"n": np.int64(3), "x": np.float32(0.5), "ok": np.bool_(True), "pair": (1, 2), "nested": {"t": (3,)}})
    assert a.meta == {"n": 3, "x": 0.5, "ok": True, "pair": [1, 2], "nested": {"t": [3]}}
    assert type(a.meta["n"]) is int and type(a.meta["x"]) is float
    a.meta["later"] = np.int32(7)
    assert a.meta["later"] == 7 and type(a.meta["later"]) is int
    with pytest.raises(aw.errors.ArgumentTypeError, match=r"meta\['s'\] must hold only"):
        a.meta["s"] = {1}
    with pytest.raises(aw.errors.ArgumentTypeError, match="meta keys must be str"):
        a.meta.update({2: "x"})
    with pytest.raises(aw.errors.ArgumentTypeError, match="meta keys must be str"):
        a.meta = {(1, 2): 3}
    assert "s" not in a.meta


def test_one_token_text_is_shown_by_every_view():
    one = aw.Attention(np.ones((2, 2, 1, 1), np.float32), ["only"])
    dash = aw.show(one)
    shown = [type(v).__name__ for v in dash.views]
    assert {"AttentionHeatmap", "HeadGrid", "RolloutBar", "AttentionGraph"} <= set(shown), shown
    assert not dash.notes, dash.notes  # no view left out
    np.testing.assert_allclose(M.rollout(one), [[1.0]])


def test_rollout_bar_accepts_every_token_hidden_like_the_other_views():
    a = att()
    for view in (aw.AttentionHeatmap, aw.HeadGrid, aw.RolloutBar, aw.AttentionGraph):
        view(a, hide=[0, 1, 2, 3])


def test_dashboard_selection_follows_aw_link():
    dash = aw.show(att())
    other = aw.AttentionHeatmap(att())
    sel = aw.link(other, dash.heatmap)
    assert dash.heatmap.selection is sel and dash.selection is sel


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


def test_saving_lazy_attention_leaves_it_lazy(tmp_path):
    source = Source(W)
    lazy = aw.Attention(None, TOKS, causal_mask(4, 4), _source=source)
    lazy.save(tmp_path / "lazy.npz")
    assert lazy.is_lazy and lazy._weights is None and source.calls > 0
    back = aw.Attention.load(tmp_path / "lazy.npz")
    np.testing.assert_array_equal(back.weights, W)


def test_hide_tokens_returns_an_attention_that_stays_lazy():
    lazy = aw.Attention(None, TOKS, causal_mask(4, 4), _source=Source(W))
    hidden = lazy.hide_tokens([0])
    assert hidden.is_lazy and not hidden.mask[:, 0].any()
    keep = causal_mask(4, 4)
    keep[:, 0] = False
    expected = np.where(keep, W, 0)
    s = expected.sum(-1, keepdims=True)
    expected = np.divide(expected, s, out=np.zeros_like(expected), where=s > 0)
    np.testing.assert_allclose(hidden.weights, expected, rtol=1e-6)
    np.testing.assert_allclose(hidden.layer(1), expected[1], rtol=1e-6)


# ------------------------------------------------------------------------------ save and load


def test_save_uses_the_path_given_and_load_reads_it(tmp_path):
    a = att(meta={"model": "m", "pair": (1, 2)})
    a.save(tmp_path / "x.attn")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.attn"]
    back = aw.Attention.load(str(tmp_path / "x.attn"))
    np.testing.assert_array_equal(back.weights, a.weights)
    assert back.weights.dtype == np.float32 and back.meta == a.meta == {"model": "m", "pair": [1, 2]}


def test_the_file_records_its_format_and_version(tmp_path):
    att().save(tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz", allow_pickle=False) as f:
        header = json.loads(str(f["format"]))
        assert header == {"format": "attnwidget.Attention", "version": aw.attention.FORMAT_VERSION, "kind": "weights"}
        assert set(f.files) == {"format", "weights", "mask", "tokens", "info"}
        assert all(f[k].dtype != object for k in f.files)


def test_validate_false_saves_and_loads_back_when_asked(tmp_path):
    scores = W * 3  # not probabilities
    a = aw.Attention(scores, TOKS, mask=causal_mask(4, 4), validate=False)
    a.save(tmp_path / "s.npz")
    with pytest.raises(aw.errors.FileFormatError, match=r"invalid attention: .*\[0, 1\].*validate=False"):
        aw.Attention.load(tmp_path / "s.npz")
    back = aw.Attention.load(tmp_path / "s.npz", validate=False)
    np.testing.assert_array_equal(back.weights, scores)


def _write_npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _valid_members(a):
    buf = io.BytesIO()
    np.savez(
        buf,
        weights=a.weights,
        mask=a.mask,
        tokens=np.array(json.dumps(a.tokens)),
        info=np.array(json.dumps(a._meta_dict())),
        format=np.array(json.dumps({"format": "attnwidget.Attention", "version": 1})),
    )
    buf.seek(0)
    with np.load(buf) as f:
        return {k: f[k] for k in f.files}


def _file_cases(tmp):
    a = att()
    members = _valid_members(a)
    info = json.loads(str(members["info"]))
    cases = {}

    def npz(name, **changes):
        m = dict(members)
        m.update({k: v for k, v in changes.items() if v is not None})
        for k in [k for k, v in changes.items() if v is None]:
            m.pop(k)
        _write_npz(tmp / name, **m)
        return tmp / name

    (tmp / "empty.npz").write_bytes(b"")
    cases["empty"] = (tmp / "empty.npz", r"is empty \(0 bytes\)")
    a.save(tmp / "full.npz")
    data = (tmp / "full.npz").read_bytes()
    (tmp / "trunc.npz").write_bytes(data[: len(data) // 2])
    cases["truncated"] = (tmp / "trunc.npz", r"damaged or truncated")
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 3 : len(corrupt) // 3 + 64] = b"\x00" * 64
    (tmp / "corrupt.npz").write_bytes(bytes(corrupt))
    cases["corrupt"] = (tmp / "corrupt.npz", r"damaged or truncated|invalid|not valid JSON|does not match")
    np.save(tmp / "plain.npy", W)
    cases["npy"] = (tmp / "plain.npy", r"single numpy array \(.npy\)")
    (tmp / "text.npz").write_text("hello, this is not an archive")
    cases["text file"] = (tmp / "text.npz", r"not an attnwidget file \(not a numpy .npz archive\)")
    _write_npz(tmp / "foreign.npz", a=np.zeros(3), b=np.ones(2))
    cases["foreign npz"] = (tmp / "foreign.npz", r"not an attnwidget file: it holds \['a', 'b'\]")
    with zipfile.ZipFile(tmp / "zip.npz", "w") as z:
        z.writestr("readme.txt", "hi")
    cases["foreign zip"] = (tmp / "zip.npz", r"not an attnwidget file")
    cases["newer version"] = (
        npz("v9.npz", format=np.array(json.dumps({"format": "attnwidget.Attention", "version": 9}))),
        r"newer attnwidget \(format version 9\)",
    )
    cases["other format"] = (npz("other.npz", format=np.array(json.dumps({"format": "something"}))), r"format header")
    cases["missing mask"] = (npz("nomask.npz", mask=None), r"missing \['mask'\]")
    cases["unknown member"] = (npz("extra.npz", extra=np.zeros(1)), r"unknown \['extra'\]")
    cases["validation off in info"] = (
        npz("val.npz", info=np.array(json.dumps(dict(info, validate=False)))),
        r"unknown fields \['validate'\]",
    )
    cases["missing info field"] = (
        npz("noids.npz", info=np.array(json.dumps({k: v for k, v in info.items() if k != "head_ids"}))),
        r"missing fields \['head_ids'\]",
    )
    cases["info not JSON"] = (npz("badjson.npz", info=np.array("{not json")), r"info is not valid JSON")
    cases["info a list"] = (npz("list.npz", info=np.array("[1, 2]")), r"info must be a JSON object")
    cases["tokens an array"] = (npz("toks.npz", tokens=np.array(TOKS)), r"tokens must be a JSON string")
    cases["NaN weights"] = (npz("nan.npz", weights=np.full_like(W, np.nan)), r"invalid attention: .*NaN")
    cases["wrong token count"] = (
        npz("count.npz", tokens=np.array(json.dumps(TOKS[:2]))),
        r"invalid attention: got 2 tokens",
    )
    cases["bad meta"] = (npz("meta.npz", info=np.array(json.dumps(dict(info, meta=[1])))), r"meta must be a dict")
    cases["bad ids"] = (
        npz("ids.npz", info=np.array(json.dumps(dict(info, layer_ids=["a", "b"])))),
        r"layer_ids must be a list of ints",
    )
    cases["int weights"] = (npz("intw.npz", weights=np.ones(W.shape, np.int64)), r"weights has dtype int64")
    cases["object member"] = (
        npz("obj.npz", tokens=np.array([{"a": 1}], dtype=object)),
        r"pickled object array.*not loaded",
    )
    return cases


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    return _file_cases(tmp_path_factory.mktemp("files"))


FILE_CASES = [
    "empty",
    "truncated",
    "corrupt",
    "npy",
    "text file",
    "foreign npz",
    "foreign zip",
    "newer version",
    "other format",
    "missing mask",
    "unknown member",
    "validation off in info",
    "missing info field",
    "info not JSON",
    "info a list",
    "tokens an array",
    "NaN weights",
    "wrong token count",
    "bad meta",
    "bad ids",
    "int weights",
    "object member",
]


@pytest.mark.parametrize("case", FILE_CASES)
def test_damaged_and_foreign_files_are_named_as_such(bad_files, case):
    path, match = bad_files[case]
    with pytest.raises(aw.errors.FileFormatError, match=match) as info:
        aw.Attention.load(path)
    assert repr(str(path)) in str(info.value) or "info" in str(info.value)


def test_save_names_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"directory .*nope.* does not exist"):
        att().save(tmp_path / "nope" / "a.npz")
    with pytest.raises(aw.errors.ArgumentTypeError, match="path must be a str or a path"):
        att().save(None)


def test_load_of_a_missing_path_or_a_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        aw.Attention.load(tmp_path / "nope.npz")
    with pytest.raises(aw.errors.FileFormatError, match="is a directory"):
        aw.Attention.load(tmp_path)
    with pytest.raises(aw.errors.ArgumentTypeError, match="path must be a str or a path"):
        aw.Attention.load(3)


def test_a_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.npz"
    att().save(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", fail)
    with pytest.raises(OSError, match="disk full"):
        att(5).save(path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["keep.npz"]


def test_a_file_without_its_format_header_is_refused(tmp_path):
    # 0.1.0 was never released with the header-less layout: such a file is not ours.
    m = _valid_members(att(meta={"model": "m"}))
    m.pop("format")
    _write_npz(tmp_path / "old.npz", **m)
    with pytest.raises(aw.errors.FileFormatError, match=r"is not an attnwidget file: it holds \['info', 'mask'"):
        aw.Attention.load(tmp_path / "old.npz")


# ------------------------------------------------------------------------------ display of invisible characters


def reference_marks(text: str) -> str:
    """What the views must show: every control, format, separator or surrogate code point, every
    space but U+0020 and the blank letters as ⟨U+XXXX⟩; written from Python's unicodedata."""
    blank_letters = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800}
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Cs") or (cat == "Zs" and ch != " ") or ord(ch) in blank_letters:
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


HOSTILE = [
    "abc\u202etxt.exe",
    "a\u200db\u200c\u200b",
    "x\u2028y\u2029z",
    "\ufeffbom",
    "\u2066iso\u2069\u061c",
    "nb\u00a0sp\u3000",
    "soft\u00adhy",
    "\u0007bell\u007f",
    "tag\U000e0041",
    "\u115f\u3164\u2800",
    "plain text",
    "日本語",
    "<img src=x onerror=alert(1)>",
    "é👍🏽",
    "\u200e\u200f\u202a\u202b\u202c\u202d",
]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_views_mark_invisible_and_direction_changing_characters():
    script = (
        "import { escapeInvisible, displayToken } from './src/lib/tokens.js';\n"
        "const input = JSON.parse(process.argv[1]);\n"
        "console.log(JSON.stringify(input.map((t) => [escapeInvisible(t), displayToken(t)])));\n"
    )
    js = ROOT / "js"
    run = subprocess.run(
        ["node", "--input-type=module", "-e", script, json.dumps(HOSTILE)],
        cwd=js,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    for text, (escaped, label) in zip(HOSTILE, got, strict=True):
        assert escaped == reference_marks(text), text
        assert not any(unicodedata.category(c) in ("Cf", "Zl", "Zp", "Cc") for c in label), label
    assert got[0][1] == "abc⟨U+202E⟩txt.exe"


# ------------------------------------------------------------------------------ analysis thresholds

ANALYSIS_REFUSED = [
    (
        "report sink_above NaN",
        lambda a: aw.report(a, sink_above=float("nan")),
        aw.AttentionError,
        r"sink_above must be a finite number in \[0.0, 1.0\]; got nan",
    ),
    (
        "report part_below 2",
        lambda a: aw.report(a, part_below=2),
        aw.AttentionError,
        r"part_below must be a number in \[0.0, 1.0\]; got 2",
    ),
    (
        "report uniform_above str",
        lambda a: aw.report(a, uniform_above="1"),
        aw.errors.ArgumentTypeError,
        r"uniform_above must be a number; got '1'",
    ),
    (
        "report uniform_above negative",
        lambda a: aw.report(a, uniform_above=-1),
        aw.AttentionError,
        r"uniform_above must be a number in \[0.0, 1.0\]",
    ),
    (
        "analyze threshold -1",
        lambda a: aw.analyze(a, sparsity_threshold=-1),
        aw.AttentionError,
        r"threshold must be a number in \[0.0, 1.0\]; got -1",
    ),
    (
        "quality weight NaN",
        lambda a: aw.analysis.shape_score(a, locality_weight=float("nan")),
        aw.AttentionError,
        r"locality_weight must be a finite number",
    ),
    (
        "quality points str",
        lambda a: aw.analysis.shape_score(a, entropy_points="0.3"),
        aw.errors.ArgumentTypeError,
        r"entropy_points must be a number; got '0.3'",
    ),
    (
        "quality range str",
        lambda a: aw.analysis.shape_score(a, entropy_range=("a", "b")),
        aw.errors.ArgumentTypeError,
        r"entropy_range\[0\] must be a number",
    ),
    (
        "head_roles threshold negative",
        lambda a: aw.experiments.head_roles(a, thresholds={"self": -0.5}),
        aw.AttentionError,
        r"thresholds\['self'\] must be a number >= 0; got -0.5",
    ),
    (
        "head_roles threshold NaN",
        lambda a: aw.experiments.head_roles(a, thresholds={"self": float("nan")}),
        aw.AttentionError,
        r"thresholds\['self'\] must be a finite number",
    ),
    (
        "head_roles threshold str",
        lambda a: aw.experiments.head_roles(a, thresholds={"self": "x"}),
        aw.errors.ArgumentTypeError,
        r"thresholds\['self'\] must be a number",
    ),
    (
        "compare_templates target",
        lambda a: aw.experiments.compare_templates(None, None, {"a": "x"}, target=[3]),
        ValueError,
        r"target must be a non-empty str",
    ),
    (
        "head_roles thresholds not a dict",
        lambda a: aw.experiments.head_roles(a, thresholds=0.5),
        aw.errors.ArgumentTypeError,
        r"thresholds must be a dict of role -> threshold; got 0.5",
    ),
    (
        "quality range a set",
        lambda a: aw.analysis.shape_score(a, sparsity_range={1, 2}),
        ValueError,
        r"sparsity_range must be \(low, high\)",
    ),
    (
        "quality patterns a number",
        lambda a: aw.analysis.shape_score(a, expected_patterns=3),
        aw.errors.ArgumentTypeError,
        r"expected_patterns must be a pattern name",
    ),
    (
        "segment text not there",
        lambda a: aw.analysis.segment_attention(a, {"x": aw.analysis.tokens_span(1, 2), "y": "zz"}),
        aw.AttentionError,
        r"part 'y'",
    ),
    ("tokens_span empty", lambda a: aw.analysis.tokens_span(3, 3), aw.AttentionError, r"tokens_span\(3, 3\) is empty"),
    (
        "segment layer not held",
        lambda a: aw.analysis.segment_attention(a, {"x": aw.analysis.tokens_span(1, 2)}).layer(9),
        aw.errors.AttentionIndexError,
        r"layer 9 is not in this result",
    ),
    (
        "show hide 99",
        lambda a: aw.show(a, hide=[99]),
        aw.errors.AttentionIndexError,
        r"hide: token position 99 is out of range for 6 tokens",
    ),
    (
        "heatmap layer 40",
        lambda a: aw.AttentionHeatmap(a, layer=40),
        aw.errors.AttentionIndexError,
        r"layer 40 is out of range; this attention holds layers \[0, 1\]",
    ),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(c, e, m, id=i) for i, c, e, m in ANALYSIS_REFUSED])
def test_analysis_thresholds_are_checked(call, error, match):
    a = aw.Attention(softmax_rows(6), [f"t{i}" for i in range(6)], token_ids=list(range(6)))
    with pytest.raises(error, match=match):
        call(a)


def test_save_html_title_must_be_text(tmp_path):
    view = aw.AttentionHeatmap(att())
    with pytest.raises(aw.errors.ArgumentTypeError, match=r"title must be a str or None; got 123"):
        aw.save_html(view, tmp_path / "a.html", title=123)
    with pytest.raises(aw.AttentionError, match=r"title holds a character that is not valid text .*lone surrogate"):
        aw.save_html(view, tmp_path / "a.html", title="a\ud800")
    assert not (tmp_path / "a.html").exists()


# ------------------------------------------------------------------------------ lazy files: queries and keys


def qk_reference(q, k, mask, scaling, group, softcap=None, window=0):
    """softmax(q k^T * scaling) over visible keys, one head and row at a time in float64."""
    L, H, Q, d = q.shape
    K = k.shape[2]
    out = np.zeros((L, H, Q, K))
    for li in range(L):
        for h in range(H):
            for r in range(Q):
                i = K - Q + r
                vis = [bool(mask[r, j]) and (window == 0 or j > i - window) for j in range(K)]
                s = [
                    float(np.dot(q[li, h, r].astype(float), k[li, h // group, j].astype(float))) * scaling
                    for j in range(K)
                ]
                if softcap:
                    s = [softcap * math.tanh(x / softcap) for x in s]
                m = max((x for x, v in zip(s, vis, strict=True) if v), default=0.0)
                e = [math.exp(x - m) if v else 0.0 for x, v in zip(s, vis, strict=True)]
                tot = sum(e)
                out[li, h, r] = [x / tot if tot else 0.0 for x in e]
    return out


def qk_attention(dtype=np.float32, window=0, softcap=None, n=6, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(2, 4, n, 8)).astype(dtype)
    k = rng.normal(size=(2, 2, n, 8)).astype(dtype)
    mask = causal_mask(n, n)
    src = aw.attention.QKSource(q, k, mask, softcap=None if softcap is None else [softcap] * 2, window=[window, 0])
    att = aw.Attention(None, [f"w{i}" for i in range(n)], mask, num_kv_heads=2, _source=src)
    return att, q, k, mask


@pytest.mark.parametrize("window, softcap", [(0, None), (3, None), (0, 2.0)])
def test_queries_and_keys_source_computes_softmax(window, softcap):
    att, q, k, mask = qk_attention(window=window, softcap=softcap)
    ref = qk_reference(q, k, mask, 8**-0.5, 2, softcap=softcap, window=0)
    if window:
        ref[0] = qk_reference(q[:1], k[:1], mask, 8**-0.5, 2, window=window)[0]
    np.testing.assert_allclose(att.weights, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(att.select(layers=[1], heads=[3]).weights[0, 0], ref[1, 3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_lazy_save_keeps_queries_and_keys_and_loads_lazy(tmp_path, dtype):
    att, q, k, _ = qk_attention(dtype=dtype, window=3)
    att.meta["model"] = "m"
    att.save(tmp_path / "qk.attn", lazy=True)
    with np.load(tmp_path / "qk.attn", allow_pickle=False) as f:
        assert "weights" not in f.files and json.loads(str(f["format"]))["kind"] == "qk"
        assert f["queries"].dtype == dtype  # the queries' own precision, not float32 weights
    back = aw.Attention.load(tmp_path / "qk.attn")
    assert back.is_lazy and back.meta == {"model": "m"} and back.num_kv_heads == 2
    assert back._source.queries.dtype == dtype
    np.testing.assert_array_equal(back.weights, att.weights)
    back.save(tmp_path / "again.attn", lazy=True)  # a loaded lazy file saves lazily again
    assert aw.Attention.load(tmp_path / "again.attn").is_lazy


def test_lazy_save_needs_a_source_that_exports_queries_and_keys(tmp_path):
    with pytest.raises(aw.AttentionError, match=r"save\(lazy=True\) needs lazy attention .*holds its weights"):
        att().save(tmp_path / "x.npz", lazy=True)
    lazy = aw.Attention(None, TOKS, causal_mask(4, 4), _source=Source(W))
    with pytest.raises(aw.AttentionError, match=r"its source, Source, does not"):
        lazy.save(tmp_path / "x.npz", lazy=True)
    assert not (tmp_path / "x.npz").exists()


def test_damaged_queries_and_keys_files_are_format_errors(tmp_path):
    att_, q, k, mask = qk_attention()
    att_.save(tmp_path / "qk.npz", lazy=True)
    with np.load(tmp_path / "qk.npz") as f:
        members = {name: f[name] for name in f.files}
    bad = dict(members, queries=np.full_like(members["queries"], np.nan))
    _write_npz(tmp_path / "nan.npz", **bad)
    with pytest.raises(aw.errors.FileFormatError, match=r"invalid queries and keys: queries contains NaN"):
        aw.Attention.load(tmp_path / "nan.npz")
    bad = {name: v for name, v in members.items() if name != "keys"}
    _write_npz(tmp_path / "nokeys.npz", **bad)
    with pytest.raises(aw.errors.FileFormatError, match=r"missing \['keys'\]"):
        aw.Attention.load(tmp_path / "nokeys.npz")
    bad = dict(members, weights=np.zeros((1, 1, 1, 1), np.float32))
    _write_npz(tmp_path / "both.npz", **bad)
    with pytest.raises(aw.errors.FileFormatError, match=r"unknown \['weights'\]"):
        aw.Attention.load(tmp_path / "both.npz")
    bad = dict(members, kv_index=np.array([0, 1, 2, 9]))
    _write_npz(tmp_path / "kv.npz", **bad)
    with pytest.raises(aw.errors.FileFormatError, match=r"kv_index must hold one kv head in \[0, 2\)"):
        aw.Attention.load(tmp_path / "kv.npz")


# ------------------------------------------------------------------------------ extraction arguments

EXTRACT_REFUSED = [
    ("text None", lambda m, t: aw.extract(m, t, None), TypeError, r"text must be a str or a list of str"),
    (
        "model as a name",
        lambda m, t: aw.extract("smollm2", t, "a b"),
        TypeError,
        r"model must be a loaded model.*'smollm2'",
    ),
    ("tokenizer None", lambda m, t: aw.extract(m, None, "a b"), ValueError, r"pass the model's tokenizer"),
    (
        "message without role",
        lambda m, t: aw.extract(m, t, messages=[{"content": "hi"}]),
        ValueError,
        r"messages\[0\] must be a dict with a str 'role'",
    ),
    (
        "message without content",
        lambda m, t: aw.extract(m, t, messages=[{"role": "user"}]),
        ValueError,
        r"messages\[0\] must be a dict .* 'content'",
    ),
    ("messages a str", lambda m, t: aw.extract(m, t, messages="hi"), TypeError, r"messages must be a list"),
    (
        "layers repeated",
        lambda m, t: aw.extract(m, t, "a b", layers=[0, 0]),
        ValueError,
        r"layers names the same layer twice",
    ),
    (
        "heads=True",
        lambda m, t: aw.extract(m, t, "a b", heads=True),
        TypeError,
        r"heads must be a list of ints; got True",
    ),
    ("generate without a prompt", lambda m, t: aw.generate(m, t, None), TypeError, r"text must be the prompt"),
    ("text empty", lambda m, t: aw.extract(m, t, ""), aw.AttentionError, r"text is empty; attention needs at least"),
    (
        "generate 0 tokens",
        lambda m, t: aw.generate(m, t, "w1 w2", max_new_tokens=0),
        aw.AttentionError,
        r"max_new_tokens must be a positive int; got 0",
    ),
]


@pytest.mark.parametrize("call, error, match", [pytest.param(c, e, m, id=i) for i, c, e, m in EXTRACT_REFUSED])
def test_extraction_arguments_are_checked(tiny_llama, word_tokenizer, call, error, match):
    with pytest.raises(error, match=match):
        call(tiny_llama, word_tokenizer)


def test_load_of_an_unknown_compression_method_is_a_format_error(tmp_path):
    att = aw.Attention(np.full((1, 1, 2, 2), 0.5, dtype=np.float32), ["a", "b"])
    att.save(tmp_path / "ok.npz")
    raw = bytearray((tmp_path / "ok.npz").read_bytes())
    # the central directory's compression method (offset 10) of the first member: a value zipfile refuses
    central = raw.index(b"PK\x01\x02")
    raw[central + 10 : central + 12] = (99).to_bytes(2, "little")
    (tmp_path / "bad.npz").write_bytes(bytes(raw))
    with pytest.raises(aw.errors.FileFormatError, match="damaged"):
        aw.Attention.load(tmp_path / "bad.npz")
