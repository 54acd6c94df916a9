"""Saving and loading: the path given, the format header, damaged and foreign files named as such.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pytest
from helpers.refusal_data import TOKS, W, att
from helpers.refusal_data import write_npz as _write_npz

import attnwidget as aw
from attnwidget.attention.arrays import causal_mask

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


# ------------------------------------------------------------------------------ hostile files
# A file is read only after its declared sizes are checked: a header may not make load allocate
# terabytes, a compressed member may not inflate past what it declares, and a path that is not a
# regular file is refused before it is opened.


def _npy_header(shape, dtype="<f4"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _two_token_members():
    """The members of a valid 2-token file, weights left out (each test adds its own)."""
    a = aw.Attention(np.array([[[[1, 0], [0.5, 0.5]]]], np.float32), ["a", "b"])
    m = _valid_members(a)
    return {k: v for k, v in m.items() if k != "weights"}, a.weights.tobytes()


def _zip_with_weights(path, weights_bytes_writer):
    members, _ = _two_token_members()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in members.items():
            with z.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, v, allow_pickle=False)
        with z.open("weights.npy", "w") as f:
            weights_bytes_writer(f)


def test_a_header_declaring_a_huge_array_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.npz"
    shape = (40, 64, 16384, 16384)  # 2.5 TiB of float32, declared by a 128-byte header
    _zip_with_weights(path, lambda f: f.write(_npy_header(shape)))
    assert path.stat().st_size < 4096
    with pytest.raises(
        aw.errors.FileFormatError, match=r"'weights' alone declares shape \(40, 64, 16384, 16384\)"
    ) as e:
        aw.Attention.load(path)
    assert "2.5 TiB" in str(e.value) and repr(str(path)) in str(e.value)


def _bomb_true_size(path):
    """A small declared shape followed by 64 MiB of zeros that the zip directory declares honestly."""
    _, data = _two_token_members()

    def write(f):
        f.write(_npy_header((1, 1, 2, 2)) + data)
        zeros = bytes(1 << 20)
        for _ in range(64):
            f.write(zeros)

    _zip_with_weights(path, write)


def _patch_member(raw: bytearray, name: bytes, size: int, crc: int) -> None:
    import struct

    i = 0
    while (i := raw.find(b"PK\x03\x04", i)) >= 0:  # local headers: crc at 14, sizes at 18 and 22
        n = struct.unpack("<H", raw[i + 26 : i + 28])[0]
        if raw[i + 30 : i + 30 + n] == name:
            raw[i + 14 : i + 18] = struct.pack("<I", crc)
            raw[i + 22 : i + 26] = struct.pack("<I", size)
        i += 4
    i = 0
    while (i := raw.find(b"PK\x01\x02", i)) >= 0:  # central directory: crc at 16, sizes at 20 and 24
        n = struct.unpack("<H", raw[i + 28 : i + 30])[0]
        if raw[i + 46 : i + 46 + n] == name:
            raw[i + 16 : i + 20] = struct.pack("<I", crc)
            raw[i + 24 : i + 28] = struct.pack("<I", size)
        i += 4


def _make_bomb(path, lying):
    import zlib

    _bomb_true_size(path)
    if lying:
        _, data = _two_token_members()
        honest = _npy_header((1, 1, 2, 2)) + data
        raw = bytearray(path.read_bytes())
        _patch_member(raw, b"weights.npy", len(honest), zlib.crc32(honest))
        path.write_bytes(bytes(raw))


@pytest.mark.parametrize("lying", [False, True], ids=["zip size honest", "zip size lies"])
def test_a_zip_bomb_is_refused_without_inflating_it(tmp_path, lying):
    import time
    import tracemalloc

    path = tmp_path / "bomb.npz"
    _make_bomb(path, lying)
    assert path.stat().st_size < 2**20  # 64 MiB of zeros in well under 1 MiB
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(aw.errors.FileFormatError, match=r"member 'weights.npy'") as e:
            aw.Attention.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ("inflates past" if lying else "declares 67109008 bytes") in str(e.value)
    assert peak < 8 * 2**20 and time.perf_counter() - start < 5


def test_a_named_pipe_is_refused_without_hanging(tmp_path):
    import os
    import threading

    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    got: list = []

    def load():
        try:
            aw.Attention.load(fifo)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            got.append(e)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive():  # a regression: release the reader blocked in open() so the suite goes on
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
        pytest.fail("Attention.load blocked on a named pipe")
    assert len(got) == 1 and isinstance(got[0], aw.errors.FileFormatError)
    assert re.search(r"pipe\.npz' is a named pipe \(FIFO\), not a regular file", str(got[0]))
