"""Accent restoration for unaccented queries, from the index's own vocabulary.

People type ``nha nuoc`` for ``nhà nước``. Folding finds the accented text, but every
folded syllable stands for many words (``duong``: ``đường``, ``dương``, ``đương``, ...), so a
folded query ranks worse than the accented one. The index knows which accented forms its
text uses: for each folded bigram of the query, the most frequent accented bigram of the
index that folds to it (``nha nuoc`` -> ``nhà nước``) gives both syllables their accents; a
syllable no known bigram covers takes the index's most frequent accented form of it.

The tables are built from a snapshot's term dictionaries once (on first use) and kept
with the snapshot; a lookup is a few dict reads.

>>> v = AccentVocabulary({"nha nuoc": (("nhà nước", 3),)}, {"ha": (("hà", 5),)})
>>> v.restore(["nha", "nuoc", "ha"])
['nhà', 'nước', 'hà']
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from vnsearch.analysis.fold import fold
from vnsearch.index.schema import TEXT, view_field

__all__ = ["AccentVocabulary", "iy_variant", "may_respell", "vocabulary"]

Table = dict[str, tuple[tuple[str, int], ...]]  # folded term -> its most frequent forms, df


_I, _Y = "iíìỉĩị", "yýỳỷỹỵ"
# a syllable whose whole rhyme is one i or y after a consonant: spelled either way
# (``lí``/``lý``, ``kĩ``/``kỹ``, ``Mĩ``/``Mỹ``, ``tỉ``/``tỷ``: the 1980s spelling vs the older one)
_ONSET = "b|ch?|d|đ|h|kh?|l|m|nh?|ph?|r|s|th?|tr|v|x"
_IY = re.compile(f"({_ONSET})([{_I}{_Y}])")
_IY_WORD = re.compile(f"(?<![^\\W\\d_])(?:{_ONSET})[{_I}{_Y}](?![^\\W\\d_])", re.IGNORECASE)
_SWAP = str.maketrans(_I + _Y, _Y + _I)


def may_respell(text: str) -> bool:
    """Whether ``text`` (any case, any Unicode form) may hold a syllable that
    :func:`iy_variant` spells the other way: a quick test before analysing it.

    >>> may_respell("Vật lí"), may_respell("KỸ THUẬT"), may_respell("người Việt")
    (True, True, False)
    """
    return _IY_WORD.search(unicodedata.normalize("NFC", text)) is not None


def iy_variant(syllable: str) -> str | None:
    """The other spelling of a lowercase syllable ending in a lone ``i``/``y``, or None.

    >>> iy_variant("lí"), iy_variant("kỹ"), iy_variant("thuỷ"), iy_variant("bình")
    ('lý', 'kĩ', None, None)
    """
    m = _IY.fullmatch(syllable)
    return m.group(1) + m.group(2).translate(_SWAP) if m else None


class AccentVocabulary:
    """The most frequent accented forms of every folded bigram and syllable of an index.

    >>> v = AccentVocabulary({"van dong": (("vận động", 9), ("văn đồng", 2)),
    ...                       "pham van": (("phạm văn", 5),)}, {})
    >>> v.restore(["van", "dong"]), v.restore(["pham", "van", "dong"])
    (['vận', 'động'], ['phạm', 'văn', 'đồng'])
    """

    __slots__ = ("bigrams", "syllables")

    def __init__(self, bigrams: Table, syllables: Table) -> None:
        self.bigrams = bigrams
        self.syllables = syllables

    def restore(self, folded: Sequence[str]) -> list[str | None]:
        """The accented form of each folded syllable (None where the index has none).

        The syllables' forms are chosen together (Viterbi): the path whose bigrams, as the
        index spells them, are the most frequent (summed ``log(1 + df)``), ties broken by
        the syllables' own frequencies.
        """
        n = len(folded)
        pairs = []  # per neighbouring pair: (form a, form b, log(1 + df)) as indexed
        for x, y in zip(folded, folded[1:]):
            known = self.bigrams.get(f"{x} {y}", ())
            pairs.append([(*form.split(" ", 1), math.log1p(df)) for form, df in known])
        cands: list[dict[str, float]] = []
        for i, term in enumerate(folded):
            c = {form: _TIE * math.log1p(df) for form, df in self.syllables.get(term, ())}
            if i > 0:
                for _a, form, _w in pairs[i - 1]:
                    c.setdefault(form, 0.0)
            if i < n - 1:
                for form, _b, _w in pairs[i]:
                    c.setdefault(form, 0.0)
            cands.append(c)
        out: list[str | None] = [None] * n
        start = 0
        for end in range(n + 1):  # runs of syllables with known forms, each on its own
            if end == n or not cands[end]:
                if end > start:
                    out[start:end] = _viterbi(cands[start:end], pairs[start : end - 1])
                start = end + 1
        return out

    def respell(self, words: Sequence[str]) -> list[str]:
        """``words`` (lowercase syllables, accented or not), each ``i``/``y`` spelling
        replaced by the other one where the index writes it so more often next to the
        same neighbours (as respelled, on the left), or alone when neither forms a known
        bigram with them.

        >>> v = AccentVocabulary({"vat ly": (("vật lý", 9),), "vat li": (("vật lí", 1),)}, {})
        >>> v.respell(["vật", "lí"]), v.respell(["vat", "li"])
        (['vật', 'lý'], ['vat', 'ly'])
        """
        out = list(words)
        for i, word in enumerate(words):
            other = iy_variant(word)
            if other is None:
                continue
            near = [(a, b) for a, b in ((i - 1, i), (i, i + 1)) if a >= 0 and b < len(words)]
            own = sum(self._df(self.bigrams, _put(out, i, word, a, b)) for a, b in near)
            new = sum(self._df(self.bigrams, _put(out, i, other, a, b)) for a, b in near)
            if not own and not new:
                own, new = self._df(self.syllables, word), self._df(self.syllables, other)
            if new > own:
                out[i] = other
        return out

    @staticmethod
    def _df(table: Any, term: str) -> int:
        """How many documents hold ``term`` as spelled (any accents when it has none)."""
        key = fold(term)
        forms = table.get(key, ())
        if term == key:
            return sum(df for _form, df in forms)
        return next((df for form, df in forms if form == term), 0)


def _put(words: Sequence[str], i: int, word: str, a: int, b: int) -> str:
    """The bigram ``words[a] words[b]`` with ``word`` at ``i``."""
    return " ".join(word if j == i else words[j] for j in (a, b))


def _viterbi(cands: list[dict[str, float]], pairs: list[list[tuple[str, str, float]]]) -> list[str]:
    score = dict(cands[0])
    back: list[dict[str, str]] = []
    for c, pair in zip(cands[1:], pairs):
        top = max(score, key=score.__getitem__)  # through a bigram the index lacks
        base = score[top]
        nxt = {form: base + own for form, own in c.items()}
        prev = dict.fromkeys(c, top)
        for a, b, w in pair:
            if a in score and b in nxt:
                v = score[a] + w + c[b]
                if v > nxt[b]:
                    nxt[b], prev[b] = v, a
        back.append(prev)
        score = nxt
    form = max(score, key=score.__getitem__)
    path = [form]
    for prev in reversed(back):
        form = prev[form]
        path.append(form)
    return path[::-1]


_TIE = 1e-3  # weight of a syllable's own frequency: it only breaks ties between paths
_TOP = 4  # accented forms kept per folded term
_LARGE = 500_000  # bigram terms above which those in one document are left out


def _bigram_count(snap: Any) -> int:
    return sum(
        ft.n
        for name, ftype in snap.schema.items()
        if isinstance(ftype, TEXT)
        for reader, _base in snap.segments
        if (ft := reader._terms._fields.get(view_field(name, "bigrams"))) is not None
    )


def _field_terms(snap: Any, field: str, min_df: int = 1) -> Iterator[tuple[list[str], np.ndarray]]:
    """Each segment's terms of ``field`` in at least ``min_df`` of its documents (decoded),
    and their document frequencies."""
    for reader, _base in snap.segments:
        ft = reader._terms._fields.get(field)
        if ft is None or not ft.n:
            continue
        dfs = ft.infos["df"]
        keep = np.flatnonzero(dfs >= min_df)
        blob = bytes(ft.keys)
        starts = ft.key_offsets[keep].tolist()
        ends = ft.key_offsets[keep + 1].tolist()
        yield [blob[a:b].decode("utf-8") for a, b in zip(starts, ends)], dfs[keep]


def _table(snap: Any, view: str, min_df: int = 1) -> Table:
    counts: dict[str, int] = {}
    for name, ftype in snap.schema.items():
        if isinstance(ftype, TEXT):
            for terms, dfs in _field_terms(snap, view_field(name, view), min_df):
                for term, df in zip(terms, dfs.tolist()):
                    counts[term] = counts.get(term, 0) + df
    forms: dict[str, list[tuple[str, int]]] = {}
    terms = list(counts)
    for term, key in zip(terms, fold("\n".join(terms)).split("\n")):
        forms.setdefault(key, []).append((term, counts[term]))
    return {
        key: tuple(sorted(f, key=lambda td: (-td[1], td[0]))[:_TOP]) for key, f in forms.items()
    }


_CACHE: weakref.WeakKeyDictionary[Any, AccentVocabulary] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


class _Spellings:
    """One view's accented forms, read from the segments' spellings files (summed over
    segments when there are several)."""

    __slots__ = ("_segments", "_view")

    def __init__(self, segments: list[Any], view: str) -> None:
        self._segments = segments
        self._view = view

    def get(self, folded: str, default: Any = ()) -> tuple[tuple[str, int], ...]:
        if len(self._segments) == 1:
            return self._segments[0].forms(self._view, folded) or default
        counts: dict[str, int] = {}
        for seg in self._segments:
            for form, df in seg.forms(self._view, folded):
                counts[form] = counts.get(form, 0) + df
        best = sorted(counts.items(), key=lambda fd: (-fd[1], fd[0]))[:_TOP]
        return tuple(best) or default


def vocabulary(snap: Any) -> AccentVocabulary:
    """The snapshot's accent tables (made once per snapshot): looked up in the segments'
    spellings files (:mod:`vnsearch.index.spellings`), or, for segments written before
    those existed, built from the term dictionaries on first use."""
    v = _CACHE.get(snap)
    if v is not None:
        return v
    with _LOCK:
        v = _CACHE.get(snap)
        if v is None:
            segments = [reader._terms.spellings for reader, _base in snap.segments]
            if all(s is not None for s in segments):
                v = AccentVocabulary(
                    _Spellings(segments, "bigrams"), _Spellings(segments, "syllables")
                )
            else:
                # in a large index, a bigram found in one document (most of them) says
                # little about how people spell it, and would double the table
                large = _bigram_count(snap) > _LARGE
                v = AccentVocabulary(
                    _table(snap, "bigrams", 2 if large else 1), _table(snap, "syllables")
                )
            _CACHE[snap] = v
    return v
