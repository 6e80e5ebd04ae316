"""Search: a query's way through the ranking, from its text to the hits.

``search()`` plans the query (:class:`~vnsearch.ranking.match.PreparedQuery`), takes the
best documents from :func:`~vnsearch.ranking.topk.best` (which chooses how to match and
prune) and makes the hits, which share the query's highlighter. ``explain()`` takes the
same plan and gives what each scoring term added to one document.

For a query word and a document the score adds, for every TEXT field ``f`` and every view
``v`` the word is looked up in (exact syllable, folded syllable; bigrams and words for
neighbouring query words), the BM25 value of the term in that view of ``f``
(:mod:`vnsearch.ranking.scoring`) weighted ``weight(v) * boost(f)``. An accented word
scores in the exact view and the folded view, so exact diacritics rank above folded-only
matches; an unaccented word finds accented text through the folded view. Documents that
match more of the query's words rank first (``coord``), then by score.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from vnsearch.index.reader import Snapshot
from vnsearch.index.schema import ORDER_FIELD
from vnsearch.query import (
    ABBREVIATIONS,
    DEFAULT_LIMITS,
    MatchAll,
    QueryLimits,
    Synonyms,
    is_match_all,
)
from vnsearch.ranking.facets import FacetSpec, count_facets
from vnsearch.ranking.highlighting import plan_highlighter
from vnsearch.ranking.match import PreparedQuery
from vnsearch.ranking.plan import Plan, plan_search, plan_text
from vnsearch.ranking.results import Explanation, Hit, Results
from vnsearch.ranking.scoring import DEFAULT_RANKING, Ranking, explain_term
from vnsearch.ranking.sorting import SortKey, sort_keys, sort_values
from vnsearch.ranking.topk import best, listed, score_docs, selected, selected_mask

__all__ = ["count", "explain", "search"]


def search(
    snap: Snapshot,
    query: str | MatchAll,
    limit: int = 10,
    fields: Iterable[str] | None = None,
    filter: Mapping[str, Any] | None = None,
    ranking: Ranking = DEFAULT_RANKING,
    sort: str | Sequence[str] | None = None,
    limits: QueryLimits = DEFAULT_LIMITS,
    offset: int = 0,
    synonyms: Synonyms = ABBREVIATIONS,
    facets: FacetSpec | None = None,
    stats: Any = None,
) -> Results:
    """Rank the documents of ``snap`` for ``query``: the hits ``offset`` to ``offset +
    limit`` of the ranking, and the total.

    ``filter`` maps fields to a value, a list of values (any of them) or, for NUMERIC and
    DATETIME fields, a :class:`Range`. ``sort="field"`` (or ``"-field"``, descending, or a
    list of such keys) orders every match by those NUMERIC, DATETIME, KEYWORD or ID fields
    instead (ties by score, documents without a value last; see
    :mod:`vnsearch.ranking.sorting`); scores stay BM25's. ``limits`` bound the query's size
    (:class:`~vnsearch.QueryLimits`): the excess is left out, as ``Results.notes`` say, or
    refused with :class:`~vnsearch.errors.QueryTooLarge`. A page is a slice of one order
    (equal keys by document number): the pages of a snapshot never repeat or skip a hit.
    :data:`~vnsearch.ALL` or an empty query lists the documents that pass ``filter``, by
    ``sort`` or else by document number, every score 0. A word or run of words that reads
    as a form of ``synonyms`` (``UBND``) also matches the others (``ủy ban nhân dân``).
    ``facets`` (field names, or a dict of field -> None, a number of values or a list of
    ranges) counts values over every match into ``Results.facets``
    (:func:`~vnsearch.ranking.facets.count_facets`). ``stats`` (a
    :class:`~vnsearch.ranking.global_stats.Stats` of every shard of a collection) gives
    the idf, average lengths and accent tables instead of ``snap``'s own, so the shards'
    hits merge as one index's would (:class:`~vnsearch.shards.ShardedIndex`).
    """
    offset, limit = _at_least_0(offset, "offset"), _at_least_0(limit, "limit")
    plan, q = _prepare(snap, query, fields, filter, ranking, limits, synonyms, stats)
    if is_match_all(query):
        docs, scores, total = listed(q, offset + limit, sort)
    else:
        docs, scores, total = best(q, offset + limit, sort)
    docs, scores = docs[offset:], scores[offset:]
    counted: dict[str, dict[Any, int]] = {}
    if facets is not None:
        matched = selected_mask(q) if is_match_all(query) else q.match_all()[1]
        counted = count_facets(snap, matched, facets)
        total = int(np.count_nonzero(matched))
    hits = _hits(snap, docs, scores, q, sort_keys(snap, sort)) if len(docs) else ()
    return Results(hits, total, plan.notes, corrected=plan.corrected, facets=counted)


def count(
    snap: Snapshot,
    query: str | MatchAll,
    fields: Iterable[str] | None = None,
    filter: Mapping[str, Any] | None = None,
    ranking: Ranking = DEFAULT_RANKING,
    limits: QueryLimits = DEFAULT_LIMITS,
    synonyms: Synonyms = ABBREVIATIONS,
    stats: Any = None,
) -> int:
    """How many documents :func:`search` would find (its ``total``), without ranking them
    or reading any stored field (``stats``' accent tables read the query, as there)."""
    _plan, q = _prepare(snap, query, fields, filter, ranking, limits, synonyms, stats)
    return len(selected(q)) if is_match_all(query) else q.count()


def _prepare(
    snap: Snapshot,
    query: str | MatchAll,
    fields: Iterable[str] | None,
    filter: Mapping[str, Any] | None,
    ranking: Ranking,
    limits: QueryLimits,
    synonyms: Synonyms,
    stats: Any = None,
) -> tuple[Plan, PreparedQuery]:
    """The plan of ``query`` (cut -> parse -> analyze -> plan) and the prepared query."""
    if is_match_all(query):  # nothing to analyze: no accent vocabulary needed
        plan = plan_text("", snap.schema, fields, ranking, None, limits)
    else:
        plan = plan_search(snap, query, fields, ranking, limits, synonyms, stats)  # type: ignore[arg-type]
    return plan, PreparedQuery(snap, plan, filter, ranking, stats)


def _at_least_0(value: int, name: str) -> int:
    """``value`` as an ``int`` of 0 or more (a ``TypeError`` or ``ValueError`` if not)."""
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)  # numpy's integers too
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")
    return value


def _hits(
    snap: Snapshot,
    docs: np.ndarray,
    scores: np.ndarray,
    q: PreparedQuery,
    keys: tuple[SortKey, ...] = (),
) -> tuple[Hit, ...]:
    hits = []
    unique = snap.schema.unique_field
    highlighter = plan_highlighter(q.positive, snap, q.executor.stats)
    # how many clauses each hit matches: the first key of the order (0 when listing)
    clauses = np.zeros(len(docs), dtype=np.int64)
    if q.positive:
        order = np.argsort(docs, kind="stable")
        clauses[order] = q.keep_among(docs[order].astype(np.int64))[1]
    values = sort_values(snap, keys, docs, scores) if keys else [()] * len(docs)
    # where each stands in the order documents were added (a shard's: over every shard)
    orders = snap.field_values(ORDER_FIELD)[0][docs] if snap.schema.has_order else docs
    found = zip(docs.tolist(), scores.tolist(), clauses.tolist(), values, orders.tolist())
    for doc, score, c, v, order in found:
        stored = snap.stored_fields(doc)
        hit_id = stored.get(unique, doc) if unique else doc
        hits.append(
            Hit(hit_id, score, stored, doc, highlighter, clauses=c, sort_values=v, order=order)
        )
    return tuple(hits)


def explain(
    snap: Snapshot,
    query: str,
    doc_id: Any,
    fields: Iterable[str] | None = None,
    ranking: Ranking = DEFAULT_RANKING,
    limits: QueryLimits = DEFAULT_LIMITS,
    synonyms: Synonyms = ABBREVIATIONS,
    stats: Any = None,
) -> Explanation:
    """Explain the score of the document whose unique field is ``doc_id`` (``query`` within
    ``limits``, with ``synonyms`` and ``stats``, as :func:`search`)."""
    doc = snap.doc_for_id(doc_id)
    if doc is None:
        raise KeyError(f"no document with id {doc_id!r}")
    plan = plan_search(snap, query, fields, ranking, limits, synonyms, stats)
    q = PreparedQuery(snap, plan, None, ranking, stats)
    n = snap.doc_count if stats is None else stats.documents
    terms = []
    for s, p, _idf in q.scoring_terms:
        i = int(p.sorted_docs.searchsorted(doc))
        if i < p.df and p.sorted_docs[i] == doc:
            k1, b = ranking.params(s.view)
            term = explain_term(
                s.field, s.view, s.term, s.text_field, s.weight,
                tf=p.freqs[i], df=p.df if stats is None else stats.doc_freq(s.field, s.term),
                n=n, length=snap.lengths[s.field][doc],
                avg_length=q.executor.avg_length(s.field), k1=k1, b=b, delta=ranking.delta,
            )  # fmt: skip
            terms.append(term)
    score = float(score_docs(q.executor, q.scoring_terms, np.array([doc], dtype=np.int64))[0])
    matched = bool(q.match_all()[1][doc])
    return Explanation(doc_id, score, matched, tuple(terms), plan.notes)
