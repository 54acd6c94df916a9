"""The data type everything passes around: `Attention` (one tower's maps) and `Seq2SeqAttention`.

`core` holds the type, `arrays` the numpy primitives it is built on (masks, renormalising, fusing,
pooling), `seq2seq` the encoder-decoder bundle and `words` the merging of tokens into words.
Nothing here imports from the rest of the package.
"""

from attnwidget.attention.core import FORMAT_VERSION, HEAD_FUSIONS, Attention, QKSource
from attnwidget.attention.seq2seq import Seq2SeqAttention

__all__ = ["Attention", "Seq2SeqAttention", "QKSource", "HEAD_FUSIONS", "FORMAT_VERSION"]
