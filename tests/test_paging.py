"""Paging, counting, listing and getting documents: ``search(offset=...)``, ``count``,
``vnsearch.ALL`` (and the empty query), ``get`` and ``doc_count``."""

from __future__ import annotations

import datetime
import pickle

import pytest

import vnsearch
from tests.conftest import news_schema
from tests.helpers import ALL_DOCS, QUERIES, ids, segmented
from vnsearch import ALL, ID, KEYWORD, NUMERIC, TEXT, Index, Schema

# -- a corpus full of ties -------------------------------------------------------------------

BODIES = [
    "phở bò Hà Nội",
    "phở gà Hà Nội",
    "bún chả Hà Nội",
    "phở bò",
    "Hà Nội mùa thu",
    "phở phở phở bò tái",
]
TIED_QUERIES = ["phở", "pho bo", "ha noi", "phở bò Hà Nội", '"hà nội"', "bún OR gà", "-bún phở"]


@pytest.fixture(scope="module")
def tied() -> Index:
    """60 documents in three commits, ten copies of each body (equal scores), a deletion."""
    schema = Schema(
        id=ID(stored=True, unique=True),
        body=TEXT(stored=True),
        topic=KEYWORD(stored=True),
        views=NUMERIC(stored=True),
    )
    ix = Index.in_memory(schema)
    for part in range(3):
        with ix.writer(jobs=1) as w:
            for i in range(part * 20, part * 20 + 20):
                w.add(
                    {
                        "id": f"d{i:02}",
                        "body": BODIES[i % len(BODIES)],
                        "topic": ["an", "uong"][i % 2],
                        "views": i % 4,
                    }
                )
    with ix.writer(jobs=1) as w:
        assert w.delete("d07") == 1
    return ix


def _ranked(results: vnsearch.Results) -> list[tuple[str, float]]:
    return [(h.id, h.score) for h in results]


@pytest.mark.parametrize("sort", [None, "views", "-views"])
@pytest.mark.parametrize("query", TIED_QUERIES)
def test_pages_are_slices_of_one_order(tied: Index, query: str, sort: str | None) -> None:
    whole = tied.search(query, limit=1000, sort=sort)
    assert 0 < len(whole) == whole.total < 60
    for size in (1, 3, 7, 10):
        pages = []
        for offset in range(0, whole.total + size, size):
            page = tied.search(query, limit=size, offset=offset, sort=sort)
            assert page.total == whole.total
            assert len(page) == max(0, min(size, whole.total - offset))
            pages += _ranked(page)
        assert pages == _ranked(whole)  # no hit repeated or skipped, same scores
    # page 1 + page 2 == the top 20
    first, second = (tied.search(query, limit=10, offset=o, sort=sort) for o in (0, 10))
    assert _ranked(first) + _ranked(second) == _ranked(tied.search(query, limit=20, sort=sort))


def test_ties_are_in_document_order(tied: Index) -> None:
    hits = tied.search("phở bò", limit=1000)
    by_score: dict[float, list[str]] = {}
    for hit in hits:
        by_score.setdefault(hit.score, []).append(hit.id)
    assert any(len(group) > 5 for group in by_score.values())  # the fixture has ties
    for group in by_score.values():
        assert group == sorted(group)  # ids grow with document numbers here


def test_offset_past_the_end_keeps_the_total(tied: Index) -> None:
    results = tied.search("phở", limit=10, offset=1000)
    assert len(results) == 0 and results.total == tied.count("phở") > 0
    assert len(tied.search("phở", limit=0, offset=5)) == 0


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"offset": -1}, ValueError),
        ({"limit": -1}, ValueError),
        ({"offset": 1.5}, TypeError),
        ({"offset": True}, TypeError),
        ({"limit": "10"}, TypeError),
    ],
)
def test_offset_and_limit_are_checked(tied: Index, options: dict, error: type) -> None:
    with pytest.raises(error, match=r"offset|limit"):
        tied.search("phở", **options)


# -- counting ------------------------------------------------------------------------------


FILTERS = [None, {"topic": "an"}, {"topic": ["an", "uong"]}, {"views": vnsearch.Range(1, 2)}]


@pytest.mark.parametrize("filter", FILTERS)
def test_count_is_the_total_without_reading_documents(tied, monkeypatch, filter) -> None:
    totals = {q: tied.search(q, filter=filter).total for q in [*TIED_QUERIES, "", "xyz"]}
    totals[ALL] = tied.search(ALL, filter=filter).total
    from vnsearch.index.reader import Snapshot

    def no_reading(self, doc):
        raise AssertionError("count read a stored document")

    monkeypatch.setattr(Snapshot, "stored_fields", no_reading)
    for query, total in totals.items():
        assert tied.count(query, filter=filter) == total


def test_count_on_the_news_corpus(corpus: Index) -> None:
    for query in QUERIES:
        assert corpus.count(query) == corpus.search(query).total
        assert corpus.count(query, fields=["title"]) == corpus.search(query, fields=["title"]).total
    assert corpus.count(ALL) == corpus.doc_count == len(ALL_DOCS)


# -- listing: vnsearch.ALL and the empty query -------------------------------------------------


@pytest.mark.parametrize("query", [ALL, "", "   \n"])
def test_match_all_lists_live_documents_in_document_order(tied: Index, query) -> None:
    live = [f"d{i:02}" for i in range(60) if i != 7]
    results = tied.search(query, limit=100)
    assert ids(results) == live and results.total == 59 == tied.doc_count
    assert {h.score for h in results} == {0.0}
    # paged like any search
    assert ids(tied.search(query, limit=5, offset=20)) == live[20:25]


def test_match_all_with_a_filter_and_a_sort(tied: Index) -> None:
    uong = [f"d{i:02}" for i in range(1, 60, 2) if i != 7]
    results = tied.search(ALL, filter={"topic": "uong"}, limit=100)
    assert ids(results) == uong and results.total == len(uong)
    assert ids(tied.search("", filter={"topic": "uong"}, limit=3)) == uong[:3]
    by_views = tied.search(ALL, filter={"topic": "uong"}, sort="-views", limit=100)
    # views 3 first, then 1 (the odd ids), each in document order
    assert ids(by_views) == [d for d in uong if int(d[1:]) % 4 == 3] + [
        d for d in uong if int(d[1:]) % 4 == 1
    ]
    assert tied.search(ALL, filter={"topic": "nothing"}).total == 0
    with pytest.raises(ValueError, match="body"):
        tied.search(ALL, sort="body")


def test_match_all_hits_have_snippets_without_spans(tied: Index) -> None:
    hit = tied.search(ALL, limit=1)[0]
    assert hit.snippet("body").text == "phở bò Hà Nội" and hit.snippet("body").spans == ()


def test_a_query_still_needs_a_match() -> None:
    """Only an empty query lists: a query of words nobody wrote finds nothing."""
    ix = Index.in_memory(news_schema())
    with ix.writer(jobs=1) as w:
        w.add(ALL_DOCS[0])
    assert ix.search("xyzzy").total == 0 and ix.search("-xyzzy").total == 0
    assert ix.search(ALL).total == 1


def test_all_is_one_object() -> None:
    assert pickle.loads(pickle.dumps(ALL)) is ALL
    assert repr(ALL) == "vnsearch.ALL"
    assert type(ALL)() is ALL


# -- get and doc_count -------------------------------------------------------------------------


def test_get_returns_the_live_stored_document() -> None:
    ix = segmented(Index.in_memory(news_schema()))  # updates "hanoi", deletes "seed2", "hue"
    assert ix.get("hanoi")["title"] == "Mùa đông"  # the updated version
    assert ix.get("seed2") is None and ix.get("hue") is None and ix.get("nope") is None
    doc = ix.get("danang")
    assert doc == {
        "id": "danang",
        "title": "Du lịch biển",
        "body": "Thành phố Đà Nẵng có cầu Rồng và biển Mỹ Khê.",
        "topic": "du-lich",
        "published": datetime.datetime(2024, 3, 1, 12, 0),
    }
    doc["title"] = "changed"  # a copy: the index's own is untouched
    assert ix.get("danang")["title"] == "Du lịch biển"


def test_get_needs_a_unique_field() -> None:
    ix = Index.in_memory(Schema(body=TEXT(stored=True)))
    with pytest.raises(vnsearch.SchemaError, match="unique"):
        ix.get("1")


def test_doc_count_is_the_live_count() -> None:
    ix = Index.in_memory(news_schema())
    with ix.writer(jobs=1) as w:
        for doc in ALL_DOCS[:6]:
            w.add(doc)
    assert ix.doc_count == 6
    with ix.writer(jobs=1) as w:
        w.delete(ALL_DOCS[0]["id"])
        w.update({**ALL_DOCS[1], "title": "mới"})
    assert ix.doc_count == 5 == ix.count(ALL) == ix.stats().documents
    assert ix.stats().deleted == 2
