"""Ranking: BM25F over the fields and views of each document, vectorized with numpy.

For a query word ``w`` and a document ``d`` the score adds, for every TEXT field ``f`` and
every view ``v`` the word is looked up in (exact syllable, folded syllable; bigrams and
words for neighbouring query words)::

    weight(v) * boost(f) * idf(t) * (tf / (tf + k1 * (1 - b + b * len(d) / avglen)) + delta)

with Lucene's ``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))``, ``tf``/``df``/``len``/
``avglen`` taken in that field's view over live documents, and BM25+'s ``delta`` (0 in
plain BM25F) wherever the term occurs. An accented word scores in the exact view and the
folded view, so exact diacritics rank above folded-only matches; an unaccented word finds
accented text through the folded view. Documents that match more of
the query's words rank first (``coord``), then by score.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from vnsearch.highlight import DEFAULT_LENGTH, Highlighter, Snippet, snapshot_idf
from vnsearch.index.reader import Snapshot
from vnsearch.ranking.bm25 import DEFAULT_RANKING, Ranking
from vnsearch.ranking.execute import (
    PreparedQuery,
    score_docs,
    scoring_terms,
    top_hits,
    top_hits_from_rare_terms,
)
from vnsearch.ranking.plan import plan_search
from vnsearch.ranking.values import sort_docs, sort_field

__all__ = [
    "DEFAULT_RANKING",
    "Explanation",
    "Hit",
    "Ranking",
    "Results",
    "Snippet",
    "explain",
    "search",
]


@dataclass(frozen=True)
class Hit:
    """One ranked document: its id, score and stored fields, and snippets when asked.

    ``hit.snippet("body")`` is the best fragment of the stored ``body`` with the query's
    matches as spans; ``hit.snippets`` maps each stored TEXT field to its snippet (made on
    first access). Both are computed only when read.
    """

    id: Any
    score: float
    fields: Mapping[str, Any]
    docnum: int
    highlighter: Highlighter | None = field(default=None, compare=False, repr=False)

    def snippet(
        self,
        name: str,
        length: int = DEFAULT_LENGTH,
        fragments: int = 1,
        text: str | None = None,
    ) -> Snippet:
        """The best fragment(s) of stored TEXT field ``name`` for the query.

        ``text`` stands in for the field's value when it is not stored (the application
        keeps it elsewhere). A field the query did not search gives its start, no spans.
        """
        if text is None:
            value = self.fields.get(name)
            if not isinstance(value, str):
                raise KeyError(f"no stored text in field {name!r} (pass text=...)")
            text = value
        highlighter = self.highlighter or _NO_QUERY
        return highlighter.snippet(name, text, length=length, fragments=fragments)

    @cached_property
    def snippets(self) -> Mapping[str, Snippet]:
        """Snippets of the hit's stored TEXT fields, each made on first access."""
        return _Snippets(self)

    def __getstate__(self) -> dict[str, Any]:
        # a pickled hit keeps its data, not the query's highlighter (it holds the index)
        state = {k: v for k, v in self.__dict__.items() if k != "snippets"}
        state["highlighter"] = None
        return state


class _Snippets(Mapping[str, Snippet]):
    __slots__ = ("_done", "_hit", "_names")

    def __init__(self, hit: Hit) -> None:
        self._hit = hit
        names = hit.highlighter.text_fields if hit.highlighter else ()
        self._names = [n for n in names if isinstance(hit.fields.get(n), str)]
        self._done: dict[str, Snippet] = {}

    def __getitem__(self, name: str) -> Snippet:
        if name not in self._names:
            raise KeyError(name)
        found = self._done.get(name)
        if found is None:
            found = self._done[name] = self._hit.snippet(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


_NO_QUERY = Highlighter((), ())


class Results(Sequence[Hit]):
    """The top hits of a query, best first, and ``total``: how many documents matched.

    The total is counted when first asked for (ranking the top hits does not need it).
    """

    __slots__ = ("_count", "_total", "hits")

    def __init__(self, hits: tuple[Hit, ...], total: int | Callable[[], int]) -> None:
        self.hits = hits
        self._total = total if isinstance(total, int) else None
        self._count = None if isinstance(total, int) else total

    @property
    def total(self) -> int:
        if self._total is None:
            self._total = self._count()
            self._count = None
        return self._total

    def __getitem__(self, i):  # type: ignore[override]
        return self.hits[i]

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Iterator[Hit]:  # not Sequence's: an index at a time, to IndexError
        return iter(self.hits)

    def __repr__(self) -> str:
        return f"Results(hits={list(self.hits)!r}, total={self.total})"


def search(
    snap: Snapshot,
    query: str,
    limit: int = 10,
    fields: Iterable[str] | None = None,
    filter: Mapping[str, Any] | None = None,
    ranking: Ranking = DEFAULT_RANKING,
    sort: str | None = None,
) -> Results:
    """Rank the documents of ``snap`` for ``query``; the top ``limit`` hits and the total.

    ``filter`` maps fields to a value, a list of values (any of them) or, for NUMERIC and
    DATETIME fields, a :class:`Range`. ``sort="field"`` (or ``"-field"``, descending)
    orders every match by that NUMERIC or DATETIME field instead (ties by score, documents
    without a value last); scores stay BM25's.
    """
    plan = plan_search(snap, query, fields, ranking)  # parse -> analyze -> plan
    q = PreparedQuery(snap, plan, filter, ranking)
    if sort is not None:
        name, descending = sort_field(snap, sort)
        cand = np.flatnonzero(q.match_all()[1])
        if not len(cand) or limit <= 0:
            return Results((), len(cand))
        scores = score_docs(q.ex, scoring_terms(q), cand)
        docs, scores = sort_docs(snap, name, descending, cand, scores, limit)
        return Results(_hits(snap, docs, scores, q), len(cand))
    if limit <= 0:
        return Results((), q.count)
    rare = q.match_rare(limit)
    if rare is not None:
        if not len(rare[0]):
            return Results((), 0)
        return Results(_hits(snap, *top_hits(q, *rare, limit), q), q.count)
    top = top_hits_from_rare_terms(q, limit)
    if top is not None:
        return Results(_hits(snap, *top, q), q.count)
    coord, candidates = q.match_all()
    cand = np.flatnonzero(candidates)
    if not len(cand):
        return Results((), 0)
    return Results(_hits(snap, *top_hits(q, cand, coord[cand], limit), q), len(cand))


def _hits(
    snap: Snapshot, docs: np.ndarray, scores: np.ndarray, q: PreparedQuery
) -> tuple[Hit, ...]:
    hits = []
    unique = snap.schema.unique_field
    highlighter = Highlighter(q.positive, snap.schema.text_fields, snapshot_idf(snap))
    for doc, score in zip(docs.tolist(), scores.tolist()):
        stored = snap.stored_fields(doc)
        hit_id = stored.get(unique, doc) if unique else doc
        hits.append(Hit(hit_id, score, stored, doc, highlighter))
    return tuple(hits)


@dataclass(frozen=True)
class Explanation:
    """Why a document got its score: one line per (field, view, term) that contributed."""

    doc_id: Any
    score: float
    matched: bool
    lines: tuple[str, ...]

    def __str__(self) -> str:
        head = f"document {self.doc_id!r}: score {self.score:.4f}"
        if not self.matched:
            head += " (does not match the query)"
        return "\n".join([head, *self.lines])


def explain(
    snap: Snapshot,
    query: str,
    doc_id: Any,
    fields: Iterable[str] | None = None,
    ranking: Ranking = DEFAULT_RANKING,
) -> Explanation:
    """Explain the score of the document whose unique field is ``doc_id``."""
    doc = snap.doc_for_id(doc_id)
    if doc is None:
        raise KeyError(f"no document with id {doc_id!r}")
    plan = plan_search(snap, query, fields, ranking)  # parse -> analyze -> plan
    q = PreparedQuery(snap, plan, None, ranking)
    ex = q.ex
    lines = []
    r = ranking
    for s in q.scoring:
        c = ex.contribution(s)
        if c is None:
            continue
        p, values, idf = c
        i = int(p.sorted_docs.searchsorted(doc))
        if i < p.df and p.sorted_docs[i] == doc:
            length = snap.lengths[s.field][doc]
            k1, b = r.params(s.view)
            opened = "(" if r.delta else ""
            lines.append(
                f"  {values[i]:.4f} = {s.weight:g} (weight of {s.text_field}/{s.view})"
                f" x idf {idf:.3f} (df {p.df}, N {snap.doc_count})"
                f" x {opened}tf {p.freqs[i]:g} / (tf + {k1:g} x (1 - {b:g} + {b:g} x len"
                f" {length:g} / avg {snap.avg_length[s.field]:.1f}))"
                + (f" + {r.delta:g})" if r.delta else "")
                + f"   [{s.term!r}]"
            )
    score = float(score_docs(ex, scoring_terms(q), np.array([doc], dtype=np.int64))[0])
    return Explanation(doc_id, score, bool(q.match_all()[1][doc]), tuple(lines))
