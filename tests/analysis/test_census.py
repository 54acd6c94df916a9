"""Head census: batched, padded, streamed statistics against one-prompt-at-a-time formulas."""

import numpy as np
import pytest
from helpers.tiny_models import words

import attnwidget as aw
from attnwidget.extraction.norms import value_norms_of


def by_hand(att, normed=None):
    """Each statistic from its definition, on one unpadded prompt."""
    w, ids = att.weights.astype(np.float64), att.token_ids
    Q = w.shape[2]
    vis = att.mask
    out = {"sink_mass": w[:, :, 1:, 0].mean(-1)}
    ent = []
    for i in range(Q):
        n = vis[i].sum()
        if n > 1:
            p = w[:, :, i, vis[i]]
            ent.append(-(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0)).sum(-1) / np.log(n))
    out["entropy"] = np.mean(ent, axis=0)
    out["previous_token"] = sum(w[:, :, i, i - 1] for i in range(1, Q)) / w.sum((-1, -2))
    ind = np.zeros((Q, Q))
    for i in range(Q):
        for j in range(1, i + 1):
            if ids[j - 1] == ids[i] and j - 1 < i:
                ind[i, j] = 1
    rows = ind.any(1)
    if rows.any():  # (mass on targets summed over target rows, number of target rows)
        out["induction"] = ((w * ind).sum((-1, -2)), rows.sum())
    if normed is not None:
        out["norm_sink_mass"] = normed.weights[:, :, 1:, 0].mean(-1)
        vn = value_norms_of(normed)
        out["sink_value_ratio"] = vn[..., 0] / np.median(vn[..., 1:], -1)
    return out


def test_census_matches_prompt_by_prompt(tiny_llama, word_tokenizer):
    # Different lengths (so batches pad), and two prompts with repeated words (induction targets).
    texts = [
        words(9),
        words(14, start=3),
        words(6, start=11) + " " + words(6, start=11),
        words(11, start=40),
        words(5, start=2) + " " + words(5, start=2),
    ]
    result = aw.analysis.census(tiny_llama, word_tokenizer, iter(texts), batch_size=2, norms=True, progress=False)
    assert result.n_prompts == 5 and result.counts["induction"] == 2
    per = [
        by_hand(aw.extract(tiny_llama, word_tokenizer, t), aw.extract(tiny_llama, word_tokenizer, t, measure="norms"))
        for t in texts
    ]
    with_targets = [p["induction"] for p in per if "induction" in p]
    np.testing.assert_allclose(
        result.tint("induction"),
        sum(m for m, _ in with_targets) / sum(r for _, r in with_targets),
        rtol=1e-4,
        atol=1e-5,
    )
    for col in ("sink_mass", "entropy", "previous_token", "norm_sink_mass", "sink_value_ratio"):
        expected = np.mean([p[col] for p in per], axis=0)
        np.testing.assert_allclose(result.tint(col), expected, rtol=1e-4, atol=1e-5, err_msg=col)
    rows = result.table.where(layer=2, head=5)
    assert len(rows) == 1 and rows[0]["sink_mass"] == pytest.approx(result.tint("sink_mass")[2, 5])


def test_selected_heads_grid_and_missing_induction(tiny_gpt2, word_tokenizer):
    texts = [words(8), words(10, start=5)]
    result = aw.analysis.census(tiny_gpt2, word_tokenizer, texts, layers=[1, 2], heads=[0, 3], progress=False)
    assert result.tint("sink_mass").shape == (2, 2)
    assert np.isnan(result.tint("induction")).all() and result.counts["induction"] == 0
    att = aw.extract(tiny_gpt2, word_tokenizer, texts[0], layers=[1, 2], heads=[0, 3])
    # The census does not draw (results never import views): a head grid of the same layers and
    # heads takes its column as the tint, and one of other layers or heads refuses it.
    assert result.tint("previous_token").shape == (att.num_layers, att.num_heads)
    assert not hasattr(result, "grid")
    grid = aw.HeadGrid(att, tint=result.tint("previous_token"))
    assert grid._tint is not None
    with pytest.raises(ValueError, match=r"shape \(layers, heads\)"):
        aw.HeadGrid(aw.extract(tiny_gpt2, word_tokenizer, texts[0]), tint=result.tint("previous_token"))
    with pytest.raises(KeyError, match="norm_sink_mass"):
        result.tint("norm_sink_mass")


def test_bad_census_input(tiny_gpt2, word_tokenizer):
    with pytest.raises(ValueError, match="empty"):
        aw.analysis.census(tiny_gpt2, word_tokenizer, [], progress=False)
    with pytest.raises(TypeError, match="not one str"):
        aw.analysis.census(tiny_gpt2, word_tokenizer, "w1 w2", progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        aw.analysis.census(tiny_gpt2, word_tokenizer, ["w1"], batch_size=0, progress=False)
    with pytest.raises(TypeError, match="prompt 1 is a int"):
        aw.analysis.census(tiny_gpt2, word_tokenizer, ["w1 w2", 3], progress=False)


@pytest.mark.parametrize("short", ["", "w1"], ids=["empty", "one word"])
def test_a_short_prompt_is_named_by_the_census(tiny_gpt2, word_tokenizer, short):
    # One prompt too short to measure stops the census with the census, its index, its text and why.
    texts = [words(6), words(7, start=2), short, words(5)]
    with pytest.raises(aw.AttentionError, match=rf"census: prompt 2 \({short!r}\) was refused: .+") as e:
        aw.analysis.census(tiny_gpt2, word_tokenizer, texts, batch_size=3, progress=False)
    assert len(str(e.value)) > len("census: prompt 2 ('') was refused: ") + 10


def test_census_flags_are_real_bools(tiny_gpt2, word_tokenizer):
    with pytest.raises(aw.errors.ArgumentTypeError, match=r"norms must be True or False; got 'yes'"):
        aw.analysis.census(tiny_gpt2, word_tokenizer, [words(4)], norms="yes", progress=False)
