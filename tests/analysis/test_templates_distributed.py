"""Template comparisons across processes: two CPU ranks under torchrun (gloo, loopback) against one
process, ranks given different sets, a rank that fails, and process groups whose backend is refused.

The slow tests launch this file as the script of ``python -m torch.distributed.run --nproc_per_node=2``;
each rank builds the tiny Llama from its config, runs `compare_template_sets` and `compare_templates`
on its share and writes what it returned to the test's tmp_path, then runs comparisons that must fail
on both ranks, writing each rank's error.
"""

from __future__ import annotations

import pickle
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


def _sets():
    """Five sets of three templates (one question each, filled in), the last set without "bare": seven
    (set, template) pairs per rank or so, of different lengths, with parts."""
    out = []
    for i in range(5):
        question = words(3, start=30 + 9 * i, step=2)
        one = {
            "lead": {"text": f"{words(4, start=i)} {question}", "parts": {"question": question}},
            "long": {"text": f"{words(9, start=2 * i, step=3)} {question}", "parts": {"question": question}},
            "bare": question,
        }
        if i == 4:
            del one["bare"]
        out.append(one)
    return out


def _targets():
    return [" w7", [" w8", " w9"], " w3", " w11", " w5"]


def _plain(comparison) -> dict:
    """What a comparison says, as plain Python: its table, answers, part shares and verdict."""
    table = {c: [v.item() if hasattr(v, "item") else v for v in comparison.table[c]] for c in comparison.table.columns}
    return {
        "table": table,
        "best": comparison.best,
        "ties": comparison.ties,
        "verdict": comparison.verdict,
        "right": comparison.right,
        "evidence": comparison.evidence,
        "answers": comparison.answers,
        "parts": {n: dict(s.shares) for n, s in comparison.parts.items()},
    }


def _run_refused(out: Path, label: str, rank: int, call) -> None:
    """Run a comparison that must fail and write this rank's error."""
    import attnwidget as aw

    try:
        call()
    except aw.AttentionError as e:
        (out / f"{label}{rank}.txt").write_text(f"{type(e).__name__}: {e}")
    else:
        (out / f"{label}{rank}.txt").write_text("no error")


def _worker(out: Path) -> None:
    import torch
    import torch.distributed as dist

    import attnwidget as aw

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    model, tokenizer = tiny_model("llama"), _tokenizer()
    E = aw.experiments
    found = E.compare_template_sets(model, tokenizer, _sets(), targets=_targets(), max_new_tokens=4)
    one = E.compare_templates(model, tokenizer, _sets()[0], target=" w7", max_new_tokens=4)
    result = {
        "sets": [_plain(c) for c in found.comparisons],
        "summary": {c: list(found.table[c]) for c in found.table.columns},
        "one": _plain(one),
        "one_attentions": sorted(one.attentions),
    }
    (out / f"rank{rank}.pkl").write_bytes(pickle.dumps(result))
    # Rank 0 is given three sets, rank 1 four.
    _run_refused(out, "count", rank, lambda: E.compare_template_sets(model, tokenizer, _sets()[: 3 + rank]))
    # The same number of sets, one template's text differing on rank 1.
    changed = _sets()
    if rank == 1:
        changed[2]["bare"] = words(3, start=70)
    _run_refused(out, "content", rank, lambda: E.compare_template_sets(model, tokenizer, changed))
    # Rank 1's set marks a part its template lacks: rank 1 raises its own error, rank 0 names rank 1.
    failing = _sets()
    if rank == 1:
        failing[3]["lead"]["parts"] = {"question": "w89 w88"}
    _run_refused(out, "failed", rank, lambda: E.compare_template_sets(model, tokenizer, failing))
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def launch(tmp_path_factory):
    """One torchrun launch of two ranks (the script is this file); its output folder and process."""
    out = tmp_path_factory.mktemp("template_ranks")
    return out, launch_two_ranks(__file__, out, timeout=300)


def _same(got: dict, want: dict) -> None:
    """Two plain comparisons: equal text and verdicts, numbers within 1e-5."""
    assert got["table"].keys() == want["table"].keys()
    for column, values in want["table"].items():
        if isinstance(values[0], str):
            assert got["table"][column] == values, column
        else:
            np.testing.assert_allclose(got["table"][column], values, rtol=0, atol=1e-5, err_msg=column)
    for key in ("best", "ties", "verdict", "right", "evidence", "answers"):
        assert got[key] == want[key], key
    assert got["parts"].keys() == want["parts"].keys()
    for name, shares in want["parts"].items():
        assert got["parts"][name] == pytest.approx(shares, abs=1e-5)


@pytest.mark.slow  # one torchrun launch of two processes, about a minute: make test runs it
def test_two_ranks_return_the_one_process_comparisons(launch):
    import attnwidget as aw

    out, proc = launch
    assert proc.returncode == 0, proc.stderr[-3000:]
    model, tokenizer = tiny_model("llama"), _tokenizer()
    E = aw.experiments
    found = E.compare_template_sets(model, tokenizer, _sets(), targets=_targets(), max_new_tokens=4)
    one = E.compare_templates(model, tokenizer, _sets()[0], target=" w7", max_new_tokens=4)
    for rank in (0, 1):
        got = pickle.loads((out / f"rank{rank}.pkl").read_bytes())
        assert len(got["sets"]) == 5
        for mine, want in zip(got["sets"], found.comparisons, strict=True):
            _same(mine, _plain(want))
        assert [s["verdict"] for s in got["sets"]] == found.verdicts
        for column in found.table.columns:
            want = list(found.table[column])
            if isinstance(want[0], str):
                assert got["summary"][column] == want
            else:
                np.testing.assert_allclose(got["summary"][column], want, rtol=0, atol=1e-5, err_msg=column)
        _same(got["one"], _plain(one))
    # One set's three templates: rank 0 ran "lead" and "bare", rank 1 "long"; each keeps its own maps.
    assert pickle.loads((out / "rank0.pkl").read_bytes())["one_attentions"] == ["bare", "lead"]
    assert pickle.loads((out / "rank1.pkl").read_bytes())["one_attentions"] == ["long"]


@pytest.mark.slow  # the same launch
def test_ranks_given_different_sets_fail_on_every_rank(launch):
    out, _ = launch
    for rank in (0, 1):
        count = (out / f"count{rank}.txt").read_text()
        assert count.startswith(
            "AttentionError: compare_template_sets over 2 processes: the ranks disagree on the number of "
            "template sets: rank 0: 3, rank 1: 4. Give every rank the same template sets in the same order"
        ), count
        content = (out / f"content{rank}.txt").read_text()
        assert content.startswith(
            "AttentionError: compare_template_sets over 2 processes: the ranks disagree on the templates: "
            "their content or order"
        ), content
        assert "same template sets" in content


@pytest.mark.slow  # the same launch
def test_a_failing_rank_stops_the_other(launch):
    out, _ = launch
    assert (out / "failed1.txt").read_text().startswith("AttentionError: set 3, template 'lead': part 'question'")
    theirs = (out / "failed0.txt").read_text()
    assert theirs.startswith(
        "AttentionError: compare_template_sets: rank 1 of 2 failed, so rank 0 stops too: "
        "AttentionError: set 3, template 'lead': part 'question'"
    ), theirs


def _fake_group(monkeypatch, backend: str) -> None:
    import torch.distributed as dist

    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 2)
    monkeypatch.setattr(dist, "get_rank", lambda group=None: 0)
    monkeypatch.setattr(dist, "get_backend_config", lambda group=None: backend)


@pytest.mark.parametrize("many", [False, True])
def test_another_backend_is_refused(monkeypatch, many):
    import attnwidget as aw

    E = aw.experiments
    model, tokenizer = tiny_model("llama"), _tokenizer()

    def call():
        if many:
            return E.compare_template_sets(model, tokenizer, _sets()[:2])
        return E.compare_templates(model, tokenizer, _sets()[0])

    what = "compare_template_sets" if many else "compare_templates"
    _fake_group(monkeypatch, "mpi")
    with pytest.raises(
        aw.AttentionError, match=rf"^{what}: the default process group's backend is mpi; .*gloo or nccl"
    ):
        call()
    _fake_group(monkeypatch, "cuda:nccl")  # NCCL with a model on the CPU
    with pytest.raises(
        aw.AttentionError, match=rf"^{what}: .*cannot reduce tensors on cpu.*init_process_group\('gloo'\)"
    ):
        call()


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
