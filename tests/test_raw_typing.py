"""The benchmark's raw Telex/VNI converter (``benchmarks/raw_typing.py``): seeded, and each
converted word reads back as the question's own syllable."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from vnsearch.analysis import normalize
from vnsearch.analysis.telex import from_telex, from_vni

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from raw_typing import telex_question, vni_question

QUESTION = "Tên gọi của Đường sắt Thống Nhất năm 1976 là gì, theo Weimar và COVID-19?"


def test_converted_words_read_back_as_the_question() -> None:
    for convert, read in ((telex_question, from_telex), (vni_question, from_vni)):
        typed = convert(QUESTION, "q")
        assert typed.isascii() and typed != QUESTION
        words = re.findall(r"\w+", typed)
        original = re.findall(r"\w+", normalize(QUESTION))
        assert len(words) == len(original)
        for w, o in zip(words, original):
            assert (read(w) or w) == o, (w, o)
        assert "1976" in typed and "Weimar" in typed and "COVID-19" in typed


def test_seeded_per_question_and_tone_keys_placed_both_ways() -> None:
    assert telex_question(QUESTION, "q") == telex_question(QUESTION, "q")
    typed = {telex_question(QUESTION, f"q{i}") for i in range(20)}
    assert len(typed) > 1
    words = " ".join(typed).split()
    assert "sawst" in words and "sawts" in words  # tone key after the vowel, at the end
