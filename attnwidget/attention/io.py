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
import os
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


def load(path: str | Path, *, cls: type, validate: bool = True) -> Any:
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

    Returns
    -------
    Attention

    Raises
    ------
    FileFormatError
        For a file that is not an attnwidget save or is damaged.
    """
    validate = V.boolean("validate", validate)
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"path must be a str or a path; got {V.show(path)}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if path.is_dir():
        raise FileFormatError(f"{str(path)!r} is a directory, not an attnwidget file")
    name = repr(str(path))
    with open(path, "rb") as f:
        magic = f.read(6)
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
        # The file is opened here, not by np.load: a damaged archive that np.load refuses
        # part-way must still have its handle closed.
        with open(path, "rb") as raw, np.load(raw, allow_pickle=False) as f:
            members = set(f.files)
            data = {k: f[k] for k in members & (_MEMBERS | set(_QK_MEMBERS))}
    except ValueError as e:
        if "pickle" in str(e):
            raise FileFormatError(
                f"{name} holds a pickled object array; attnwidget files never do, and "
                "pickles are not loaded (they can run code)"
            ) from None
        raise FileFormatError(f"{name} is damaged or truncated; it cannot be read ({e})") from None
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        OSError,
        KeyError,
        NotImplementedError,
        RuntimeError,
    ) as e:  # zipfile's unknown versions, methods, encryption
        raise FileFormatError(f"{name} is damaged or truncated; it cannot be read ({e})") from None
    return _from_members(cls, data, members, name, validate)


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
