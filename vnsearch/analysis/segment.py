"""Word segmentation: pyvi's words (``Tổ chức``, ``Phạm Minh Chính``) with offsets.

The result is the segmentation of ``pyvi.ViTokenizer.tokenize(normalize(text))``: the same
syllabification (pyvi's regular expression), the same CRF model and features (see
:mod:`vnsearch.analysis.crf`), the same rule for gluing ``I_W`` syllables to the word before.
What differs is the speed (features are computed once per document with numpy, not as a
dict per syllable) and the output: tokens that point into the caller's original string.
"""

from __future__ import annotations

import re
import string
import threading
from collections.abc import Iterable
from itertools import accumulate, repeat
from typing import NamedTuple

from vnsearch.analysis.crf import (
    SMALL,
    CrfModel,
    emissions,
    emissions_small,
    load_pyvi_model,
    viterbi,
)
from vnsearch.analysis.normalize import OffsetMap, normalize_with_map
from vnsearch.analysis.token import Token
from vnsearch.analysis.user_words import WordList, check_words, word_list

__all__ = ["Segmenter", "as_word_list", "segment", "segment_normalized"]

# pyvi's ViTokenizer.sylabelize pattern, alternative for alternative (inner groups made
# non-capturing so that re.split returns exactly the gaps and the syllables).
_PYVI_SYLLABLE = re.compile(
    "("
    + "|".join(
        [
            "[A-ZĐ]+\\.",
            "Tp\\.",
            "Mr\\.",
            "Mrs\\.",
            "Ms\\.",
            "Dr\\.",
            "ThS\\.",
            "==>",
            "->",
            "\\.\\.\\.",
            ">>",
            "\n",
            "\\w+://[^\\s]+",
            # pyvi's e-mail pattern, behind a bounded look-ahead that keeps it linear on
            # runs like "a+a+a+..." (pyvi itself is quadratic there); it differs from pyvi
            # only for e-mails whose local part is longer than 256 characters
            "(?=[a-zA-Z0-9_.+-]{1,256}@)[a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\\.)+[a-zA-Z0-9-]+",
            "\\d+(?:[\\.,_]\\d+)+",
            "[^\\w\\s]",
            "\\w+",
        ]
    )
    + ")"
)
_NOT_WORDS = frozenset(["==>", "->", "...", ">>", "\n"])
_PUNCTUATION = string.punctuation
_CACHE_LIMIT = 300_000
_new_tuple = tuple.__new__


class _Features(NamedTuple):
    """What the CRF and pyvi's gluing rule need to know about one syllable."""

    low: str
    vocab_id: int
    upper: bool
    title: bool
    digit: bool
    is_word: bool  # has a word character (pyvi's punctuation tokens do not)
    no_glue: bool  # in string.punctuation or starts with a digit
    first_title: bool


class Segmenter:
    """pyvi-compatible word segmentation with a memo of per-syllable features.

    Thread-safe: the model is read-only and the memo only ever gains entries equal to
    what any thread would compute.

    >>> [w.text for w in Segmenter().segment("Thuỷ điện Hoà Bình")]
    ['Thuỷ điện', 'Hoà Bình']
    """

    def __init__(self, model: CrfModel | None = None) -> None:
        self.model = model or load_pyvi_model()
        self._memo: dict[str, _Features] = {}

    def _features(self, token: str) -> _Features:
        low = token.lower()
        if len(token) == 1:
            is_word = token.isalnum() or token == "_"
        else:
            is_word = token not in _NOT_WORDS
        feats = _Features(
            low,
            self.model.vocab.get(low, len(self.model.vocab)),
            token.isupper(),
            token.istitle(),
            token.isdigit(),
            is_word,
            token in _PUNCTUATION or token[0].isdigit(),
            token[0].istitle(),
        )
        if len(self._memo) >= _CACHE_LIMIT:
            self._memo = {}
        self._memo[token] = feats
        return feats

    def segment(self, text: str, user_words: WordList | None = None) -> list[Token]:
        """Words of ``text``, with offsets into ``text``."""
        return self.segment_normalized(*normalize_with_map(text), user_words)

    def segment_normalized(
        self, norm: str, offsets: OffsetMap, user_words: WordList | None = None
    ) -> list[Token]:
        """Words of an already normalized text; ``offsets`` maps back to the original.
        Each run of syllables that is one of ``user_words`` is one word, whatever the
        CRF's labels (the longest from the left)."""
        parts = _PYVI_SYLLABLE.split(norm)
        if len(parts) == 1:
            return []
        bounds = list(accumulate(map(len, parts)))
        tokens = parts[1::2]
        starts, ends = bounds[0::2], bounds[1::2]
        memo_get, compute = self._memo.get, self._features
        feats = [memo_get(t) or compute(t) for t in tokens]
        lows, ids, upper, title, digit, is_word, no_glue, first_title = zip(*feats)
        score = emissions_small if len(tokens) <= SMALL else emissions
        labels = viterbi(self.model, score(self.model, ids, lows, upper, title, digit))
        # pyvi glues syllable i to i - 1 when labelled I_W, neither is punctuation nor starts
        # with a digit, and not (i starts with a capital and i - 1 does not).
        heads = [
            i
            for i in range(len(tokens))
            if not labels[i]
            or i == 0
            or no_glue[i]
            or no_glue[i - 1]
            or (first_title[i] and not first_title[i - 1])
        ]
        if user_words:
            heads = _regrouped(heads, user_words.runs(lows))
        heads.append(len(tokens))
        words: list[tuple[str, int, int]] = []
        append = words.append
        for i, j in zip(heads, heads[1:]):
            if j == i + 1:
                if is_word[i]:
                    append((tokens[i], starts[i], ends[i]))
            else:
                kept = [k for k in range(i, j) if is_word[k]]
                if kept:
                    text = " ".join([tokens[k] for k in kept])
                    append((text, starts[kept[0]], ends[kept[-1]]))
        if offsets.identity:
            rows = [(t, a, b, p, "word") for p, (t, a, b) in enumerate(words)]
        else:
            start, end = offsets.start, offsets.end
            rows = [(t, start(a), end(b), p, "word") for p, (t, a, b) in enumerate(words)]
        return list(map(_new_tuple, repeat(Token), rows))


def _regrouped(heads: list[int], runs: list[tuple[int, int]]) -> list[int]:
    """The first syllables of words, each run ``(start, end)`` made one word."""
    if not runs:
        return heads
    inside = {i for start, end in runs for i in range(start + 1, end)}
    firsts = set(heads).difference(inside)
    firsts.update(start for start, _end in runs)
    firsts.update(end for _start, end in runs)
    return sorted(firsts)


_default: list[Segmenter] = []
_default_lock = threading.Lock()


def default_segmenter() -> Segmenter:
    """The process-wide segmenter (the model is loaded on first use, not at import)."""
    if not _default:
        with _default_lock:
            if not _default:
                _default.append(Segmenter())
    return _default[0]


def segment_normalized(
    norm: str, offsets: OffsetMap, user_words: WordList | None = None
) -> list[Token]:
    """Words of an already normalized text; ``offsets`` maps back to the original."""
    return default_segmenter().segment_normalized(norm, offsets, user_words)


def segment(text: str, user_words: Iterable[str] | WordList | None = None) -> list[Token]:
    """Segment ``text`` into words, each with offsets into ``text``.

    A word's ``text`` is its normalized syllables joined by one space; punctuation is not
    returned. ``user_words`` (such as product names) are kept whole.

    >>> [w.text for w in segment("Ban Tổ chức Trung ương đã tổ chức Hội nghị")]
    ['Ban', 'Tổ chức', 'Trung ương', 'đã', 'tổ chức', 'Hội nghị']
    >>> [w.text for w in segment("Thế Giới Di Động", user_words=["thế giới di động"])]
    ['Thế Giới Di Động']
    """
    return default_segmenter().segment(text, as_word_list(user_words))


def as_word_list(words: Iterable[str] | WordList | None) -> WordList | None:
    """``words`` as a :class:`WordList` (None or no words: None)."""
    if words is None or isinstance(words, WordList):
        return words or None
    return word_list(check_words(words, "user_words")) or None
