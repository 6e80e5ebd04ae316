"""A user's own words: runs of syllables kept as one word, or taken as stop words.

A :class:`WordList` holds words of one or more syllables (``"Thế Giới Di Động"``,
``"iPhone 15"``), normalized and lowercase; :meth:`WordList.runs` finds them in a sequence
of syllables, the longest first and the leftmost of overlapping ones.

>>> words = WordList(["Thế Giới Di Động", "thế giới"])
>>> words.words
('thế giới', 'thế giới di động')
>>> words.runs(["mua", "ở", "thế", "giới", "di", "động", "và", "thế", "giới"])
[(2, 6), (7, 9)]
>>> words.mask(["thế", "giới", "mới"])
[True, True, False]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from vnsearch.analysis.normalize import normalize

__all__ = ["MAX_SYLLABLES", "MAX_WORDS", "WordList", "check_words", "word_list"]

# Bounds that keep a schema small and a lookup cheap.
MAX_WORDS = 100_000
MAX_SYLLABLES = 16


def check_words(words: object, what: str) -> tuple[str, ...]:
    """``words`` (an iterable of strings, not one string) as sorted distinct normalized
    lowercase words, their syllables joined by one space; a ``ValueError`` naming ``what``
    and the bad word otherwise.

    >>> check_words(["Thế  Giới", "thế giới", "iPhone"], "user_words")
    ('iphone', 'thế giới')
    """
    if isinstance(words, (str, bytes)) or not isinstance(words, Iterable):
        raise ValueError(f"{what}: expected a list of words, got a {type(words).__name__}")
    out: set[str] = set()
    for word in words:
        if not isinstance(word, str):
            raise ValueError(f"{what}: expected words as strings, got a {type(word).__name__}")
        syllables = normalize(word).lower().split()
        if not syllables or len(syllables) > MAX_SYLLABLES:
            raise ValueError(f"{what}: {word[:40]!r} is not 1 to {MAX_SYLLABLES} syllables")
        out.add(" ".join(syllables))
        if len(out) > MAX_WORDS:
            raise ValueError(f"{what}: more than {MAX_WORDS:,} words")
    return tuple(sorted(out))


class WordList:
    """Words of one or more syllables, matched as runs of syllables (any case)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = check_words(words, "words")
        by_first: dict[str, set[tuple[str, ...]]] = {}
        for word in self.words:
            syllables = tuple(word.split(" "))
            by_first.setdefault(syllables[0], set()).add(syllables)
        # per first syllable, its words longest first
        self._by_first = {
            first: sorted(seqs, key=len, reverse=True) for first, seqs in by_first.items()
        }

    def __bool__(self) -> bool:
        return bool(self.words)

    def runs(self, syllables: Sequence[str]) -> list[tuple[int, int]]:
        """The ``(start, end)`` of each run of ``syllables`` that is one of the words: from
        the left, the longest word at each place, runs not overlapping."""
        lower = [s.lower() for s in syllables]
        out: list[tuple[int, int]] = []
        i, n = 0, len(lower)
        while i < n:
            for seq in self._by_first.get(lower[i], ()):
                end = i + len(seq)
                if end <= n and tuple(lower[i:end]) == seq:
                    out.append((i, end))
                    i = end
                    break
            else:
                i += 1
        return out

    def mask(self, syllables: Sequence[str]) -> list[bool]:
        """Per syllable: is it in one of the words' runs?"""
        out = [False] * len(syllables)
        for start, end in self.runs(syllables):
            out[start:end] = [True] * (end - start)
        return out


@lru_cache(maxsize=16)
def word_list(words: tuple[str, ...]) -> WordList:
    """One :class:`WordList` per tuple of words (a schema's, in every worker process)."""
    return WordList(words)
