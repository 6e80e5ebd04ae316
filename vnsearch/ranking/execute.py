"""Query execution: matching documents and scoring the best ones, vectorized with numpy.

Matching comes first and needs no scores: from the rare clauses, looking the other clauses
up in their postings (``PreparedQuery.match_rare``); when every clause is frequent, from the
documents holding a rare scoring term (``top_hits_from_rare_terms``); or with one flag per
document (``match_all``). Scoring then only touches the documents that can still be among
the top hits (``top_hits``): the best tiers of matched clauses, and for frequent terms only
the documents that the MaxScore bound cannot rule out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from vnsearch.index.reader import LOOKUP_COST, Snapshot, TermPostings, lookup
from vnsearch.index.schema import DATETIME, ID, KEYWORD, NUMERIC
from vnsearch.ranking.bm25 import Ranking, lucene_idf
from vnsearch.ranking.plan import ClausePlan, Plan, ScoredTerm
from vnsearch.ranking.values import Range, range_mask

__all__ = [
    "Executor",
    "PreparedQuery",
    "score_docs",
    "scoring_terms",
    "top_hits",
    "top_hits_from_rare_terms",
]


_UNKNOWN: Any = object()  # a term not looked up yet (None: looked up, not in the index)


class Executor:
    def __init__(self, snap: Snapshot, ranking: Ranking) -> None:
        self.snap = snap
        self.ranking = ranking
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

    def find(self, p: TermPostings, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``p.find(docs)``, the answer for the last ``docs`` asked about kept."""
        last = self._found.get(id(p))
        if last is not None and last[0] is docs:
            return last[1]
        found = p.find(docs)
        self._found[id(p)] = (docs, found)
        return found

    def contribution(self, s: ScoredTerm) -> tuple[TermPostings, np.ndarray, float] | None:
        """The term's postings, its BM25 value in each of them, and its idf."""
        p = self.postings(s.field, s.term)
        if p is None or not p.df:
            return None
        idf = lucene_idf(p.df, self.snap.doc_count)
        norms = self.snap.length_norms(s.field, *self.ranking.params(s.view), p.sorted_docs)
        return p, _bm25(p.freqs, norms, s.weight * idf, self.ranking.delta), idf

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
            if len(k) > 1 and not np.all(k[1:] > k[:-1]):
                k = np.unique(k)
            keys = k if keys is None else keys[lookup(k, keys)[0]]
            docs = keys >> 32
            if len(docs) > 1:
                docs = docs[np.concatenate(([True], docs[1:] != docs[:-1]))]
        return docs


def _bm25(tf: np.ndarray, norm: np.ndarray, scale: float, delta: float = 0.0) -> np.ndarray:
    """``scale * (tf / (tf + norm) + delta)``, computed in ``norm``'s memory (fresh arrays
    are costly: the allocator hands large ones back to the system and page-faults them in
    again)."""
    norm += tf
    np.divide(tf, norm, out=norm)
    if delta:
        norm += delta
    if scale != 1.0:
        norm *= scale
    return norm


def _scaled_bm25(
    tfs: list[np.ndarray], norms: list[np.ndarray], scales: list[float], counts: list[int],
    delta: float,
) -> np.ndarray:  # fmt: skip
    """BM25 values of several terms' postings at once: term ``i`` has ``counts[i]`` of the
    concatenated frequencies and norms, and its values are multiplied by ``scales[i]``."""
    # the ``float32`` frequencies widened as they are joined: ``float64`` arithmetic on a
    # mix of the two casts in buffered chunks (the same values, more slowly)
    tf = np.concatenate(tfs, dtype=np.float64)
    values = _bm25(tf, np.concatenate(norms), 1.0, delta)
    # ``array.repeat``: numpy's ``np.repeat`` of a list costs a caught exception first
    values *= np.array(scales).repeat(counts)
    return values


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
                term = str(v).lower() if isinstance(ftype, KEYWORD) and ftype.lowercase else str(v)
                p = ex.postings(name, term)
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

    def __init__(self, snap: Snapshot, plan: Plan, filters, ranking: Ranking) -> None:
        self.ex = Executor(snap, ranking)
        self.positive = [u for u in plan.units if u.occur != "must_not"]
        self.negative = [u for u in plan.units if u.occur == "must_not"]
        # every term that adds to scores: the positive clauses', then the bonuses
        self.scoring = [s for u in self.positive for s in u.scoring]
        if self.positive:
            self.scoring += plan.bonus
        self.filters = filters
        self._filter_mask: np.ndarray | None = None
        self.terms: list[tuple[ScoredTerm, TermPostings, float]] | None = None  # scoring_terms()

    def filter_mask(self) -> np.ndarray:
        if self._filter_mask is None:
            self._filter_mask = _filter_mask(self.ex.snap, self.ex, self.filters)
        return self._filter_mask

    def match_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Per document: how many positive clauses it matches, and whether it is a result."""
        snap, ex = self.ex.snap, self.ex
        coord = np.zeros(snap.total, dtype=np.int32)
        if not self.positive:
            return coord, np.zeros(snap.total, dtype=bool)
        required = snap.live.copy()
        for unit in self.negative:
            required &= ~ex.matches(unit)
        for unit in self.positive:
            matched = ex.matches(unit)
            coord += matched
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
        ex = self.ex
        if not self.positive:
            return None
        share = _DEFER_SHARE * ex.snap.total
        rare = [u for u in self.positive if ex.unit_size(u) <= share]
        if not rare:
            return None
        every = len(rare) == len(self.positive)
        union = np.zeros(ex.snap.total, dtype=bool)
        for unit in rare:
            ex.mark(unit, union)
        docs = union.nonzero()[0]
        if len(docs) < limit and not every:
            return None
        docs, coord = self.match_among(docs, more_than=len(self.positive) - len(rare))
        return (docs, coord) if len(docs) >= limit or every else None

    def match_among(self, docs: np.ndarray, more_than: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The results among the sorted documents ``docs`` that match more than
        ``more_than`` positive clauses, and how many each matches."""
        keep, coord = self.keep_among(docs, more_than)
        return docs[keep], coord[keep]

    def keep_among(self, docs: np.ndarray, more_than: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`match_among` as flags: whether each of ``docs`` is kept, and how many
        positive clauses each matches."""
        ex = self.ex
        coord = np.zeros(len(docs), dtype=np.int32)
        keep = np.ones(len(docs), dtype=bool)
        for unit in self.positive:
            found = ex.unit_contains(unit, docs)
            coord += found
            if unit.occur == "must":
                keep &= found
        keep &= coord > more_than
        for unit in self.negative:
            keep &= ~ex.unit_contains(unit, docs)
        if self.filters:
            keep &= self.filter_mask()[docs]
        return keep, coord


# A term whose postings cover more than this share of the documents is scored, when it can
# be, only for the documents that may still reach the top hits (see ``top_hits``).
_DEFER_SHARE = 1 / 8


def top_hits(
    q: PreparedQuery, cand: np.ndarray, coord: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The best ``limit`` of the documents ``cand`` (sorted) and their scores, best first.

    Ordered by (clauses matched, score, document number). Exact, but lazy in two ways:
    only documents in the highest tiers of matched clauses that hold ``limit`` documents
    can be returned, and frequent terms (which add little to any score) are scored only for
    the documents whose partial score plus the most those terms could add still reaches
    the ``limit``-th best partial score (the MaxScore bound; a BM25 term adds less than
    ``weight * idf``).
    """
    k = min(limit, len(cand))
    tiered = len(q.positive) > 1 and coord.min() < coord.max()
    if tiered:
        at_least = np.cumsum(np.bincount(coord)[::-1])[::-1]  # documents with >= c clauses
        tier = int(np.flatnonzero(at_least >= k)[-1])
        if tier > 1:
            keep = coord >= tier
            cand, coord = cand[keep], coord[keep]
            tiered = coord.min() < coord.max()
    terms = scoring_terms(q)
    light, heavy = _split(q, terms)
    if not light or len(cand) <= k:
        light, heavy = terms, []
    scores = score_docs(q.ex, light, cand)
    if heavy:
        bound = sum(s.weight * idf for s, _p, idf in heavy) * (1.0 + q.ex.ranking.delta)
        # one tier of clauses outweighs any score
        key = coord * (float(scores.max()) + bound + 1.0) + scores if tiered else scores
        kth = np.partition(key, len(key) - k)[len(key) - k]
        alive = np.flatnonzero(key >= kth - bound - 1e-9 * abs(kth))
        cand, coord, scores = cand[alive], coord[alive], scores[alive]
        scores += score_docs(q.ex, heavy, cand)
    key = coord * (float(scores.max()) + 1.0) + scores if tiered else scores
    part = _largest(key, k)
    order = part[np.lexsort((cand[part], -scores[part], -coord[part]))]
    return cand[order], scores[order]


def _largest(key: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the ``k`` largest keys; of keys tied at the cut, the first ones (the
    lowest document numbers, as candidates are sorted), as a full sort would keep."""
    if k >= len(key):
        return np.arange(len(key))
    kth = np.partition(key, len(key) - k)[len(key) - k]
    above = (key > kth).nonzero()[0]
    return np.concatenate((above, (key == kth).nonzero()[0][: k - len(above)]))


def top_hits_from_rare_terms(q: PreparedQuery, limit: int) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`top_hits`, looking only at the documents that hold a rare scoring term, when
    that provably gives the same hits; None otherwise.

    A document without any rare term scores less than the frequent terms' bound (the sum
    of their ``weight * idf``). If the ``limit``-th best of the others matches every
    clause and scores more than that, no such document can take its place. Common words,
    whose clauses are all frequent, are then ranked from their rare terms: their bigrams,
    the words they form, their occurrences in short fields.

    The rare terms are summed for all their documents at once; clauses and frequent terms
    are then looked up only for the documents whose rare-term score is highest, in growing
    batches, until the ``limit``-th best of those that match every clause outscores what
    any other document could reach (its rare-term score plus the frequent terms' bound).
    """
    rare, frequent = _split(q, scoring_terms(q))
    if not rare or not q.positive:
        return None
    bound = sum(s.weight * idf for s, _p, idf in frequent) * (1.0 + q.ex.ranking.delta)
    sums = _rare_sums(q.ex, rare)
    held = sums > 0.0  # every BM25 value is positive: the documents with a rare term
    count = int(np.count_nonzero(held))
    if count < limit:
        return None
    docs = partial = None  # those documents and their sums, made when needed
    every = len(q.positive)
    size = max(8 * limit, 64)
    while size < count // 2:
        if count > 64 * size:  # many: the best sums taken among all documents' at once
            best, next_best = _largest_and_next(sums, size)
            batch = np.sort(best)  # document order
        else:
            if docs is None:
                docs = held.nonzero()[0]
                partial = sums[docs]
            best, next_best = _largest_and_next(partial, size)
            batch = docs[np.sort(best)]
        keep, _coord = q.keep_among(batch, more_than=every - 1)
        cand = batch[keep]
        if 2 * len(cand) < limit:  # the best of them seldom match every clause: give up
            break
        if len(cand) >= limit:
            scores = sums[batch]
            if frequent:  # for the whole batch: the clauses' lookups are reused
                scores += score_docs(q.ex, frequent, batch)
            scores = scores[keep]
            kth = float(np.partition(scores, len(scores) - limit)[len(scores) - limit])
            reach = bound + next_best  # what any other document can reach
            if kth > max(reach, bound) * (1 + 1e-9):
                best = np.lexsort((cand, -scores))[:limit]
                return cand[best], scores[best]
        size *= 4
    return _top_hits_among(q, held.nonzero()[0] if docs is None else docs, bound, limit)


def _largest_and_next(values: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Indexes of the ``size`` largest ``values`` (in no order; ``len(values) > size``) and
    the largest value left out. Only the values that reach a threshold drawn from a sample
    of every 16th are partitioned (the whole array when the sample misjudged): of 20,000,
    about 300 are."""
    n = len(values)
    index = None  # where ``values`` are in the array given
    if n > 64 * size:
        sample = values[::16]
        r = 2 * (size + 1) // 16 + 4  # the r-th largest of the sample: ~16r values reach it
        threshold = np.partition(sample, len(sample) - r)[len(sample) - r]
        above = (values >= threshold).nonzero()[0]
        if len(above) > size:  # every value left out is below those kept
            index, values, n = above, values[above], len(above)
    part = values.argpartition(n - size - 1)
    best = part[n - size :]
    return (best if index is None else index[best]), float(values[part[n - size - 1]])


def _top_hits_among(
    q: PreparedQuery, docs: np.ndarray, bound: float, limit: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`top_hits` over the sorted documents ``docs`` (those with a rare term), kept
    when the ``limit``-th hit matches every clause and outscores ``bound``."""
    cand, coord = q.match_among(docs)
    if len(cand) < limit:
        return None
    hits, scores = top_hits(q, cand, coord, limit)
    last = coord[np.searchsorted(cand, hits[-1])]
    if last == len(q.positive) and float(scores[-1]) > bound * (1 + 1e-9):
        return hits, scores
    return None


def _rare_sums(ex: Executor, terms: list) -> np.ndarray:
    """Per document, the summed BM25 values of ``terms`` (0 where it holds none of them):
    the same sums as :func:`score_docs` over all their postings."""
    snap, r = ex.snap, ex.ranking
    # the file's own uint32 document numbers index as well as int64 ones, without a copy
    norms = [snap.length_norms(s.field, *r.params(s.view), p.sorted_docs) for s, p, _i in terms]
    values = _scaled_bm25(
        [p.freqs for _s, p, _idf in terms],
        norms,
        [s.weight * idf for s, _p, idf in terms],
        [p.df for _s, p, _idf in terms],
        r.delta,
    )
    at = np.concatenate([p.sorted_docs for _s, p, _idf in terms])
    return np.bincount(at, values, minlength=snap.total)  # in posting order, as np.add.at


def _split(q: PreparedQuery, terms: list) -> tuple[list, list]:
    """``terms`` split into rare ones and frequent ones (postings on more than
    ``_DEFER_SHARE`` of the documents)."""
    share = _DEFER_SHARE * q.ex.snap.total
    return [t for t in terms if t[1].df <= share], [t for t in terms if t[1].df > share]


def scoring_terms(q: PreparedQuery) -> list[tuple[ScoredTerm, TermPostings, float]]:
    """(scoring term, its postings, its idf) of every scoring term found in the index."""
    if q.terms is None:
        out = []
        for s in q.scoring:
            p = q.ex.postings(s.field, s.term)
            if p is not None and p.df:
                out.append((s, p, lucene_idf(p.df, q.ex.snap.doc_count)))
        q.terms = out
    return q.terms


def score_docs(ex: Executor, terms: list, docs: np.ndarray) -> np.ndarray:
    """Summed BM25 values of ``terms`` for the sorted documents ``docs``.

    A term with many postings per document asked for is looked up by binary search; the
    others are scored over all their postings at once. Each group is one vectorized pass.
    """
    snap, r = ex.snap, ex.ranking
    # looked up: where each term is found among ``docs``, its frequency and norm there
    where, tf_at, norm_at, scale_at, found_count = [], [], [], [], []
    norms_of_docs: dict[tuple, np.ndarray] = {}  # per (field, k1, b): the norms of ``docs``
    # read whole: every posting
    ids, tfs, norms, scales, counts = [], [], [], [], []
    for s, p, idf in terms:
        params = r.params(s.view)
        if p.df > LOOKUP_COST * len(docs):
            found, i = ex.find(p, docs)
            hit = found.nonzero()[0]
            key = (s.field, *params)
            nd = norms_of_docs.get(key)
            if nd is None:
                nd = norms_of_docs[key] = snap.length_norms(s.field, *params, docs)
            where.append(hit)
            tf_at.append(p.freqs[i[hit]])
            norm_at.append(nd[hit])
            scale_at.append(s.weight * idf)
            found_count.append(len(hit))
            continue
        ids.append(p.sorted_docs)  # uint32 or int64: either indexes without a copy
        tfs.append(p.freqs)
        norms.append(snap.length_norms(s.field, *params, p.sorted_docs))
        scales.append(s.weight * idf)
        counts.append(p.df)
    if where:  # summed per document in term order, as one ``+=`` per term would
        values = _scaled_bm25(tf_at, norm_at, scale_at, found_count, r.delta)
        # (``bincount`` gives integers when no term was found: none of ``docs`` holds one)
        out = np.bincount(np.concatenate(where), values, minlength=len(docs)).astype(
            float, copy=False
        )
    else:
        out = np.zeros(len(docs), dtype=np.float64)
    if ids:
        values = _scaled_bm25(tfs, norms, scales, counts, r.delta)
        at = np.concatenate(ids)
        if len(at) * 4 >= snap.total:
            acc = snap.accumulator()
            try:
                np.add.at(acc, at, values)
                out += acc[docs]
            finally:
                acc[at] = 0.0
        else:  # few postings: sum onto the documents, not onto every document of the index
            found, i = lookup(docs, at)
            out += np.bincount(i[found], values[found], minlength=len(docs))
    return out
