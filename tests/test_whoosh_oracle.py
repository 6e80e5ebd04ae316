"""Stock Whoosh as an oracle: its own searcher, reading vnsearch's segments, finds the same
documents for terms and phrases (also in merged segments and segments with deletions).
"""

from __future__ import annotations

from collections import Counter

import pytest
from whoosh import query as wq
from whoosh.searching import Searcher

from tests.helpers import assert_same, hand, ids, news_seeds, segmented
from vnsearch import Index, analyze, fold

pytestmark = pytest.mark.usefixtures("private_tempdir")


def _oracle_terms() -> list[str]:
    """About 30 syllables of the seed bodies, from frequent to rare, accented and not."""
    counts: Counter[str] = Counter()
    for doc in news_seeds():
        counts.update(t.text for t in analyze(doc["body"])["syllables"] if t.kind == "syllable")
    ranked = sorted(counts, key=lambda term: (-counts[term], term))
    step = max(1, len(ranked) // 28)
    terms = ranked[::step][:28]
    return sorted(set(terms) | {"ha", "đảng", "nghị"})


ORACLE_TERMS = _oracle_terms()


@pytest.fixture(scope="module")
def whoosh_searcher(corpus):
    s = Searcher(corpus.snapshot().reader, closereader=False)
    yield s


def _whoosh_ids(searcher, q) -> set[str]:
    return {hit["id"] for hit in searcher.search(q, limit=None)}


def test_oracle_terms_are_varied():
    assert len(ORACLE_TERMS) >= 28
    assert any(fold(t) != t for t in ORACLE_TERMS)
    assert any(fold(t) == t for t in ORACLE_TERMS)


@pytest.mark.parametrize("term", ORACLE_TERMS)
def test_single_term_matches_whoosh(corpus, whoosh_searcher, term):
    expected = _whoosh_ids(whoosh_searcher, wq.Term("body.folded", fold(term)))
    results = corpus.search(term, fields=["body"], limit=1000)
    assert results.total == len(results)
    assert set(ids(results)) == expected
    assert expected  # the term is in the seeds
    # the same for the title field
    expected_title = _whoosh_ids(whoosh_searcher, wq.Term("title.folded", fold(term)))
    assert set(ids(corpus.search(term, fields=["title"], limit=1000))) == expected_title


def test_single_term_exact_view_matches_whoosh(corpus, whoosh_searcher):
    """Accented documents rank by the exact view too: it scores the Whoosh-exact set higher."""
    exact = _whoosh_ids(whoosh_searcher, wq.Term("body.syllables", "đường"))
    assert "duong-exact" in exact and "duong-folded" not in exact
    assert exact < set(ids(corpus.search("đường", fields=["body"], limit=1000)))


@pytest.mark.parametrize(
    ("phrase", "view", "words"),
    [
        ('"tổ chức"', "syllables", ["tổ", "chức"]),
        ('"Trung ương Đảng"', "syllables", ["trung", "ương", "đảng"]),
        ('"Hà Nội"', "syllables", ["hà", "nội"]),
        ('"xay dung dang"', "folded", ["xay", "dung", "dang"]),
        ('"hoi nghi"', "folded", ["hoi", "nghi"]),
    ],
)
def test_phrase_matches_whoosh(corpus, whoosh_searcher, phrase, view, words):
    expected = _whoosh_ids(whoosh_searcher, wq.Phrase(f"body.{view}", words))
    assert expected
    results = corpus.search(phrase, fields=["body"], limit=1000)
    assert set(ids(results)) == expected
    assert results.total == len(expected)


def test_whoosh_reads_the_merged_index(schema):
    ix = segmented(Index.in_memory(schema))
    ix.writer().commit(optimize=True)
    s = Searcher(ix.snapshot().reader, closereader=False)
    for term in ("to", "chuc", "dang", "ha", "noi", "pho"):
        assert _whoosh_ids(s, wq.Term("body.folded", term)) == set(
            ids(ix.search(term, fields=["body"], limit=1000))
        )
    assert _whoosh_ids(s, wq.Phrase("body.syllables", ["tổ", "chức"])) == set(
        ids(ix.search('"tổ chức"', fields=["body"], limit=1000))
    )


@pytest.mark.parametrize("deleted_share", [0.05, 0.6], ids=["few-deleted", "many-deleted"])
def test_segments_with_deletions_match_whoosh(deleted_share, schema):
    """Postings of a segment with deleted documents drop them (looked up in the postings
    when they are few, read per posting when many): terms, phrases (whose positions are
    read for the kept postings only) and document frequencies agree with Whoosh's own
    searcher, which skips deleted documents itself; scores are those of an index that
    never had the deleted documents."""

    def body(i: int) -> str:  # every third document holds the phrases, all hold the words
        if i % 3:
            return "Nội dung tổ chức ở Hà Tây, phố cổ và đảng " * (1 + i % 4)
        return "Hội nghị tổ chức đảng ở Hà Nội, phố cổ " * (1 + i % 4)

    gone = {f"d{i}" for i in range(120) if (i * 7919) % 100 < deleted_share * 100}
    ix = Index.in_memory(schema)
    with ix.writer() as w:  # one segment ...
        for i in range(120):
            w.add(hand(f"d{i}", "Tin", body(i), "thoi-su"))
    with ix.writer() as w:  # ... and a second: global numbers differ from local ones
        for i in range(120, 130):
            w.add(hand(f"d{i}", "Tin", body(i), "thoi-su"))
    with ix.writer() as w:
        for doc_id in gone:
            w.delete(doc_id)
    fresh = Index.in_memory(schema)  # the same documents, never deleted
    with fresh.writer() as w:
        for i in range(130):
            if f"d{i}" not in gone:
                w.add(hand(f"d{i}", "Tin", body(i), "thoi-su"))
    snap = ix.snapshot()
    assert len(snap.segments) == 2 and snap._deleted  # the first keeps its deletions
    s = Searcher(snap.reader, closereader=False)
    with_phrase = {f"d{i}" for i in range(0, 130, 3)} - gone
    for query, whoosh_query, expected in [
        ('"Hà Nội"', wq.Phrase("body.syllables", ["hà", "nội"]), with_phrase),
        ('"tổ chức đảng"', wq.Phrase("body.syllables", ["tổ", "chức", "đảng"]), with_phrase),
        ("phố", wq.Term("body.folded", "pho"), {f"d{i}" for i in range(130)} - gone),
    ]:
        assert _whoosh_ids(s, whoosh_query) == expected
        results = ix.search(query, fields=["body"], limit=1000)
        assert set(ids(results)) == expected and results.total == len(expected)
    assert snap.postings("body.syllables", "phố").df == 130 - len(gone)
    for query in ('"Hà Nội"', "phố cổ", "to chuc dang", "nội"):
        a = [(h.id, h.score) for h in ix.search(query, limit=200)]
        assert_same([a], [[(h.id, h.score) for h in fresh.search(query, limit=200)]])
