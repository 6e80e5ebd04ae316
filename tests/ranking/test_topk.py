"""Top-k: ``topk.best`` and its selection helpers give what a full sort gives.

Every path ``best`` can take (rare clauses, rare scoring terms in batches, one flag per
document, sorting by a field) is compared with scoring every result and sorting them all,
on random corpora; the helpers that pick the largest values, with a full sort of random
values.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import vnsearch
from vnsearch.ranking.match import PreparedQuery
from vnsearch.ranking.plan import plan_search
from vnsearch.ranking.scoring import DEFAULT_RANKING, Ranking
from vnsearch.ranking.topk import best, largest, largest_and_next, score_docs

WORDS = ["hà", "nội", "ha", "noi", "trung", "ương", "kinh", "tế", "te", "đảng", "huế", "bình"]
BM25_PLUS = Ranking(delta=0.1, view_params={"syllables": (0.6, 0.9)})


def _prepared(snap, query: str, ranking: Ranking) -> PreparedQuery:
    return PreparedQuery(snap, plan_search(snap, query, None, ranking), None, ranking)


def _full_sort(q: PreparedQuery) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every result, scored and ordered by (clauses matched, score, document number)."""
    coord, results = q.match_all()
    docs = np.flatnonzero(results)
    scores = score_docs(q.executor, q.scoring_terms, docs)
    order = np.lexsort((docs, -scores, -coord[docs]))
    return docs[order], scores[order], coord[docs][order]


def _total(total) -> int:
    return total() if callable(total) else total


def _assert_head_of_full_sort(q: PreparedQuery, limit: int) -> None:
    docs, scores, total = best(q, limit)
    all_docs, all_scores, all_coord = _full_sort(q)
    assert _total(total) == len(all_docs)
    assert len(docs) == len(scores) == min(limit, len(all_docs))
    # the same ranking keys, in order (scores summed in another order may differ in the
    # last bits, so documents tied at the cut may be others with equal keys)
    coord = dict(zip(all_docs.tolist(), all_coord.tolist()))
    full = dict(zip(all_docs.tolist(), all_scores.tolist()))
    got = [(coord[d], round(s, 9)) for d, s in zip(docs.tolist(), scores.tolist())]
    want = [(c, round(s, 9)) for c, s in zip(all_coord.tolist(), all_scores.tolist())]
    assert got == want[: len(got)]
    for d, s in zip(docs.tolist(), scores.tolist()):
        assert math.isclose(s, full[d], rel_tol=1e-12)


def _index(texts: list[str], deleted: int = 0) -> vnsearch.Index:
    schema = vnsearch.Schema(
        id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT(), n=vnsearch.NUMERIC()
    )
    ix = vnsearch.Index.in_memory(schema)
    half = len(texts) // 2
    for part in (range(half), range(half, len(texts))):  # two segments
        with ix.writer() as w:
            for i in part:
                w.add({"id": f"d{i}", "body": texts[i], "n": (i * 7) % 5})
    if deleted:
        with ix.writer() as w:
            for i in range(0, len(texts), deleted):
                w.delete(f"d{i}")
    return ix


texts = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join),
    min_size=1,
    max_size=60,
)
queries = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)
    .map(" ".join)
    .flatmap(lambda words: st.sampled_from([words, f'"{words}"', f"+{words}", f"{words} -huế"])),
    min_size=1,
    max_size=4,
)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(
    texts=texts,
    queries=queries,
    limit=st.sampled_from([1, 3, 10]),
    deleted=st.sampled_from([0, 3]),
)
def test_best_is_the_head_of_a_full_sort(texts, queries, limit, deleted):
    ix = _index(texts, deleted)
    snap = ix.snapshot()
    for query in queries:
        for ranking in (BM25_PLUS, DEFAULT_RANKING):
            _assert_head_of_full_sort(_prepared(snap, query, ranking), limit)
    ix.close()


def test_best_from_rare_terms_in_batches_is_the_head_of_a_full_sort():
    """Both words in every document, side by side in 135 of 1,135: the hits come from the
    documents with the best bigram scores, a batch at a time."""
    texts = [f"trung kinh {'tế ' * (i % 7)}ương" for i in range(1000)]
    texts += ["trung ương" + " đảng" * (i // 3) for i in range(135)]
    ix = _index(texts)
    snap = ix.snapshot()
    for limit in (1, 4, 10, 70):
        _assert_head_of_full_sort(_prepared(snap, "trung ương", DEFAULT_RANKING), limit)
    ix.close()


def test_best_with_no_limit_or_no_result_has_no_hits_but_the_total():
    ix = _index(["hà nội", "huế", "hà nội huế"])
    snap = ix.snapshot()
    docs, scores, total = best(_prepared(snap, "hà nội", BM25_PLUS), 0)
    assert len(docs) == len(scores) == 0 and _total(total) == 2
    docs, scores, total = best(_prepared(snap, "đảng", BM25_PLUS), 10)
    assert len(docs) == len(scores) == 0 and _total(total) == 0
    ix.close()


@settings(derandomize=True, max_examples=20, deadline=None)
@given(texts=texts, limit=st.sampled_from([1, 5, 100]), descending=st.booleans())
def test_best_sorted_by_a_field_is_a_full_sort_by_value_then_score(texts, limit, descending):
    ix = _index(texts)
    snap = ix.snapshot()
    q = _prepared(snap, "hà nội", BM25_PLUS)
    docs, scores, total = best(q, limit, sort="-n" if descending else "n")
    all_docs = np.flatnonzero(q.match_all()[1])
    all_scores = score_docs(q.executor, q.scoring_terms, all_docs)
    values = snap.field_values("n")[0][all_docs]
    key = -values if descending else values
    order = np.lexsort((all_docs, -all_scores, key))[:limit]
    assert _total(total) == len(all_docs)
    assert docs.tolist() == all_docs[order].tolist()
    assert scores.tolist() == all_scores[order].tolist()
    ix.close()


@settings(derandomize=True, max_examples=80, deadline=None)
@given(
    n=st.integers(1, 30_000),
    size=st.integers(1, 150),
    distinct=st.sampled_from([1, 3, 50, 0]),  # 0: continuous values
    seed=st.integers(0, 2**32 - 1),
)
def test_largest_and_next_are_those_of_a_full_sort(n, size, distinct, seed):
    """The ``size`` largest values (ties included) and the next, by a sampled threshold
    past 64 * ``size`` values, as sorting gives them."""
    rng = np.random.default_rng(seed)
    n = max(n, size + 1)
    values = rng.random(n) if not distinct else rng.integers(0, distinct, n) * rng.random()
    best_i, after = largest_and_next(values, size)
    ordered = np.sort(values)[::-1]
    assert len(best_i) == size == len(np.unique(best_i))
    assert np.array_equal(np.sort(values[best_i])[::-1], ordered[:size])
    assert after == ordered[size]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    n=st.integers(1, 500),
    k=st.integers(1, 600),
    distinct=st.sampled_from([1, 2, 10, 0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_largest_keeps_the_first_of_the_keys_tied_at_the_cut(n, k, distinct, seed):
    """As a stable full sort by descending key: ties at the cut keep the lowest indexes
    (the lowest document numbers, as candidates are sorted)."""
    rng = np.random.default_rng(seed)
    key = rng.random(n) if not distinct else rng.integers(0, distinct, n).astype(float)
    picked = largest(key, k)
    expected = np.argsort(-key, kind="stable")[:k]
    assert sorted(picked.tolist()) == sorted(expected.tolist())
