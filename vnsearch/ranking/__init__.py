"""Ranking: BM25F over fields and views, vectorized with numpy; results and explanations."""

from vnsearch.ranking.search import DEFAULT_RANKING, Explanation, Hit, Ranking, Results, Snippet
from vnsearch.ranking.values import Range

__all__ = ["DEFAULT_RANKING", "Explanation", "Hit", "Range", "Ranking", "Results", "Snippet"]
