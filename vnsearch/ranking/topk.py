"""Top-k: the best hits of a planned query, scoring only the documents that can be among them.

:func:`best` is the entry point and chooses the candidates: the results that match a rare
clause (``PreparedQuery.match_rare``); when every clause is frequent, the documents holding
a rare scoring term, in batches of the best rare-term sums (``top_hits_from_rare_terms``);
otherwise every result (``match_all``). Scoring then only touches the documents that can
still be among the top hits (``top_hits``): the best tiers of matched clauses, and for
frequent terms only the documents that the MaxScore bound cannot rule out. Results are
exactly those of scoring everything; where the limit cuts equal scores, the lowest
document numbers are kept, as a full sort would: the best ``n`` are the first ``n`` of the
best ``m > n``, so pages (``offset``) never repeat or skip a hit. :func:`listed` lists the
documents a match-all query (``vnsearch.ALL``) selects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from vnsearch.index.reader import FREQUENT_SHARE, LOOKUP_COST, lookup
from vnsearch.ranking.match import Executor, PreparedQuery
from vnsearch.ranking.scoring import bm25_many, length_norms, max_contribution
from vnsearch.ranking.sorting import SortKey, sort_docs, sort_keys

__all__ = [
    "best",
    "largest",
    "largest_and_next",
    "listed",
    "score_docs",
    "selected",
    "selected_mask",
    "top_hits",
    "top_hits_from_rare_terms",
]

_NO_DOCS = np.empty(0, dtype=np.int64)
_NO_DOCS.flags.writeable = False
_NO_SCORES = np.empty(0, dtype=np.float64)
_NO_SCORES.flags.writeable = False


def best(
    q: PreparedQuery, limit: int, sort: str | Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, int | Callable[[], int]]:
    """The best ``limit`` results of ``q`` (document numbers) and their scores, best first,
    and how many documents matched: a number, or a function that counts them (ranking the
    top hits does not need the count, which can cost more than the ranking).

    ``sort`` (``"field"``, ``"-field"`` or a list of such keys) orders every result by
    those keys instead (:func:`~vnsearch.ranking.sorting.sort_docs`). Otherwise the hits
    come from
    the cheapest of three exact ways: the results that match a rare clause
    (``PreparedQuery.match_rare``), the documents with a rare scoring term
    (:func:`top_hits_from_rare_terms`), or one flag per document (``match_all``); each
    then ranked by :func:`top_hits`.
    """
    keys = sort_keys(q.executor.snap, sort)
    if keys:
        return _sorted(q, limit, keys)
    if limit <= 0:
        return _NO_DOCS, _NO_SCORES, q.count
    rare = q.match_rare(limit)
    if rare is not None:
        if not len(rare[0]):
            return _NO_DOCS, _NO_SCORES, 0
        return (*top_hits(q, *rare, limit), q.count)
    top = top_hits_from_rare_terms(q, limit)
    if top is not None:
        return (*top, q.count)
    coord, candidates = q.match_all()
    cand = np.flatnonzero(candidates)
    if not len(cand):
        return _NO_DOCS, _NO_SCORES, 0
    return (*top_hits(q, cand, coord[cand], limit), len(cand))


def _sorted(
    q: PreparedQuery, limit: int, keys: Sequence[SortKey]
) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`best` ordered by sort keys: every result is scored (no pruning)."""
    cand = np.flatnonzero(q.match_all()[1])
    if not len(cand) or limit <= 0:
        return _NO_DOCS, _NO_SCORES, len(cand)
    scores = score_docs(q.executor, q.scoring_terms, cand)
    docs, scores = sort_docs(q.executor.snap, keys, cand, scores, limit)
    return docs, scores, len(cand)


def selected_mask(q: PreparedQuery) -> np.ndarray:
    """Per document: whether it is live and passes ``q``'s filter (a match-all query's
    results)."""
    return q.filter_mask() if q.filters else q.executor.snap.live


def selected(q: PreparedQuery) -> np.ndarray:
    """:func:`selected_mask`'s documents, in document order."""
    return np.flatnonzero(selected_mask(q))


def listed(
    q: PreparedQuery, limit: int, sort: str | Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`best` for a query that matches every document: the first ``limit`` of
    :func:`selected` by ``sort``'s keys (ties and documents without a value as
    :func:`~vnsearch.ranking.sorting.sort_docs` orders them) or by document number, their
    scores (all 0), and how many there are."""
    snap = q.executor.snap
    keys = sort_keys(snap, sort)  # checked even when nothing is selected
    docs = selected(q)
    total = len(docs)
    scores = np.zeros(min(max(limit, 0), total), dtype=np.float64)
    if not keys or not len(scores):
        return docs[: len(scores)], scores, total
    return (*sort_docs(snap, keys, docs, np.zeros(total), len(scores)), total)


def top_hits(
    q: PreparedQuery, cand: np.ndarray, coord: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The best ``limit`` of the documents ``cand`` (sorted) and their scores, best first.

    Ordered by (clauses matched, score, document number). Exact, but lazy in two ways:
    only documents in the highest tiers of matched clauses that hold ``limit`` documents
    can be returned, and frequent terms (which add little to any score) are scored only for
    the documents whose partial score plus the most those terms could add still reaches
    the ``limit``-th best partial score (the MaxScore bound, :func:`max_contribution`).
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
    terms = q.scoring_terms
    light, heavy = _split(q, terms)
    if not light or len(cand) <= k:
        light, heavy = terms, []
    scores = score_docs(q.executor, light, cand)
    if heavy:
        bound = max_contribution([(s.weight, i) for s, _p, i in heavy], q.executor.ranking.delta)
        # one tier of clauses outweighs any score
        key = coord * (float(scores.max()) + bound + 1.0) + scores if tiered else scores
        kth = np.partition(key, len(key) - k)[len(key) - k]
        alive = np.flatnonzero(key >= kth - bound - 1e-9 * abs(kth))
        cand, coord, scores = cand[alive], coord[alive], scores[alive]
        scores += score_docs(q.executor, heavy, cand)
    key = coord * (float(scores.max()) + 1.0) + scores if tiered else scores
    part = largest(key, k)
    order = part[np.lexsort((cand[part], -scores[part], -coord[part]))]
    return cand[order], scores[order]


def largest(key: np.ndarray, k: int) -> np.ndarray:
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
    rare, frequent = _split(q, q.scoring_terms)
    if not rare or not q.positive:
        return None
    bound = max_contribution([(s.weight, i) for s, _p, i in frequent], q.executor.ranking.delta)
    sums = _rare_sums(q.executor, rare)
    held = sums > 0.0  # every BM25 value is positive: the documents with a rare term
    count = int(np.count_nonzero(held))
    if count < limit:
        return None
    docs = partial = None  # those documents and their sums, made when needed
    every = q.clauses
    size = max(8 * limit, 64)
    while size < count // 2:
        if count > 64 * size:  # many: the best sums taken among all documents' at once
            best, next_best = largest_and_next(sums, size)
            batch = np.sort(best)  # document order
        else:
            if docs is None:
                docs = held.nonzero()[0]
                partial = sums[docs]
            best, next_best = largest_and_next(partial, size)
            batch = docs[np.sort(best)]
        keep, _coord = q.keep_among(batch, more_than=every - 1)
        cand = batch[keep]
        if 2 * len(cand) < limit:  # the best of them seldom match every clause: give up
            break
        if len(cand) >= limit:
            scores = sums[batch]
            if frequent:  # for the whole batch: the clauses' lookups are reused
                scores += score_docs(q.executor, frequent, batch)
            scores = scores[keep]
            kth = float(np.partition(scores, len(scores) - limit)[len(scores) - limit])
            reach = bound + next_best  # what any other document can reach
            if kth > max(reach, bound) * (1 + 1e-9):
                best = np.lexsort((cand, -scores))[:limit]
                return cand[best], scores[best]
        size *= 4
    return _top_hits_among(q, held.nonzero()[0] if docs is None else docs, bound, limit)


def largest_and_next(values: np.ndarray, size: int) -> tuple[np.ndarray, float]:
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
    if last == q.clauses and float(scores[-1]) > bound * (1 + 1e-9):
        return hits, scores
    return None


def _rare_sums(ex: Executor, terms: list) -> np.ndarray:
    """Per document, the summed BM25 values of ``terms`` (0 where it holds none of them):
    the same sums as :func:`score_docs` over all their postings."""
    snap, r = ex.snap, ex.ranking
    # the file's own uint32 document numbers index as well as int64 ones, without a copy
    norms = [
        length_norms(snap, s.field, *r.params(s.view), p.sorted_docs, ex.avg_length(s.field))
        for s, p, _i in terms
    ]
    values = bm25_many(
        [p.freqs for _s, p, _i in terms],
        norms,
        [s.weight * i for s, _p, i in terms],
        [p.df for _s, p, _i in terms],
        r.delta,
    )
    at = np.concatenate([p.sorted_docs for _s, p, _i in terms])
    return np.bincount(at, values, minlength=snap.total)  # in posting order, as np.add.at


def _split(q: PreparedQuery, terms: list) -> tuple[list, list]:
    """``terms`` split into rare ones and frequent ones (postings on more than
    ``FREQUENT_SHARE`` of the documents)."""
    share = FREQUENT_SHARE * q.executor.snap.total
    return [t for t in terms if t[1].df <= share], [t for t in terms if t[1].df > share]


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
    for s, p, term_idf in terms:
        params = r.params(s.view)
        if p.df > LOOKUP_COST * len(docs):
            found, i = ex.find(p, docs)
            hit = found.nonzero()[0]
            key = (s.field, *params)
            nd = norms_of_docs.get(key)
            if nd is None:
                avg = ex.avg_length(s.field)
                nd = norms_of_docs[key] = length_norms(snap, s.field, *params, docs, avg)
            where.append(hit)
            tf_at.append(p.freqs[i[hit]])
            norm_at.append(nd[hit])
            scale_at.append(s.weight * term_idf)
            found_count.append(len(hit))
            continue
        ids.append(p.sorted_docs)  # uint32 or int64: either indexes without a copy
        tfs.append(p.freqs)
        norms.append(length_norms(snap, s.field, *params, p.sorted_docs, ex.avg_length(s.field)))
        scales.append(s.weight * term_idf)
        counts.append(p.df)
    if where:  # summed per document in term order, as one ``+=`` per term would
        values = bm25_many(tf_at, norm_at, scale_at, found_count, r.delta)
        # (``bincount`` gives integers when no term was found: none of ``docs`` holds one)
        out = np.bincount(np.concatenate(where), values, minlength=len(docs)).astype(
            float, copy=False
        )
    else:
        out = np.zeros(len(docs), dtype=np.float64)
    if ids:
        values = bm25_many(tfs, norms, scales, counts, r.delta)
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
