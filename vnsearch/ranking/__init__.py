"""Ranking: BM25F over fields and views, vectorized with numpy; results and explanations."""

from vnsearch.ranking.filters import Range
from vnsearch.ranking.search import DEFAULT_RANKING, Explanation, Hit, Ranking, Results, Snippet

__all__ = ["DEFAULT_RANKING", "Explanation", "Hit", "Range", "Ranking", "Results", "Snippet"]
