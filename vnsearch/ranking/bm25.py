"""BM25 as vnsearch ranks with it: the parameters and Lucene's idf."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DEFAULT_RANKING", "Ranking", "lucene_idf"]


@dataclass(frozen=True)
class Ranking:
    """BM25F parameters: ``k1``, ``b`` and the weight of each view.

    >>> Ranking().view_weights["syllables"]
    1.0
    """

    k1: float = 1.2
    b: float = 0.75
    view_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "syllables": 1.0,
            "folded": 0.5,
            "bigrams": 0.5,
            "folded_bigrams": 0.25,
            "words": 0.5,
        }
    )


DEFAULT_RANKING = Ranking()


def lucene_idf(df: int, n: int) -> float:
    """Lucene's BM25 idf: ``ln(1 + (n - df + 0.5) / (df + 0.5))``."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
