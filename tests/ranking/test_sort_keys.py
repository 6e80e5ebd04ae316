"""Sorting by several keys (``sort=["-published", "title"]``): KEYWORD and ID fields too,
mixed directions, missing values last, score then document number as the tiebreak, pages."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnsearch import ALL, DATETIME, ID, KEYWORD, NUMERIC, TEXT, Index, Schema

DT = datetime.datetime
BODIES = ["phở bò", "phở gà", "phở phở phở ngon", "cơm gà", "bún bò"]
KEYS = ["views", "-views", "topic", "-topic", "id", "-id", "published", "-published", "-score",
        "score"]  # fmt: skip


def schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        body=TEXT(stored=True),
        topic=KEYWORD(stored=True),
        views=NUMERIC(stored=True),
        published=DATETIME(stored=True),
    )


def build(rows: list[dict], batches: int = 2) -> Index:
    ix = Index.in_memory(schema())
    size = max(1, -(-len(rows) // batches))
    for start in range(0, len(rows), size):
        with ix.writer(jobs=1) as w:
            for d in rows[start : start + size]:
                w.add(d)
    return ix


def expected(ix: Index, query, rows: dict[str, dict], keys: list[str]) -> list[str]:
    """Ids ordered by ``keys`` as plain Python sees it: per key, documents without a value
    last; a list of topics by its smallest (ascending) or largest (descending) value; then
    score (best first), then document number."""
    plain = {h.id: h for h in ix.search(query, limit=10**6)}

    def value(i: str, name: str, desc: bool):
        if name == "score":
            return round(plain[i].score, 9)
        v = i if name == "id" else rows[i][name]
        if isinstance(v, list):
            v = (max if desc else min)(v) if v else None
        if isinstance(v, DT):
            v = v.timestamp()
        if isinstance(v, str):
            v = [ord(c) for c in v]  # code point order
        return v

    def key(i: str):
        out = []
        for k in keys:
            name, desc = k.removeprefix("-"), k.startswith("-")
            v = value(i, name, desc)
            if isinstance(v, list):
                v = [-c for c in v] + [1] if desc else v  # a longer string after its prefix
            elif v is not None and desc:
                v = -v
            out += [v is None, 0 if v is None else v]
        return (*out, -round(plain[i].score, 9), plain[i].docnum)

    return sorted(plain, key=key)


ROWS = [
    {"id": "a", "body": "phở bò", "topic": ["uong"], "views": 5, "published": DT(2024, 3, 1)},
    {"id": "b", "body": "phở gà", "topic": ["an", "uong"], "views": 5},
    {"id": "c", "body": "phở phở phở ngon", "topic": [], "views": 1, "published": DT(2024, 1, 1)},
    {"id": "d", "body": "phở bò", "topic": ["ăn"], "published": DT(2024, 3, 1)},
    {"id": "e", "body": "phở gà", "topic": ["an"], "views": 1, "published": DT(2024, 2, 1)},
    {"id": "f", "body": "phở bò", "topic": ["b"], "views": 5, "published": DT(2024, 3, 1)},
]


@pytest.fixture(scope="module")
def ix() -> Index:
    return build([dict(r, topic=r["topic"] or None) for r in ROWS])


def ids(results) -> list[str]:
    return [h.id for h in results]


def test_mixed_directions_and_missing_values(ix: Index) -> None:
    # views 5 (a, b, f), then 1 (c, e), then none (d); then newest (b has no date), then
    # topic (f's 'b' before a's 'uong')
    assert ids(ix.search("phở", sort=["-views", "-published", "topic"])) == list("fabecd")
    # a and f: same views, same day, same score: by document number
    assert ids(ix.search("phở", sort=["views", "published"])) == list("ceafbd")
    # missing values last in both directions: b has no date, c no topic
    assert ids(ix.search("phở", sort=["published"]))[-1] == "b"
    assert ids(ix.search("phở", sort=["-published"]))[-1] == "b"
    assert ids(ix.search("phở", sort="-topic"))[-1] == "c"
    assert ids(ix.search("phở", sort="topic"))[-1] == "c"


def test_keywords_in_code_point_order_and_lists_by_their_ends(ix: Index) -> None:
    # b holds an and uong: first ascending (by 'an'), first descending (by 'uong');
    # 'ăn' (U+0103) sorts after every ASCII letter
    assert ids(ix.search("phở", sort="topic")) == ["b", "e", "f", "a", "d", "c"]
    assert ids(ix.search("phở", sort="-topic")) == ["d", "a", "b", "f", "e", "c"]


def test_ties_by_score_then_document_number(ix: Index) -> None:
    by_score = ids(ix.search("phở", limit=10))
    assert by_score == list("cabdef")  # c scores most, the others tie
    # every date of a, d, f is the same: they keep their score order
    same_day = [i for i in ids(ix.search("phở", sort="published")) if i in "adf"]
    assert same_day == [i for i in by_score if i in "adf"]
    assert ids(ix.search("phở", sort=["-score"])) == by_score
    assert ids(ix.search("phở", sort=["score"])) == list("abdefc")  # ties by number
    assert ids(ix.search(ALL, sort=["views"])) == list("ceabfd")  # scores 0: by number


def test_pages_of_a_sorted_order(ix: Index) -> None:
    whole = ids(ix.search("phở", limit=100, sort=["-views", "topic"]))
    for size in (1, 2, 4):
        pages = []
        for offset in range(0, len(whole), size):
            pages += ids(ix.search("phở", limit=size, offset=offset, sort=["-views", "topic"]))
        assert pages == whole


def test_a_field_named_score_is_a_field() -> None:
    ix = Index.in_memory(Schema(id=ID(stored=True, unique=True), body=TEXT(), score=NUMERIC()))
    with ix.writer(jobs=1) as w:
        w.add({"id": "low", "body": "phở phở phở", "score": 1})
        w.add({"id": "high", "body": "phở", "score": 9})
    assert ids(ix.search("phở", sort="-score")) == ["high", "low"]
    assert ids(Index.in_memory(schema()).search("phở", sort="-score")) == []


@settings(derandomize=True, deadline=None, max_examples=30)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "body": st.sampled_from(BODIES),
                "topic": st.lists(st.sampled_from(["an", "uong", "ăn", "a", "b"]), max_size=2),
                "views": st.one_of(st.none(), st.integers(-3, 3)),
                "published": st.one_of(
                    st.none(), st.sampled_from([DT(2020, 1, 1), DT(2021, 6, 1)])
                ),
            }
        ),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.sampled_from(KEYS), min_size=1, max_size=3),
    st.sampled_from(["phở", "bò", "gà phở", ALL]),
    st.integers(0, 8),
    st.integers(1, 3),
)
def test_against_plain_python(rows, keys, query, limit, batches) -> None:
    rows = [dict(r, id=f"r{i:02}") for i, r in enumerate(rows)]
    ix = build([dict(r, topic=r["topic"] or None) for r in rows], batches)
    order = expected(ix, query, {r["id"]: r for r in rows}, keys)
    r = ix.search(query, limit=limit, sort=keys)
    assert ids(r) == order[:limit] and r.total == len(order)
    assert ids(ix.search(query, limit=limit, offset=2, sort=keys)) == order[2 : 2 + limit]
