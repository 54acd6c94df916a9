"""The errors attnwidget raises for input it refuses.

Every one is an `AttentionError`, itself a `ValueError`, so ``except aw.AttentionError`` catches
whatever the library refuses. The subclasses also derive from the builtin a caller would expect:

- `ArgumentTypeError` (also a `TypeError`): an argument of the wrong type (``layer="3"``).
- `AttentionIndexError` (also an `IndexError`): a layer, head, kv head or token that is not there.
- `AttentionKeyError` (also a `KeyError`): a name that is not there (a part of a
  `Seq2SeqAttention`, a column of a table).
- `ViewIndexError` (an `AttentionIndexError`, also a ``traitlets.TraitError``): a view's layer,
  head, step or token position that is not there.
- `FileFormatError`: a file that is not an attnwidget save, or one that is damaged (empty,
  truncated, corrupt, written by a newer version, or with fields missing or unknown).
- `NoQualifyingRowError`: a metric averaged over query rows that no row of this attention
  qualifies for (sink mass with every row after the sink masked out).
- `ModelError`: a model that cannot give attention for this input (none exposed, input too long,
  a processor of the wrong kind).
- `MissingExtraError` (also an `ImportError`): a feature that needs the ``models`` extra, which is not
  installed.
"""

from __future__ import annotations

import traitlets

__all__ = [
    "AttentionError",
    "ArgumentTypeError",
    "AttentionIndexError",
    "AttentionKeyError",
    "FileFormatError",
    "NoQualifyingRowError",
    "ViewIndexError",
    "ModelError",
    "MissingExtraError",
]


class AttentionError(ValueError):
    """Raised when attention weights, tokens, masks or arguments are not what they claim to be."""


class ArgumentTypeError(AttentionError, TypeError):
    """An argument of the wrong type; the message names the argument, the value and the type expected."""


class AttentionIndexError(AttentionError, IndexError):
    """A layer, head, kv head, query row or token position that the attention does not hold."""


class AttentionKeyError(AttentionError, KeyError):
    """A name the object does not hold (``seq2seq["nope"]``); the message lists the names it does."""


class FileFormatError(AttentionError):
    """A file that is not a readable attnwidget save; the message says what is wrong with it."""


class NoQualifyingRowError(AttentionError):
    """A metric that is a mean over query rows, asked of attention where no row qualifies; callers
    that measure many maps catch it to leave that metric out instead of stopping."""


class ViewIndexError(AttentionIndexError, traitlets.TraitError):
    """A view's layer, head, step or token that the attention does not hold. Also a
    ``traitlets.TraitError``, as a widget trait's refusal is for code that catches those."""


class ModelError(AttentionError):
    """The model cannot give attention for this input (no attention exposed, input too long...)."""


class MissingExtraError(AttentionError, ImportError):
    """A feature needs packages from an extra that is not installed; the message names the extra."""
