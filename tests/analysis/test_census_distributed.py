"""Census across processes: two CPU ranks under torchrun (gloo, loopback) against one process.

The test launches this file as the script of ``python -m torch.distributed.run --nproc_per_node=2``;
each rank builds the tiny Llama from its config, runs the census on its share and writes its result to
the test's tmp_path, then runs a census whose prompts differ between the ranks, which must fail on
both with the same message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
if __name__ == "__main__":  # a rank: this checkout's attnwidget and test helpers, not an installed copy
    sys.path[:0] = [str(ROOT), str(TESTS)]
from helpers.ranks import launch_two_ranks  # noqa: E402
from helpers.tiny_models import tiny_model, word_level_tokenizer, words  # noqa: E402

COLUMNS = ("sink_mass", "entropy", "previous_token", "induction", "norm_sink_mass", "sink_value_ratio")


def _tokenizer():
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=word_level_tokenizer(),
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        bos_token="<s>",
    )


def _texts():
    """Seven prompts of different lengths (batches pad), three with repeats (induction targets)."""
    return [
        words(9),
        words(14, start=3),
        words(6, start=11) + " " + words(6, start=11),
        words(11, start=40),
        words(5, start=2) + " " + words(5, start=2),
        words(7, start=20),
        words(4, start=60) + " " + words(4, start=60),
    ]


def _save(path: Path, result) -> None:
    arrays = {c: result.tint(c) for c in COLUMNS if c in result._means}
    counts = json.dumps({"counts": result.counts, "n_prompts": result.n_prompts})
    np.savez(path, counts=np.array(counts), **arrays)


def _worker(out: Path) -> None:
    """One rank: the census of `_texts` (as a generator), of a single prompt (rank 1 gets none), then
    a census whose prompts differ between the ranks, whose error each rank writes down and raises."""
    import torch
    import torch.distributed as dist

    import attnwidget as aw

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    model, tokenizer = tiny_model("llama"), _tokenizer()
    result = aw.analysis.census(model, tokenizer, iter(_texts()), batch_size=2, norms=True, progress=False)
    _save(out / f"rank{rank}.npz", result)
    single = aw.analysis.census(model, tokenizer, _texts()[:1], batch_size=2, progress=False)
    _save(out / f"single{rank}.npz", single)
    texts = _texts()[: 4 + rank]  # rank 0 reads four prompts, rank 1 five
    try:
        aw.analysis.census(model, tokenizer, texts, batch_size=2, progress=False)
    except aw.AttentionError as e:
        (out / f"error{rank}.txt").write_text(f"{type(e).__name__}: {e}\n{aw.__file__}")
        raise
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def launch(tmp_path_factory):
    """One torchrun launch of two ranks (the script is this file); its output folder and process."""
    out = tmp_path_factory.mktemp("census_ranks")
    return out, launch_two_ranks(__file__, out, timeout=240)


def _load(path: Path) -> tuple[dict, dict]:
    with np.load(path) as data:
        meta = json.loads(str(data["counts"]))
        return {k: data[k] for k in data.files if k != "counts"}, meta


@pytest.mark.slow  # one torchrun launch of two processes, about 45 s: make test runs it
def test_two_ranks_return_the_one_process_census(launch):
    import attnwidget as aw

    out, proc = launch
    assert (out / "rank0.npz").exists() and (out / "rank1.npz").exists(), proc.stderr[-3000:]
    model, tokenizer = tiny_model("llama"), _tokenizer()
    one = aw.analysis.census(model, tokenizer, _texts(), batch_size=2, norms=True, progress=False)
    assert one.counts["induction"] == 3
    for rank in (0, 1):
        arrays, meta = _load(out / f"rank{rank}.npz")
        assert meta["n_prompts"] == 7 and meta["counts"] == one.counts
        assert sorted(arrays) == sorted(COLUMNS)
        for column in COLUMNS:
            np.testing.assert_allclose(arrays[column], one.tint(column), rtol=0, atol=1e-6, err_msg=column)
    # One prompt over two ranks: rank 1 runs nothing and still returns rank 0's census.
    single = aw.analysis.census(model, tokenizer, _texts()[:1], progress=False)
    for rank in (0, 1):
        arrays, meta = _load(out / f"single{rank}.npz")
        assert meta["n_prompts"] == 1 and meta["counts"] == single.counts
        for column in ("sink_mass", "entropy", "previous_token"):
            np.testing.assert_allclose(arrays[column], single.tint(column), rtol=0, atol=1e-6, err_msg=column)
        assert np.isnan(arrays["induction"]).all()


@pytest.mark.slow  # one torchrun launch of two processes, about 45 s: make test runs it
def test_mismatched_prompts_fail_on_every_rank(launch):
    out, proc = launch
    assert proc.returncode != 0
    for rank in (0, 1):
        message = (out / f"error{rank}.txt").read_text()
        assert message.startswith(
            "AttentionError: census over 2 processes: the ranks disagree on the number of prompts: "
        )
        assert "rank 0: 4, rank 1: 5" in message and "same prompts" in message
        assert message.splitlines()[-1] == str(ROOT / "attnwidget" / "__init__.py")  # this checkout's
    assert "the ranks disagree on the number of prompts: rank 0: 4, rank 1: 5" in proc.stderr


def test_nccl_with_a_model_on_the_cpu_is_refused(monkeypatch):
    import torch.distributed as dist

    import attnwidget as aw

    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 2)
    monkeypatch.setattr(dist, "get_rank", lambda group=None: 0)
    monkeypatch.setattr(dist, "get_backend_config", lambda group=None: "cuda:nccl")
    with pytest.raises(aw.AttentionError, match=r"cannot reduce tensors on cpu.*init_process_group\('gloo'\)"):
        aw.analysis.census(tiny_model("llama"), _tokenizer(), [words(5)], progress=False)


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
