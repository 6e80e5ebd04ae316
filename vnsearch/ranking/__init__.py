"""Ranking: BM25F over fields and views, vectorized with numpy; results and explanations.

The query path, module by module: :mod:`~vnsearch.ranking.plan` (clauses and scoring
terms), :mod:`~vnsearch.ranking.match` (which documents match),
:mod:`~vnsearch.ranking.topk` (the best of them, scored through
:mod:`~vnsearch.ranking.scoring`, the one home of BM25), :mod:`~vnsearch.ranking.results`
(hits and explanations) and :mod:`~vnsearch.ranking.highlighting` (the query's
highlighter); :mod:`~vnsearch.ranking.search` joins them.
"""

from vnsearch.highlight import Snippet
from vnsearch.ranking.filters import Range
from vnsearch.ranking.results import Explanation, Hit, Results, TermContribution
from vnsearch.ranking.scoring import DEFAULT_RANKING, Ranking
from vnsearch.ranking.search import explain, search

__all__ = [
    "DEFAULT_RANKING",
    "Explanation",
    "Hit",
    "Range",
    "Ranking",
    "Results",
    "Snippet",
    "TermContribution",
    "explain",
    "search",
]
