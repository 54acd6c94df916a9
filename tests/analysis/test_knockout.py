"""part_effects: attention knockout against a hand-built 4-D mask, removal against plain forwards."""

import copy

import numpy as np
import pytest

import attnwidget as aw
from attnwidget.analysis.knockout import part_effects

TEXT = "w1 w2 w3 w4 w5 w6"


def logprob(model, ids, target_ids, mask=None):
    """log P(target | ids) from one forward, with an optional (1, 1, T, T) additive mask."""
    import torch

    x = torch.tensor([list(ids) + list(target_ids)])
    kwargs = {} if mask is None else {"attention_mask": mask}
    with torch.no_grad():
        logits = model(input_ids=x, **kwargs).logits[0].double()
    lp = torch.log_softmax(logits, -1)
    return sum(float(lp[len(ids) - 1 + i, t]) for i, t in enumerate(target_ids))


def knockout_mask(T, rows, cols):
    """Causal additive mask with rows x cols set to the float32 minimum, each row's own key kept."""
    import torch

    low = torch.finfo(torch.float32).min
    m = torch.full((T, T), low).triu(1)
    for r in rows:
        for c in cols:
            if c != r:
                m[r, c] = low
    return m[None, None]


def test_knockout_equals_a_hand_built_mask(tiny_llama, word_tokenizer):
    parts = {"a": "w2 w3", "b": aw.analysis.tokens_span(4, 5), "end": "w6"}
    eff = part_effects(tiny_llama, word_tokenizer, TEXT, parts, target=" w7 w8")
    ids, t = [1, 2, 3, 4, 5, 6], [7, 8]
    clean = logprob(tiny_llama, ids, t)
    assert eff.clean == pytest.approx(clean, abs=1e-5)
    # The answer's rows: the last prompt position (5) and the target positions (6, 7).
    for name, cols in {"a": [1, 2], "b": [4], "end": [5]}.items():
        mask = knockout_mask(8, [5, 6, 7], cols)
        assert eff.knockout[name] == pytest.approx(logprob(tiny_llama, ids, t, mask) - clean, abs=1e-5)
        assert eff.tokens[name] == cols
    assert abs(eff.knockout["a"]) > 1e-4  # the mask did something
    assert list(eff.table["part"]) == ["a", "b", "end"]
    np.testing.assert_allclose(eff.table["knockout"], [eff.knockout[n] for n in ("a", "b", "end")])


def test_the_4d_mask_reaches_every_layer(tiny_llama):
    # The hand-built mask itself is checked on eager attention: the blocked weights are exactly 0 in
    # every layer, and the plain causal mask given as 4-D changes nothing.
    import torch

    eager = copy.deepcopy(tiny_llama)
    eager.set_attn_implementation("eager")
    x = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8]])
    with torch.no_grad():
        plain = eager(input_ids=x).logits
        causal = eager(input_ids=x, attention_mask=knockout_mask(8, [], [])).logits
        out = eager(input_ids=x, attention_mask=knockout_mask(8, [5, 6, 7], [1, 2]), output_attentions=True)
    torch.testing.assert_close(plain, causal)
    for layer in out.attentions:
        assert float(layer[0, :, 5:, 1:3].abs().max()) == 0.0
        assert float(layer[0, :, 5:, 0].min()) > 0.0


def test_removal_equals_two_plain_forwards(tiny_llama, word_tokenizer):
    parts = {"a": "w2 w3", "last": "w6", "first": "w1"}
    eff = part_effects(tiny_llama, word_tokenizer, TEXT, parts, target=" w7")
    assert eff.removed_text == {"first": "w2 w3 w4 w5 w6", "a": "w1 w4 w5 w6", "last": "w1 w2 w3 w4 w5"}
    clean = logprob(tiny_llama, [1, 2, 3, 4, 5, 6], [7])
    expected = {
        "a": logprob(tiny_llama, [1, 4, 5, 6], [7]),
        "last": logprob(tiny_llama, [1, 2, 3, 4, 5], [7]),
        "first": logprob(tiny_llama, [2, 3, 4, 5, 6], [7]),
    }
    for name, value in expected.items():
        assert eff.removal[name] == pytest.approx(value - clean, abs=1e-5)
    assert list(eff.table["removal"]) == pytest.approx([eff.removal[n] for n in ("first", "a", "last")])


def test_several_targets_count_any(tiny_llama, word_tokenizer):
    eff = part_effects(tiny_llama, word_tokenizer, TEXT, {"a": "w2 w3"}, target=[" w7", " w9"])
    ids = [1, 2, 3, 4, 5, 6]
    clean = np.logaddexp(logprob(tiny_llama, ids, [7]), logprob(tiny_llama, ids, [9]))
    assert eff.clean == pytest.approx(clean, abs=1e-5)
    mask = knockout_mask(7, [5, 6], [1, 2])
    knocked = np.logaddexp(logprob(tiny_llama, ids, [7], mask), logprob(tiny_llama, ids, [9], mask))
    assert eff.knockout["a"] == pytest.approx(knocked - clean, abs=1e-5)


def test_part_effects_refusals(tiny_llama, word_tokenizer):
    cases = [
        ({"a": ""}, " w7", "empty string"),
        ({"a": "w2 w3", "b": "w3 w4"}, " w7", "overlap at token 2"),
        ({"a": "w9"}, " w7", "does not occur in the text"),
        ({"a": "w2"}, " 猫", "the tokenizer cannot produce it"),
        ({"a": "w2"}, " w7x", "the tokenizer cannot produce it"),
        ({"a": "w2"}, "", "target must be a non-empty str"),
        ({"all": TEXT}, " w7", "whole prompt"),
    ]
    for parts, target, message in cases:
        with pytest.raises(aw.AttentionError, match=message):
            part_effects(tiny_llama, word_tokenizer, TEXT, parts, target=target)
    with pytest.raises(TypeError, match="text must be a non-empty str"):
        part_effects(tiny_llama, word_tokenizer, 3, {"a": "w2"}, target=" w7")


def test_a_model_that_rewrites_the_mask_is_refused(tiny_llama, word_tokenizer):
    import torch

    class PaddingOnly(torch.nn.Module):
        """Reads a 4-D mask's last row as a 0/1 padding mask, as a model without 4-D support might."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask=None):
            if attention_mask is not None:
                attention_mask = attention_mask[:, 0, -1].eq(0).long()
                attention_mask[:, 0] = 0
            return self.model(input_ids=input_ids, attention_mask=attention_mask)

    with pytest.raises(aw.AttentionError, match="does not apply a 4-D float attention_mask"):
        part_effects(PaddingOnly(tiny_llama), word_tokenizer, TEXT, {"a": "w2"}, target=" w7")


# ----------------------------------------------------------------------------- effects beside the shares


def reading_attention():
    """8 tokens t0..t7, one layer and head; the last token gives 0.4 to t0, 0.3 to t1, 0.02 to each
    of t2..t5 and 0.11 to t6 and t7 (its local reads)."""
    from helpers.analysis_data import text_attention

    n = 8
    w = np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]
    w[7] = [0.4, 0.3, 0.02, 0.02, 0.02, 0.02, 0.11, 0.11]
    text = " ".join(f"t{i}" for i in range(n))
    return text_attention(w[None, None].astype(np.float32), text, [(3 * i, 3 * i + 2) for i in range(n)])


def fake_effects(knockout, removal, tokens):
    from types import SimpleNamespace

    return SimpleNamespace(knockout=knockout, removal=removal, tokens=tokens)


PARTS = {"short": "t1", "long": "t2 t3 t4 t5"}
TOKENS = {"short": [1], "long": [2, 3, 4, 5]}


def test_segment_attention_puts_effects_and_relative_shares_beside_the_shares():
    att = reading_attention()
    eff = fake_effects({"short": -2.0, "long": -0.1}, {"short": -1.5, "long": 0.8}, TOKENS)
    seg = aw.analysis.segment_attention(att, PARTS, effects=eff)
    assert seg.effects == {"short": {"knockout": -2.0, "removal": -1.5}, "long": {"knockout": -0.1, "removal": 0.8}}
    # share / (part tokens / all 8 key tokens)
    assert seg.shares["short"] == pytest.approx(0.3) and seg.shares["long"] == pytest.approx(0.08)
    rel = seg.relative_shares()
    assert rel["short"] == pytest.approx(0.3 / (1 / 8)) and rel["long"] == pytest.approx(0.08 / (4 / 8))
    assert rel["sinks"] == pytest.approx(0.4 / (1 / 8)) and "local" not in rel
    shown = repr(seg)
    assert "relative" in shown and "knockout" in shown and "-2.000" in shown
    assert aw.analysis.segment_attention(att, PARTS).effects is None
    assert "knockout" not in repr(aw.analysis.segment_attention(att, PARTS))
    with pytest.raises(aw.AttentionError, match=r"effects were measured on parts \['short'\]"):
        aw.analysis.segment_attention(att, PARTS, effects=fake_effects({"short": 0}, {"short": 0}, {}))
    moved = fake_effects(eff.knockout, eff.removal, {"short": [2], "long": [3, 4, 5, 6]})
    with pytest.raises(aw.AttentionError, match="measured on another text"):
        aw.analysis.segment_attention(att, PARTS, effects=moved)
    with pytest.raises(TypeError, match="effects must be the result of aw.experiments.part_effects"):
        aw.analysis.segment_attention(att, PARTS, effects={"short": -1})


def test_report_advises_on_parts_only_where_an_effect_backs_it():
    att = reading_attention()
    bare = aw.analysis.report(att, parts=PARTS)
    said = [r for r in bare.recommendations if r["kind"] == "part"]
    assert said, "the shares are still stated"
    for r in said:
        assert "not evidence" in r["action"] and "part_effects" in r["action"]
        assert not any(w in r["action"] for w in ("right before", "Keep", "move", "wording"))
        assert "relative" in r["finding"] and "relative_share" in r["measurement"]
    # Read most for its length: 'short' (one token, 0.3), not the part with the most tokens.
    (top,) = [r for r in said if "most" in r["finding"]]
    assert "reads 'short' most for its length: relative share 2.40" in top["finding"]
    eff = fake_effects({"short": -2.0, "long": -0.1, "other": 0.0}, {"short": -1.5, "long": 0.8}, TOKENS)
    eff.knockout.pop("other")
    backed = aw.analysis.report(att, parts=PARTS, effects=eff)
    by_part = {r["finding"].split("'")[1]: r for r in backed.recommendations if r["kind"] == "part"}
    assert by_part["short"]["finding"].startswith("The answer depends on 'short': blocking")
    assert by_part["short"]["measurement"]["knockout"] == -2.0 and "Keep 'short'" in by_part["short"]["action"]
    assert by_part["long"]["finding"].startswith("Removing 'long' raises log P(target) by +0.80 nats")
    calm = aw.analysis.report(att, parts=PARTS, effects=eff, effect_above=1.0)
    idle = {r["finding"].split("'")[1]: r for r in calm.recommendations if r["kind"] == "part"}["long"]
    assert "barely moves the answer" in idle["finding"] and "within 1.00" in idle["finding"]
    with pytest.raises(aw.AttentionError, match="effects= needs the parts"):
        aw.analysis.report(att, effects=eff)


def test_report_with_real_part_effects(tiny_llama, word_tokenizer):
    parts = {"a": "w2 w3", "b": "w5"}
    eff = part_effects(tiny_llama, word_tokenizer, TEXT, parts, target=" w7")
    att = aw.extract(tiny_llama, word_tokenizer, TEXT)
    rep = aw.analysis.report(att, parts=parts, effects=eff)
    assert rep.parts.effects == {n: {"knockout": eff.knockout[n], "removal": eff.removal[n]} for n in parts}
    assert len([r for r in rep.recommendations if r["kind"] == "part"]) == 2
