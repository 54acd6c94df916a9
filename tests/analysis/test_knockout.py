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
