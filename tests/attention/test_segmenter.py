"""jieba_word_groups: token positions grouped by jieba's words, checked against jieba's own cut."""

import pytest

from attnwidget.attention.segmenter import jieba_word_groups

jieba = pytest.importorskip("jieba")

TEXT = "我们今天去公园"


def test_characters_group_into_jieba_words():
    words = [w for w, _, _ in jieba.tokenize(TEXT)]
    assert words == ["我们", "今天", "去", "公园"]
    chars = [(i, i + 1) for i in range(len(TEXT))]
    assert jieba_word_groups(TEXT, chars) == [[0, 1], [2, 3], [4], [5, 6]]


def test_tokens_across_words_split_characters_and_specials():
    # A token over 天去 joins 今天 and 去; two byte pieces of 公 share its span; a special stands alone.
    offsets = [(0, 0), (0, 1), (1, 2), (2, 3), (3, 5), (5, 6), (5, 6), (6, 7)]
    special = [True] + [False] * 7
    assert jieba_word_groups(TEXT, offsets, special) == [[0], [1, 2], [3, 4], [5, 6, 7]]


def test_mixed_text_with_spaces():
    text = "hello 我们 world"
    offsets = [(0, 5), (5, 7), (7, 8), (8, 14)]  # byte-level: " 我" and " world" carry their space
    assert jieba_word_groups(text, offsets) == [[0], [1, 2], [3]]


def test_refusals():
    from attnwidget.errors import AttentionError

    with pytest.raises(AttentionError, match="within the text"):
        jieba_word_groups(TEXT, [(0, 9)])
    with pytest.raises(AttentionError, match="special has 1 entries for 2 tokens"):
        jieba_word_groups(TEXT, [(0, 1), (1, 2)], [True])
    with pytest.raises(TypeError, match="text must be a str"):
        jieba_word_groups(None, [])
