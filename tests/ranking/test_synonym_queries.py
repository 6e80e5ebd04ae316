"""Synonyms at query time (``ranking/synonym_items.py``): an abbreviation finds what is
written in full and the other way, as a phrase, highlighted; a user's table; turned off;
queries without any form planned exactly as before; query limits kept."""

from __future__ import annotations

import pytest

import vnsearch
from tests.helpers import QUERIES
from vnsearch.query import ABBREVIATIONS, QueryLimits, Synonyms, parse
from vnsearch.ranking.plan import plan_search, plan_text
from vnsearch.ranking.scoring import DEFAULT_RANKING
from vnsearch.ranking.synonym_items import synonym_alternatives

DOCS = {
    "full": "Ủy ban nhân dân Thành phố Hồ Chí Minh họp sáng nay.",
    "abbr": "UBND TP.HCM vừa ký quyết định mới.",
    "far": "Hồ nước ở xã Minh Hưng rất đẹp vào mùa thu.",
    "car": "Giá ô tô điện giảm mạnh trong tháng này.",
    "other": "Trận bóng đá diễn ra trên sân Mỹ Đình.",
}
SCHEMA = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT(stored=True))


def build(**options) -> vnsearch.Index:
    ix = vnsearch.Index.in_memory(SCHEMA, **options)
    with ix.writer(jobs=1) as w:
        for key, body in DOCS.items():
            w.add({"id": key, "body": body})
    return ix


@pytest.fixture(scope="module")
def ix() -> vnsearch.Index:
    return build()


def ids(results) -> set[str]:
    return {h.id for h in results}


def test_an_abbreviation_finds_the_text_written_in_full(ix) -> None:
    assert ids(ix.search("UBND")) == {"full", "abbr"}
    assert ids(ix.search("CSGT")) == set()
    assert ids(ix.search("ubnd", synonyms=False)) == {"abbr"}  # what it found before


@pytest.mark.parametrize("query", ["ủy ban nhân dân", "uy ban nhan dan", '"Uỷ ban nhân dân"'])
def test_the_text_in_full_finds_the_abbreviation(ix, query: str) -> None:
    found = ix.search(query)
    assert "abbr" in ids(found)
    assert "abbr" not in ids(ix.search(query, synonyms=False))


def test_a_form_of_several_syllables_is_matched_as_a_phrase(ix) -> None:
    # "far" holds hồ and minh, apart: HCM must not find it through "hồ chí minh"
    assert ids(ix.search("HCM")) == {"full", "abbr"}
    assert ids(ix.search("TPHCM")) == {"full", "abbr"}


def test_what_was_typed_scores_no_lower_than_before(ix) -> None:
    before = {h.id: h.score for h in ix.search("UBND", synonyms=False)}
    after = {h.id: h.score for h in ix.search("UBND")}
    assert after["abbr"] >= before["abbr"]


def test_matches_are_highlighted(ix) -> None:
    hits = {h.id: h for h in ix.search("TPHCM UBND")}
    snippet = hits["full"].snippet("body")
    marked = [snippet.text[a:b] for a, b in snippet.spans]
    assert marked == ["Ủy ban nhân dân Thành phố Hồ Chí Minh"]
    snippet = hits["abbr"].snippet("body")
    assert snippet.text[snippet.spans[0][0] : snippet.spans[0][1]].startswith("UBND")


def test_a_users_table_in_both_directions_with_the_built_in_one(tmp_path) -> None:
    path = tmp_path / "synonyms.txt"
    path.write_text("# mine\nxe hơi, xe con => ô tô\n", encoding="utf-8")
    folder = tmp_path / "ix"
    ix = vnsearch.Index.create(folder, SCHEMA)
    with ix.writer(jobs=1) as w:
        for key, body in DOCS.items():
            w.add({"id": key, "body": body})
    ix.close()
    with vnsearch.Index.open(folder, synonyms=path) as ix:
        assert ids(ix.search("xe hơi")) == {"car"}
        assert ids(ix.search("xe con")) == {"car"}
        assert ids(ix.search("UBND")) == {"full", "abbr"}  # the built-in table too
        assert ids(ix.search("xe hơi", synonyms=False)) == set()
    with vnsearch.Index.open(folder) as ix:
        assert ids(ix.search("xe hơi")) == set()
        assert ids(ix.search("xe hơi", synonyms=path)) == {"car"}
    with pytest.raises(vnsearch.SynonymsError, match=r"missing\.txt: cannot read"):
        vnsearch.Index.open(folder, synonyms=tmp_path / "missing.txt")


def test_synonyms_turned_off() -> None:
    off = build(synonyms=False)
    assert ids(off.search("UBND")) == {"abbr"}
    assert ids(off.search("ủy ban nhân dân")) == {"full"}
    mine = build(synonyms=Synonyms.parse("ô tô, xe hơi"))  # a table as it is: no built-ins
    assert ids(mine.search("UBND")) == {"abbr"}
    assert ids(mine.search("xe hơi")) == {"car"}


TWO = vnsearch.Schema(title=vnsearch.TEXT(), body=vnsearch.TEXT())
PLAIN = [
    q
    for q in [*QUERIES, "Weimar COVID iPhone", "205-QĐ/TW", "tư tưởng", "đại hội", "BCH"]
    if not synonym_alternatives(parse(q, list(TWO)), TWO, ABBREVIATIONS)
]


def test_most_queries_hold_no_form() -> None:
    assert len(PLAIN) >= 15
    assert {"205-QĐ/TW", "tư tưởng", "Weimar COVID iPhone"} <= set(PLAIN)


@pytest.mark.parametrize("query", PLAIN)
def test_queries_without_a_form_are_planned_as_before(query: str) -> None:
    assert plan_text(query, TWO, synonyms=ABBREVIATIONS) == plan_text(
        query, TWO, synonyms=Synonyms()
    )


def test_alternatives_stay_within_max_terms() -> None:
    schema = TWO
    query = "UBND HĐND THPT THCS CSGT BHXH BHYT CNTT TPHCM ĐBSCL"
    limits = QueryLimits(max_terms=40)
    plan = plan_text(query, schema, limits=limits)
    assert sum(u.lookups for u in plan.units) + len(plan.bonus) <= 40
    assert plan.notes and "max_terms=40" in plan.notes[0]
    with pytest.raises(vnsearch.QueryTooLarge):
        plan_text(query, schema, limits=QueryLimits(max_terms=40, on_excess="error"))


def test_words_typed_as_raw_telex_find_the_synonyms_of_what_they_spell(ix) -> None:
    snap = ix.snapshot()
    typed = plan_search(snap, "Vieejt Nam", None, DEFAULT_RANKING)
    assert typed.units == plan_search(snap, "Việt Nam", None, DEFAULT_RANKING).units
    assert ("body.folded", "vn") in typed.units[0].any_of  # VN, from the built-in table
