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
    drops stop words and restores accents. Both were tuned on the UIT-ViQuAD train
    questions (``benchmarks/eval_quality.py --split train``).

    >>> Ranking().view_weights["syllables"]
    1.0
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
    # weight (times the view's) of the exact-view terms of accents restored from the
    # index's vocabulary in a query typed without accents; 0 turns restoring off
    restored_weight: float = 0.0


DEFAULT_RANKING = Ranking(group_from=4, stopwords=True, restored_weight=0.5)


def lucene_idf(df: int, n: int) -> float:
    """Lucene's BM25 idf: ``ln(1 + (n - df + 0.5) / (df + 0.5))``."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
