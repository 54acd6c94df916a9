"""The data type everything passes around: `Attention` (one tower's maps) and `Seq2SeqAttention`.

- `core`: the type (validation, accessors, slicing, head fusion, hiding tokens, repr);
- `io`: the saved-file format (`Attention.save` and `Attention.load` call it);
- `sources`: lazy sources (the `AttentionSource` protocol, `QKSource`) a lazy `Attention` reads;
- `arrays`: the numpy primitives it is built on (masks, renormalising, fusing, pooling, the float16
  coarse-row rule);
- `seq2seq`: the encoder-decoder bundle; `words`: the merging of tokens into words.

Nothing here imports from the rest of the package (only `errors` and `_validate`).
"""

from attnwidget.attention.core import HEAD_FUSIONS, Attention
from attnwidget.attention.io import FORMAT_VERSION
from attnwidget.attention.seq2seq import Seq2SeqAttention
from attnwidget.attention.sources import AttentionSource, QKSource

__all__ = ["Attention", "Seq2SeqAttention", "AttentionSource", "QKSource", "HEAD_FUSIONS", "FORMAT_VERSION"]
