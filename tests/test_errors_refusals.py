"""The errors: each refusal type is also the builtin error a caller would catch.

Moved from tests/test_bad_inputs.py. Every refusal must be one of the library's own errors
(``aw.AttentionError`` and its subclasses, which are also ``ValueError``/``TypeError``/``IndexError``)
and its message must name the argument.
"""

from __future__ import annotations

import attnwidget as aw


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
