"""Range filters and sorting on NUMERIC and DATETIME fields, checked against plain Python."""

from __future__ import annotations

import datetime
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vnsearch
from vnsearch import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Index, Range, Schema
from vnsearch.ranking.search import search

DT = datetime.datetime
BIG = 2**63 - 1  # the largest int: its column key is the one of a missing value
BODIES = ["phở bò", "phở gà", "cơm gà", "bún bò huế", "phở phở phở ngon", "bánh mì"]
QUERIES = ["phở", "bò", "gà", "phở bò"]
FIELDS = ("views", "price", "published")


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        body=TEXT(stored=True),
        topic=KEYWORD(stored=True),
        views=NUMERIC(stored=True),
        price=NUMERIC(numtype="float", stored=True),
        published=DATETIME(stored=True),
        note=STORED(),
    )


def doc(id_, body="phở bò", topic="a", views=None, price=None, published=None) -> dict:
    return {
        "id": id_,
        "body": body,
        "topic": topic,
        "views": views,
        "price": price,
        "published": published,
        "note": "x",
    }


def write(ix: Index, docs: list[dict], batches: int = 3) -> Index:
    """``docs`` in ``batches`` commits (segments)."""
    size = max(1, -(-len(docs) // batches))
    for start in range(0, len(docs), size):
        with ix.writer() as w:
            for d in docs[start : start + size]:
                w.update(d)
    return ix


def ids(results) -> list[str]:
    return [h.id for h in results]


def matches(query: str, d: dict) -> bool:
    return any(word in d["body"].split() for word in query.split())


def in_range(value, r: Range) -> bool:
    if value is None:
        return False
    if r.start is not None and (value < r.start or (value == r.start and not r.include_start)):
        return False
    return not (r.end is not None and (value > r.end or (value == r.end and not r.include_end)))


def number(value) -> float | int:
    """A value as a number with the same order (datetimes in microseconds)."""
    if isinstance(value, DT):
        return (value - DT(1, 1, 1)) // datetime.timedelta(microseconds=1)
    return value


def expected_sorted(ix: Index, query: str, docs: dict[str, dict], field: str, desc: bool):
    """Ids of the matches ordered by ``field`` as plain Python sees it: missing values last,
    ties by the unsorted search's score (best first), then document number."""
    plain = {h.id: h for h in ix.search(query, limit=10**6)}
    assert set(plain) == {i for i, d in docs.items() if matches(query, d)}

    def key(i):
        v = docs[i][field]
        x = 0 if v is None else number(v)
        return (v is None, -x if desc else x, -round(plain[i].score, 9), plain[i].docnum)

    return sorted(plain, key=key), plain


# -- ranges ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> Index:
    docs = [
        doc(f"d{i}", topic="ab"[i % 2], views=i, price=i - 4.5, published=DT(2024, 1, 1 + i))
        for i in range(10)
    ]
    docs.append(doc("none"))  # no values at all
    return write(Index.in_memory(make_schema()), docs)


@pytest.mark.parametrize(
    ("rng", "want"),
    [
        (Range(3, 6), [3, 4, 5, 6]),
        (Range(3, 6, include_start=False), [4, 5, 6]),
        (Range(3, 6, include_end=False), [3, 4, 5]),
        (Range(3, 6, False, False), [4, 5]),
        (Range(None, 2), [0, 1, 2]),
        (Range(7, None), [7, 8, 9]),
        (Range(end=0, include_end=False), []),
        (Range(6, 3), []),
        (Range(2.5, 4.5), [3, 4]),  # float bounds on an int field
        (Range(-(2**70), 2**70), list(range(10))),  # bounds beyond int64
        (Range(), list(range(10))),  # any value: documents without one are left out
    ],
)
def test_int_ranges(small, rng, want):
    got = ids(small.search("phở", limit=100, filter={"views": rng}))
    assert sorted(got) == sorted(f"d{i}" for i in want)


def test_float_and_datetime_ranges_and_edges(small):
    def by(field, rng):
        return sorted(int(i[1:]) for i in ids(small.search("phở", limit=100, filter={field: rng})))

    assert by("price", Range(-1.5, 0.5)) == [3, 4, 5]  # prices i - 4.5
    assert by("price", Range(-1.5, 0.5, include_start=False)) == [4, 5]
    assert by("price", Range(None, -4.5)) == [0]
    assert by("price", Range(-4.4, float("inf"))) == list(range(1, 10))
    edge = DT(2024, 1, 3)
    assert by("published", Range(edge, edge)) == [2]
    assert by("published", Range(edge, None, include_start=False)) == list(range(3, 10))
    assert by("published", Range(edge + datetime.timedelta(microseconds=1), None)) == list(
        range(3, 10)
    )
    assert by("published", Range(None, edge - datetime.timedelta(microseconds=1))) == [0, 1]


def test_range_with_equality_filters_and_lists(small):
    def by(filt):
        return sorted(int(i[1:]) for i in ids(small.search("phở", limit=100, filter=filt)))

    assert by({"views": Range(2, 7), "topic": "b"}) == [3, 5, 7]
    assert by({"views": [Range(None, 1), Range(8, None)]}) == [0, 1, 8, 9]  # any of them
    assert by({"views": [Range(None, 1), 5]}) == [0, 1, 5]  # a range or a value
    assert by({"views": Range(0, 8), "price": Range(-2.0, None)}) == [3, 4, 5, 6, 7, 8]
    assert small.search("phở", filter={"views": Range(2, 7)}).total == 6


def test_largest_int_is_a_value_not_a_missing_one():
    ix = write(Index.in_memory(make_schema()), [doc("big", views=BIG), doc("none")], 1)
    assert ids(ix.search("phở", filter={"views": Range(BIG, None)})) == ["big"]
    assert ids(ix.search("phở", filter={"views": Range()})) == ["big"]
    assert ids(ix.search("phở", sort="views")) == ["big", "none"]
    assert ids(ix.search("phở", sort="-views")) == ["big", "none"]


def test_extreme_values_sort_both_ways():
    views = [BIG, -(2**63), 0, -1, None, BIG - 1]
    prices = [float("inf"), -float("inf"), -0.0, 5e-324, None, -1e308]
    docs = [doc(f"d{i}", views=v, price=p) for i, (v, p) in enumerate(zip(views, prices))]
    ix = write(Index.in_memory(make_schema()), docs)
    for field, values in (("views", views), ("price", prices)):
        for desc in (False, True):
            got = ids(ix.search("phở", sort=("-" if desc else "") + field))
            present = sorted((v for v in values if v is not None), reverse=desc)
            assert [docs[int(i[1:])][field] for i in got] == [*present, None]


def test_deletes_segments_merge_and_reopen(tmp_path):
    docs = [doc(f"d{i}", views=i % 7, published=DT(2020, 1 + i % 12, 1)) for i in range(40)]
    # three segments, and a fourth from the updates (a fifth on level 0 would merge them)
    ix = write(Index.create(tmp_path / "ix", make_schema()), docs, batches=3)
    with ix.writer() as w:  # delete some, and move others out of the range
        for i in range(0, 40, 5):
            w.delete(f"d{i}")
        for i in range(1, 40, 10):
            w.update(doc(f"d{i}", views=100))
    assert len(ix.snapshot().segments) > 1
    live = {f"d{i}": i % 7 for i in range(40) if i % 5}
    live.update({f"d{i}": 100 for i in range(1, 40, 10)})

    def check(index: Index) -> None:
        got = ids(index.search("phở", limit=100, filter={"views": Range(2, 4)}))
        assert sorted(got) == sorted(i for i, v in live.items() if 2 <= v <= 4)
        got = ids(index.search("phở", limit=100, sort="-views"))
        assert [live[i] for i in got] == sorted(live.values(), reverse=True)

    check(ix)
    ix.close()
    reopened = Index.open(tmp_path / "ix")
    check(reopened)
    reopened.writer().commit(optimize=True)
    assert len(reopened.snapshot().segments) == 1
    check(reopened)
    reopened.close()


# -- sorting ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tied() -> tuple[Index, dict[str, dict]]:
    """Ties in value and score, missing values, three segments."""
    docs = [
        doc("a", "phở bò", views=2, published=DT(2021, 5, 1)),
        doc("b", "phở phở phở ngon", views=2, published=DT(2021, 5, 1)),
        doc("c", "phở bò", views=1),
        doc("d", "phở gà", views=None, published=DT(2019, 1, 1)),
        doc("e", "phở bò", views=2, published=DT(2021, 5, 1)),
        doc("f", "phở gà", views=None),
        doc("g", "bún bò huế", views=-3, published=DT(2030, 1, 1)),
        doc("h", "phở bò", views=10, published=DT(2021, 5, 1)),
    ]
    return write(Index.in_memory(make_schema()), docs), {d["id"]: d for d in docs}


@pytest.mark.parametrize("field", ["views", "published"])
@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("query", QUERIES)
def test_sort_with_ties_and_missing_values(tied, field, desc, query):
    ix, docs = tied
    want, plain = expected_sorted(ix, query, docs, field, desc)
    results = ix.search(query, limit=100, sort=("-" if desc else "") + field)
    assert ids(results) == want
    assert results.total == len(want)
    for hit in results:  # scores stay BM25's
        assert hit.score == pytest.approx(plain[hit.id].score)


def test_sort_orders_before_the_limit(tied):
    ix, _docs = tied
    # "g" has the lowest score for "bò" but the lowest views and the latest date
    assert ids(ix.search("bò", limit=1, sort="views")) == ["g"]
    assert ids(ix.search("bò", limit=1, sort="-published")) == ["g"]
    assert ids(ix.search("bò", limit=1)) != ["g"]
    first = ids(ix.search("phở", limit=100, sort="-views"))
    for limit in range(len(first) + 2):
        results = ix.search("phở", limit=limit, sort="-views")
        assert ids(results) == first[:limit]
        assert results.total == len(first)


def test_sort_combined_with_filters(tied):
    ix, docs = tied
    got = ids(ix.search("phở bò", sort="-views", filter={"published": Range(DT(2021, 1, 1))}))
    want, _plain = expected_sorted(ix, "phở bò", docs, "views", True)
    assert got == [i for i in want if in_range(docs[i]["published"], Range(DT(2021, 1, 1)))]


def test_sort_with_nothing_to_sort(tied):
    ix, _docs = tied
    assert ids(ix.search("không có", sort="views")) == []
    # an empty query lists every document (by value, ties by document number, none last)
    assert ids(ix.search("", sort="views")) == ["g", "c", "a", "b", "e", "h", "d", "f"]
    assert ids(ix.search("-phở", sort="views")) == []
    assert ix.search("phở", limit=0, sort="views").total == 7


def test_without_sort_nothing_changes(tied):
    ix, _docs = tied
    for query in QUERIES:
        plain = [(h.id, h.score) for h in ix.search(query, limit=100)]
        assert [(h.id, h.score) for h in ix.search(query, limit=100, sort=None)] == plain


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "body", "topic", "note"])
def test_ranges_need_numeric_or_datetime_fields(small, field):
    with pytest.raises(ValueError, match=field):
        small.search("phở", filter={field: Range(1, 2)})


@pytest.mark.parametrize("field", ["body", "note"])
def test_sort_needs_a_field_with_values(small, field):
    """TEXT and STORED fields cannot sort (KEYWORD and ID can: tests/test_sort_keys.py)."""
    with pytest.raises(ValueError, match=field):
        small.search("phở", sort=field)
    with pytest.raises(ValueError, match=field):
        small.search("phở", sort="-" + field)


def test_bad_names_and_bounds(small):
    with pytest.raises(ValueError, match="nope"):
        small.search("phở", sort="nope")
    with pytest.raises(ValueError, match="nope"):
        small.search("phở", sort="-nope")
    with pytest.raises(ValueError, match="nope"):
        small.search("phở", filter={"nope": Range(1, 2)})
    with pytest.raises(TypeError):
        small.search("phở", sort=5)
    with pytest.raises(TypeError):
        small.search("phở", sort=["views", 1])
    with pytest.raises(TypeError, match="datetime"):
        small.search("phở", filter={"published": Range(1, 2)})
    with pytest.raises(TypeError, match="number"):
        small.search("phở", filter={"views": Range("1", None)})
    with pytest.raises(TypeError, match="number"):
        small.search("phở", filter={"price": Range(None, True)})


def test_range_is_exported_and_frozen():
    assert "Range" in vnsearch.__all__
    from vnsearch.ranking.filters import Range as inner

    assert vnsearch.Range is inner
    r = Range(1, 2)
    with pytest.raises(AttributeError):
        r.start = 3  # type: ignore[misc]
    assert r == Range(1, 2, include_start=True, include_end=True)


def test_float_fields_can_be_written_and_filtered():
    # Whoosh's default for a float column (NaN) cannot be packed: writing a float failed
    ix = write(Index.in_memory(make_schema()), [doc("a", price=1.5), doc("b", price=-2.0)])
    assert ids(ix.search("phở", filter={"price": -2.0})) == ["b"]
    assert ix.search("phở", filter={"price": 1.5})[0].fields["price"] == 1.5


def test_field_values_are_shared_between_threads(tied):
    _ix, docs = tied
    ix = write(Index.in_memory(make_schema()), list(docs.values()))  # nothing loaded yet
    want, _plain = expected_sorted(ix, "phở", docs, "published", False)
    snap = ix.snapshot()
    assert not snap._values
    out: list[list[str]] = []

    def work() -> None:
        out.append(ids(search(snap, "phở", 100, sort="published")))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [want] * 8


# -- against plain Python --------------------------------------------------------------

INTS = st.one_of(st.integers(-(2**63), BIG), st.sampled_from([BIG, -(2**63), 0, 1, -1]))
FLOATS = st.floats(allow_nan=False, width=64)
DATES = st.datetimes(min_value=DT(1, 1, 1), max_value=DT(9999, 12, 31))
VALUES = {"views": INTS, "price": FLOATS, "published": DATES}


@st.composite
def corpora(draw):
    docs = []
    for i in range(draw(st.integers(1, 25))):
        values = {f: draw(st.one_of(st.none(), VALUES[f])) for f in FIELDS}
        # repeat some values so that ties happen
        if docs and draw(st.booleans()):
            f = draw(st.sampled_from(FIELDS))
            values[f] = docs[-1][f]
        docs.append(
            doc(f"d{i}", draw(st.sampled_from(BODIES)), draw(st.sampled_from("ab")), **values)
        )
    deleted = draw(st.sets(st.sampled_from([d["id"] for d in docs])))
    return docs, deleted


@st.composite
def ranges(draw, field):
    value = st.one_of(st.none(), VALUES[field])
    return Range(draw(value), draw(value), draw(st.booleans()), draw(st.booleans()))


@settings(derandomize=True, deadline=None, max_examples=60)
@given(
    corpora(),
    st.sampled_from(QUERIES),
    st.sampled_from(FIELDS),
    st.booleans(),
    st.integers(0, 30),
    st.data(),
)
def test_against_plain_python(corpus, query, field, desc, limit, data):
    docs, deleted = corpus
    ix = write(Index.in_memory(make_schema()), docs, batches=data.draw(st.integers(1, 3)))
    with ix.writer() as w:
        for i in deleted:
            w.delete(i)
    live = {d["id"]: d for d in docs if d["id"] not in deleted}

    rng = data.draw(ranges(field))
    topic = data.draw(st.one_of(st.none(), st.sampled_from("ab")))
    filt = {field: rng} if topic is None else {field: rng, "topic": topic}
    got = ids(ix.search(query, limit=10**6, filter=filt))
    want = [
        i
        for i, d in live.items()
        if matches(query, d) and in_range(d[field], rng) and topic in (None, d["topic"])
    ]
    assert sorted(got) == sorted(want)

    sort_field = data.draw(st.sampled_from(FIELDS))
    order, _plain = expected_sorted(ix, query, live, sort_field, desc)
    results = ix.search(query, limit=limit, sort=("-" if desc else "") + sort_field)
    assert ids(results) == order[:limit]
    assert results.total == len(order)
