"""The benchmark's one-typo question converter (``benchmarks/one_typo.py``): seeded, one
word of 4 letters or more changed by one slip, the rest of the question as written."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from vnsearch.analysis import normalize

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from one_typo import NEIGHBOURS, typo_question

QUESTION = "Ai chiếm được thành Troy vào năm 1976, theo Weimar và COVID-19?"


def damerau_one(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter dropped, inserted, replaced, or two swapped."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swap = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        return len(diff) == 1 or (swap and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return len(long_) == len(short) + 1 and any(
        long_[:i] + long_[i + 1 :] == short for i in range(len(long_))
    )


def test_one_word_of_four_letters_or_more_gets_one_slip() -> None:
    original = normalize(QUESTION).split(" ")
    kinds = set()
    for i in range(200):
        typed = typo_question(QUESTION, f"q{i}").split(" ")
        assert len(typed) == len(original)
        changed = [(o, t) for o, t in zip(original, typed) if o != t]
        assert len(changed) == 1, changed
        o, t = changed[0]
        assert len(re.sub(r"\W", "", o)) >= 4 and damerau_one(o, t), (o, t)
        kinds.add("drop" if len(t) < len(o) else "insert" if len(t) > len(o) else "same")
    assert kinds == {"drop", "insert", "same"}
    assert "chimế" in {typo_question("chiếm được", f"q{i}").split()[0] for i in range(200)}


def test_seeded_per_question_and_short_questions_left_alone() -> None:
    assert typo_question(QUESTION, "q1") == typo_question(QUESTION, "q1")
    assert len({typo_question(QUESTION, f"q{i}") for i in range(20)}) > 10
    assert typo_question("Ai là ai?", "q1") == "Ai là ai?"


def test_keyboard_neighbours() -> None:
    assert set(NEIGHBOURS["h"]) == set("gjyubn")
    assert set(NEIGHBOURS["q"]) == set("wa") and set(NEIGHBOURS["m"]) == set("njk")
