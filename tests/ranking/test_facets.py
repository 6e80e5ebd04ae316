"""Facets: value counts over every match (``search(..., facets=...)``), against plain Python."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnsearch import ALL, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Index, Range, Schema

DT = datetime.datetime
BODIES = ["phở bò", "phở gà", "cơm gà", "bún bò huế", "trà đá"]


def schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        body=TEXT(stored=True),
        topic=KEYWORD(stored=True),
        views=NUMERIC(),
        price=NUMERIC(numtype="float"),
        published=DATETIME(),
        note=STORED(),
    )


def doc(i: int) -> dict:
    """Document ``i``: topics cycle through 'an', 'uong', both, or none."""
    topic = [["an"], ["uong"], ["an", "re"], []][i % 4]
    return {
        "id": f"d{i:02}",
        "body": BODIES[i % len(BODIES)],
        "topic": topic or None,
        "views": i % 3 if i % 7 else None,
        "price": i / 2,
        "published": DT(2024, 1, 1 + i % 28),
        "note": "x",
    }


@pytest.fixture(scope="module")
def ix() -> tuple[Index, dict[str, dict]]:
    """40 documents in three commits; one deleted, one updated to another topic."""
    ix = Index.in_memory(schema())
    docs = {d["id"]: d for d in map(doc, range(40))}
    for part in range(3):
        with ix.writer(jobs=1) as w:
            for d in list(docs.values())[part * 14 : part * 14 + 14]:
                w.add(d)
    with ix.writer(jobs=1) as w:
        w.delete("d01")
        moved = dict(docs["d00"], topic=["khac"])
        w.update(moved)
    del docs["d01"]
    docs["d00"] = moved
    return ix, docs


def topic_counts(docs: list[dict]) -> Counter:
    return Counter(t for d in docs for t in (d["topic"] or []))


def matching(docs: dict[str, dict], word: str) -> list[dict]:
    return [d for d in docs.values() if word in d["body"].split()]


def test_counts_every_match_not_the_top_hits(ix) -> None:
    index, docs = ix
    r = index.search("phở", limit=1, facets=["topic"])
    want = topic_counts(matching(docs, "phở"))
    assert len(r) == 1 and r.total == len(matching(docs, "phở"))
    assert r.facets["topic"] == dict(want)
    # most frequent first; equal counts in value order
    assert list(r.facets["topic"]) == sorted(want, key=lambda t: (-want[t], t))
    assert "khac" in r.facets["topic"]  # the updated document's new value ...
    assert sum(r.facets["topic"].values()) == sum(want.values())  # ... its old one gone


def test_deleted_documents_are_not_counted(ix) -> None:
    index, docs = ix
    everything = index.search(ALL, limit=0, facets=["topic", "id"])
    assert everything.facets["topic"] == dict(topic_counts(list(docs.values())))
    assert set(everything.facets["id"]) == set(docs)  # not d01, d00 once
    assert set(everything.facets["id"].values()) == {1}
    assert everything.total == len(docs) == 39


def test_filter_offset_and_limit(ix) -> None:
    index, docs = ix
    r = index.search("bò", offset=3, limit=2, filter={"topic": "an"}, facets={"topic": 1})
    kept = [d for d in matching(docs, "bò") if "an" in (d["topic"] or [])]
    assert r.total == len(kept) and len(r) == 2
    assert r.facets == {"topic": {"an": len(kept)}}  # the most frequent only
    listed = index.search("", filter={"views": Range(1, 2)}, facets=["topic"])
    kept = [d for d in docs.values() if d["views"] in (1, 2)]
    assert listed.facets["topic"] == dict(topic_counts(kept))


def test_numeric_and_datetime_values_and_ranges(ix) -> None:
    index, docs = ix
    found = matching(docs, "gà")
    r = index.search(
        "gà",
        facets={
            "views": None,
            "price": [(0, 5), (5, 10), Range(10, 10), (10, None)],
            "published": [(DT(2024, 1, 1), DT(2024, 1, 10)), (None, DT(2024, 1, 2))],
        },
    )
    views = Counter(d["views"] for d in found if d["views"] is not None)
    assert r.facets["views"] == dict(sorted(views.items(), key=lambda kv: (-kv[1], kv[0])))
    prices = [d["price"] for d in found]
    assert r.facets["price"] == {  # (start, end) is start <= value < end; a Range as it says
        (0, 5): sum(0 <= p < 5 for p in prices),
        (5, 10): sum(5 <= p < 10 for p in prices),
        Range(10, 10): prices.count(10),
        (10, None): sum(p >= 10 for p in prices),
    }
    assert list(r.facets["price"]) == [(0, 5), (5, 10), Range(10, 10), (10, None)]
    days = [d["published"] for d in found]
    assert list(r.facets["published"].values()) == [
        sum(DT(2024, 1, 1) <= t < DT(2024, 1, 10) for t in days),
        days.count(DT(2024, 1, 1)),
    ]
    dates = index.search("gà", facets={"published": 2}).facets["published"]
    assert all(isinstance(t, DT) for t in dates) and len(dates) == 2
    by_day = Counter(days)
    assert dates == dict(sorted(by_day.items(), key=lambda kv: (-kv[1], kv[0]))[:2])


def test_nothing_matched(ix) -> None:
    index, _docs = ix
    r = index.search("không có", facets={"topic": None, "views": [(0, 1)]})
    assert r.total == 0 and r.facets == {"topic": {}, "views": {(0, 1): 0}}
    assert index.search("phở").facets == {}  # none asked for


def test_bad_facets(ix) -> None:
    index, _docs = ix
    with pytest.raises(ValueError, match="nope"):
        index.search("phở", facets=["nope"])
    for field in ("body", "note"):
        with pytest.raises(ValueError, match=field):
            index.search("phở", facets=[field])
    with pytest.raises(ValueError, match="topic"):
        index.search("phở", facets={"topic": [(1, 2)]})
    with pytest.raises(TypeError):
        index.search("phở", facets="topic")
    with pytest.raises(TypeError, match="views"):
        index.search("phở", facets={"views": "all"})
    with pytest.raises(TypeError, match="views"):
        index.search("phở", facets={"views": [(1, 2, 3)]})
    with pytest.raises(TypeError):
        index.search("phở", facets={"views": [(1, "2")]})


@settings(derandomize=True, deadline=None, max_examples=25)
@given(
    st.lists(
        st.tuples(st.sampled_from(BODIES), st.lists(st.sampled_from("abcd"), max_size=3)),
        min_size=1,
        max_size=30,
    ),
    st.sets(st.integers(0, 29)),
    st.sampled_from(["phở", "gà", "bò", "phở OR gà", "-gà"]),
    st.integers(1, 3),
)
def test_against_plain_python(rows, deleted, query, batches) -> None:
    index = Index.in_memory(schema())
    docs = [{"id": str(i), "body": b, "topic": t or None} for i, (b, t) in enumerate(rows)]
    size = -(-len(docs) // batches)
    for start in range(0, len(docs), size):
        with index.writer(jobs=1) as w:
            for d in docs[start : start + size]:
                w.add(d)
    with index.writer(jobs=1) as w:
        for i in deleted:
            w.delete(str(i))
    hits = {h.id for h in index.search(query, limit=1000)}
    r = index.search(query, limit=2, facets=["topic"])
    want = Counter(t for d in docs if d["id"] in hits for t in set(d["topic"] or []))
    assert r.facets["topic"] == dict(sorted(want.items(), key=lambda kv: (-kv[1], kv[0])))
