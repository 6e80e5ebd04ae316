"""Accent restoration for unaccented queries, from the index's own vocabulary.

People type ``nha nuoc`` for ``nhà nước``. Folding finds the accented text, but every
folded syllable stands for many words (``duong``: ``đường``, ``dương``, ``đương``, ...), so a
folded query ranks worse than the accented one. The index knows which accented forms its
text uses: for each folded bigram of the query, the most frequent accented bigram of the
index that folds to it (``nha nuoc`` -> ``nhà nước``) gives both syllables their accents; a
syllable no known bigram covers takes the index's most frequent accented form of it.

The tables come from the index (:mod:`vnsearch.index.spellings`), once per snapshot; a
lookup is a few dict reads or hash probes.

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
from collections.abc import Sequence
from typing import Any

from vnsearch.analysis.fold import fold
from vnsearch.index.spellings import Table, accent_tables
from vnsearch.index.terms import terms_reader

__all__ = ["AccentVocabulary", "iy_variant", "may_respell", "vocabulary"]

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


_CACHE: weakref.WeakKeyDictionary[Any, AccentVocabulary] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def vocabulary(snap: Any) -> AccentVocabulary:
    """The snapshot's accent tables (made once per snapshot): looked up in the segments'
    spellings files, or, for segments written before those existed, built from the term
    dictionaries on first use (:func:`vnsearch.index.spellings.accent_tables`)."""
    v = _CACHE.get(snap)
    if v is not None:
        return v
    with _LOCK:
        v = _CACHE.get(snap)
        if v is None:
            readers = [terms_reader(reader) for reader, _base in snap.segments]
            v = AccentVocabulary(*accent_tables(readers, snap.schema))
            _CACHE[snap] = v
    return v
