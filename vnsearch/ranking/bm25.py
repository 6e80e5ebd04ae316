"""BM25 as vnsearch ranks with it: the parameters and Lucene's idf."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DEFAULT_RANKING", "Ranking", "lucene_idf"]


@dataclass(frozen=True)
class Ranking:
    """BM25F parameters: ``k1``, ``b``, the weight of each view, and how queries are read.

    ``Ranking()`` is plain BM25F over the views (every query word counts for ``coord``);
    ``DEFAULT_RANKING``, what searches use unless told otherwise, also groups long queries,
    drops stop words and question words, restores accents, respells ``lí``/``lý`` as the
    index does, weighs capitalized words more, adds BM25+'s ``delta``, and has its own
    ``k1`` for single syllables. Both were tuned on the UIT-ViQuAD train questions
    (``benchmarks/eval_quality.py --split train``).

    >>> Ranking().view_weights["syllables"]
    1.0
    >>> Ranking().params("words"), DEFAULT_RANKING.params("syllables")
    ((1.2, 0.9), (0.5, 0.9))
    >>> (Ranking().delta, Ranking().capitals), (DEFAULT_RANKING.delta, DEFAULT_RANKING.capitals)
    ((0.0, 1.0), (0.1, 2.0))
    """

    k1: float = 1.2
    b: float = 0.9
    view_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "syllables": 1.0,
            "folded": 0.5,
            "bigrams": 0.5,
            "folded_bigrams": 0.5,
            "words": 1.0,
        }
    )
    # queries of at least this many plain words (natural questions) match as one OR
    # group: ranked by score alone, not first by how many of their words a document has
    group_from: int = 0
    # plain words that are stop words neither match nor score on their own (they still
    # form bigrams and words with their neighbours)
    stopwords: bool = False
    # in grouped queries, question words (``nào``, ``gì``, ``bao nhiêu``, ``thế nào``: in
    # almost every question, in few passages) neither match nor score, nor form bigrams
    # and words
    question_words: bool = False
    # weight (times the view's) of the exact-view terms of accents restored from the
    # index's vocabulary in a query typed without accents; 0 turns restoring off
    restored_weight: float = 0.0
    # (k1, b) of the views that do not use the common ones
    view_params: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    # BM25+: added to a term's saturated tf (``tf / (tf + norm)``) where it occurs
    delta: float = 0.0
    # weight (times the views') of the syllables of a query word written with a capital,
    # other than the query's first: names, which questions are about
    capitals: float = 1.0
    # spell each syllable ending in a lone i/y (``lí``/``lý``) as the index does more often
    respell: bool = False

    def params(self, view: str) -> tuple[float, float]:
        """BM25's ``(k1, b)`` for the terms of ``view``."""
        return self.view_params.get(view, (self.k1, self.b))


DEFAULT_RANKING = Ranking(
    view_weights={
        "syllables": 1.0,
        "folded": 0.7,
        "bigrams": 0.5,
        "folded_bigrams": 0.5,
        "words": 1.0,
    },
    # single syllables saturate sooner: a word said twice in a passage is not twice as
    # relevant, whereas a bigram or a word repeated is
    view_params={"syllables": (0.5, 0.9), "folded": (0.6, 0.9)},
    group_from=4,
    stopwords=True,
    question_words=True,
    restored_weight=0.5,
    # the names a question is about (capitalized words) weigh twice as much
    capitals=2.0,
    # BM25+: a matched term adds a little however long the passage is
    delta=0.1,
    respell=True,
)


def lucene_idf(df: int, n: int) -> float:
    """Lucene's BM25 idf: ``ln(1 + (n - df + 0.5) / (df + 0.5))``."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
