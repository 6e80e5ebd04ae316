"""The query parser: a golden table, round trips, properties and pathological inputs."""

from __future__ import annotations

import dataclasses
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vnsearch.query
from vnsearch.query import Clause, Or, ParsedQuery, Phrase, Term, parse

FIELDS = ("title", "body")


def T(text: str, field: str | None = None) -> Term:
    return Term(text, field)


def P(text: str, field: str | None = None) -> Phrase:
    return Phrase(text, field)


def Q(*clauses: Clause | Term | Phrase | Or) -> ParsedQuery:
    return ParsedQuery(tuple(c if isinstance(c, Clause) else Clause(c) for c in clauses))


def must(node: Term | Phrase | Or) -> Clause:
    return Clause(node, "must")


def must_not(node: Term | Phrase | Or) -> Clause:
    return Clause(node, "must_not")


GOLDEN: list[tuple[str, tuple[str, ...], ParsedQuery]] = [
    # empty input, whitespace, stray operators
    ("", (), Q()),
    (" \t\n\u00a0\u3000 ", (), Q()),
    ("+ - +- -- ++", (), Q()),
    # words; any Unicode whitespace separates them
    ("thuy dien", (), Q(T("thuy"), T("dien"))),
    ("a\u00a0b\u3000c\u2028d", (), Q(T("a"), T("b"), T("c"), T("d"))),
    (
        "205-QĐ/TW COVID-19 2020-2025 a-b",
        (),
        Q(T("205-QĐ/TW"), T("COVID-19"), T("2020-2025"), T("a-b")),
    ),
    # Vietnamese, phrases and operators
    (
        'tổ chức "Trung ương" -Hà +Nội',
        (),
        Q(T("tổ"), T("chức"), P("Trung ương"), must_not(T("Hà")), must(T("Nội"))),
    ),
    ('title:"Hội nghị" body:đảng', FIELDS, Q(P("Hội nghị", "title"), T("đảng", "body"))),
    ('thuy dien OR "hoà bình"', (), Q(T("thuy"), Or((T("dien"), P("hoà bình"))))),
    # phrases: whitespace collapsed, unbalanced, empty, curly, anything but a quote inside
    ('"  Hội\t nghị\n Trung   ương "', (), Q(P("Hội nghị Trung ương"))),
    ('a "b  c', (), Q(T("a"), P("b c"))),
    ('x "  ', (), Q(T("x"))),
    ('"" x "   " +"" -" "', (), Q(T("x"))),
    ("“Hà Nội” +“Đà Nẵng”", (), Q(P("Hà Nội"), must(P("Đà Nẵng")))),
    ('"Hà Nội” ”Huế"', (), Q(P("Hà Nội"), P("Huế"))),
    ('"a OR -b +c title:d (e)"', FIELDS, Q(P("a OR -b +c title:d (e)"))),
    # a quote ends a word, as whitespace does
    ('abc"d e"f', (), Q(T("abc"), P("d e"), T("f"))),
    ('"a b"-c', (), Q(P("a b"), must_not(T("c")))),
    # operators: the last one wins; only at the start of a word
    ("++a +-b -+c --d", (), Q(must(T("a")), must_not(T("b")), must(T("c")), must_not(T("d")))),
    ('+"a b" -"c d"', (), Q(must(P("a b")), must_not(P("c d")))),
    ("a+ b- +OR", (), Q(T("a+"), T("b-"), must(T("OR")))),
    # fields: case-insensitive, returned as given; unknown fields are plain words
    ('+title:x -body:"y z"', FIELDS, Q(must(T("x", "title")), must_not(P("y z", "body")))),
    ("TITLE:x tItLe:y", ("Title",), Q(T("x", "Title"), T("y", "Title"))),
    ("author:x title:y", (), Q(T("author:x"), T("title:y"))),
    ("10:30 http://x.vn :x", FIELDS, Q(T("10:30"), T("http://x.vn"), T(":x"))),
    ('author:"x y"', FIELDS, Q(T("author:"), P("x y"))),
    ("title: x title: +title: title:", FIELDS, Q(T("x"))),
    ('title:"x  y', FIELDS, Q(P("x y", "title"))),
    (
        "title:+x title:body:y title:OR",
        FIELDS,
        Q(T("+x", "title"), T("body:y", "title"), T("OR", "title")),
    ),
    # OR
    ('a OR b OR "c d"', (), Q(Or((T("a"), T("b"), P("c d"))))),
    ("OR a OR", (), Q(T("a"))),
    ("a OR OR b OR", (), Q(Or((T("a"), T("b"))))),
    ("OR OR OR", (), Q()),
    ("a or b Or c", (), Q(T("a"), T("or"), T("b"), T("Or"), T("c"))),
    ("+a OR -b c", (), Q(must(Or((T("a"), T("b")))), T("c"))),
    ("-a OR b", (), Q(must_not(Or((T("a"), T("b")))))),
    ('a OR title:b OR body:"c d"', FIELDS, Q(Or((T("a"), T("b", "title"), P("c d", "body"))))),
    ('a OR + OR "" OR title: OR b', FIELDS, Q(Or((T("a"), T("b"))))),
    ("a OR b c OR d", (), Q(Or((T("a"), T("b"))), Or((T("c"), T("d"))))),
    ('"x"OR"y"', (), Q(Or((P("x"), P("y"))))),
    ("a OR +OR", (), Q(Or((T("a"), T("OR"))))),
]


@pytest.mark.parametrize(("text", "fields", "expected"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden(text: str, fields: tuple[str, ...], expected: ParsedQuery) -> None:
    query = parse(text, fields)
    assert query == expected
    assert parse(str(query), fields) == query


@pytest.mark.parametrize(
    ("text", "fields", "canonical"),
    [
        ("", (), ""),
        ("  tổ   chức “Trung   ương ”  -Hà +Nội ", (), 'tổ chức "Trung ương" -Hà +Nội'),
        ('++a +-"b c" TITLE:"d e', ("title",), '+a -"b c" title:"d e"'),
        ("OR a OR OR b OR", (), "a OR b"),
        ("-a OR +b OR title:c", ("title",), "-a OR b OR title:c"),
        ("a OR +OR", (), "a OR +OR"),
        ('author:"x y"', ("title",), 'author: "x y"'),
    ],
)
def test_canonical_string(text: str, fields: tuple[str, ...], canonical: str) -> None:
    assert str(parse(text, fields)) == canonical


def test_fields_argument() -> None:
    assert parse("title:x", "title") == Q(T("x", "title"))  # one str is one field name
    assert parse("title:x", {"title"}) == Q(T("x", "title"))
    assert parse("TITLE:x", ["Title", "title"]) == Q(T("x", "Title"))  # the first one wins
    assert parse(":x", [""]) == Q(T(":x"))  # an empty name never matches
    assert parse("a:b", iter(["a"])) == Q(T("b", "a"))


@pytest.mark.parametrize("bad", [None, b"x", 1, ["a"]])
def test_not_a_str_raises_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        parse(bad)  # type: ignore[arg-type]


def test_field_name_not_a_str_raises_type_error() -> None:
    with pytest.raises(TypeError):
        parse("a", [b"title"])  # type: ignore[list-item]


def test_nodes_are_immutable_and_hashable() -> None:
    query = parse('+a OR "b c" d')
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.clauses[0].occur = "should"  # type: ignore[misc]
    assert hash(query) == hash(parse('+a OR "b c" d'))
    assert len({query, parse('+a OR "b c" d')}) == 1


def test_exports() -> None:
    assert set(vnsearch.query.__all__) >= {"Clause", "Or", "ParsedQuery", "Phrase", "Term", "parse"}
    assert vnsearch.query.parse is parse


@pytest.mark.parametrize(
    "text",
    [
        '"' * 100_000,
        "“" * 100_000,
        '"”' * 100_000,
        "+-" * 100_000,
        "+" * 200_000,
        "OR " * 100_000,
        "a OR " * 40_000,
        "title:" * 40_000,
        ":" * 200_000,
        '+"a" ' * 40_000,
        " " * 200_000,
        "a" * 200_000,
        '"' + "a " * 100_000,
    ],
    ids=lambda t: repr(t[:6]),
)
def test_pathological_inputs_are_fast(text: str) -> None:
    start = time.thread_time()
    query = parse(text, FIELDS)
    assert time.thread_time() - start < 1.0
    assert parse(str(query), FIELDS) == query


# ---------------------------------------------------------------------------------------------
# Properties

SOUP = '"+-: OR()\\\ta b'
# Pieces heavy in operators and quotes, with field names, OR and look-alike words.
PIECES = [
    *'""“”++--::  ',
    *"OR()\\\tab",
    "OR",
    "OR ",
    " OR ",
    "or",
    "title",
    "TITLE",
    "Body",
    "tác_giả",
    "\u00a0",
    "\n",
    "Hà",
    "10:30",
    "http://x.vn",
]
fields_st = st.lists(
    st.sampled_from(["title", "Title", "body", "a", "b", "tác_giả", "", "x y", "t:z", "+a", "O"]),
    max_size=4,
)
operator_soup = st.one_of(
    st.text(alphabet=SOUP),
    st.lists(st.sampled_from(PIECES), max_size=60).map("".join),
)
any_text = st.one_of(st.text(), operator_soup)


def _items(query: ParsedQuery) -> list[Term | Phrase]:
    out: list[Term | Phrase] = []
    for clause in query.clauses:
        out.extend(clause.node.items if isinstance(clause.node, Or) else (clause.node,))
    return out


@settings(derandomize=True, max_examples=300)
@given(st.text(), fields_st)
def test_never_raises_on_any_text(text: str, fields: list[str]) -> None:
    assert isinstance(parse(text, fields), ParsedQuery)


@settings(derandomize=True, max_examples=300)
@given(operator_soup, fields_st)
def test_never_raises_on_operator_soup(text: str, fields: list[str]) -> None:
    assert isinstance(parse(text, fields), ParsedQuery)


@settings(derandomize=True, max_examples=300)
@given(any_text, fields_st)
def test_round_trip(text: str, fields: list[str]) -> None:
    query = parse(text, fields)
    assert parse(str(query), fields) == query
    assert str(parse(str(query), fields)) == str(query)


@settings(derandomize=True, max_examples=300)
@given(any_text, fields_st)
def test_well_formed_nodes(text: str, fields: list[str]) -> None:
    query = parse(text, fields)
    for clause in query.clauses:
        assert clause.occur in ("should", "must", "must_not")
        if isinstance(clause.node, Or):
            assert len(clause.node.items) >= 2
            assert all(isinstance(i, (Term, Phrase)) for i in clause.node.items)
    for item in _items(query):
        assert item.text  # never empty
        assert item.field is None or item.field in fields
        assert not any(q in item.text for q in '"“”')
        if isinstance(item, Term):
            assert not any(ch.isspace() for ch in item.text)
        else:
            assert item.text == " ".join(item.text.split())


@settings(derandomize=True, max_examples=300)
@given(st.lists(st.sampled_from(["a", "b", "Hà", "COVID-19", "10:30"]), min_size=1, max_size=8))
def test_plain_words_are_should_terms(words: list[str]) -> None:
    assert parse(" ".join(words), FIELDS) == Q(*(T(w) for w in words))


def test_200kb_of_operator_soup_within_a_second() -> None:
    rng = random.Random(20240601)
    alphabet = SOUP + '++--""“”'
    text = "".join(rng.choice(alphabet) for _ in range(200_000))
    start = time.thread_time()
    query = parse(text, ["a", "b"])
    elapsed = time.thread_time() - start
    assert elapsed < 1.0, f"parsing 200 KB took {elapsed:.2f} s"
    assert parse(str(query), ["a", "b"]) == query


def test_query_words_syllables_are_kept_for_short_words_only() -> None:
    """The syllables of recent query words are kept process-wide (immutable tokens); a
    long word (a pasted blob) is analyzed each time, never kept."""
    from vnsearch import syllables
    from vnsearch.ranking import query_text

    query_text._recent_text.cache_clear()
    for _ in range(2):
        assert list(query_text._text("Hà-Nội").tokens) == syllables("Hà-Nội")
    assert isinstance(query_text._text("Hà-Nội").tokens, tuple)
    info = query_text._recent_text.cache_info()
    assert (info.hits, info.misses, info.currsize) == (2, 1, 1)
    blob = "hà" * 100
    assert list(query_text._text(blob).tokens) == syllables(blob)
    assert query_text._recent_text.cache_info().currsize == 1
