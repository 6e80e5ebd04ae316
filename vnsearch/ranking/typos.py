"""Typo tolerance: a query word the index does not hold, read as a word one slip away.

A query word of at least :data:`MIN_LETTERS` letters whose folded syllable no document of
the index holds (at most :data:`MAX_TYPED_DF` do) is read as the index's syllable within
one Damerau edit of it, on folded letters: a letter dropped, inserted or substituted, or
two neighbouring letters swapped (``tjành`` -> ``thành``, ``chimế`` -> ``chiếm``). The
candidates are generated (a few hundred strings) and looked up in the index's vocabulary
(:class:`~vnsearch.ranking.accents.AccentVocabulary`), those that are Vietnamese syllables
first (a few of them: the index is asked about any other, such as a name, only when
none of those is in it). The best is one with the accents typed (``tjành``: ``thành``
before ``thanh``, ``thánh``; a slip may have taken one away with its letter: ``Đng`` ->
``Đông``), then the one that fits best between the query's neighbouring syllables, as the
index spells its pairs (a bigram model of document frequencies: ``mà zông Hồng`` ->
``sông``, not the far more frequent ``ông`` of ``mà ông``), then the one most documents
hold.

A shorter word (2 or 3 letters, not all capitals) that no document holds is read so too,
but only by its neighbours: as a candidate the index holds next to them in at least
:data:`SHORT_CONTEXT` documents (``phổ biến nht`` -> ``nhất``; ``Đng Đức`` -> ``Đông
Đức``).
A short word fits too many syllables a slip away to be guessed alone (``nht``: ``nhất``,
``nhật``, ``nhà``, ``nút``...), and one no document holds, read as typed, finds nothing;
a short word the index holds (``nất``, ``Cua``) is taken as typed, as is an acronym.

A word typed with accents that no document holds, though some hold its folded syllable
(``ngưi``: ``ngùi``, ``ngửi``), is searched folded, unless a syllable a slip away that
keeps the marks typed fits its neighbours :data:`LACKING_RATIO` times better than the
folded reading does (``thì ngưi nào`` -> ``người``). A word typed without accents next to
one typed with them is read as the form the index holds beside its neighbours
(``phổ biến nht`` -> ``nhất``); in a query typed without any accent it is searched
without them (``pho bien nht`` -> ``nhat``).

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
from vnsearch.index.spellings import TOP_FORMS

__all__ = ["MAX_LETTERS", "MAX_TYPED_DF", "MIN_LETTERS", "correction", "edits"]

MIN_LETTERS = 4  # shorter words only by their neighbours, or when asked (``ab~1``)
MAX_LETTERS = 12  # nor longer ones (a run of words typed without spaces): bounded work
MAX_TYPED_DF = 0  # a word held by more documents than this is taken as typed
ANY_WORD = True  # when no Vietnamese syllable is one slip away, any word the index holds
SHORT_CONTEXT = 2  # a word of 2-3 letters: read as one held next to its neighbours this often
BACKOFF = 0.001  # a pair the index lacks: weighed as this share of the word's frequency
SMOOTHING = 20.0  # documents added to a candidate's own when dividing by it
LACKING_RATIO = 3.0  # a form the index lacks: read a slip away if it fits this much better
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
    documents, is not letters only, is longer than :data:`MAX_LETTERS`, or shorter than
    :data:`MIN_LETTERS` (unless ``forced``) and not a short word read by its neighbours
    (below), or no neighbour is in more documents. ``syllables`` maps a folded syllable
    to its forms and document frequencies (``AccentVocabulary.syllables``).

    With ``bigrams`` (``AccentVocabulary.bigrams``) and ``near`` (the syllables typed
    before and after, lowercase, or None), the candidates are weighed by how well they
    fit between them (:func:`_fit`; ``ngiên cứu`` -> ``nghiên cứu``, not ``nhiên``), after
    the accents typed and before their own frequency; a word of 2 or 3 letters (not all
    capitals) is then read too, as a candidate the index holds next to them in at least
    :data:`SHORT_CONTEXT` documents. With a neighbour, a word typed with accents that
    no document holds, though its folded syllable is held, is read as a candidate with
    the marks typed that fits :data:`LACKING_RATIO` times better than the folded syllable
    (else None); a word typed without accents beside one typed with them, as a form seen
    beside its neighbours (else without accents)."""
    lower = typed.lower()
    key = fold(lower)
    if not (key.isascii() and key.isalpha()) or len(key) > MAX_LETTERS:
        return None
    left, right = near if bigrams is not None else (None, None)
    short = len(key) < MIN_LETTERS and not forced
    alone = left is None and right is None
    if short and (len(key) < 2 or alone or (len(typed) > 1 and typed.isupper())):
        return None
    typed_df = sum(df for _form, df in syllables.get(key, ()))
    marks = _marks(lower) if lower != key else None
    right_df = _df(syllables, right) if right is not None else 0
    floor = 0.0  # what a candidate must fit better than: nothing, or the folded reading
    if typed_df > MAX_TYPED_DF:
        if marks is None or alone or _held(syllables, key, lower):
            return None
        # typed with accents the index never puts on the folded syllable it holds
        # (``ngưi``: ``ngùi``, ``ngửi``): searched folded, unless a syllable a slip away
        # with the marks typed fits the neighbours far better (``người``)
        before = _beside(bigrams, left, key, 1) if left is not None else {}
        after = _beside(bigrams, key, right, 0) if right is not None else {}
        floor = LACKING_RATIO * _fit(
            sum(before.values()), sum(after.values()), typed_df, right_df, near
        )
        typed_df = 0
    valid = _syllables()
    cands = dict.fromkeys(edits(key))
    # a word typed without accents beside one typed with them: the accents of a form seen
    # beside it (``phổ biến nht`` -> ``nhất``; none typed, any fits)
    accent_near = any(w is not None and w != fold(w) for w in (left, right))
    best: tuple[tuple[bool, float, bool, int], str] | None = None
    tiers = [[c for c in cands if c in valid]]
    if ANY_WORD:
        tiers.append([c for c in cands if c not in valid])
    for tier in tiers:
        for cand in tier:
            forms = syllables.get(cand, ())
            if not forms:
                continue
            before = _beside(bigrams, left, cand, 1) if left is not None else {}
            after = _beside(bigrams, cand, right, 0) if right is not None else {}
            if short and sum(before.values()) + sum(after.values()) < SHORT_CONTEXT:
                continue
            if marks is None and not accent_near:  # typed without accents: searched so
                df = sum(df for _f, df in forms)
                fit = _fit(sum(before.values()), sum(after.values()), df, right_df, near)
                rank = (True, fit, True, df)
                if df > typed_df and (best is None or rank > best[0]):
                    best = (rank, cand)
                continue
            every = dict(forms)  # the most frequent forms, and those seen beside the others
            for form in before.keys() | after.keys():
                every.setdefault(form, before.get(form, 0) + after.get(form, 0))
            for form, df in every.items():
                own = _marks(form)
                fit = _fit(before.get(form, 0), after.get(form, 0), df, right_df, near)
                rank = (marks is None or _within(marks, own), fit, own == marks, df)
                if floor and not (rank[0] and fit > floor):
                    continue
                if df > typed_df and (best is None or rank > best[0]):
                    best = (rank, form)
        if best is not None or floor:
            break
    return None if best is None else _recase(best[1], typed)


def _beside(bigrams: Any, first: str, second: str, at: int) -> dict[str, int]:
    """The forms of the syllable at ``at`` (0 or 1) of the pair ``first second`` that the
    index holds next to the other one (spelled as typed when typed with accents; any form
    when not), with the number of documents that hold each pair."""
    other = (first, second)[1 - at]
    accented = other != fold(other)
    out: dict[str, int] = {}
    for form, df in bigrams.get(f"{fold(first)} {fold(second)}", ()):
        pair = form.split(" ")
        if not accented or pair[1 - at] == other:
            out[pair[at]] = out.get(pair[at], 0) + df
    return out


def _fit(before: int, after: int, df: int, right_df: int, near: tuple) -> float:
    """How likely a candidate held by ``df`` documents is between the query's neighbours,
    up to a factor the same for every candidate: a bigram model of document frequencies,
    P(candidate | left) P(right | candidate), each smoothed towards the one-word frequency
    (``before``, ``after``: the documents holding it next to the left and right one;
    ``right_df``: those holding the right one). Summing both sides' counts instead lets a
    frequent word win by a common pair on one side (``mà ông`` over ``sông Hồng``)."""
    fit = before + BACKOFF * df if near[0] is not None else float(df)
    if near[1] is not None:
        fit *= (after + BACKOFF * right_df) / (df + SMOOTHING)
    return fit


def _held(syllables: Any, key: str, form: str) -> bool:
    """Whether the index holds ``form`` (accented, folded ``key``) in any document: among
    the most frequent forms, or any (when the table lists only the most frequent, and
    cannot tell every form, a form past them is taken as held)."""
    forms = syllables.get(key, ())
    if any(f == form for f, _df in forms):
        return True
    every = getattr(syllables, "all_forms", None)
    if every is not None:
        return any(f == form for f, _df in every(key))
    return len(forms) >= TOP_FORMS


def _df(syllables: Any, word: str) -> int:
    """How many documents hold ``word`` as spelled (any form when typed without accents)."""
    key = fold(word)
    forms = syllables.get(key, ())
    if word == key:
        return sum(df for _f, df in forms)
    return next((df for f, df in forms if f == word), 0)


def _within(typed: tuple[str, ...], marks: tuple[str, ...]) -> bool:
    """Whether the marks ``typed`` are all in ``marks``, in order: the form has the accents
    typed, and maybe one a slip took away with its letter (``Đng`` -> ``Đông``)."""
    rest = iter(marks)
    return all(m in rest for m in typed)
