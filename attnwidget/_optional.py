"""Optional dependencies: what needs the `models` extra, and the error that says how to get it.

Viewing and analysing saved attention needs numpy and the widget stack only. Running a model
(extraction, generation, loading the bundled models) needs torch and transformers, which come with
``pip install "attnwidget[models]"``.
"""

from __future__ import annotations

import importlib.util

from attnwidget.errors import MissingExtraError

__all__ = ["require_models"]

MODEL_PACKAGES = ("torch", "transformers")


def require_models(feature: str) -> None:
    """Raise `MissingExtraError` naming the extra when torch or transformers is missing.

    Parameters
    ----------
    feature : str
        What the caller was asked to do, named in the message (``"aw.extract"``).
    """
    missing = [name for name in MODEL_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"{feature} runs a model and needs {', '.join(missing)}, which are not installed; "
            'install them with: pip install "attnwidget[models]" (viewing and analysing saved '
            "attention works without them)"
        )
