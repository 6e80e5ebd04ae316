"""Bounded cost for any query (issue 19, item 3): QueryLimits, merged repeats, documents.

Each limit (characters, words, term lookups) in both modes, the cut of the text before it
is parsed, a word typed again merged into one clause that ranks as the copies did, a 2 MB
query answered in bounded time, the command line's note and error, and absurd documents
refused with a ``DocumentError`` before anything large is made.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

import vnsearch
from tests.conftest import news_schema, read_seeds
from tests.helpers import ALL_DOCS
from vnsearch import QueryLimits, QueryTooLarge, VnsearchError
from vnsearch.query import Synonyms, cut_text
from vnsearch.ranking.match import PreparedQuery
from vnsearch.ranking.plan import Plan, plan_search, plan_text
from vnsearch.ranking.scoring import DEFAULT_RANKING
from vnsearch.ranking.topk import best

STRICT = "error"


@pytest.fixture(scope="module")
def ix() -> vnsearch.Index:
    index = vnsearch.Index.in_memory(news_schema())
    with index.writer(jobs=1) as w:
        for doc in ALL_DOCS:
            w.add(doc)
    yield index
    index.close()


def _lookups(plan: Plan) -> int:
    return sum(u.lookups for u in plan.units) + len(plan.bonus)


# -- max_chars ----------------------------------------------------------------------------


def test_long_text_is_cut_before_parsing_with_a_note(ix) -> None:
    query = "Hà Nội " + "phở " * 3000  # 12,007 characters
    results = ix.search(query, limits=QueryLimits(max_chars=7))
    assert results.truncated
    assert results.notes == ("the query was cut to its first 7 of 12,007 characters (max_chars=7)",)
    expected = ix.search("Hà Nội")
    assert [(h.id, h.score) for h in results] == [(h.id, h.score) for h in expected]
    assert not expected.truncated and expected.notes == ()


def test_long_text_refused_when_asked(ix) -> None:
    with pytest.raises(QueryTooLarge) as caught:
        ix.search("phở " * 3000, limits=QueryLimits(max_chars=100, on_excess=STRICT))
    assert isinstance(caught.value, VnsearchError)
    assert str(caught.value) == "the query is 12,000 characters, more than max_chars=100"


@pytest.mark.parametrize(
    ("text", "limit", "kept"),
    [
        ("ab" + "e\u0301\u0323" * 50, 10, "ab" + "e\u0301\u0323" * 2),  # NFD: marks kept whole
        ("ab" + "\U0001f600" * 3, 3, "ab\U0001f600"),  # one character in Python
        ("ab\ud83d\ude00cd", 3, "ab"),  # a surrogate pair (from surrogatepass) kept whole
        ("một hai ba", 8, "một hai"),  # at the last space
    ],
)
def test_cut_keeps_letters_whole(text: str, limit: int, kept: str) -> None:
    cut, note = cut_text(text, QueryLimits(max_chars=limit))
    assert cut == kept
    assert note is not None


# -- max_clauses --------------------------------------------------------------------------


def test_too_many_words_keep_the_first(ix) -> None:
    words = [f"từ{i}" for i in range(50)]
    query = "Hà Nội " + " ".join(words)
    results = ix.search(query, limits=QueryLimits(max_clauses=2))
    assert results.notes == ("the query has 52 words; the first 2 were searched (max_clauses=2)",)
    assert [h.id for h in results] == [h.id for h in ix.search("Hà Nội")]
    with pytest.raises(QueryTooLarge, match="52 words, more than max_clauses=2"):
        ix.search(query, limits=QueryLimits(max_clauses=2, on_excess=STRICT))


def test_repeated_words_count_once_against_the_limit(ix) -> None:
    results = ix.search("phở " * 1000, limits=QueryLimits(max_clauses=1, on_excess=STRICT))
    assert results.notes == ()
    assert len(results) > 0


def test_phrase_crossing_the_limit_keeps_its_first_words(ix) -> None:
    p = plan_text('"Hà Nội mùa thu"', news_schema(), limits=QueryLimits(max_clauses=2))
    q = plan_text('"Hà Nội"', news_schema())
    assert p.units == q.units and p.bonus == q.bonus
    assert p.notes == ("the query has 4 words; the first 2 were searched (max_clauses=2)",)


# -- max_terms ----------------------------------------------------------------------------


def test_term_lookups_are_bounded(ix) -> None:
    query = " ".join(doc["body"] for doc in read_seeds())[:3000]
    snap = ix.snapshot()
    free = plan_search(snap, query, None, DEFAULT_RANKING, QueryLimits(max_terms=10**6))
    assert _lookups(free) > 500 and free.notes == ()
    cut = plan_search(snap, query, None, DEFAULT_RANKING, QueryLimits(max_terms=500))
    assert 400 <= _lookups(cut) <= 500
    assert cut.notes == (
        f"the query makes {_lookups(free):,} term lookups; the first 500 were made (max_terms=500)",
    )
    results = ix.search(query, limits=QueryLimits(max_terms=500))
    assert results.notes == cut.notes and len(results) == 10
    with pytest.raises(QueryTooLarge, match="more than max_terms=500"):
        ix.search(query, limits=QueryLimits(max_terms=500, on_excess=STRICT))


def test_one_long_phrase_is_shortened_not_dropped() -> None:
    phrase = '"' + " ".join(f"từ{i}" for i in range(300)) + '"'
    plan = plan_text(phrase, news_schema(), limits=QueryLimits(max_terms=60))
    assert len(plan.units) == 1 and plan.units[0].phrases
    assert 0 < _lookups(plan) <= 60


def test_default_limits_and_the_index_setting(ix) -> None:
    assert (QueryLimits().max_chars, QueryLimits().max_clauses, QueryLimits().max_terms) == (
        4000,
        1024,
        1024,
    )
    other = vnsearch.Index.in_memory(news_schema())
    other.query_limits = QueryLimits(max_chars=5, on_excess=STRICT)
    with pytest.raises(QueryTooLarge):
        other.search("Hà Nội mùa thu")
    assert other.search("Hà Nội mùa thu", limits=QueryLimits()).notes == ()
    with pytest.raises(ValueError, match="max_chars must be an int of at least 1"):
        QueryLimits(max_chars=0)
    with pytest.raises(ValueError, match="on_excess"):
        QueryLimits(on_excess="drop")  # type: ignore[arg-type]


def test_explain_takes_the_limits(ix) -> None:
    doc_id = ix.search("phở bò")[0].id
    explained = ix.explain("phở bò " + "x " * 100, doc_id, limits=QueryLimits(max_chars=6))
    assert explained.notes and explained.score == ix.explain("phở bò", doc_id).score
    with pytest.raises(QueryTooLarge):
        ix.explain("phở bò x", doc_id, limits=QueryLimits(max_chars=6, on_excess=STRICT))


# -- repeated words -----------------------------------------------------------------------


def test_a_word_repeated_is_one_clause() -> None:
    plan = plan_text("hà " * 100_000, news_schema())  # cut to 4,000 characters first
    (unit,) = plan.units
    assert len(unit.scoring) == 4  # exact and folded, in title and body
    assert len(plan.bonus) == len({(s.field, s.term) for s in plan.bonus})
    one = plan_text("hà", news_schema()).units[0]
    assert unit.any_of == one.any_of
    short = plan_text("hà hà", news_schema())
    assert [s.weight for s in short.units[0].scoring] == [2 * s.weight for s in one.scoring]
    assert short.units[0].times == 2


def _count(total) -> int:
    return total if isinstance(total, int) else total()


def _expanded(plan: Plan) -> Plan:
    """The plan with each clause typed twice written out twice, as before merging."""
    units = []
    for u in plan.units:
        if u.times == 1:
            units.append(u)
            continue
        assert u.times == 2
        half = tuple(s._replace(weight=s.weight / 2) for s in u.scoring)  # exact: a power of 2
        units += [u._replace(scoring=half, times=1)] * 2
    return plan._replace(units=tuple(units))


@pytest.mark.parametrize(
    "query", ["hà nội hà", "Phở bò phở", '"hà nội" "hà nội" bún', "+nội +nội hà", "-bò phở -bò"]
)
def test_merged_repeats_rank_as_the_copies_did(ix, query: str) -> None:
    """Before the merge, a word typed twice was two clauses (each adding its terms, each
    counting as a matched clause): the merged clause ranks the same documents in the same
    order, with the same totals and the scores (summed in another order) within 1e-12."""
    snap = ix.snapshot()
    plan = plan_search(snap, query, None, DEFAULT_RANKING, synonyms=Synonyms())  # hà nội: HN
    assert any(u.times == 2 for u in plan.units)
    got = best(PreparedQuery(snap, plan, None, DEFAULT_RANKING), 50)
    old = best(PreparedQuery(snap, _expanded(plan), None, DEFAULT_RANKING), 50)
    assert got[0].tolist() == old[0].tolist()
    np.testing.assert_allclose(got[1], old[1], rtol=1e-12)
    assert _count(got[2]) == _count(old[2]) > 0


# -- a 2 MB query -------------------------------------------------------------------------


def _two_mb(kind: str) -> str:
    text = " ".join(doc["body"] for doc in read_seeds())
    if kind == "words":
        return (text + " ") * (2_000_000 // (len(text) + 1) + 1)
    if kind == "repeated":
        return "hà " * 700_000
    joined = "".join(text.split())
    return joined * (2_000_000 // len(joined) + 1)


@pytest.mark.parametrize("kind", ["words", "repeated", "no spaces"])
def test_a_2mb_query_takes_bounded_time(ix, kind: str) -> None:
    query = _two_mb(kind)
    assert len(query) >= 2_000_000
    start = time.perf_counter()
    results = ix.search(query)
    assert time.perf_counter() - start < 5.0  # unbounded before: ~10 s to minutes, GBs
    assert results.truncated
    assert results.notes[0].startswith("the query was cut to its first 4,000 of")


# -- the command line ---------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vnsearch", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_notes_a_cut_query_and_refuses_when_asked() -> None:
    query = "tổ chức " + "đảng " * 1500  # 7,508 characters, over the default 4,000
    out = _cli("query", query, "--limit", "1")
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("vnsearch: note: the query was cut to its first 4,000 of 7,508")
    assert len(out.stderr.strip().splitlines()) == 1
    out = _cli("query", query, "--too-long", "error")
    assert out.returncode == 3
    assert out.stderr.strip() == (
        "vnsearch: error: the query is 7,508 characters, more than max_chars=4,000"
    )
    assert out.stdout == ""


# -- documents ----------------------------------------------------------------------------


def _keywords(n: int):
    for i in range(n):
        yield f"k{i}"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"id": "x" * 11_000_000}, "field 'id': the text is 11.0 MB, more than"),
        ({"id": "1", "topic": _keywords(10**8)}, "more than 100,000 keywords"),
        ({"id": "1", "topic": ["a" * 6_000_000] * 2}, "the keywords are 12.0 MB"),
        ({"id": "1", "body": "a " * 6_000_000}, "field 'body': the text is 12.0 MB"),
    ],
    ids=["id", "keywords", "keyword-size", "text"],
)
def test_absurd_documents_are_refused_at_once(doc: dict, message: str) -> None:
    index = vnsearch.Index.in_memory(news_schema())
    w = index.writer(jobs=1)
    start = time.perf_counter()
    with pytest.raises(vnsearch.DocumentError, match=message):
        w.add(doc)
    assert time.perf_counter() - start < 5.0  # the generator of 10**8 is not drained
    w.cancel()


def test_stored_bytes_over_the_limit_are_refused() -> None:
    schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), blob=vnsearch.STORED())
    index = vnsearch.Index.in_memory(schema)
    with index.writer(jobs=1, max_text_mb=1) as w:
        with pytest.raises(vnsearch.DocumentError, match=r"field 'blob': the text is 2\.0 MB"):
            w.add({"id": "1", "blob": b"\0" * 2_000_000})
        w.add({"id": "2", "blob": b"\0" * 1000})
    assert index.doc_count == 1
