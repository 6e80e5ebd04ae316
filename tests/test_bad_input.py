"""Bad input never crashes: empty, invisible, broken, huge or wrongly typed text (the
analyzer); odd, random and huge queries (a search); documents and search options of the
wrong kind or size (the writer and the searcher), which raise the documented errors.
"""

from __future__ import annotations

import math
import subprocess
import sys
import time
import unicodedata
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vnsearch
from tests.conftest import SEEDS
from tests.helpers import all_ids, body_schema, hand, ids, small_index
from vnsearch import (
    ID,
    KEYWORD,
    NUMERIC,
    TEXT,
    VIEWS,
    Index,
    Schema,
    SchemaError,
    analyze,
    fold,
    normalize,
    segment,
    syllables,
)
from vnsearch.analysis import normalize_with_map

SEED = SEEDS / "000_483ea6bfdeb6afd9.txt"
FIVE_MB = 5_000_000
ONE_MB = 1_000_000

EMPTY_VIEWS = dict.fromkeys(VIEWS, ())


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _views(text: str) -> dict:
    return dict(analyze(text).items())


# --- nothing to find --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized", "folded"),
    [
        ("", "", ""),
        (" ", " ", " "),
        (" \t\n\r\x0b\x0c", " \t\n\r\x0b\x0c", " \t\n\r\x0b\x0c"),
        ("\u00a0\u3000\u2009", "\u00a0\u3000\u2009", "   "),
        ("...!!!???---///", "...!!!???---///", "...!!!???---///"),
        ("\u200b\u200b", "", "  "),  # unidecode spells U+200B as a space
        ("\x00\x01\x1f\x7f", "    ", None),  # controls become spaces; fold keeps them
    ],
)
def test_nothing_to_find(text: str, normalized: str, folded: str | None) -> None:
    assert syllables(text) == []
    assert segment(text) == []
    assert _views(text) == EMPTY_VIEWS
    assert normalize(text) == normalized
    assert fold(text) == (text.lower() if folded is None else folded)


def test_only_invisible_characters() -> None:
    text = "\u200b\u200c\u200d\ufeff\u2060\u00ad\u2066\u2069\ufe0f"
    assert normalize(text) == ""
    norm, offsets = normalize_with_map(text)
    assert norm == ""
    assert offsets.start(0) == offsets.end(0) == len(text)
    assert syllables(text) == []
    assert segment(text) == []
    assert _views(text) == EMPTY_VIEWS
    assert fold(text).strip() == ""


def test_only_combining_marks() -> None:
    # A run of combining marks with no base letter has nothing to compose with; NFC only
    # puts it in canonical order (dot below, class 220, first). The syllable pattern accepts
    # marks, so it is one "syllable" token; pyvi's \w+ does not, so there are no words;
    # the marks fold to nothing.
    text = "\u0301\u0300\u0303\u0309\u0323"
    norm = "\u0323\u0301\u0300\u0303\u0309"
    assert normalize(text) == norm
    assert syllables(text) == [(norm, 0, 5, 0, "syllable")]
    assert segment(text) == []
    views = _views(text)
    assert views["syllables"] == ((norm, 0, 5, 0, "syllable"),)
    assert views["folded"] == views["bigrams"] == views["folded_bigrams"] == ()
    assert views["words"] == ()
    assert fold(text) == ""


def test_only_invisible_and_combining() -> None:
    text = "\u200b\u0301\u200b"
    assert normalize(text) == "\u0301"
    assert syllables(text) == [("\u0301", 1, 2, 0, "syllable")]
    assert segment(text) == []


# --- control characters -----------------------------------------------------------------


def test_nul_separates_words() -> None:
    text = "Hà\x00Nội"
    assert normalize(text) == "Hà Nội"
    assert [(t.text, t.start, t.end) for t in syllables(text)] == [("Hà", 0, 2), ("Nội", 3, 6)]
    words = segment(text)
    assert [w.text for w in words] == ["Hà Nội"]
    assert (words[0].start, words[0].end) == (0, 6)
    views = _views(text)
    assert [t.text for t in views["syllables"]] == ["hà", "nội"]
    assert [t.text for t in views["folded"]] == ["ha", "noi"]
    # A control character is not a gap between two words of a bigram.
    assert views["bigrams"] == ()


def test_other_controls() -> None:
    text = "a\x01b\x1bc\x7fd\x85e\x9ff"
    assert normalize(text) == "a b c d e f"
    assert [t.text for t in syllables(text)] == list("abcdef")
    assert [(t.start, t.end) for t in syllables(text)] == [(i, i + 1) for i in range(0, 11, 2)]


# --- surrogates and noncharacters -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized", "terms"),
    [
        ("\ud800", "\ufffd", []),
        ("\udfff\udfff", "\ufffd\ufffd", []),
        ("Hà\udfffNội", "Hà\ufffdNội", ["Hà", "Nội"]),
        ("\ud800\u0301a", "\ufffd\u0301a", ["\u0301a"]),
        ("\ud83d\ude00", "\ufffd\ufffd", []),  # a surrogate pair in a str is two surrogates
        ("\uffff", "\uffff", []),
        ("\U0010ffff", "\U0010ffff", []),
        ("x\ufdd0y\U0001fffe", "x\ufdd0y\U0001fffe", ["x", "y"]),
    ],
)
def test_surrogates_and_noncharacters(text: str, normalized: str, terms: list[str]) -> None:
    assert normalize(text) == normalized
    assert not _has_surrogate(normalize(text))
    tokens = syllables(text)
    assert [t.text for t in tokens] == terms
    for t in tokens:
        assert 0 <= t.start < t.end <= len(text)
    words = segment(text)
    for view, toks in [*_views(text).items(), ("segment", words)]:
        for t in toks:
            assert t.text, view
            assert not _has_surrogate(t.text), (view, t)
            assert 0 <= t.start < t.end <= len(text), (view, t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # unidecode warns on surrogates
        folded = fold(text)
    assert folded.isascii()


def test_surrogate_offsets() -> None:
    text = "Hà\udfffNội"
    tokens = syllables(text)
    assert [(t.start, t.end) for t in tokens] == [(0, 2), (3, 6)]
    assert [text[t.start : t.end] for t in tokens] == ["Hà", "Nội"]


# --- huge input -------------------------------------------------------------------------


def _unit() -> str:
    """One copy of the seed document, ending in a newline so copies never merge tokens."""
    return SEED.read_text(encoding="utf-8").rstrip("\n") + "\n"


def _copies(unit: str, size: int) -> int:
    return math.ceil(size / len(unit.encode("utf-8")))


def test_five_megabytes_of_text() -> None:
    unit = _unit()
    copies = _copies(unit, FIVE_MB)
    text = unit * copies
    assert len(text.encode("utf-8")) >= FIVE_MB

    assert normalize(text) == normalize(unit) * copies
    one = syllables(unit)
    tokens = syllables(text)
    assert len(tokens) == len(one) * copies
    last, one_last = tokens[-1], one[-1]
    shift = len(unit) * (copies - 1)
    assert last == one_last._replace(
        start=one_last.start + shift,
        end=one_last.end + shift,
        position=one_last.position + (one_last.position + 1) * (copies - 1),
    )
    assert normalize(text[last.start : last.end]) == last.text
    assert text[last.start : last.end] == unit[one_last.start : one_last.end]


def test_one_megabyte_analyzed_nfd() -> None:
    unit = _unit()
    copies = _copies(unit, ONE_MB)
    nfc = unit * copies
    text = unicodedata.normalize("NFD", nfc)
    assert len(text.encode("utf-8")) >= ONE_MB
    assert text != nfc

    one = analyze(unit)
    analysis = analyze(text)
    for view in VIEWS:
        assert len(analysis[view]) == len(one[view]) * copies, view
        assert analysis[view][-1].text == one[view][-1].text, view
        for t in (analysis[view][0], analysis[view][-1]):
            assert 0 <= t.start < t.end <= len(text)
    last = analysis["syllables"][-1]
    assert normalize(text[last.start : last.end]).lower() == last.text
    # The last word's original slice ends where the NFD text's last syllable ends.
    assert analysis["words"][-1].end == last.end
    assert analysis["words"][-1].start <= last.start
    assert [t.text for t in analysis["words"][:50]] == [t.text for t in one["words"][:50]]


def test_five_megabyte_word() -> None:
    text = "a" * FIVE_MB
    assert normalize(text) == text
    expected = {
        "syllables": ((text, 0, FIVE_MB, 0, "syllable"),),
        "folded": ((text, 0, FIVE_MB, 0, "syllable"),),
        "bigrams": (),
        "folded_bigrams": (),
        "words": ((text, 0, FIVE_MB, 0, "word"),),
    }
    assert _views(text) == expected


def test_one_megabyte_of_combining_marks() -> None:
    text = "a" + "\u0301\u0300" * (ONE_MB // 4)  # one huge cluster: 1 MB of marks on one "a"
    norm = normalize(text)
    assert norm == "á" + "\u0300" + "\u0301\u0300" * (ONE_MB // 4 - 1)
    tokens = syllables(text)
    assert [(t.text, t.start, t.end) for t in tokens] == [(norm, 0, len(text))]
    words = segment(text)
    assert [w.text for w in words] == ["á"]


@pytest.mark.parametrize("function", [syllables, segment])
def test_many_plus_joined_syllables_are_linear(function) -> None:
    """Bug: the e-mail alternatives make "a+a+a+..." quadratic.

    In syllables.py, ``[^\\W_][\\w.+-]*@`` is tried at every ``a`` and each try scans the
    whole ``a+a+...`` run looking for an ``@``; pyvi's ``[a-zA-Z0-9_.+-]+@`` in segment.py
    does the same at every position. 80,000 characters take ~13 s (syllables) and
    ~18 s (segment); 1 MB would take about half an hour. 40,000 characters should take
    a few hundredths of a second, like 40,000 characters of ordinary text.
    """
    text = "a+" * 20_000
    started = time.thread_time()
    tokens = function(text)
    elapsed = time.thread_time() - started
    assert len(tokens) == 20_000
    assert elapsed < 1.0, f"{function.__name__}: {elapsed:.2f} s for {len(text)} characters"


# --- wrong types ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, b"bytes", 123, 1.5, ["Hà Nội"], bytearray(b"x")])
@pytest.mark.parametrize("function", [normalize, normalize_with_map, syllables, segment, analyze])
def test_wrong_type_raises_type_error(function, value) -> None:
    with pytest.raises(TypeError, match="expected str"):
        function(value)


@pytest.mark.parametrize("value", [None, b"bytes", 123, ["Hà Nội"]])
def test_fold_wrong_type_raises_type_error(value) -> None:
    """Bug (API consistency): ``fold(None)`` raises AttributeError, not TypeError.

    Every other public function rejects non-str with ``TypeError: expected str``; ``fold``
    calls ``text.translate`` directly (``fold(b"x")`` happens to raise TypeError, from
    ``bytes.translate``, with an unrelated message).
    """
    with pytest.raises(TypeError):
        fold(value)


def test_str_subclass_is_accepted() -> None:
    class Text(str):
        pass

    text = Text("Hoà Bình")
    assert normalize(text) == "Hoà Bình"
    assert [t.text for t in syllables(text)] == ["Hoà", "Bình"]
    assert [t.text for t in segment(text)] == ["Hoà Bình"]
    assert fold(text) == "hoa binh"


# --- queries ----------------------------------------------------------------------------


EDGE_QUERIES = [
    "",
    " ",
    "\t\n",
    '"',
    '""',
    '"""',
    '"' * 1000,
    '"ha noi',
    'ha noi"',
    "“hà nội",
    "+",
    "-",
    "+-",
    "++--",
    "OR",
    "OR OR OR",
    "ha OR",
    "OR ha",
    "!!!",
    "...,;:?",
    "()[]{}*~^",
    ":",
    "title:",
    'title:""',
    "title:-",
    "nope:x",
    "topic:thoi-su",
    "topic:",
    "id:hanoi",
    "published:2024",
    "-hà",
    "-hà -nội",
    '-"hà nội"',
    "-ha OR noi",
    "+-ha",
    "\x00\x01",
    "\u200b\u200d",
    "🙂 🙂",
    "a" * 5000,
    "hà " * 300,
    "\u0301\u0300",
    "ĐĐĐ",
    "75-KL/TW/",
    "http://",
]


@pytest.mark.usefixtures("private_tempdir")
@pytest.mark.parametrize("q", EDGE_QUERIES)
def test_edge_queries_never_raise(corpus, q):
    for options in ({}, {"fields": ["title"]}, {"filter": {"topic": "thoi-su"}}):
        results = corpus.search(q, limit=10, **options)
        assert isinstance(results, vnsearch.Results)
        assert 0 <= len(results) <= 10
        assert results.total >= len(results)
    assert isinstance(corpus.search(q, limit=0), vnsearch.Results)


FUZZ_SCHEMA = Schema(
    id=ID(stored=True, unique=True),
    title=TEXT(stored=True, boost=2.0),
    body=TEXT(stored=True),
    topic=KEYWORD(stored=True),
    n=NUMERIC(stored=True),
)


FUZZ_DOCS = [
    {
        "id": "1",
        "title": "Thủy điện Hòa Bình",
        "body": "Nhà máy thủy điện lớn",
        "topic": "kt",
        "n": 1,
    },
    {"id": "2", "title": "Hà Nội mùa thu", "body": "Phố cổ Hà Nội, hồ Gươm", "topic": "dl", "n": 2},
    {"id": "3", "title": "OR AND NOT", "body": '+-"((OR" title: body: ""', "topic": "x", "n": 3},
]


_fuzz_index: list[Index] = []


def fuzz_index() -> Index:
    if not _fuzz_index:
        ix = Index.in_memory(FUZZ_SCHEMA)
        with ix.writer(jobs=1) as w:
            for doc in FUZZ_DOCS:
                w.add(doc)
        _fuzz_index.append(ix)
    return _fuzz_index[0]


OPERATORS = ['"', "“", "”", "+", "-", "(", ")", "OR", " OR ", "AND", "NOT", ":", "title:",
             "body:", "nope:", "topic:", " ", "\t", "\x00", "\u200b", "\u0301", "hà", "nội",
             "thuy", "điện", "🙂", "\ud800", "\uffff", "\\"]  # fmt: skip


queries = st.one_of(
    st.text(),  # any code point, controls and surrogates included
    st.lists(st.sampled_from(OPERATORS), max_size=80).map("".join),
    st.tuples(st.sampled_from(OPERATORS + ["a", "ư", "x" * 7]), st.integers(1, 3000)).map(
        lambda t: t[0] * t[1]
    ),  # huge tokens and deep nesting: '((((...', '""""...'
    st.integers(1, 400).map(lambda n: '+-"((OR' * n),
)


search_options = st.fixed_dictionaries(
    {},
    optional={
        "fields": st.lists(st.sampled_from(["title", "body"]), min_size=1, unique=True),
        "filter": st.sampled_from([{"topic": "kt"}, {"topic": ["dl", "x"]}]),
        "sort": st.sampled_from(["n", "-n"]),
        "limit": st.integers(0, 20),
    },
)


_slowest: list[float] = [0.0]


@settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(queries, search_options)
@pytest.mark.filterwarnings("ignore:Surrogate character")  # unidecode, on lone surrogates
def test_any_query_searches_without_error(query: str, options: dict) -> None:
    """Random Unicode, operator soup and huge tokens, with random options: a search never
    raises, returns a consistent page, and finishes within a generous bound (a guard
    against pathological blowups, not a speed test)."""
    ix = fuzz_index()
    # this thread's CPU time: a loaded machine (other processes, other threads of the
    # test run) must not fail the bound, a blowup in the search must
    start = time.thread_time()
    results = ix.search(query, **options)
    hits = list(results)
    explained = ix.explain(query, "1") if hits else None
    elapsed = time.thread_time() - start
    _slowest[0] = max(_slowest[0], elapsed)
    assert elapsed < 2.0, f"{elapsed:.2f} s for {query[:80]!r}"
    limit = options.get("limit", 10)
    assert len(hits) == min(limit, results.total) <= len(FUZZ_DOCS)
    assert {h.id for h in hits} <= {"1", "2", "3"}
    assert all(h.score >= 0 for h in hits)
    assert explained is None or explained.score >= 0


def test_fuzzed_searches_slowest_query_reported():
    """Prints the slowest query time of the fuzz test above (run in the same session)."""
    print(f"slowest fuzzed search: {_slowest[0] * 1000:.1f} ms")


# --- documents and search options -------------------------------------------------------


@pytest.mark.parametrize(
    "bad, error",
    [
        ({"fields": ["nope"]}, ValueError),
        ({"filter": {"nope": "x"}}, ValueError),
        ({"filter": {"body": "x"}}, ValueError),
        ({"sort": "title"}, ValueError),
        ({"sort": 5}, TypeError),
    ],
)
def test_bad_search_options_raise_documented_errors(bad, error):
    with pytest.raises(error):
        fuzz_index().search("hà nội", **bad)
    with pytest.raises(TypeError):
        fuzz_index().search(b"ha noi")  # type: ignore[arg-type]


def test_a_text_over_the_writers_limit_is_refused_by_name_and_size():
    ix = Index.in_memory(body_schema())
    big = "Hà Nội mùa thu chung " * 60_000  # 1.4 MB of UTF-8
    with ix.writer(jobs=1, max_text_mb=1) as w:
        with pytest.raises(ValueError, match=r"field 'body'.*1\.\d MB.*limit of 1 MB"):
            w.add({"id": "big", "body": big})
        w.add({"id": "small", "body": big[:100_000]})  # the writer goes on
    assert all_ids(ix) == {"small"}
    # the default limit (10 MB) refuses 50 MB at once, without analyzing (or copying) it
    huge = "a " * 25_000_000
    with ix.writer(jobs=1) as w:
        start = time.thread_time()
        with pytest.raises(ValueError, match=r"'body'.*50\.0 MB.*limit of 10 MB"):
            w.add({"id": "huge", "body": huge})
        assert time.thread_time() - start < 1.0  # refused, not analyzed
    with ix.writer(jobs=2, max_text_mb=None) as w:  # no limit; worker processes too
        w.add({"id": "big", "body": big})
    assert all_ids(ix) == {"small", "big"}


MEMORY = """
import resource, sys
from vnsearch import ID, TEXT, Index, Schema
mb = float(sys.argv[1])
text = "Thủy điện Hòa Bình là nhà máy lớn ở Việt Nam, chung. " * int(mb * 1e6 / 62)
ix = Index.in_memory(Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True)))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with ix.writer(jobs=1, max_text_mb=None) as w:
    w.add({"id": "big", "body": text})
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert ix.search("hoa binh").total == 1
print(len(text.encode()) / 1e6, (after - before) / 1024)
"""


@pytest.mark.slow
def test_memory_of_indexing_one_big_text():
    """Peak memory grows with a text's size (~140 bytes per byte): why the limit exists."""
    for mb in (1, 4):
        out = subprocess.run(
            [sys.executable, "-c", MEMORY, str(mb)], capture_output=True, text=True, check=True
        ).stdout.split()
        size, growth = float(out[0]), float(out[1])
        print(f"{size:.1f} MB text: peak RSS +{growth:.0f} MB ({growth / size:.0f}x)")
        assert growth < 300 * size


@pytest.mark.usefixtures("private_tempdir")
def test_unknown_field_and_wrong_types():
    ix = small_index()
    count = ix.doc_count
    w = ix.writer()
    with pytest.raises(SchemaError, match="author"):
        w.add({"id": "x", "author": "Nguyễn Du"})
    with pytest.raises(SchemaError, match="author"):
        w.update({"id": "x", "author": "Nguyễn Du"})
    with pytest.raises(TypeError, match="body"):
        w.add({"id": "x", "body": 5})
    with pytest.raises(TypeError, match="title"):
        w.add({"id": "x", "title": b"bytes"})
    with pytest.raises(TypeError, match="published"):
        w.add({"id": "x", "published": "2024-01-01"})
    with pytest.raises(TypeError):
        w.add(["not", "a", "mapping"])
    w.add(hand("fine", "Tốt", "Cần Thơ", "x"))
    w.commit()
    assert ix.doc_count == count + 1
    assert ids(ix.search("can tho")) == ["fine"]
