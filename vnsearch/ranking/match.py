"""Matching: which documents a planned query's clauses select, vectorized with numpy.

Matching needs no scores: from the rare clauses, looking the other clauses up in their
postings (``PreparedQuery.match_rare``), or with one flag per document (``match_all``).
The :class:`Executor` keeps the query's postings, phrases and last lookups, so matching and
scoring (:mod:`vnsearch.ranking.topk`) the same documents search once.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np

from vnsearch.index.reader import (
    FREQUENT_SHARE,
    LOOKUP_COST,
    Snapshot,
    TermPostings,
    lookup,
    sorted_distinct,
)
from vnsearch.index.schema import DATETIME, ID, KEYWORD, NUMERIC, exact_term
from vnsearch.ranking.filters import Range, range_mask
from vnsearch.ranking.plan import ClausePlan, Plan, ScoredTerm
from vnsearch.ranking.scoring import Ranking, idf

__all__ = ["Executor", "PreparedQuery"]


_UNKNOWN: Any = object()  # a term not looked up yet (None: looked up, not in the index)


class Executor:
    """One query's reads of a snapshot: the postings of its terms (looked up once), the
    documents holding each phrase, and the last lookup of documents in each postings."""

    def __init__(self, snap: Snapshot, ranking: Ranking, stats: Any = None) -> None:
        self.snap = snap
        self.ranking = ranking
        # statistics over several indexes (shards) that replace the snapshot's own in
        # scores (a :class:`~vnsearch.ranking.global_stats.Stats`), or None
        self.stats = stats
        self._cache: dict[tuple[str, str | bytes], TermPostings | None] = {}
        self._phrases: dict[tuple, np.ndarray] = {}
        # per postings (by id; the query holds them): the last documents looked up in them
        # and the answer, as matching and scoring often ask about the same documents
        self._found: dict[int, tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]] = {}

    def postings(self, field: str, term: str | bytes) -> TermPostings | None:
        key = (field, term)
        p = self._cache.get(key, _UNKNOWN)
        if p is _UNKNOWN:
            p = self._cache[key] = self.snap.postings(field, term)
        return p

    def avg_length(self, field: str) -> float:
        """The average length of hidden field ``field`` that scores use."""
        if self.stats is None:
            return self.snap.avg_length[field]
        return float(self.stats.avg_length(field))

    def idf(self, field: str, term: str | bytes, p: TermPostings) -> float:
        """The idf of ``term`` (whose postings here are ``p``) that scores use."""
        if self.stats is None:
            return idf(p.df, self.snap.doc_count)
        return idf(self.stats.doc_freq(field, term), self.stats.documents)

    def prefetch(self, pairs: list[tuple[str, str | bytes]]) -> None:
        """Look up the postings of ``pairs`` (field, term) not looked up yet, together."""
        todo = [key for key in dict.fromkeys(pairs) if key not in self._cache]
        if todo:
            self._cache.update(zip(todo, self.snap.postings_many(todo)))

    def find(self, p: TermPostings, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``p.find(docs)``, the answer for the last ``docs`` asked about kept."""
        last = self._found.get(id(p))
        if last is not None and last[0] is docs:
            return last[1]
        found = p.find(docs)
        self._found[id(p)] = (docs, found)
        return found

    def matches(self, unit: ClausePlan) -> np.ndarray:
        """Per document: whether ``unit`` matches it."""
        return self.mark(unit, np.zeros(self.snap.total, dtype=bool))

    def mark(self, unit: ClausePlan, mask: np.ndarray) -> np.ndarray:
        """Set ``mask`` (per document) where ``unit`` matches; returns ``mask``."""
        for f, term in unit.any_of:
            p = self.postings(f, term)
            if p is not None:
                mask[p.sorted_docs] = True
        for phrase in unit.phrases:
            mask[self.phrase_docs(phrase)] = True
        return mask

    def unit_size(self, unit: ClausePlan) -> int:
        """At least as many documents as ``unit`` matches: document frequencies, and the
        number of documents holding each phrase (every way of matching a unit finds them,
        so they are found here once and kept)."""
        size = 0
        for f, term in unit.any_of:
            p = self.postings(f, term)
            size += p.df if p is not None else 0
        for phrase in unit.phrases:
            size += len(self.phrase_docs(phrase))
        return size

    def unit_contains(self, unit: ClausePlan, docs: np.ndarray) -> np.ndarray:
        """Whether ``unit`` matches each of the sorted documents ``docs``: binary searches
        in its postings, or, when there are many documents to look up, its flags."""
        if len(docs) * LOOKUP_COST > self.unit_size(unit):
            return self.matches(unit)[docs]
        found = np.zeros(len(docs), dtype=bool)
        for f, term in unit.any_of:
            p = self.postings(f, term)
            if p is not None:
                found |= self.find(p, docs)[0]
        for phrase in unit.phrases:
            found |= lookup(self.phrase_docs(phrase), docs)[0]
        return found

    def phrase_docs(self, phrase: list[tuple[str, str, int]]) -> np.ndarray:
        """Documents where the phrase's terms stand at their relative positions (sorted)."""
        key = tuple(phrase)
        docs = self._phrases.get(key)
        if docs is None:
            docs = self._phrases[key] = self._phrase_docs(phrase)
        return docs

    def _phrase_docs(self, phrase: list[tuple[str, str, int]]) -> np.ndarray:
        lists = [(self.postings(f, t), off) for f, t, off in phrase]
        if any(p is None for p, _off in lists):
            return np.empty(0, dtype=np.int64)
        lists.sort(key=lambda item: item[0].df)  # rarest first: the fewest positions
        docs = lists[0][0].sorted_docs
        # per term after the first: which of ``docs`` hold it, and the index of each that
        # does in its postings (one search per term)
        steps = []
        for p, _off in lists[1:]:
            found, i = self.find(p, docs)
            docs = docs[found]
            steps.append((found, i[found]))
        # the index of each of the common ``docs`` in each term's postings, from the last
        # term back (narrowing every term's array at every step would cost a pass per pair
        # of terms: seconds for a phrase of a thousand words)
        where: list[np.ndarray] = []
        at = None  # where the common documents are among those a term was searched for
        for found, w in reversed(steps):
            where.append(w if at is None else w[at])
            kept = np.flatnonzero(found)
            at = kept if at is None else kept[at]
        where.append(np.arange(len(docs)) if at is None else at)
        where.reverse()
        keys = None
        aligned = docs  # what the ``where`` arrays are aligned with
        for (p, off), w in zip(lists, where):
            if not len(docs):
                break
            if len(docs) != len(aligned):  # the terms before left fewer documents
                w = w[lookup(docs, aligned)[0]]
            k = p.position_keys(docs, off, w)
            if len(k) > 1 and not np.all(k[1:] > k[:-1]):  # segments' sorted runs
                k = sorted_distinct(k)
            keys = k if keys is None else keys[lookup(k, keys)[0]]
            docs = keys >> 32
            if len(docs) > 1:
                docs = docs[np.concatenate(([True], docs[1:] != docs[:-1]))]
        return docs


def _filter_mask(snap: Snapshot, ex: Executor, filters: Mapping[str, Any]) -> np.ndarray:
    mask = snap.live.copy()
    for name, value in filters.items():
        ftype = snap.schema.get(name)
        if ftype is None:
            raise ValueError(f"unknown filter field {name!r}")
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        keep = np.zeros(snap.total, dtype=bool)
        for v in values:
            if isinstance(v, Range):
                keep |= range_mask(snap, name, v)
                continue
            if isinstance(ftype, (ID, KEYWORD)):
                p = ex.postings(name, exact_term(ftype, v))
            elif isinstance(ftype, (NUMERIC, DATETIME)):
                p = ex.postings(name, snap.reader.schema[name].to_bytes(v))
            else:
                raise ValueError(f"field {name!r} ({ftype.kind}) cannot filter")
            if p is not None:
                keep[p.sorted_docs] = True
        mask &= keep
    return mask


class PreparedQuery:
    """A planned query over one snapshot: its clauses, scoring terms and filters."""

    def __init__(
        self, snap: Snapshot, plan: Plan, filters, ranking: Ranking, stats: Any = None
    ) -> None:
        self.executor = Executor(snap, ranking, stats)
        self.positive = [u for u in plan.units if u.occur != "must_not"]
        self.negative = [u for u in plan.units if u.occur == "must_not"]
        # how many clauses a document matching every positive one matches (a clause the
        # query repeats counts as often as it is typed)
        self.clauses = sum(u.times for u in self.positive)
        # every term that adds to scores: the positive clauses', then the bonuses
        self.scoring = [s for u in self.positive for s in u.scoring]
        if self.positive:
            self.scoring += plan.bonus
        self.filters = filters
        self._filter_mask: np.ndarray | None = None
        self._matched: tuple[np.ndarray, np.ndarray] | None = None
        # every term's postings the query will read, read together
        terms = [(s.field, s.term) for s in self.scoring]
        for unit in plan.units:
            terms += unit.any_of
            terms += [(f, t) for phrase in unit.phrases for f, t, _off in phrase]
        self.executor.prefetch(terms)

    @cached_property
    def scoring_terms(self) -> list[tuple[ScoredTerm, TermPostings, float]]:
        """(scoring term, its postings, its idf) of every scoring term found in the index
        (the idf over every shard when the executor has their ``stats``)."""
        ex = self.executor
        out = []
        for s in self.scoring:
            p = ex.postings(s.field, s.term)
            if p is not None and p.df:
                out.append((s, p, ex.idf(s.field, s.term, p)))
        return out

    def filter_mask(self) -> np.ndarray:
        if self._filter_mask is None:
            self._filter_mask = _filter_mask(self.executor.snap, self.executor, self.filters)
        return self._filter_mask

    def match_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Per document: how many positive clauses it matches, and whether it is a result
        (made once per query: the top hits, the total and the facets all read it; callers
        must not change the arrays)."""
        if self._matched is None:
            self._matched = self._match_all()
        return self._matched

    def _match_all(self) -> tuple[np.ndarray, np.ndarray]:
        snap, ex = self.executor.snap, self.executor
        coord = np.zeros(snap.total, dtype=np.int32)
        if not self.positive:
            return coord, np.zeros(snap.total, dtype=bool)
        required = snap.live.copy()
        for unit in self.negative:
            required &= ~ex.matches(unit)
        for unit in self.positive:
            matched = ex.matches(unit)
            coord += matched if unit.times == 1 else matched * np.int32(unit.times)
            if unit.occur == "must":
                required &= matched
        candidates = required & (coord > 0)
        if self.filters:
            candidates &= self.filter_mask()
        return coord, candidates

    def count(self) -> int:
        return int(np.count_nonzero(self.match_all()[1]))

    def match_rare(self, limit: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The results that match more clauses than the frequent ones alone could give,
        with their clause counts, if there are at least ``limit`` of them (the best hits
        are then among them) or every clause is rare (they are then all the results);
        None when that would not pay or they are too few.

        Such a document matches at least one rare clause, so the candidates are the union
        of the rare clauses' postings, and every clause is looked up for them alone.
        """
        ex = self.executor
        if not self.positive:
            return None
        share = FREQUENT_SHARE * ex.snap.total
        rare = [u for u in self.positive if ex.unit_size(u) <= share]
        if not rare:
            return None
        every = len(rare) == len(self.positive)
        frequent = self.clauses - sum(u.times for u in rare)
        union = np.zeros(ex.snap.total, dtype=bool)
        for unit in rare:
            ex.mark(unit, union)
        docs = union.nonzero()[0]
        if len(docs) < limit and not every:
            return None
        docs, coord = self.match_among(docs, more_than=frequent)
        return (docs, coord) if len(docs) >= limit or every else None

    def match_among(self, docs: np.ndarray, more_than: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The results among the sorted documents ``docs`` that match more than
        ``more_than`` positive clauses, and how many each matches."""
        keep, coord = self.keep_among(docs, more_than)
        return docs[keep], coord[keep]

    def keep_among(self, docs: np.ndarray, more_than: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`match_among` as flags: whether each of ``docs`` is kept, and how many
        positive clauses each matches."""
        ex = self.executor
        coord = np.zeros(len(docs), dtype=np.int32)
        keep = np.ones(len(docs), dtype=bool)
        for unit in self.positive:
            found = ex.unit_contains(unit, docs)
            coord += found if unit.times == 1 else found * np.int32(unit.times)
            if unit.occur == "must":
                keep &= found
        keep &= coord > more_than
        for unit in self.negative:
            keep &= ~ex.unit_contains(unit, docs)
        if self.filters:
            keep &= self.filter_mask()[docs]
        return keep, coord
