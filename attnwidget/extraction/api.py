"""``aw.extract``: which inputs were given -> which plan runs them.

`extract` checks its options into one `Request`, decides from the inputs given (text, a target,
an image, audio, raw inputs) and the model which plan reads them, and hands over. The plans live in
`attnwidget.extraction.plans` (text, encoder-decoder, image, raw inputs),
`attnwidget.extraction.multimodal` (vision-language) and `attnwidget.extraction.speech`; every plan
runs the model through `attnwidget.extraction.run` (capture, self-check, eager fallback). Models
outside transformers go through forward hooks (`extract_hooks`, re-exported here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from attnwidget import _validate as V
from attnwidget._optional import require_models
from attnwidget.attention.core import Attention, _memory_budget, storage_dtype
from attnwidget.attention.seq2seq import Seq2SeqAttention
from attnwidget.errors import ArgumentTypeError, AttentionError, ModelError
from attnwidget.extraction import plans
from attnwidget.extraction.facts import is_speech
from attnwidget.extraction.hooks import extract_hooks
from attnwidget.extraction.multimodal import is_vision_language, vision_language
from attnwidget.extraction.request import MEASURES, METHODS, Request
from attnwidget.extraction.speech import speech

__all__ = ["extract", "extract_hooks"]


@dataclass(frozen=True)
class _Given:
    """The inputs `extract` was given (None: not given)."""

    text: Any
    text_pair: Any
    messages: Any
    target: Any
    target_ids: Any
    image: Any
    audio: Any
    sampling_rate: Any
    inputs: Any
    tokens: Any
    add_special_tokens: bool

    def texts(self) -> bool:
        """Any input of the text plan besides `text` itself."""
        return any(x is not None for x in (self.messages, self.text_pair, self.target, self.target_ids))


def extract(
    model: Any,
    tokenizer: Any = None,
    text: str | Sequence[str] | None = None,
    *,
    text_pair: str | Sequence[str] | None = None,
    messages: list[dict] | None = None,
    target: str | None = None,
    target_ids: Sequence[int] | None = None,
    image: Any = None,
    audio: Any = None,
    sampling_rate: int | None = None,
    inputs: dict | None = None,
    tokens: Sequence[str] | None = None,
    layers: Sequence[int] | int | None = None,
    heads: Sequence[int] | int | None = None,
    method: str = "auto",
    lazy: bool = False,
    add_special_tokens: bool = True,
    check: bool = True,
    measure: str = "weights",
    dtype: str = "float32",
) -> Attention | list[Attention] | Seq2SeqAttention:
    """Run `model` on `text` (or an image, or any inputs) and return its attention.

    Parameters
    ----------
    model
        A Hugging Face model (`load_model` gives one with its tokenizer).
    tokenizer
        The model's tokenizer; for `image`, its image processor.
    text : str or list of str
        The input, tokenized exactly as ``tokenizer(text)`` does. A list runs as one padded batch
        and returns a list of `Attention`, each with its padding removed.
    text_pair : str or list of str, optional
        Second segment for encoders (``[CLS] text [SEP] text_pair [SEP]``).
    messages : list of dict, optional
        Chat messages rendered with the tokenizer's chat template (instead of `text`).
    target : str, optional
        Encoder-decoder models: the target text. It is tokenized as the model's labels
        (``tokenizer(text_target=target)``) and fed to the decoder shifted right, as in training:
        decoder row ``t`` is the step that predicts target token ``t``. Returns a
        `Seq2SeqAttention` with ``.encoder``, ``.decoder`` and ``.cross``.
    target_ids : list of int, optional
        Encoder-decoder models: the decoder's input ids exactly as fed (start token included).
    image : PIL image or array, optional
        Vision encoders (ViT, DeiT, CLIP and SigLIP vision towers): the image, prepared by the
        processor passed as `tokenizer`. Tokens are ``[CLS]`` (``[DIST]`` for DeiT) and patches
        ``p(row,col)``; ``meta["patch_grid"]`` is ``[rows, cols]``. Vision-language models
        (Llava-style) take `text` holding the image token with the image, prepared by their
        combined processor: the language model's attention, image placeholders labelled
        ``img p(row,col)`` and listed in ``meta["image_tokens"]`` (see `attnwidget.extraction.multimodal`).
    audio : 1-D array, optional
        Speech encoder-decoder models (Whisper): one channel of samples at `sampling_rate`, prepared
        by the feature extractor (or processor) passed as `tokenizer`. The encoder's tokens are
        audio frames labelled by start time (``"0.00s"``, ``"0.02s"``...); with `target` or
        `target_ids` a `Seq2SeqAttention` as for text. ``inputs={"input_features": ...}`` works too.
    sampling_rate : int, optional
        With `audio`: its sampling rate in Hz, which must be the feature extractor's.
    inputs : dict, optional
        Any model: the keyword arguments of its forward (one example), with `tokens` naming the
        positions of the attention to return.
    tokens : list of str, optional
        With `inputs`: one label per position.
    layers, heads : list of int, optional
        Model layer and head numbers to keep (default all); numbers within each tower for
        encoder-decoder models. Only these are computed.
    method : {"auto", "capture", "eager"}
        ``"capture"`` keeps SDPA and recomputes probabilities from captured q/k; ``"eager"`` runs
        ``output_attentions=True`` under the eager implementation. ``"auto"`` tries capture first
        and falls back to eager, saying why in ``meta["note"]``.
    lazy : bool
        Return an `Attention` that keeps the captured q/k and computes maps on demand. When the
        model can only give eager attention, a warning says so and the result is materialised.
    check : bool
        Self-check the capture (default True): for a few query rows per layer, the captured weights
        times the values must equal the attention output the model computed. On a mismatch
        ``method="auto"`` falls back to eager attention (with a note) and ``method="capture"``
        raises `ModelError` naming the layer and the difference.
    measure : {"weights", "norms"}
        ``"norms"`` gives value-weighted maps ``||alpha_ij f_h(x_j)||``, rows normalised (see
        `attnwidget.extraction.norms`); one more forward pass records the value vectors. Text inputs;
        for encoder-decoder models each part (cross-attention: the encoder output's values).
    dtype : {"float32", "float16"}
        How the weights are held (default float32). float16 computes every weight in float32 and
        rounds it to 11 significant bits as it is written, in half the memory (in about the same
        time); accessors, metrics and views still read float32 (see `Attention`). A lazy result
        materialises at this dtype.

    Raises
    ------
    ValueError
        Empty text, bad layer/head numbers, inputs that do not fit together.
    ModelError
        The model exposes no attention by any path, the text is longer than its positions, a
        target for a decoder-only model, an image for a text model.
    MemoryError
        The full weights would not fit in memory (before anything is computed); `lazy=True` works.
    """
    require_models("aw.extract")
    if model is None or isinstance(model, (str, bytes)):
        raise ArgumentTypeError(
            f"model must be a loaded model, e.g. model, tokenizer = aw.load_model(); got {model!r:.60}"
        )
    # Options read by truthiness would take "no" as yes: each must be a real bool.
    lazy = bool(V.flag("lazy", lazy))
    check = bool(V.flag("check", check))
    add_special_tokens = bool(V.flag("add_special_tokens", add_special_tokens))
    if tokens is not None:
        tokens = V.tokens("tokens", tokens)
    _check_media(image, audio)
    if method not in METHODS:
        raise AttentionError(f"method must be 'auto', 'capture' or 'eager'; got {method!r}")
    if lazy and method == "eager":
        raise AttentionError("lazy=True needs method='capture' (eager attention is materialised by the model)")
    if measure not in MEASURES:
        raise AttentionError(f"measure must be 'weights' or 'norms'; got {measure!r}")
    storage = storage_dtype(dtype)
    # The memory a full result may take is read here, once, as the call starts.
    budget = None if lazy else _memory_budget()
    req = Request(layers, heads, method, lazy, check, measure, storage, budget)
    given = _Given(
        text, text_pair, messages, target, target_ids, image, audio, sampling_rate, inputs, tokens, add_special_tokens
    )
    return _PLANS[_kind(model, given, req)](model, tokenizer, given, req)


# A scheme such as http://, https://, ftp://, s3:// or data: makes a str a URL, not a local path.
_URL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|data:)")


def _check_media(image: Any, audio: Any) -> None:
    """Refuse an image or audio that a processor would fetch, misread or choke on, before any
    processor sees it: a URL (processors download it), a bool or empty array, integer samples."""
    for i, picture in enumerate(image if isinstance(image, (list, tuple)) else [image]):
        where = "image" if not isinstance(image, (list, tuple)) else f"image[{i}]"
        if picture is None and where == "image":
            continue
        if isinstance(picture, (bool, np.bool_)) or picture is None:
            raise ArgumentTypeError(f"{where} must be a PIL image, an array or a local path; got {V.show(picture)}")
        if isinstance(picture, str) and _URL.match(picture.strip()):
            raise AttentionError(
                f"{where}= takes a PIL image, an array or a local path; got the URL {V.show(picture)}: "
                "download the image first (attnwidget never fetches from the network)"
            )
        if isinstance(picture, np.ndarray) or hasattr(picture, "detach"):
            arr = V.as_numpy(picture)
            if arr.dtype == bool:
                raise ArgumentTypeError(
                    f"{where} is a bool array of shape {arr.shape}; expected pixels (uint8 in [0, 255] or "
                    "floats in [0, 1]), e.g. mask.astype(np.uint8) * 255"
                )
            if arr.size == 0:
                raise AttentionError(f"{where} is an empty array (shape {arr.shape}); expected an (H, W, 3) image")
    if audio is not None and (isinstance(audio, np.ndarray) or hasattr(audio, "detach") or isinstance(audio, list)):
        kind = np.asarray(audio.detach().cpu() if hasattr(audio, "detach") else audio).dtype
        if kind.kind in "iub":
            # Integer PCM would be read as samples thousands of times too loud; the scale is the
            # caller's to apply (int16 is divided by 32768, int32 by 2**31, uint8 centred on 128).
            scale = {1: "subtract 128, divide by 128", 2: "divide by 32768", 4: "divide by 2**31"}
            how = "pass float samples" if kind.kind == "b" else scale.get(kind.itemsize, "scale to [-1, 1]")
            raise ArgumentTypeError(f"audio= takes float samples in [-1, 1]; got {kind}: {how}")


def _kind(model, g: _Given, req: Request) -> str:
    """Which plan reads these inputs: "speech", "vision-language", "image", "inputs" or "text";
    refuses inputs that do not go together."""
    if g.audio is not None or g.sampling_rate is not None:
        if g.audio is None:
            raise AttentionError("sampling_rate= goes with audio=")
        if not is_speech(model):
            raise ModelError(
                f"audio= is for speech encoder-decoder models that read input_features (Whisper); "
                f"{type(model).__name__} is not one. Pass text with its tokenizer, or inputs= with tokens="
            )
    if g.audio is not None or (isinstance(g.inputs, dict) and "input_features" in g.inputs and is_speech(model)):
        if g.inputs is not None and g.audio is not None:
            raise AttentionError("pass either audio= or inputs=, not both")
        if g.text is not None or g.messages is not None or g.text_pair is not None or g.image is not None:
            raise AttentionError("pass audio= (with target= or target_ids=) or text: one kind of input")
        if g.target is not None and g.target_ids is not None:
            raise AttentionError("pass either target or target_ids, not both")
        return "speech"
    if req.measure == "norms" and (g.inputs is not None or g.image is not None):
        raise AttentionError("measure='norms' covers text and audio inputs, not images or inputs=")
    if g.inputs is None and g.image is None:
        return "text"
    if g.inputs is not None and g.image is not None:
        raise AttentionError("pass either image= or inputs=, not both")
    if is_vision_language(model) and (
        (g.text is not None and g.image is not None) or (isinstance(g.inputs, dict) and "input_ids" in g.inputs)
    ):
        if g.texts():
            raise AttentionError(
                "a vision-language model takes text= and image= (or inputs=); not messages, text_pair or target"
            )
        if g.inputs is not None and g.text is not None:
            raise AttentionError("pass text= with image=, or inputs=: one kind of input")
        return "vision-language"
    if g.text is not None or g.texts():
        why = ""
        if g.text is not None and g.image is not None:
            why = (
                f" (text with an image needs a vision-language model, whose config has vision_config, "
                f"text_config and image_token_id; {type(model).__name__} is not one)"
            )
        raise AttentionError(
            f"pass text (with text_pair, messages, target), an image, or inputs=: one kind of input{why}"
        )
    return "image" if g.image is not None else "inputs"


def _text(model, tokenizer, g: _Given, req: Request):
    if g.tokens is not None:
        raise AttentionError("tokens= goes with inputs=; for text the tokenizer names the tokens")
    if tokenizer is None:
        raise AttentionError("pass the model's tokenizer: aw.extract(model, tokenizer, text)")
    if is_speech(model):
        raise ModelError(
            f"{type(model).__name__} reads audio, not text: pass audio=samples, sampling_rate=... "
            "(and target='...' for the decoder and cross-attention)"
        )
    if hasattr(tokenizer, "tokenizer") and (
        hasattr(tokenizer, "image_processor") or hasattr(tokenizer, "feature_extractor")
    ):  # a combined processor (Llava's, CLIP's, Whisper's): text goes through its tokenizer
        tokenizer = tokenizer.tokenizer
    return plans.text(
        model,
        tokenizer,
        g.text,
        req,
        text_pair=g.text_pair,
        messages=g.messages,
        target=g.target,
        target_ids=g.target_ids,
        add_special_tokens=g.add_special_tokens,
    )


_PLANS: dict[str, Callable[[Any, Any, _Given, Request], Any]] = {
    "text": _text,
    "speech": lambda model, tok, g, req: speech(
        model,
        tok,
        g.audio,
        req,
        sampling_rate=g.sampling_rate,
        inputs=g.inputs,
        target=g.target,
        target_ids=g.target_ids,
        tokens=g.tokens,
    ),
    "vision-language": lambda model, tok, g, req: vision_language(model, tok, g.text, g.image, g.inputs, g.tokens, req),
    "image": lambda model, tok, g, req: plans.image(model, tok, g.image, req),
    "inputs": lambda model, tok, g, req: plans.inputs(model, g.inputs, g.tokens, req),
}
