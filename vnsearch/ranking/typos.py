"""Typo tolerance: a query word the index does not hold, read as a word one slip away.

A query word of at least :data:`MIN_LETTERS` letters whose folded syllable no document of
the index holds (at most :data:`MAX_TYPED_DF` do) is read as the index's syllable within
one Damerau edit of it, on folded letters: a letter dropped, inserted or substituted, or
two neighbouring letters swapped (``tjành`` -> ``thành``, ``chimế`` -> ``chiếm``). The
candidates are generated (a few hundred strings) and looked up in the index's vocabulary
(:class:`~vnsearch.ranking.accents.AccentVocabulary`), those that are Vietnamese syllables
first (a few of them: the index is asked about any other, such as a name, only when
none of those is in it). The best is the one with the accents typed (``tjành``:
``thành`` before ``thanh``, ``thánh``), then the one the index holds most often next to
the query's neighbouring syllables, then the one most documents hold.

>>> from vnsearch.ranking.accents import AccentVocabulary
>>> v = AccentVocabulary({}, {"thanh": (("thành", 9), ("thanh", 3)), "tanh": (("tạnh", 1),)})
>>> correction("tjành", v.syllables), correction("Thnah", v.syllables)
('thành', 'Thanh')
>>> correction("thanh", v.syllables), correction("tah", v.syllables) is None
(None, True)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from vnsearch.analysis.fold import fold
from vnsearch.analysis.telex import syllable_forms

__all__ = ["MAX_LETTERS", "MAX_TYPED_DF", "MIN_LETTERS", "correction", "edits"]

MIN_LETTERS = 4  # shorter words are never corrected unless asked (``ab~1``)
MAX_LETTERS = 12  # nor longer ones (a run of words typed without spaces): bounded work
MAX_TYPED_DF = 0  # a word held by more documents than this is taken as typed
ANY_WORD = True  # when no Vietnamese syllable is one slip away, any word the index holds
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def edits(word: str) -> Iterator[str]:
    """Every string one Damerau edit from ``word`` (lowercase ASCII letters): deletions,
    swaps of neighbours, substitutions, insertions; repeats possible, ``word`` never.

    >>> sorted(set(edits("ab")))[:6], len(set(edits("thanh"))), "ab" in edits("ab")
    (['a', 'aa', 'aab', 'aba', 'abb', 'abc'], 285, False)
    """
    n = len(word)
    for i in range(n):
        yield word[:i] + word[i + 1 :]
    for i in range(n - 1):
        if word[i] != word[i + 1]:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    for i in range(n):
        for c in _LETTERS:
            if c != word[i]:
                yield word[:i] + c + word[i + 1 :]
    for i in range(n + 1):
        for c in _LETTERS:
            yield word[:i] + c + word[i:]


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every valid Vietnamese syllable, folded (2,443 of them)."""
    return frozenset(fold(s) for s in syllable_forms())


def _marks(text: str) -> tuple[str, ...]:
    """The diacritics of ``text`` in order (its combining marks, and ``đ`` as one)."""
    return tuple(
        c for c in unicodedata.normalize("NFD", text) if unicodedata.combining(c) or c == "đ"
    )


def _recase(word: str, typed: str) -> str:
    """``word`` (lowercase) with the case of ``typed``: all capitals, a first capital."""
    if len(typed) > 1 and typed.isupper():
        return word.upper()
    return word[:1].upper() + word[1:] if typed[:1].isupper() else word


def correction(
    typed: str, syllables: Any, forced: bool = False,
    near: tuple[str | None, str | None] = (None, None), bigrams: Any = None,
) -> str | None:  # fmt: skip
    """The syllable the index holds one slip away from ``typed`` (one syllable as typed,
    any case; case kept), or None: ``typed`` is held by more than :data:`MAX_TYPED_DF`
    documents, is not letters only, is shorter than :data:`MIN_LETTERS` (unless
    ``forced``) or longer than :data:`MAX_LETTERS`, or no neighbour is in more documents.
    ``syllables`` maps a folded syllable to its forms and document frequencies
    (``AccentVocabulary.syllables``).

    With ``bigrams`` (``AccentVocabulary.bigrams``) and ``near`` (the folded syllables
    typed before and after, or None), a candidate the index holds next to them in more
    documents comes first (``ngiên cứu`` -> ``nghiên cứu``, not ``nhiên``), after the
    accents typed and before its own frequency."""
    lower = typed.lower()
    key = fold(lower)
    if not (key.isascii() and key.isalpha()) or len(key) > MAX_LETTERS:
        return None
    if len(key) < MIN_LETTERS and not forced:
        return None
    typed_df = sum(df for _form, df in syllables.get(key, ()))
    if typed_df > MAX_TYPED_DF:
        return None
    valid = _syllables()
    cands = dict.fromkeys(edits(key))
    best: tuple[tuple[bool, int, int], str] | None = None
    marks = _marks(lower) if lower != key else None
    left, right = near if bigrams is not None else (None, None)
    tiers = [[c for c in cands if c in valid]]
    if ANY_WORD:
        tiers.append([c for c in cands if c not in valid])
    for tier in tiers:
        for cand in tier:
            forms = syllables.get(cand, ())
            if not forms:
                continue
            ctx = 0
            if left is not None:
                ctx += sum(df for _f, df in bigrams.get(f"{left} {cand}", ()))
            if right is not None:
                ctx += sum(df for _f, df in bigrams.get(f"{cand} {right}", ()))
            if marks is None:  # typed without accents: searched without them
                rank = (True, ctx, sum(df for _f, df in forms))
                if rank[2] > typed_df and (best is None or rank > best[0]):
                    best = (rank, cand)
                continue
            for form, df in forms:
                rank = (_marks(form) == marks, ctx, df)
                if df > typed_df and (best is None or rank > best[0]):
                    best = (rank, form)
        if best is not None:
            break
    return None if best is None else _recase(best[1], typed)
