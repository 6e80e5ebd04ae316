"""A ShardedIndex sorts by fields and counts facets as one index over the same documents.

Each shard sorts its own matches and counts its own values; the merge (``shards/merge.py``)
must give one index's page: the same hits in the same order by the sort keys (documents
without a value last), then score; facet counts summed, the best ``n`` values cut only
after summing. Hits tied on every key may stand in another order (one index orders them
as they were added), so ties are compared as sets.
"""

from __future__ import annotations

import datetime
import random
from itertools import groupby

import pytest

from vnsearch import ALL, DATETIME, ID, KEYWORD, NUMERIC, TEXT, Index, Schema, ShardedIndex

TOPICS = ["an", "re", "uong", "choi", "ngu"]
WORDS = ["phở", "bò", "gà", "Hà", "Nội", "bún", "chả", "trà", "đá", "cà", "phê", "sữa"]


def _schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        body=TEXT(stored=True),
        topic=KEYWORD(stored=True),
        views=NUMERIC(stored=True),
        published=DATETIME(stored=True),
    )


def _docs() -> list[dict]:
    rng = random.Random(21)
    views = rng.sample(range(10_000), 300)
    docs = []
    for i in range(300):
        doc = {"id": f"d{i}", "body": " ".join(rng.choices(WORDS, k=rng.randint(3, 12)))}
        if i % 5:  # a fifth without views: they sort last either way
            doc["views"] = views[i] if i % 7 else views[i] % 3  # some equal values
        if i % 4:
            doc["topic"] = rng.sample(TOPICS, rng.randint(1, 2))
        if i % 3:
            doc["published"] = datetime.datetime(2020, 1, 1) + datetime.timedelta(days=i % 40)
        docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def both() -> tuple[Index, ShardedIndex]:
    one, sharded = Index.in_memory(_schema()), ShardedIndex.in_memory(_schema(), shards=3)
    docs = _docs()
    for ix in (one, sharded):
        with ix.writer() as w:
            for doc in docs:
                w.add(doc)
    assert {len([d for d in docs if sharded.shard_of(d["id"]) == s]) for s in range(3)} != {0}
    return one, sharded


def _groups(hits) -> list[tuple]:
    """The hits as (sort values, score rounded, set of ids) per run of equal keys."""
    key = lambda h: (h.sort_values, round(h.score, 9))  # noqa: E731
    return [(k, {h.id for h in g}) for k, g in groupby(hits, key)]


@pytest.mark.parametrize(
    "sort",
    ["-views", "views", ["topic", "-views"], "-topic", ["-published", "score"], ["-score"]],
)
@pytest.mark.parametrize("query", ["phở bò", "ha noi", ALL])
def test_sorted_pages_are_one_index_pages(both, sort, query):
    one, sharded = both
    for offset, limit in [(0, 10), (7, 15), (0, 300)]:
        want = one.search(query, limit, offset=offset, sort=sort)
        got = sharded.search(query, limit, offset=offset, sort=sort)
        assert len(got) == len(want) > 0
        if limit == 300:  # a whole order: the same runs of equal keys, in order
            assert _groups(got.hits) == _groups(want.hits)
        assert [h.sort_values for h in got] == [h.sort_values for h in want]
        assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-9)
        assert got.total == want.total


@pytest.mark.parametrize(
    "facets",
    [
        ["topic"],
        {"topic": 2, "views": 3},
        {"views": [(0, 5000), (5000, None), (0, 3)], "published": None},
    ],
)
@pytest.mark.parametrize("query", ["phở", "ca phe", ALL])
def test_facets_are_one_index_counts(both, facets, query):
    one, sharded = both
    want = one.search(query, 5, facets=facets, filter=None)
    got = sharded.search(query, 5, facets=facets)
    assert got.facets and [list(v.items()) for v in got.facets.values()] == [
        list(v.items()) for v in want.facets.values()
    ]
    assert list(got.facets) == list(want.facets)
    assert got.total == want.total


def test_the_best_values_are_cut_after_summing():
    """A value second in every shard can be first overall: each shard counts them all."""
    schema = Schema(id=ID(stored=True, unique=True), body=TEXT(), topic=KEYWORD())
    sharded = ShardedIndex.in_memory(schema, shards=2)
    one = Index.in_memory(schema)
    docs, n = [], 0
    for shard in range(2):  # per shard: 3 of its own topic, 2 of "chung"
        for topic, count in ((f"rieng{shard}", 3), ("chung", 2)):
            for _ in range(count):
                while sharded.shard_of(f"x{n}") != shard:
                    n += 1
                docs.append({"id": f"x{n}", "body": "phở", "topic": topic})
                n += 1
    for ix in (one, sharded):
        with ix.writer() as w:
            for doc in docs:
                w.add(doc)
    want = one.search("pho", facets={"topic": 1}).facets
    assert want == {"topic": {"chung": 4}}
    assert sharded.search("pho", facets={"topic": 1}).facets == want
