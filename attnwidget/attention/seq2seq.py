"""`Seq2SeqAttention`: the three attentions of an encoder-decoder model over a source and a target.

Each part is an ordinary `Attention`, numbered by its own tower's layers:

* ``encoder``: source tokens attending to source tokens (bidirectional);
* ``decoder``: target tokens attending to earlier target tokens (causal);
* ``cross``: target tokens (query rows, ``query_tokens``) attending to source tokens (keys).
"""

from __future__ import annotations

from attnwidget._validate import visible
from attnwidget.attention.core import Attention
from attnwidget.errors import ArgumentTypeError, AttentionError, AttentionKeyError

__all__ = ["Seq2SeqAttention", "PARTS"]

PARTS = ("encoder", "decoder", "cross")


class Seq2SeqAttention:
    """Encoder, decoder and cross attention of one source/target pair.

    Parameters
    ----------
    encoder, decoder, cross : Attention
        The parts. ``cross.query_tokens`` must be the decoder's tokens and ``cross.tokens`` the
        encoder's.
    meta : dict, optional
        Facts about the model and the extraction.
    """

    def __init__(self, encoder: Attention, decoder: Attention, cross: Attention, meta: dict | None = None):
        for name, part in (("encoder", encoder), ("decoder", decoder), ("cross", cross)):
            if not isinstance(part, Attention):
                raise ArgumentTypeError(f"{name} must be an Attention; got {type(part).__name__}")
        if cross.tokens != encoder.tokens:
            raise AttentionError("cross-attention keys must be the encoder's tokens")
        if cross.query_tokens != decoder.tokens:
            raise AttentionError("cross-attention queries must be the decoder's tokens")
        self.encoder = encoder
        self.decoder = decoder
        self.cross = cross
        self.meta = dict(meta or {})

    @property
    def source_tokens(self) -> list[str]:
        """Tokens the encoder read."""
        return self.encoder.tokens

    @property
    def target_tokens(self) -> list[str]:
        """Tokens the decoder read (its input: the start token, then the target)."""
        return self.decoder.tokens

    def part(self, name: str) -> Attention:
        """One part by name: "encoder", "decoder" or "cross"."""
        if name not in PARTS:
            raise AttentionKeyError(f"part must be one of {PARTS}; got {name!r}")
        return getattr(self, name)

    __getitem__ = part

    def __iter__(self):
        return iter((self.encoder, self.decoder, self.cross))

    def __repr__(self) -> str:
        e, d, c = self.encoder, self.decoder, self.cross
        return (
            f"<Seq2SeqAttention {visible(self.meta.get('model', ''))}: encoder {e.num_layers}x{e.num_heads} over "
            f"{e.n_key} source tokens, decoder {d.num_layers}x{d.num_heads} over {d.n_key} target tokens, "
            f"cross {c.num_layers}x{c.num_heads} ({c.n_query} x {c.n_key})>"
        )
