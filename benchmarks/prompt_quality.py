"""Does an attention-only prompt score pick the prompt that works?

    python benchmarks/prompt_quality.py

Prompt pairs across tasks: each pair asks the bundled SmolLM2 the same question twice, once in a
structured prompt and once in a rambling one. The model's own greedy answer decides which prompt
works: a pair is kept only when exactly one prompt makes the model give the expected answer (first
word, case-insensitive). For each kept pair the table shows both answers, the attention-only
`shape_score` of each prompt (sinks hidden, as `aw.analysis.shape_score` computes by default; the old
`evaluate_quality` score) and the log-probability each prompt gives the expected answer, and the
summary counts how often each ranks the working prompt higher. Chance is 50%; the two-sided
binomial p-value says whether the attention score's rate differs from it.

The log-probability comparison is the baseline measured in the same run: it reads the outcome
itself, so it is expected to rank well (it is not identical to the greedy check, which needs the
answer to be the most likely continuation).
"""

from __future__ import annotations

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import print_table  # noqa: E402

import attnwidget as aw  # noqa: E402

# (task, structured prompt, rambling prompt, expected answer). The structured prompts state the
# task, give examples and end where the answer goes; the rambling prompts hold the same request.
FEW_SHOT_CAPITALS = "Q: What is the capital of Italy?\nA: Rome\nQ: What is the capital of Spain?\nA: Madrid\n"
FEW_SHOT_OPPOSITES = "hot -> cold\nbig -> small\nhappy -> sad\n"
FEW_SHOT_PLURALS = "cat -> cats\nbox -> boxes\n"
FEW_SHOT_FRENCH = "English: dog\nFrench: chien\nEnglish: house\nFrench: maison\n"


def _sentiment(review: str) -> tuple[str, str]:
    good = f"Classify the sentiment of the review as positive or negative.\nReview: {review}\nSentiment:"
    messy = (
        f"so yeah i read this thing someone wrote, {review.lower().rstrip('.')}, and i keep thinking about "
        "what people would make of it and whether the mood is positive or negative or something, anyway"
    )
    return good, messy


REVIEWS = [
    ("The film was a delight from start to finish.", "positive"),
    ("I loved every minute of this wonderful movie.", "positive"),
    ("The food was cold and the waiter was rude.", "negative"),
    ("This phone broke after two days, a total waste of money.", "negative"),
    ("The hotel room was clean, bright and comfortable.", "positive"),
    ("The plot was boring and the acting was terrible.", "negative"),
    ("What a fantastic concert, the band was amazing.", "positive"),
    ("The service was slow and the coffee tasted awful.", "negative"),
]

CAPITALS = [
    ("France", "Paris"),
    ("Germany", "Berlin"),
    ("Japan", "Tokyo"),
    ("Egypt", "Cairo"),
    ("Russia", "Moscow"),
    ("England", "London"),
    ("Greece", "Athens"),
]
OPPOSITES = [
    ("up", "down"),
    ("fast", "slow"),
    ("light", "dark"),
    ("open", "closed"),
    ("young", "old"),
    ("wet", "dry"),
    ("tall", "short"),
    ("early", "late"),
    ("full", "empty"),
    ("rich", "poor"),
    ("hard", "soft"),
]
ARITHMETIC = [(2, 3), (4, 4), (5, 2), (3, 6), (7, 1), (1, 2), (3, 3), (2, 5), (6, 2)]
COLOURS = [
    ("grass", "green"),
    ("snow", "white"),
    ("the sky on a clear day", "blue"),
    ("a ripe banana", "yellow"),
    ("coal", "black"),
    ("blood", "red"),
    ("a lemon", "yellow"),
]
FRENCH = [("cat", "chat"), ("water", "eau"), ("book", "livre")]


def candidates() -> list[tuple[str, str, str, str]]:
    out = []
    for review, label in REVIEWS:
        good, messy = _sentiment(review)
        out.append(("sentiment", good, messy, label))
    for country, city in CAPITALS:
        out.append(
            (
                "capital",
                FEW_SHOT_CAPITALS + f"Q: What is the capital of {country}?\nA:",
                f"i was talking with a friend about {country} and travel and cities and we could not "
                "remember which city is the main one there, the capital i mean, it is",
                city,
            )
        )
    for word, opposite in OPPOSITES:
        out.append(
            (
                "opposite",
                FEW_SHOT_OPPOSITES + f"{word} ->",
                f"words have opposites, like some do and some do not, and i was wondering about the word "
                f"{word} and what its opposite could be, maybe",
                opposite,
            )
        )
    for a, b in ARITHMETIC:
        out.append(
            (
                "arithmetic",
                f"1 + 1 = 2\n2 + 2 = 4\n{a} + {b} =",
                f"if you take {a} things and then somebody gives you {b} more things then you would have a "
                "number of things that is",
                str(a + b),
            )
        )
    for thing, colour in COLOURS:
        out.append(
            (
                "colour",
                f"Q: What colour is milk?\nA: white\nQ: What colour is {thing}?\nA:",
                f"people always talk about {thing} and the way it looks, the colour of it is something "
                "everyone knows, it is kind of",
                colour,
            )
        )
    for word, french in FRENCH:
        out.append(
            (
                "french",
                FEW_SHOT_FRENCH + f"English: {word}\nFrench:",
                f"in french class the teacher asked about the word {word} and how you would say it in "
                "french and i said",
                french,
            )
        )
    return out


def first_word(text: str) -> str:
    words = text.strip().split()
    return words[0].strip(".,!?:;\"'").lower() if words else ""


def binomial_p(k: int, n: int) -> float:
    """Two-sided exact binomial test of k successes in n against p = 1/2."""
    probs = [math.comb(n, i) / 2**n for i in range(n + 1)]
    return min(1.0, sum(p for p in probs if p <= probs[k] * (1 + 1e-9)))


def main():
    model, tok = aw.load_model()
    t0 = time.perf_counter()
    rows, kept = [], 0
    attention_right = outcome_right = 0
    for task, good, messy, expected in candidates():
        outs = {}
        for name, prompt in (("structured", good), ("rambling", messy)):
            answer = aw.experiments.greedy_answer(model, tok, prompt, max_new_tokens=4)
            outs[name] = answer
        right = {k: first_word(v) == expected.lower() for k, v in outs.items()}
        if right["structured"] == right["rambling"]:
            continue  # both work or both fail: the pair says nothing about picking a prompt
        works, fails = ("structured", "rambling") if right["structured"] else ("rambling", "structured")
        prompts = {"structured": good, "rambling": messy}
        score = {k: aw.analysis.shape_score(aw.extract(model, tok, p)).score for k, p in prompts.items()}
        accepted = [" " + expected, " " + expected.capitalize()]  # the check ignores case, so does the score
        logp = {k: aw.experiments.answer_logprob(model, tok, p, accepted) for k, p in prompts.items()}
        kept += 1
        attention_right += score[works] > score[fails]
        outcome_right += logp[works] > logp[fails]
        rows.append(
            [
                task,
                expected,
                works,
                repr(outs["structured"][:14]),
                repr(outs["rambling"][:14]),
                f"{score['structured']:.3f}",
                f"{score['rambling']:.3f}",
                f"{logp['structured']:.2f}",
                f"{logp['rambling']:.2f}",
            ]
        )
    print_table(
        ["task", "expected", "works", "structured answer", "rambling answer", "score S", "score R", "logp S", "logp R"],
        rows,
    )
    n = len(candidates())
    print(
        f"\n{kept} pairs of {n} candidates where exactly one prompt gets the expected answer "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    if kept == 0:
        print("no usable pairs")
        return
    print(
        f"attention-only shape_score ranks the working prompt higher: {attention_right}/{kept} "
        f"= {attention_right / kept:.0%} (chance 50%, two-sided binomial p = {binomial_p(attention_right, kept):.3f})"
    )
    print(
        f"log-probability of the expected answer ranks it higher:    {outcome_right}/{kept} "
        f"= {outcome_right / kept:.0%} (ratio to the attention score: "
        f"{outcome_right / max(attention_right, 1):.2f}x)"
    )


if __name__ == "__main__":
    main()
