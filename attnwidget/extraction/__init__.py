"""Model -> `Attention`: the only part of the package that imports torch and transformers.

``aw.extract`` and ``aw.generate`` are the entry points; `extract_hooks` reads any
``torch.nn.Module`` through forward hooks, `from_transformer_lens` reads a TransformerLens cache.
"""

from attnwidget.extraction.api import extract, extract_hooks
from attnwidget.extraction.generation import generate, generation_step_row
from attnwidget.extraction.interop import from_transformer_lens
from attnwidget.extraction.models import load_model
from attnwidget.extraction.tokens import readable_tokens

__all__ = [
    "extract",
    "extract_hooks",
    "generate",
    "generation_step_row",
    "from_transformer_lens",
    "load_model",
    "readable_tokens",
]
