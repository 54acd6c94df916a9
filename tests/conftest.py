"""Shared fixtures: tiny random-weight models built from configs, and the bundled real models."""

from __future__ import annotations

import os
from pathlib import Path

# Under pytest-xdist every worker is a process of its own: with torch's default of one thread per core,
# two workers on two cores run four threads that wait on each other (the fast tier took 92 s; one
# thread per worker, 42 s). Set before any test imports torch; an explicit setting wins.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
from helpers.tiny_models import tiny_model, word_level_tokenizer

NOTEBOOK_TESTS = Path(__file__).resolve().parent / "notebooks"


def pytest_collection_modifyitems(config, items):
    """Every notebook run is slow: it starts a kernel and imports torch there (about 10 s each).

    Keyed on the folder, so a new notebook test cannot land in `make check`'s fast tier by forgetting a mark.
    """
    for item in items:
        if NOTEBOOK_TESTS in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def word_tokenizer():
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=word_level_tokenizer(),
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        bos_token="<s>",
    )


@pytest.fixture(scope="session")
def bert_tokenizer():
    """Word-level tokenizer that adds [CLS] ... [SEP] (and pairs) like BERT's."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    tk = word_level_tokenizer()
    tk.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 91), ("[SEP]", 92)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )


@pytest.fixture(scope="session")
def tiny_llama():
    return tiny_model("llama")


@pytest.fixture(scope="session")
def tiny_gpt2():
    return tiny_model("gpt2")


@pytest.fixture(scope="session")
def tiny_bert():
    return tiny_model("bert")


@pytest.fixture(scope="session")
def smollm2():
    import attnwidget as aw

    return aw.load_model()


@pytest.fixture(scope="session")
def minilm():
    import attnwidget as aw

    return aw.load_model("minilm")
