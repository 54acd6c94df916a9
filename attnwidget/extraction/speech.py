"""The speech plan: a speech encoder-decoder's (Whisper's) attention over audio frames.

The model reads log-mel features of the audio; its encoder's positions are audio frames, labelled
by their start time (``0.00s``, ``0.02s``, ...: the feature extractor's hop times the encoder's
convolution stride), and its decoder's are the target tokens. The encoder, decoder and cross
attention come from the encoder-decoder plan (`attnwidget.extraction.plans.seq2seq`).
"""

from __future__ import annotations

from attnwidget.attention.core import Attention
from attnwidget.attention.seq2seq import Seq2SeqAttention
from attnwidget.errors import ArgumentTypeError, AttentionError, ModelError
from attnwidget.extraction.facts import input_device, layers_heads, model_meta
from attnwidget.extraction.plans import seq2seq
from attnwidget.extraction.request import Request
from attnwidget.extraction.run import Side

__all__ = ["speech"]


def _conv_stride(model) -> int:
    """Feature frames per encoder frame: the product of the encoder's 1-D convolution strides."""
    import torch

    encoder = model.get_encoder() if hasattr(model, "get_encoder") else model
    stride = 1
    for m in encoder.modules():
        if isinstance(m, torch.nn.Conv1d):
            stride *= int(m.stride[0])
    return stride


def _audio_samples(audio, sampling_rate, feature_extractor):
    """`audio` as a 1-D float32 array checked against what the feature extractor takes."""
    import numpy as np

    if hasattr(audio, "detach"):
        audio = audio.detach().cpu().numpy()
    try:
        samples = np.asarray(audio, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ArgumentTypeError(f"audio must be a 1-D array of samples; got {type(audio).__name__}") from e
    if samples.ndim != 1:
        raise AttentionError(
            f"audio must be one channel, a 1-D array of samples; got shape {samples.shape}. For several "
            "channels pass their mean (e.g. audio.mean(axis=0) for (channels, samples))"
        )
    if samples.size == 0:
        raise AttentionError("audio is empty; attention needs at least one frame")
    if not np.all(np.isfinite(samples)):
        raise AttentionError("audio holds NaN or infinite samples")
    rate = getattr(feature_extractor, "sampling_rate", None)
    if sampling_rate is None:
        raise AttentionError(f"pass sampling_rate= (Hz) with audio; the feature extractor takes {rate} Hz")
    if rate is not None and int(sampling_rate) != int(rate):
        raise AttentionError(
            f"the audio is sampled at {sampling_rate} Hz; the feature extractor takes {rate} Hz: resample it "
            f"first (e.g. librosa.resample(audio, orig_sr={sampling_rate}, target_sr={rate}))"
        )
    limit = getattr(feature_extractor, "n_samples", None)
    if isinstance(limit, int) and samples.size > limit:
        raise ModelError(
            f"the audio is {samples.size / sampling_rate:.2f} s long; the model reads at most "
            f"{limit / sampling_rate:.2f} s at a time: cut it into pieces of that length"
        )
    return samples


def speech(
    model,
    processor,
    audio,
    req: Request,
    *,
    sampling_rate=None,
    inputs=None,
    target=None,
    target_ids=None,
    tokens=None,
) -> Seq2SeqAttention | Attention | list[Attention]:
    """A speech encoder-decoder's attention: encoder over audio frames labelled by time, decoder over
    the target tokens, cross from target tokens to frames (the encoder alone without a target).

    `processor` is the model's processor (feature extractor and tokenizer), or either part alone:
    the feature extractor prepares `audio` and gives the frame timing, the tokenizer reads `target`
    and names the target tokens (`tokens` names them otherwise).
    """
    import torch

    feature_extractor = getattr(processor, "feature_extractor", None)
    if feature_extractor is None and hasattr(processor, "hop_length"):
        feature_extractor = processor
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None and hasattr(processor, "convert_ids_to_tokens"):
        tokenizer = processor
    meta = dict(model_meta(model))
    if inputs is None:
        if feature_extractor is None:
            got = "nothing" if processor is None else type(processor).__name__
            raise AttentionError(
                f"audio needs the model's feature extractor (or its processor, e.g. WhisperProcessor); got {got}. "
                "Or pass inputs={'input_features': ...}"
            )
        samples = _audio_samples(audio, sampling_rate, feature_extractor)
        try:
            features = feature_extractor(samples, sampling_rate=sampling_rate, return_tensors="pt")["input_features"]
        except Exception as e:
            raise AttentionError(
                f"{type(feature_extractor).__name__} could not prepare the audio ({type(e).__name__}: {e})"
            ) from e
        meta.update(audio_seconds=round(samples.size / sampling_rate, 6), sampling_rate=int(sampling_rate))
    else:
        if not isinstance(inputs, dict) or "input_features" not in inputs:
            raise AttentionError("inputs= for a speech model needs 'input_features' (the feature extractor's output)")
        features = torch.as_tensor(inputs["input_features"])
        extra = sorted(set(inputs) - {"input_features", "attention_mask"})
        if extra:
            raise AttentionError(
                f"inputs= for a speech model takes input_features (and attention_mask); got also {extra}"
            )
    if features.ndim == 2:
        features = features[None]
    if features.ndim != 3 or features.shape[0] != 1:
        raise AttentionError(f"input_features must be one example (1, mel bins, frames); got {tuple(features.shape)}")
    n_mel = int(features.shape[-1])
    stride = _conv_stride(model)
    positions = getattr(model.config, "max_source_positions", None)
    if isinstance(positions, int) and stride > 1 and n_mel != positions * stride:
        raise ModelError(
            f"the features have {n_mel} frames; {type(model).__name__} takes exactly {positions * stride} "
            f"(max_source_positions {positions} x stride {stride}): use the model's own feature extractor, "
            "which pads the audio to that length"
        )
    hop = getattr(feature_extractor, "hop_length", None)
    rate = getattr(feature_extractor, "sampling_rate", None)
    if hop is None or rate is None:
        hop, rate = 160, 16000
        meta["note"] = "frame times assume Whisper's front end (10 ms hop at 16 kHz); pass the feature extractor"
    n_src = n_mel // stride
    seconds = hop / rate * stride  # per encoder frame
    meta.update(frame_seconds=seconds)
    if "audio_seconds" in meta:
        meta["audio_frames"] = min(n_src, int(-(-meta["audio_seconds"] // seconds)))

    def frames(b, n=None):
        n = n_src if n is None else n
        step = hop / rate * n_mel / n  # the frames the model made, in time
        return dict(tokens=[f"{i * step:.2f}s" for i in range(n)], text=None)

    source = Side(None, frames)
    device = input_device(model)
    model_inputs = {"input_features": features.to(device=device, dtype=next(model.parameters()).dtype)}
    if inputs is not None and inputs.get("attention_mask") is not None:
        model_inputs["attention_mask"] = torch.as_tensor(inputs["attention_mask"]).to(device)
    if target is None and target_ids is None and tokens is not None:
        raise AttentionError("tokens= names the target tokens; pass target= or target_ids= with it")
    n_layers, n_heads, _ = layers_heads(model)
    has_target = target is not None or target_ids is not None
    # With a target each tower's numbers are checked once it has run; the encoder alone has the config's.
    req = req.select(None, None) if has_target else req.select(n_layers, n_heads)
    return seq2seq(
        model,
        tokenizer,
        model_inputs,
        source,
        meta,
        req,
        target=target,
        target_ids=target_ids,
        n_src=n_src,
        target_tokens=tokens,
    )
