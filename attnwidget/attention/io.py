"""The saved-file format of `Attention`: `save` and `load`, and every check a file must pass.

A file is a compressed numpy archive (``.npz`` layout) of plain arrays only, never pickles:

- ``format``: JSON ``{"format": "attnwidget.Attention", "version": 1, "kind": "weights"}``
  (`FORMAT_NAME`, `FORMAT_VERSION`; kind ``"qk"`` for a lazy save);
- ``weights``: ``(layers, heads, n_query, n_key)`` float32, or float16 for attention held at float16
  (a ``"qk"`` file holds ``queries, keys, kv_index, scaling, softcap, window`` instead, see
  `attnwidget.attention.sources.QKSource`);
- ``mask``: bool ``(n_query, n_key)``; ``tokens``: a JSON list of str;
- ``info``: JSON with the fields in `_INFO_FIELDS` (and the later, optional ones in
  `_INFO_OPTIONAL`);
- ``generated``: bool ``(n_query,)``, for generated text only.

`Attention.save` and `Attention.load` are the public doors; they call `save` and `load` here.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget.attention.sources import QKSource
from attnwidget.errors import ArgumentTypeError, AttentionError, FileFormatError

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "save", "load"]

# Written into every file's ``format`` member: a reader refuses a name it does not know, and a
# version newer than its own with a message to upgrade (files without the header are refused).
FORMAT_NAME = "attnwidget.Attention"
FORMAT_VERSION = 1
_INFO_FIELDS = (
    "layer_ids",
    "head_ids",
    "num_kv_heads",
    "total_heads",
    "token_ids",
    "offsets",
    "special",
    "text",
    "meta",
)
# Constructor arguments added to `info` after version 1, with the value a file without them means.
# A new Attention field goes here (and into `_meta_dict`); `_from_members` passes each by name.
_INFO_OPTIONAL: dict[str, Any] = {"query_tokens": None}
_MEMBERS = {"format", "weights", "mask", "tokens", "info", "generated"}
# A file of kind "qk" holds queries and keys instead of weights (see `QKSource`).
_QK_MEMBERS = ("queries", "keys", "kv_index", "scaling", "softcap", "window")


def save(att: Any, path: str | Path, *, lazy: bool = False, max_bytes: int) -> None:
    """Write `att` to the exact path given; see `Attention.save` for the options.

    Parameters
    ----------
    att : Attention
        What to save.
    path : str or path
        The file to write; it is written beside the path and moved into place.
    lazy : bool
        Save a lazy attention's queries and keys instead of its weights.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"path must be a str or a path; got {V.show(path)}")
    lazy = V.boolean("lazy", lazy)
    path = Path(path)
    if path.is_dir():
        raise AttentionError(f"path {str(path)!r} is a directory; expected a file name")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {str(path)!r}: directory {str(path.parent)!r} does not exist")
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "kind": "weights"}
    arrays: dict[str, Any] = {}
    if lazy:
        export = getattr(att._source, "export_qk", None)
        if export is None:
            raise AttentionError(
                "save(lazy=True) needs lazy attention whose source exports its queries and keys "
                + (
                    "(this attention holds its weights)"
                    if att._source is None
                    else f"(its source, {type(att._source).__name__}, does not)"
                )
                + "; save(path) stores the weights"
            )
        header["kind"] = "qk"
        arrays.update(export())
    else:
        weights = att._weights
        if weights is None:  # lazy: compute for the file only
            weights = att.materialize(max_bytes=max_bytes)._weights
        arrays["weights"] = weights
    arrays.update(
        {
            "format": np.array(json.dumps(header)),
            "mask": att.mask,
            # JSON keeps token text exact (no pickle, no fixed-width unicode truncation).
            "tokens": np.array(json.dumps(att.tokens)),
            "info": np.array(json.dumps(att._meta_dict())),
        }
    )
    if att.generated is not None:
        arrays["generated"] = att.generated
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load(path: str | Path, *, cls: type, max_bytes: int, validate: bool = True) -> Any:
    """Read what `save` wrote, from the exact path given; see `Attention.load`.

    Parameters
    ----------
    path : str or path
        The file to read.
    validate : bool
        Check the weights as the `Attention` constructor does (default True).
    cls : type
        The class to build (`Attention` or a subclass; `Attention.load` passes its own): this
        module reads the format and never imports the type, so the two cannot import each other.
    max_bytes : int
        Bytes the file's arrays may take once read (`Attention.load` passes the budget the rest of
        the package uses; the rule lives once, in ``attention.core._memory_budget``).

    Returns
    -------
    Attention

    Raises
    ------
    FileFormatError
        For a file that is not an attnwidget save or is damaged, a path that is not a regular file
        (a named pipe, a device), or a file whose arrays declare more than `max_bytes`.

    Notes
    -----
    Nothing in the file is trusted before it is checked: the archive's directory and each array's
    ``.npy`` header are read first, every member's declared shape and dtype is checked against the
    format and the byte budget, and only then is each member inflated, never past the size its
    header declares (a compressed stream that would inflate further is refused).
    """
    validate = V.boolean("validate", validate)
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"path must be a str or a path; got {V.show(path)}")
    budget = V.integer("max_bytes", max_bytes, low=0)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise FileFormatError(f"{str(path)!r} is a directory, not an attnwidget file")
    name = repr(str(path))
    # A named pipe blocks open() until a writer comes, and a device reads forever: only a regular
    # file is opened, and the check is repeated on the open descriptor (the path may be swapped).
    _refuse_irregular(os.stat(path).st_mode, name)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb") as raw:
        _refuse_irregular(os.fstat(raw.fileno()).st_mode, name)
        magic = raw.read(6)
        if not magic:
            raise FileFormatError(f"{name} is empty (0 bytes); it is not an attnwidget file")
        if magic == b"\x93NUMPY":
            raise FileFormatError(
                f"{name} is a single numpy array (.npy), not an attnwidget file; wrap it with "
                "aw.Attention(np.load(path), tokens) instead"
            )
        if magic[:2] != b"PK":
            raise FileFormatError(f"{name} is not an attnwidget file (not a numpy .npz archive)")
        try:
            members, data = _read_archive(raw, name, budget)
        except FileFormatError:
            raise
        except (
            ValueError,
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            zlib.error,
            struct.error,
            EOFError,
            OSError,
            KeyError,
            NotImplementedError,
            RuntimeError,
            SyntaxError,
            TypeError,
        ) as e:  # zipfile's unknown versions, methods, encryption; numpy's header parser
            raise FileFormatError(f"{name} is damaged or truncated; it cannot be read ({e})") from None
    return _from_members(cls, data, members, name, validate)


def _refuse_irregular(mode: int, name: str) -> None:
    if not stat.S_ISREG(mode):
        what = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise FileFormatError(f"{name} is {what}, not a regular file; expected an attnwidget file")


# Bytes inflated per step: large enough to be fast, small enough that a refusal costs little.
_CHUNK = 1 << 20
# The shape and dtype each array member must declare (the JSON members are checked once read).
_RANKS = {"weights": 4, "mask": 2, "generated": 1}


class _Member:
    """One archive member's bytes, read from its local header on and inflated on demand, never
    past `size`: the zip directory's declared size, which the caller ties to the array header."""

    def __init__(self, raw: Any, info: zipfile.ZipInfo, name: str):
        self.key = info.filename
        raw.seek(info.header_offset)
        local = raw.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise FileFormatError(f"{name} is damaged or truncated; member {self.key!r} has no local header")
        n_name, n_extra = struct.unpack("<HH", local[26:30])
        if info.flag_bits & 0x1:
            raise FileFormatError(f"{name} is damaged or truncated; member {self.key!r} is encrypted")
        if info.compress_type == zipfile.ZIP_DEFLATED:
            self._z: Any = zlib.decompressobj(-15)
        elif info.compress_type == zipfile.ZIP_STORED:
            self._z = None
        else:
            raise FileFormatError(
                f"{name} is damaged or truncated; member {self.key!r} uses compression method "
                f"{info.compress_type} (expected stored or deflated, as numpy writes)"
            )
        self._raw, self._info, self._name = raw, info, name
        self._pos = info.header_offset + 30 + n_name + n_extra
        self._left_in = info.compress_size
        self._tail = b""
        self._crc = 0
        self.done = 0  # bytes given out so far

    def _produce(self, want: int) -> bytes:
        """Up to `want` more bytes of the member (fewer only at its end)."""
        while True:
            if self._z is None:
                src = self._take(min(want, _CHUNK))
                out = src
            else:
                src = self._tail or self._take(_CHUNK)
                out = self._z.decompress(src, want) if src else b""
                self._tail = self._z.unconsumed_tail
            if out or not src or (self._z is not None and self._z.eof):
                self._crc = zlib.crc32(out, self._crc)
                self.done += len(out)
                return out

    def _take(self, n: int) -> bytes:
        n = min(n, self._left_in)
        if n <= 0:
            return b""
        self._raw.seek(self._pos)
        got = self._raw.read(n)
        self._pos += len(got)
        self._left_in = self._left_in - len(got) if got else 0
        return got

    def read(self, n: int = -1) -> bytes:
        """Exactly `n` bytes (numpy's header reader calls this), or fewer at a truncated end."""
        parts = []
        while n > 0:
            piece = self._produce(min(n, _CHUNK))
            if not piece:
                break
            parts.append(piece)
            n -= len(piece)
        return b"".join(parts)

    def readinto(self, out: memoryview) -> int:
        """Fill `out`; the count filled (short only at a truncated end)."""
        filled = 0
        while filled < len(out):
            piece = self._produce(min(len(out) - filled, 16 * _CHUNK))
            if not piece:
                break
            out[filled : filled + len(piece)] = piece
            filled += len(piece)
        return filled

    def finish(self) -> None:
        """Refuse a stream that goes on past the declared size, and a checksum that differs."""
        if self._produce(1):
            raise FileFormatError(
                f"{self._name} is damaged or truncated (or hostile): member {self.key!r} inflates past the "
                f"{self._info.file_size} bytes the archive declares for it (refused without inflating the rest)"
            )
        if self._crc != self._info.CRC:
            raise FileFormatError(f"{self._name} is damaged or truncated; member {self.key!r} fails its checksum")


def _array_header(member: _Member, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """The member's declared ``(shape, fortran_order, dtype)``, from its ``.npy`` header alone."""
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(member)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(member)
        why = f"a .npy of version {version}, which attnwidget never writes"
    except FileFormatError:
        raise
    except Exception as e:  # noqa: BLE001 - numpy's header parser raises tokenize and ast errors too
        why = f"an unreadable .npy header ({type(e).__name__}: {e})"
    raise FileFormatError(f"{name} is damaged or truncated; it cannot be read (member {member.key!r} has {why})")


def _read_archive(raw: Any, name: str, budget: int) -> tuple[set, dict]:
    """The archive's member names, and its known members read under the byte budget."""
    raw.seek(0)
    infos = {}
    for info in zipfile.ZipFile(raw).infolist():  # the central directory only, no member inflated
        infos[info.filename[:-4] if info.filename.endswith(".npy") else info.filename] = info
    members = set(infos)
    wanted = sorted(members & (_MEMBERS | set(_QK_MEMBERS)))
    headers = {}
    for key in wanted:
        m = _Member(raw, infos[key], name)
        shape, fortran, dtype = _array_header(m, name)
        headers[key] = (shape, fortran, dtype, m.done)
    _check_declared(headers, infos, name, budget)
    data = {}
    for key in wanted:
        shape, fortran, dtype, offset = headers[key]
        m = _Member(raw, infos[key], name)
        m.read(offset)
        arr = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
        flat = arr.reshape(-1, order="A").view(np.uint8) if arr.size else np.empty(0, np.uint8)
        if m.readinto(flat.data) != arr.nbytes:
            raise FileFormatError(f"{name} is damaged or truncated; member {key!r} ends early")
        m.finish()
        data[key] = arr
    return members, data


def _check_declared(headers: dict, infos: dict, name: str, budget: int) -> None:
    """Check each member's declared shape and dtype against the format and `budget`, before any
    array data is inflated."""
    sizes = {}
    for key, (shape, _, dtype, _offset) in headers.items():
        if dtype.hasobject:
            raise FileFormatError(
                f"{name} holds a pickled object array; attnwidget files never do, and "
                "pickles are not loaded (they can run code)"
            )
        if dtype.fields is not None or dtype.subdtype is not None:
            raise FileFormatError(f"{name}: {key} has dtype {dtype}; the format stores plain arrays")
        sizes[key] = math.prod(shape) * dtype.itemsize
    total = sum(sizes.values())
    if total > budget:
        big = max(sizes, key=lambda k: sizes[k])
        raise FileFormatError(
            f"{name}: its arrays declare {_size(total)}, over the {_size(budget)} this machine can "
            f"spare; member {big!r} alone declares shape {headers[big][0]} of {headers[big][2]} "
            f"({_size(sizes[big])}). Refused before reading it"
        )
    for key, (shape, _, dtype, offset) in headers.items():
        if key in _RANKS:
            if dtype.kind != ("f" if key == "weights" else "b"):
                raise FileFormatError(
                    f"{name}: {key} has dtype {dtype}; the format stores "
                    + ("float weights" if key == "weights" else "a bool array")
                )
            if len(shape) != _RANKS[key]:
                expected = {"weights": "(layers, heads, n_query, n_key)", "mask": "(n_query, n_key)"}
                raise FileFormatError(
                    f"{name}: {key} has shape {shape}; the format stores {expected.get(key, '(n_query,)')}"
                )
        # The zip directory's size must be the array header's: a larger one would inflate data
        # no array holds (a zip bomb behind a small shape).
        if infos[key].file_size != offset + sizes[key]:
            raise FileFormatError(
                f"{name} is damaged or truncated (or hostile): member {infos[key].filename!r} declares "
                f"{infos[key].file_size} bytes in the archive but its array header declares "
                f"{offset + sizes[key]} (shape {shape}, {dtype}); refused before inflating it"
            )


def _size(nbytes: int) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"


def _from_members(cls: type, data: dict, members: set, name: str, validate: bool) -> Any:
    """Check the archive's members against the format and build the `Attention`."""
    required = {"weights", "mask", "tokens", "info"}
    allowed = set(_MEMBERS)
    if "format" not in members:
        raise FileFormatError(
            f"{name} is not an attnwidget file: it holds {sorted(members)}; expected {sorted(required | {'format'})}"
        )
    header = _json_member(data, "format", name)
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise FileFormatError(f"{name} is not an attnwidget file (its format header is {V.show(header)})")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FileFormatError(f"{name} has an invalid format version {V.show(version)}")
    if version > FORMAT_VERSION:
        raise FileFormatError(
            f"{name} was written by a newer attnwidget (format version {version}); this one "
            f"reads versions up to {FORMAT_VERSION}: upgrade attnwidget"
        )
    kind = header.get("kind", "weights")
    if kind not in ("weights", "qk") or set(header) - {"format", "version", "kind"}:
        raise FileFormatError(f"{name} has an unknown format header {V.show(header)}")
    if kind == "qk":
        required = required - {"weights"} | set(_QK_MEMBERS)
        allowed = allowed - {"weights"} | set(_QK_MEMBERS)
    _check_fields(f"{name} does not match the attnwidget format", required - members, members - allowed, "")
    info = _json_member(data, "info", name)
    if not isinstance(info, dict):
        raise FileFormatError(f"{name}: info must be a JSON object; got {V.show(info)}")
    fields = set(info)
    _check_fields(
        f"{name}: info does not match the format",
        set(_INFO_FIELDS) - fields,
        fields - set(_INFO_FIELDS) - set(_INFO_OPTIONAL),
        " fields",
    )
    tokens = _json_member(data, "tokens", name)
    for key in ("weights", "mask", "generated"):
        if key in data and data[key].dtype.kind not in ("f" if key == "weights" else "b"):
            raise FileFormatError(
                f"{name}: {key} has dtype {data[key].dtype}; the format stores "
                + ("float weights" if key == "weights" else "a bool array")
            )
    source = None
    stored = data.get("weights")
    dtype = "float16" if stored is not None and stored.dtype == np.float16 else "float32"
    if kind == "qk":
        try:
            source = QKSource(
                data["queries"],
                data["keys"],
                data["mask"],
                kv_index=data["kv_index"],
                scaling=data["scaling"],
                softcap=data["softcap"],
                window=data["window"],
                check_finite=validate,
            )
        except AttentionError as e:
            raise FileFormatError(f"{name} holds invalid queries and keys: {e}") from None
    try:
        # Each field is passed by name: nothing else in the file reaches the constructor. The
        # weights are checked below, by the caller's choice only.
        att = cls(
            data.get("weights"),
            tokens,
            data["mask"],
            generated=data.get("generated"),
            _source=source,
            layer_ids=info["layer_ids"],
            head_ids=info["head_ids"],
            num_kv_heads=info["num_kv_heads"],
            total_heads=info["total_heads"],
            token_ids=info["token_ids"],
            offsets=info["offsets"],
            special=info["special"],
            text=info["text"],
            meta=info["meta"],
            validate=False,
            dtype=dtype,
            **{k: info.get(k, default) for k, default in _INFO_OPTIONAL.items()},
        )
    except AttentionError as e:
        raise FileFormatError(f"{name} holds an invalid attention: {e}") from None
    if validate and source is None:
        try:
            for li in range(att.num_layers):
                att._validate(att._weights[li : li + 1], li)
        except AttentionError as e:
            raise FileFormatError(
                f"{name} holds an invalid attention: {e} (Attention.load(path, "
                "validate=False) reads it without this check)"
            ) from None
    return att


def _check_fields(what: str, missing: set, unknown: set, noun: str) -> None:
    """Refuse a saved file whose members or info fields differ from the format, naming both sides."""
    problems = [
        f"missing{noun} {sorted(missing)}" if missing else "",
        f"unknown{noun} {sorted(unknown)}" if unknown else "",
    ]
    if missing or unknown:
        raise FileFormatError(f"{what}: " + "; ".join(p for p in problems if p))


def _json_member(data: dict, key: str, name: str) -> Any:
    arr = data[key]
    if arr.shape != () or arr.dtype.kind != "U":
        raise FileFormatError(
            f"{name}: {key} must be a JSON string; got an array of shape {arr.shape} and dtype {arr.dtype}"
        )
    try:
        return json.loads(str(arr))
    except ValueError as e:
        raise FileFormatError(f"{name}: {key} is not valid JSON ({e})") from None
