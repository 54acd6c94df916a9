"""Analysis that runs the model: templates judged by outcome, languages, induction, memory checks."""

import math
import warnings

import numpy as np
import pytest
from helpers.tiny_models import words
from references import ref_entropy

import attnwidget as aw
from attnwidget import analysis as A
from attnwidget import experiments as E


def ref_logprob(model, ids, target_ids):
    """log P(target | ids) by feeding the growing sequence one token at a time."""
    import torch

    total = 0.0
    seq = list(ids)
    for t in target_ids:
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([seq])).logits[0, -1].double()
        total += float(logits[t] - torch.logsumexp(logits, 0))
        seq.append(t)
    return total


def test_compare_templates_scores_by_outcome(tiny_llama, word_tokenizer):
    templates = {
        "short": {"text": "w1 w2 w40 w41", "parts": {"question": "w40 w41"}},
        "long": {"text": "w1 w2 w3 w4 w5 w6 w40 w41", "parts": {"question": "w40 w41", "lead": "w3 w4"}},
        "bare": "w9 w8",
    }
    cmp = aw.experiments.compare_templates(tiny_llama, word_tokenizer, templates, target=" w7 w8")
    assert list(cmp.table["template"]) == ["short", "long", "bare"]
    assert list(cmp.table["tokens"]) == [4, 8, 2]
    target_ids = word_tokenizer(" w7 w8", add_special_tokens=False)["input_ids"]
    refs = {}
    for name in templates:
        att = cmp.attentions[name]
        refs[name] = ref_logprob(tiny_llama, att.token_ids, target_ids)
        row = cmp.table.where(template=name)
        assert row["logprob"][0] == pytest.approx(refs[name], abs=1e-4)
        assert row["p_target"][0] == pytest.approx(math.exp(refs[name]), rel=1e-4)
        import torch

        out = tiny_llama.generate(
            input_ids=torch.tensor([att.token_ids]),
            do_sample=False,
            max_new_tokens=8,
            pad_token_id=word_tokenizer.pad_token_id,
        )
        assert cmp.answers[name] == word_tokenizer.decode(out[0, att.n_key :].tolist(), skip_special_tokens=True)
        # One definition of entropy: the same number analyze and report give for this attention.
        with warnings.catch_warnings():  # analyze's pattern columns may warn on these maps; entropy is read here
            warnings.simplefilter("ignore", UserWarning)
            analyzed = A.analyze(att)
        assert row["entropy"][0] == pytest.approx(analyzed["entropy"].mean(), rel=1e-6)
        assert row["entropy"][0] == pytest.approx(A.report(att).summary["mean_entropy"], rel=1e-6)
    # No random-weight answer begins with ' w7 w8': no template is picked, the closest is named.
    top = max(refs, key=refs.get)
    assert cmp.right == [] and cmp.best is None and cmp.verdict == "none" and cmp.ties == ()
    assert cmp.evidence.startswith(f"no template gives the target; the closest is {top!r} (log P = {refs[top]:.2f}")
    # Each other template: its probability as printed (never "p 0.000") and how many times less likely.
    from attnwidget.analysis.experiments import _probability, _times

    for name in templates:
        if name != top:
            p, ratio = math.exp(refs[name]), math.exp(refs[top] - refs[name])
            assert (
                f"{name!r}: log P = {refs[name]:.2f} (p {_probability(p)}, {_times(ratio)} less likely)" in cmp.evidence
            )
    # What the answer read: the last token's share per part, sinks excluded.
    for name in ("short", "long"):
        seg = A.segment_attention(cmp.attentions[name], templates[name]["parts"], queries="last")
        assert cmp.table.where(template=name)["read_question"][0] == pytest.approx(seg.content_shares()["question"])
    assert np.isnan(cmp.table.where(template="short")["read_lead"][0])
    assert np.isnan(cmp.table.where(template="bare")["read_question"][0])
    # A template without a part shows "—" and the title says why, in text and in HTML; the data keep NaN.
    shown = repr(cmp.table)
    assert "—: the template has no such part" in shown and "nan" not in shown.split("\n", 1)[1]
    bare = [line for line in shown.splitlines() if line.lstrip().startswith("bare")]
    assert bare and "—" in bare[0]
    assert "nan" not in cmp.table._repr_html_() and "—" in cmp.table._repr_html_()
    assert np.isnan(cmp.table.sort("logprob").where(template="bare")["read_question"][0])


def outcomes(monkeypatch, said):
    """Make each template's greedy answer and log P of the target what `said` (text -> (answer, logp)) says."""
    from attnwidget.analysis import experiments as EX

    by_ids = {}

    def key(tokenizer, text):
        return tuple(tokenizer(text)["input_ids"])

    def greedy(model, tokenizer, ids, max_new_tokens):
        return by_ids[tuple(ids)][0]

    def logprob(model, tokenizer, ids, targets):
        return by_ids[tuple(ids)][1]

    monkeypatch.setattr(EX, "_greedy", greedy)
    monkeypatch.setattr(EX, "_logprob", logprob)
    return by_ids, key


def test_compare_templates_picks_only_a_template_whose_answer_is_right(tiny_llama, word_tokenizer, monkeypatch):
    by_ids, key = outcomes(monkeypatch, {})
    templates = {"wrong_but_likely": "w1 w2", "right": "w3 w4", "right_less": "w5 w6"}
    for text, answer, lp in [("w1 w2", " w9 w7", -0.5), ("w3 w4", " w7 w8", -1.0), ("w5 w6", " w7 w3", -1.5)]:
        by_ids[key(word_tokenizer, text)] = (answer, lp)
    cmp = aw.experiments.compare_templates(tiny_llama, word_tokenizer, templates, target=" w7")
    assert cmp.right == ["right", "right_less"] and cmp.best == "right" and cmp.verdict == "best"
    assert cmp.evidence.startswith("'right' gives ' w7' the highest probability among the templates whose answer")
    assert "'wrong_but_likely': log P = -0.50" in cmp.evidence and "(does not give the target)" in cmp.evidence
    assert "best: right" in repr(cmp)
    # A 0.05-nat lead is a tie (1.0x): nothing is picked and the tie is named.
    by_ids[key(word_tokenizer, "w5 w6")] = (" w7", -1.05)
    tie = aw.experiments.compare_templates(tiny_llama, word_tokenizer, templates, target=" w7")
    assert tie.best is None and tie.verdict == "tie" and tie.ties == ("right", "right_less")
    assert tie.evidence.startswith("tie: 'right', 'right_less' give ' w7' with log P within 0.05 nats")
    assert "none is picked" in tie.evidence and "highest probability" not in tie.evidence
    assert "best: none (tie: right, right_less)" in repr(tie)
    # No answer is right: no template is named best, however likely the target is.
    for text in ("w3 w4", "w5 w6"):
        by_ids[key(word_tokenizer, text)] = (" w70", -1.0)
    none = aw.experiments.compare_templates(tiny_llama, word_tokenizer, templates, target=" w7")
    assert none.best is None and none.verdict == "none" and none.right == []
    assert none.evidence.startswith(
        "no template gives the target; the closest is 'wrong_but_likely' (log P = -0.50, p 0.607)"
    )
    assert "answer begins with ' w7', so none is picked" in none.evidence


def test_gives_target_reads_words_not_prefixes():
    assert E.gives_target(" positive.", [" positive"]) and E.gives_target("positive", [" positive"])
    assert E.gives_target(" w7 w8 w1", [" w7 w8"]) and E.gives_target("w7  w8", [" w7 w8"])
    assert not E.gives_target(" positively", [" positive"]) and not E.gives_target(" w70", [" w7"])
    assert not E.gives_target(" negative", [" positive"]) and E.gives_target(" negative", [" positive", " negative"])


def test_compare_templates_without_target_names_no_winner(tiny_llama, word_tokenizer):
    cmp = aw.experiments.compare_templates(tiny_llama, word_tokenizer, {"a": "w1 w2 w3", "b": "w4 w5 w6 w7"})
    assert cmp.best is None and "no template is called better" in cmp.evidence
    assert "logprob" not in cmp.table.columns and "best: none" in repr(cmp)
    both = aw.experiments.compare_templates(tiny_llama, word_tokenizer, {"a": "w1 w2 w3"}, target=[" w5", " w6", " w5"])
    ids = both.attentions["a"].token_ids
    expected = math.log(sum(math.exp(ref_logprob(tiny_llama, ids, [i])) for i in (5, 6)))
    assert both.table["logprob"][0] == pytest.approx(expected, abs=1e-4)  # any accepted answer, each once


def test_compare_templates_errors(tiny_llama, word_tokenizer):
    cases = [
        ({}, {}, "non-empty dict"),
        ({"x": {"prompt": "w1"}}, {}, "'text' or 'messages'"),
        ({"x": "w1 w2"}, {"target": ""}, "target must be a non-empty str"),
        ({"x": "w1 w2"}, {"target": [3]}, "target must be"),
        ({"x": "w1 w2"}, {"max_new_tokens": 0}, "max_new_tokens must be an int >= 1"),
        ({"x": {"text": "w1 w2", "parts": {"q": "w9"}}}, {}, "template 'x': part 'q'"),
        ({"x": "w1 w2"}, {"parts": {"q": "w1"}, "hide": "all"}, "hide must be"),
    ]
    for templates, kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            aw.experiments.compare_templates(tiny_llama, word_tokenizer, templates, **kwargs)


def test_compare_languages_normalises_and_warns_on_unknown_tokens(tiny_bert, bert_tokenizer):
    texts = {"one": words(6), "two": words(9, start=3)}
    cmp = aw.experiments.compare_languages(tiny_bert, bert_tokenizer, texts, top_k=3)
    assert len(cmp.table) == 2 * 3  # languages x layers
    for lang in texts:
        att = cmp.attentions[lang]
        sinks = A.find_sinks(att)
        keep = att.mask.copy()
        keep[:, sinks] = False
        for li, layer in enumerate(att.layer_ids):
            maps = att.weights[li].astype(float)
            maps = np.where(keep, maps, 0) / np.where(keep, maps, 0).sum(-1, keepdims=True)
            fused = maps.mean(0)
            received = [
                np.mean([fused[i, j] for i in range(att.n_query) if keep[i, j]]) if keep[:, j].any() else 0
                for j in range(att.n_key)
            ]
            best = sorted(range(att.n_key), key=lambda j: -received[j])[:3]
            assert [p for _, p, _ in cmp.top_tokens[lang][li]] == best
            row = cmp.table.where(language=lang, layer=layer)
            assert row["entropy"][0] == pytest.approx(np.mean([ref_entropy(m, keep) for m in maps]), rel=1e-5)
            assert row["normalized_entropy"][0] == pytest.approx(
                np.mean([ref_entropy(m, keep, normalized=True) for m in maps]), rel=1e-5
            )
    summary = cmp.summary()
    assert list(summary["tokens"]) == [8, 11]  # [CLS] + words + [SEP]
    assert list(summary["characters"]) == [len(t) for t in texts.values()]
    np.testing.assert_allclose(summary["chars_per_token"], [len(texts["one"]) / 8, len(texts["two"]) / 11])
    np.testing.assert_allclose(summary["entropy_per_char"], summary["entropy"] / summary["characters"])
    assert list(summary["unknown"]) == [0, 0]
    with pytest.warns(UserWarning, match=r"unknown token '\[UNK\]' \(mixed: 3 of 7 tokens\)"):
        mixed = aw.experiments.compare_languages(tiny_bert, bert_tokenizer, {"mixed": "w1 猫 w2 狗 鸟"})
    assert mixed.unknown == {"mixed": 3}
    with pytest.raises(aw.AttentionError, match="top_k must be an int >= 1"):
        aw.experiments.compare_languages(tiny_bert, bert_tokenizer, texts, top_k=0)


def test_induction_scores_check_memory_first(tiny_llama, word_tokenizer, monkeypatch):
    monkeypatch.setattr(E, "_memory_budget", lambda: 1_000_000)
    # 3 layers x 8 heads x 22^2 x 4 bytes = 46 KB fits; 3 x 8 x 122^2 x 4 = 1.4 MB does not.
    with pytest.raises(
        MemoryError, match=r"3 layers x 8 heads over 122 tokens: 1\.4 MiB .*1\.0 MiB.*pass layers=/heads="
    ):
        E.induction_scores(tiny_llama, word_tokenizer, length=60)
    # Within the budget the check lets the call through (this word-level vocabulary then has no
    # single-token lowercase words to repeat, which is the next check).
    for kwargs in ({"length": 10}, {"length": 60, "layers": [0], "heads": [1]}):
        with pytest.raises(ValueError, match="fewer than .* single-token words"):
            E.induction_scores(tiny_llama, word_tokenizer, **kwargs)
    with pytest.raises(ValueError, match=r"the model has 128: pass length <= 63"):
        E.induction_scores(tiny_llama, word_tokenizer, length=100)
    with pytest.raises(ValueError, match="length must be an int >= 4"):
        E.induction_scores(tiny_llama, word_tokenizer, length=3)
    with pytest.raises(MemoryError, match="template 'big'"):
        aw.experiments.compare_templates(tiny_llama, word_tokenizer, {"big": " ".join(["w1"] * 1100)})


def test_greedy_answer_and_logprob_helpers(tiny_llama, word_tokenizer):
    ids = word_tokenizer("w1 w2 w3")["input_ids"]
    assert E.answer_logprob(tiny_llama, word_tokenizer, "w1 w2 w3", " w4") == pytest.approx(
        ref_logprob(tiny_llama, ids, [4]), abs=1e-4
    )
    answer = E.greedy_answer(tiny_llama, word_tokenizer, "w1 w2 w3", max_new_tokens=3)
    assert isinstance(answer, str)
    with pytest.raises(ValueError, match="prompt must be a non-empty str"):
        E.greedy_answer(tiny_llama, word_tokenizer, "  ")


def test_probabilities_and_ratios_read_without_false_zeros():
    from attnwidget.analysis.experiments import _probability, _times

    assert _probability(0.279) == "0.279"
    assert _probability(8.8e-6) == "8.8e-06"
    assert _probability(0.0) == "0.000"
    assert _times(2.54) == "2.5x"
    assert _times(31834.6) == "31,835x"


@pytest.mark.slow
def test_compare_templates_on_smollm2_names_no_template_when_none_is_right(smollm2):
    model, tok = smollm2
    templates = {
        "plain": "The capital of France is",
        "qa": "Question: What is the capital of France?\nAnswer:",
    }
    wrong = aw.experiments.compare_templates(model, tok, templates, target=" Rome", max_new_tokens=4)
    assert wrong.best is None and wrong.verdict == "none", wrong.evidence
    top = max(templates, key=lambda n: wrong.table.where(template=n)["logprob"][0])
    assert wrong.evidence.startswith(f"no template gives the target; the closest is {top!r} (log P")
    right = aw.experiments.compare_templates(model, tok, templates, target=" Paris", max_new_tokens=4)
    assert right.right, right.evidence  # the bundled model does know this one
    assert (right.best in right.right) or set(right.ties) <= set(right.right)
