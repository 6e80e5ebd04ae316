"""The engine's scores and ranking equal a naive BM25F written here, on random corpora.

The naive version counts terms in ``vnsearch.analyze`` views with dicts and loops (the
analysis itself is tested elsewhere); the engine reads numpy postings from Whoosh segments.
They must agree after adds, deletes, updates and merges.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import vnsearch
from vnsearch import analyze, fold, normalize, segment
from vnsearch.ranking.scoring import Ranking
from vnsearch.ranking.topk import largest_and_next as _largest_and_next

VOCAB = [
    "hà", "ha", "nội", "noi", "đường", "dương", "duong", "hoà", "hòa", "bình", "tổ",
    "chức", "đảng", "trung", "ương", "thuỷ", "điện", "ở", "ý", "Đà", "Nẵng", "kinh", "tế",
]  # fmt: skip
VIEWS = ("syllables", "folded", "bigrams", "folded_bigrams", "words")
RANKING = Ranking(
    k1=1.3,
    b=0.7,
    view_weights={
        "syllables": 1.0,
        "folded": 0.4,
        "bigrams": 0.6,
        "folded_bigrams": 0.3,
        "words": 0.5,
    },
    view_params={"syllables": (0.6, 0.9), "folded": (0.9, 0.5)},  # (k1, b) of their own
)
# BM25+: every occurrence adds ``weight * idf * delta`` on top (the MaxScore bounds grow)
RANKING_PLUS = dataclasses.replace(RANKING, delta=2.0)


def naive_search(docs: dict[str, str], query_words: list[str], ranking: Ranking):
    """(id, coord, score) of every matching document, best first; BM25 with Lucene's idf."""
    counts = {i: {v: Counter(analyze(t).terms(v)) for v in VIEWS} for i, t in docs.items()}
    n = len(docs)
    avg = {v: sum(sum(c[v].values()) for c in counts.values()) / n for v in VIEWS}

    def bm25(view: str, term: str, doc: str) -> float:
        tf = counts[doc][view][term]
        if not tf:
            return 0.0
        df = sum(1 for c in counts.values() if c[view][term])
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        dl = sum(counts[doc][view].values())
        k1, b = ranking.params(view)
        norm = k1 * (1 - b + b * dl / avg[view])
        return ranking.view_weights[view] * idf * (tf / (tf + norm) + ranking.delta)

    lows = [normalize(w).lower() for w in query_words]
    terms = [("syllables", w) for w in lows] + [("folded", fold(w)) for w in lows]
    terms += [("bigrams", f"{a} {b}") for a, b in zip(lows, lows[1:])]
    terms += [("folded_bigrams", f"{fold(a)} {fold(b)}") for a, b in zip(lows, lows[1:])]
    if len(lows) > 1:
        terms += [("words", w.text.lower()) for w in segment(" ".join(query_words))]
    out = []
    for doc in docs:
        coord = sum(1 for w in lows if counts[doc]["folded"][fold(w)])
        if coord:
            score = sum(bm25(view, term, doc) for view, term in terms)
            out.append((doc, coord, score))
    return sorted(out, key=lambda r: (-r[1], -r[2]))


def assert_same(
    ix, docs: dict[str, str], query_words: list[str], limit: int = 1000, ranking=RANKING
) -> None:
    """The engine's top ``limit`` are the naive top ``limit`` (the engine prunes below it)."""
    expected = naive_search(docs, query_words, ranking)
    got = ix.search(" ".join(query_words), limit=limit, ranking=ranking)
    assert got.total == len(expected)
    expected = expected[:limit]
    assert [h.id for h in got] == [r[0] for r in expected] or _same_up_to_ties(got, expected)
    by_id = {r[0]: (r[1], r[2]) for r in naive_search(docs, query_words, ranking)}
    for hit in got:
        assert math.isclose(hit.score, by_id[hit.id][1], rel_tol=1e-9, abs_tol=1e-9)


def _same_up_to_ties(got, expected) -> bool:
    """Equal scores may come in either order; everything else must be the same order."""
    key = lambda s: round(s, 9)  # noqa: E731
    return [key(h.score) for h in got] == [key(r[2]) for r in expected]


SKEWED = VOCAB[:3] * 30 + VOCAB  # a few words in most documents, the rest rare


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.lists(st.sampled_from(SKEWED), min_size=1, max_size=20).map(" ".join),
        min_size=20,
        max_size=60,
    ),
    query=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=5),
    limit=st.sampled_from([1, 2, 3, 5]),
    ranking=st.sampled_from([RANKING, RANKING_PLUS]),
)
def test_top_hits_match_naive_bm25(
    texts: list[str], query: list[str], limit: int, ranking: Ranking
) -> None:
    """Small limits: the engine scores frequent terms only for documents that can still
    make the top hits, and only the best tiers of matched words; the result is the same
    (with BM25+'s delta too: it raises what a frequent term can add)."""
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    docs = {f"d{i}": t for i, t in enumerate(texts)}
    with ix.writer() as w:
        for i, t in docs.items():
            w.add({"id": i, "body": t})
    assert_same(ix, docs, query, limit, ranking)


documents = st.lists(
    st.lists(st.sampled_from(VOCAB), min_size=1, max_size=12).map(" ".join),
    min_size=2,
    max_size=14,
)
queries = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=4)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(texts=documents, query=queries, data=st.data())
def test_engine_matches_naive_bm25(texts: list[str], query: list[str], data) -> None:
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    docs = {f"d{i}": t for i, t in enumerate(texts)}
    half = len(texts) // 2
    with ix.writer() as w:  # two commits: two segments
        for i in list(docs)[:half]:
            w.add({"id": i, "body": docs[i]})
    with ix.writer() as w:
        for i in list(docs)[half:]:
            w.add({"id": i, "body": docs[i]})
    assert_same(ix, docs, query)

    # deletes and updates
    gone = data.draw(st.sets(st.sampled_from(list(docs)), max_size=len(docs) - 1))
    changed = data.draw(st.sampled_from(list(docs)))
    new_text = data.draw(documents.map(lambda ts: ts[0]))
    with ix.writer() as w:
        for i in gone:
            w.delete(i)
            del docs[i]
        w.update({"id": changed, "body": new_text})
        docs[changed] = new_text
    assert_same(ix, docs, query)

    # a merge into one segment changes nothing
    w = ix.writer()
    w.commit(optimize=True)
    assert_same(ix, docs, query)


def _rare_words_index() -> vnsearch.Index:
    """40 filler documents; "đường" in 5 documents, "bình" in 4, both in two (ab1, ab2)."""
    schema = vnsearch.Schema(
        id=vnsearch.ID(stored=True, unique=True),
        body=vnsearch.TEXT(),
        topic=vnsearch.KEYWORD(stored=True),
    )
    ix = vnsearch.Index.in_memory(schema)
    docs = {f"f{i}": "trung ương kinh tế tổ chức đảng" for i in range(40)}
    docs |= {f"a{i}": "đường đường đường đường kinh" for i in range(3)}  # high tf, one word
    docs |= {f"b{i}": "bình bình bình bình tế" for i in range(2)}
    docs["ab1"] = "đường bình chức"  # short: scores highest of the two
    docs["ab2"] = "đường ở trung ương kinh tế và bình"
    with ix.writer() as w:
        for i, text in docs.items():
            w.add({"id": i, "body": text, "topic": "x" if i == "ab2" else "y"})
    return ix


def test_documents_with_every_word_come_first_when_starting_from_the_rarest():
    """With enough documents holding every word, the engine only looks at those: the ones
    with one word repeated must not slip in, nor excluded or filtered ones."""
    ix = _rare_words_index()
    assert [h.id for h in ix.search("đường bình", limit=2)] == ["ab1", "ab2"]
    assert ix.search("đường bình", limit=2).total == 7
    assert [h.id for h in ix.search("đường bình -chức", limit=1)] == ["ab2"]
    assert [h.id for h in ix.search("đường bình", limit=1, filter={"topic": "x"})] == ["ab2"]
    top = ix.search("đường bình", limit=7)  # more than match both words: every tier
    assert [h.id for h in top][:2] == ["ab1", "ab2"] and top.total == 7


def _top_scores(ix, query: str, limit: int, ranking: Ranking = RANKING) -> list[float]:
    return [round(h.score, 9) for h in ix.search(query, limit=limit, ranking=ranking)]


def test_rare_terms_alone_do_not_decide_when_frequent_ones_can_outscore_them():
    """ "tế" is rare as written and frequent folded ("te"): three long documents hold
    "tế", twenty short ones "te" five times. Ranking from the rare exact term alone would
    return the long ones; the short ones score more and must come first."""
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    docs = {f"long{i}": "tế " + " ".join(["kinh"] * 60) for i in range(3)}
    docs |= {f"short{i}": "te te te te te" for i in range(20)}
    docs |= {f"fill{i}": "kinh trung ương" for i in range(40)}
    with ix.writer() as w:
        for i, text in docs.items():
            w.add({"id": i, "body": text})
    plain = Ranking()  # k1 1.2 for every view: the short ones score more
    top = ix.search("tế", limit=3, ranking=plain)
    assert all(h.id.startswith("short") for h in top)
    full = ix.search("tế", limit=1000, ranking=plain)
    assert [h.score for h in top] == [h.score for h in full][:3]


LENGTHS = st.integers(min_value=1, max_value=60)


@settings(derandomize=True, max_examples=80, deadline=None)
@given(
    texts=st.lists(
        st.tuples(st.lists(st.sampled_from(SKEWED), min_size=1, max_size=6), LENGTHS).map(
            lambda t: " ".join(t[0] + ["kinh"] * t[1])
        ),
        min_size=20,
        max_size=50,
    ),
    query=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=4),
    limit=st.sampled_from([1, 3, 5]),
    ranking=st.sampled_from([RANKING, RANKING_PLUS]),
)
def test_top_hits_are_the_head_of_the_full_ranking(texts, query, limit, ranking):
    """Whatever shortcut a small limit takes (rare clauses, rare terms, MaxScore), its hits
    score as the head of the full ranking does; documents of very different lengths make
    frequent terms outscore rare ones."""
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    q = " ".join(query)
    half = len(texts) // 2
    with ix.writer() as w:
        for i, text in enumerate(texts[:half]):
            w.add({"id": f"d{i}", "body": text})
    assert _top_scores(ix, q, limit, ranking) == _top_scores(ix, q, 1000, ranking)[:limit]
    with ix.writer() as w:  # a second segment, and deletions in the first
        for i, text in enumerate(texts[half:], start=half):
            w.add({"id": f"d{i}", "body": text})
        for i in range(0, half, 3):
            w.delete(f"d{i}")
    assert _top_scores(ix, q, limit, ranking) == _top_scores(ix, q, 1000, ranking)[:limit]
    hits = ix.search(q, limit=limit, ranking=ranking)
    assert not {h.id for h in hits} & {f"d{i}" for i in range(0, half, 3)}


def test_frequent_words_ranked_from_their_rare_bigram(monkeypatch):
    """Both words are in nearly every document, side by side in five short ones: the rare
    bigram decides the top hits alone, and they are the head of the full ranking."""
    import vnsearch.ranking.topk as search_module

    decided = []
    original = search_module.top_hits_from_rare_terms

    def spy(q, limit):
        top = original(q, limit)
        decided.append(top is not None)
        return top

    monkeypatch.setattr(search_module, "top_hits_from_rare_terms", spy)
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    docs = {f"apart{i}": f"trung kinh {'tế ' * (i % 4)}ương" for i in range(55)}
    docs |= {f"side{i}": "trung ương" + " đảng" * i for i in range(5)}
    with ix.writer() as w:
        for i, text in docs.items():
            w.add({"id": i, "body": text})
    top = ix.search("trung ương", limit=3)
    assert decided == [True]
    assert [h.id for h in top] == ["side0", "side1", "side2"]
    full = ix.search("trung ương", limit=100)
    assert [h.id for h in top] == [h.id for h in full][:3]
    # the same sums, added in another order
    assert all(math.isclose(a.score, b.score, rel_tol=1e-12) for a, b in zip(top, full))
    assert full.total == top.total == 60


def test_the_score_accumulator_is_left_empty():
    """Scores of frequent terms are summed in a per-thread array that the snapshot keeps
    between queries: every search must leave it all zeros, or the next one would add to
    stale sums."""
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    with ix.writer() as w:
        for i in range(40):
            w.add({"id": str(i), "body": " ".join(VOCAB[: 3 + i % 20])})
    first = [(h.id, h.score) for h in ix.search("hà nội đường", limit=40)]
    for q in ("hà nội đường", "tổ chức", "ha noi", '"trung ương"'):
        ix.search(q, limit=40)
    acc = ix.snapshot().accumulator()
    assert not acc.any()
    assert [(h.id, h.score) for h in ix.search("hà nội đường", limit=40)] == first


def test_common_words_ranked_from_their_best_rare_scores_batch_by_batch(monkeypatch):
    """Both words are in all 1,135 documents, side by side in 135 (45 lengths, each text
    three times: tied scores). The hits are decided from the documents with the best
    bigram scores, a batch at a time, and equal the head of the full ranking, ties in
    document order also where the limit cuts a tie."""
    import vnsearch.ranking.topk as execute

    whole = []
    original = execute._top_hits_among

    def spy(*args):
        whole.append(True)
        return original(*args)

    monkeypatch.setattr(execute, "_top_hits_among", spy)
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    with ix.writer() as w:
        for i in range(1000):
            w.add({"id": f"apart{i}", "body": f"trung kinh {'tế ' * (i % 7)}ương"})
        for i in range(45):
            for copy in range(3):
                w.add({"id": f"side{i}-{copy}", "body": "trung ương" + " đảng" * i})
    full = ix.search("trung ương", limit=2000)
    assert full.total == 1135
    assert [h.id for h in full][:4] == ["side0-0", "side0-1", "side0-2", "side1-0"]
    for limit in (1, 4, 10):
        top = ix.search("trung ương", limit=limit)
        assert [h.id for h in top] == [h.id for h in full][:limit]
        assert all(math.isclose(a.score, b.score, rel_tol=1e-12) for a, b in zip(top, full))
    # limits 1 and 4 were decided by a batch of 64 documents; for 10, a batch would hold
    # more than half of the 135 documents with the bigram: they are all scored instead
    assert whole == [True]


def test_a_limit_that_cuts_tied_scores_keeps_the_first_documents():
    """Every document holds both words, most side by side: no term is rare, every
    document is scored; where the limit cuts a group of equal scores, the documents kept
    are the first ones, as in the full ranking."""
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    with ix.writer() as w:
        for i in range(100):
            w.add({"id": f"apart{i}", "body": f"trung kinh {'tế ' * (i % 7)}ương"})
            for copy in range(3):
                w.add({"id": f"side{i}-{copy}", "body": "trung ương" + " đảng" * i})
    full = [h.id for h in ix.search("trung ương", limit=1000)]
    assert full[:4] == ["side0-0", "side0-1", "side0-2", "side1-0"]
    for limit in (1, 2, 4, 5):
        assert [h.id for h in ix.search("trung ương", limit=limit)] == full[:limit]


def test_rare_clauses_with_fewer_hits_than_the_limit_are_all_the_results():
    """A phrase of common words found in 2 of 120 documents, and a rare word with 3: with
    every clause rare, their documents are all the results, fewer than the limit; the
    same as the full ranking, and no hit where nothing matches."""
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    with ix.writer() as w:
        for i in range(120):
            text = "kinh tế trung ương" if i % 60 == 7 else f"trung {'đảng ' * (i % 5)}kinh ương tế"
            w.add({"id": f"d{i}", "body": text + (" thuỷ điện" if i % 40 == 3 else "")})
    for q in ('"kinh tế"', "thuỷ", '"kinh tế" thuỷ', '+thuỷ "kinh tế"'):
        top = ix.search(q, limit=10, ranking=RANKING)
        full = ix.search(q, limit=1000, ranking=RANKING)
        assert [(h.id, h.score) for h in top] == [(h.id, h.score) for h in full]
        assert 0 < len(top) == top.total < 10
    nothing = ix.search('"tế kinh"', limit=10)
    assert len(nothing) == nothing.total == 0


@settings(derandomize=True, max_examples=80, deadline=None)
@given(
    n=st.integers(1, 30_000),
    size=st.integers(1, 120),
    distinct=st.sampled_from([1, 2, 5, 40, 0]),  # 0: continuous values
    seed=st.integers(0, 2**32 - 1),
)
def test_the_largest_values_and_the_next_are_those_of_a_full_sort(n, size, distinct, seed):
    """The batches of the rare-term path take the ``size`` best partial scores by a
    sampled threshold (past 64 * size values): the same values as sorting, ties included."""
    rng = np.random.default_rng(seed)
    n = max(n, size + 1)
    values = rng.random(n) if not distinct else rng.integers(0, distinct, n) * rng.random()
    best, after = _largest_and_next(values, size)
    ordered = np.sort(values)[::-1]
    assert len(best) == size == len(set(best.tolist()))
    assert np.array_equal(np.sort(values[best]), np.sort(ordered[:size]))
    assert after == ordered[size]


def test_the_largest_values_when_the_sample_misses_them():
    """The sample (every 16th value) holds the largest values but few others that count:
    the threshold keeps fewer than asked for, and the whole array is partitioned."""
    values = np.zeros(20_000)
    values[np.arange(10) * 16] = np.arange(100, 110)  # sampled
    values[np.arange(30) * 16 + 5] = np.arange(1, 31)  # not sampled
    best, after = _largest_and_next(values, 20)
    assert sorted(values[best].tolist()) == [*range(21, 31), *range(100, 110)]
    assert after == 20.0


def test_scores_of_documents_that_hold_none_of_the_looked_up_terms():
    """A term looked up by binary search (many postings, few documents asked for) that none
    of the documents holds, beside a term scored over all its postings: the sums are
    floats, those of the second term alone (numpy's ``bincount`` of nothing is integers)."""
    from vnsearch.ranking.match import Executor
    from vnsearch.ranking.plan import ScoredTerm
    from vnsearch.ranking.topk import score_docs

    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    with ix.writer() as w:
        for i in range(60):
            w.add({"id": str(i), "body": "trung ương" if i < 50 else "hà nội đảng"})
    snap = ix.snapshot()
    ex = Executor(snap, RANKING)
    common = ScoredTerm("body.syllables", "trung", 1.0, "syllables", "body")
    rare = ScoredTerm("body.syllables", "đảng", 1.0, "syllables", "body")
    terms = [(s, ex.postings(s.field, s.term), 1.0) for s in (common, rare)]
    docs = np.array([55, 57])  # hold "đảng", not "trung" (50 postings > 12 * 2)
    got = score_docs(ex, terms, docs)
    alone = score_docs(ex, terms[1:], docs)
    assert got.dtype == np.float64
    assert got.tolist() == alone.tolist() and (got > 0).all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 3000), min_size=1, max_size=400),
    st.sampled_from([0, 10**6, 10**9]),  # far apart: sorted instead of counted
)
def test_length_codes_give_back_every_length(lengths, far) -> None:
    from vnsearch.index.reader import length_codes

    values = np.array(lengths + [far], dtype=np.float64)
    codes, distinct = length_codes(values)
    assert codes.dtype == (np.uint8 if len(set(values)) <= 256 else np.uint16)
    assert distinct.dtype == np.float64 and (np.diff(distinct) > 0).all()
    assert distinct[codes].tolist() == values.tolist()


def test_length_codes_of_too_many_distinct_lengths_are_the_lengths() -> None:
    from vnsearch.index.reader import length_codes

    values = np.arange(70_000, dtype=np.float64)[::-1].copy()
    codes, distinct = length_codes(values)
    assert codes is None and distinct is values
    assert length_codes(np.zeros(0))[1].tolist() == []


def test_norms_read_through_length_codes_are_those_of_each_length() -> None:
    """The norms gathered through the codes are BM25's formula on each document's length,
    bit for bit, and views with equal lengths share one array of codes."""
    from vnsearch.ranking.scoring import length_norms

    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT())
    ix = vnsearch.Index.in_memory(schema)
    with ix.writer() as w:
        for i in range(300):
            w.add({"id": str(i), "body": " ".join(VOCAB[j % len(VOCAB)] for j in range(i))})
        w.delete("7")
    snap = ix.snapshot()
    docs = np.arange(snap.total)
    for field in ("body.syllables", "body.folded", "body.bigrams", "body.words"):
        for k1, b in ((1.2, 0.75), (0.5, 0.9)):
            avg = snap.avg_length[field]
            expected = k1 * (1.0 - b + b * snap.lengths[field] / avg)
            assert length_norms(snap, field, k1, b, docs).tolist() == expected.tolist()
            some = docs[::7].astype(np.uint32)
            assert length_norms(snap, field, k1, b, some).tolist() == expected[::7].tolist()
    assert snap._codes["body.syllables"][0] is snap._codes["body.folded"][0]
    assert snap._codes["body.syllables"][0].dtype == np.uint16  # 300 distinct lengths
