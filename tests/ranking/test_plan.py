"""Query plans from data: what ``analyze_query`` finds in a query and what ``plan_query``
makes of it, without an index (the accent vocabulary is given as tables).

The ranking's weights are powers of two, so every expected weight below is an exact
product: view weight x field boost (x the restored or capitals factor).
"""

from __future__ import annotations

import dataclasses
import importlib
from unittest import mock

import pytest

from vnsearch.index.schema import KEYWORD, TEXT, Schema
from vnsearch.query import Synonyms, parse
from vnsearch.ranking import query_text
from vnsearch.ranking.accents import AccentVocabulary
from vnsearch.ranking.plan import plan_query, plan_text, text_fields
from vnsearch.ranking.query_text import analyze_query
from vnsearch.ranking.scoring import Ranking

SCHEMA = Schema(
    title=TEXT(boost=4.0),
    body=TEXT(),
    topic=KEYWORD(),
    tag=KEYWORD(lowercase=False),
)
WEIGHTS = {"syllables": 1.0, "folded": 0.5, "bigrams": 0.25, "folded_bigrams": 0.125, "words": 2.0}
PLAIN = Ranking(view_weights=WEIGHTS)
# the modules (``vnsearch.analysis.syllables`` is also the name of the function)
SYLLABLES = importlib.import_module("vnsearch.analysis.syllables")
SEGMENT = importlib.import_module("vnsearch.analysis.segment")


def plan(query: str, ranking: Ranking = PLAIN, accents=None, fields=None):
    # without synonyms (``hà nội`` would also search ``HN``): see test_synonym_queries.py
    return plan_text(query, SCHEMA, fields, ranking, accents, synonyms=Synonyms())


def scored(terms) -> list[tuple[str, str, float]]:
    return [(s.field, s.term, s.weight) for s in terms]


def test_an_accented_two_word_query_scores_exact_and_folded_syllables_and_bonus_terms():
    p = plan("hà nội")
    assert [u.occur for u in p.units] == ["should", "should"]
    ha, noi = p.units
    # exact before folded, in every TEXT field, weighted by view and boost
    assert scored(ha.scoring) == [
        ("title.syllables", "hà", 4.0),
        ("title.folded", "ha", 2.0),
        ("body.syllables", "hà", 1.0),
        ("body.folded", "ha", 0.5),
    ]
    # a word matches through its folded syllable, so unaccented text finds it too
    assert ha.any_of == (("title.folded", "ha"), ("body.folded", "ha"))
    assert noi.any_of == (("title.folded", "noi"), ("body.folded", "noi"))
    assert ha.phrases == noi.phrases == ()
    bonus = scored(p.bonus)
    assert ("title.bigrams", "hà nội", 1.0) in bonus
    assert ("title.folded_bigrams", "ha noi", 0.5) in bonus
    assert ("body.bigrams", "hà nội", 0.25) in bonus
    assert ("body.folded_bigrams", "ha noi", 0.125) in bonus
    # pyvi's word for the two syllables
    assert ("title.words", "hà nội", 8.0) in bonus
    assert ("body.words", "hà nội", 2.0) in bonus


def test_one_word_gives_no_bonus_terms():
    assert plan("nội").bonus == ()


def test_fields_limit_the_text_fields_and_unknown_ones_are_refused():
    p = plan("hà nội", fields=["body"])
    fields = {s.text_field for u in p.units for s in u.scoring} | {s.text_field for s in p.bonus}
    assert fields == {"body"}
    with pytest.raises(ValueError, match="nope"):
        plan("hà", fields=["nope"])
    assert text_fields(SCHEMA, None) == ["title", "body"]


def test_a_must_not_clause_matches_but_forms_no_bonus_terms():
    p = plan("hà -nội")
    assert [u.occur for u in p.units] == ["should", "must_not"]
    assert p.units[1].any_of == (("title.folded", "noi"), ("body.folded", "noi"))
    # excluded words are not neighbours of the others: no bigram, no word
    assert p.bonus == ()


def test_a_must_not_clause_adds_nothing_to_scores():
    """The executor scores only positive clauses: an excluded word's terms are never among
    the terms that add to scores."""
    import vnsearch
    from vnsearch.ranking.match import PreparedQuery

    ix = vnsearch.Index.in_memory(SCHEMA)
    with ix.writer() as w:
        w.add({"title": "hà", "body": "hà nội"})
    snap = ix.snapshot()
    q = PreparedQuery(snap, plan("hà -nội"), None, PLAIN)
    assert {s.term for s in q.scoring} == {"hà", "ha"}
    assert [u.occur for u in q.negative] == ["must_not"]


def test_a_field_term_on_a_keyword_field_matches_its_value_lowercased_if_the_field_is():
    p = plan("topic:Thể_Thao tag:Thể_Thao", fields=None)
    assert [u.any_of for u in p.units] == [(("topic", "thể_thao"),), (("tag", "Thể_Thao"),)]
    # values are matched, never scored, and are not plain words
    assert all(u.scoring == () for u in p.units)
    assert p.bonus == ()


def test_a_field_term_on_a_text_field_searches_that_field_only():
    (unit,) = plan("title:Nội").units
    assert scored(unit.scoring) == [("title.syllables", "nội", 4.0), ("title.folded", "noi", 2.0)]
    assert unit.any_of == (("title.folded", "noi"),)


def test_a_phrase_matches_its_syllables_at_their_offsets_in_the_view_it_was_typed_in():
    accented, folded = plan('"Hà Nội"').units[0], plan('"ha noi"').units[0]
    assert accented.phrases == (
        (("title.syllables", "hà", 0), ("title.syllables", "nội", 1)),
        (("body.syllables", "hà", 0), ("body.syllables", "nội", 1)),
    )
    assert folded.phrases[1] == (("body.folded", "ha", 0), ("body.folded", "noi", 1))
    assert accented.any_of == folded.any_of == ()
    # each syllable scores, exact and folded; a phrase is not a plain word: no bonus
    assert [s.term for s in accented.scoring if s.text_field == "body"] == [
        "hà",
        "ha",
        "nội",
        "noi",
    ]
    assert plan('"Hà Nội"').bonus == ()


def test_or_alternatives_are_one_clause_matching_any_of_them():
    p = plan('hà OR "trung ương"', fields=["body"])
    (unit,) = p.units
    assert unit.any_of == (("body.folded", "ha"),)
    # typed with accents: the exact view
    assert unit.phrases == ((("body.syllables", "trung", 0), ("body.syllables", "ương", 1)),)
    assert {s.term for s in unit.scoring} == {"hà", "ha", "trung", "ương", "uong"}
    assert p.bonus == ()  # alternatives are not neighbours


def test_stop_words_do_not_score_alone_but_still_form_bigrams():
    ranking = dataclasses.replace(PLAIN, stopwords=True)
    p = plan("kinh tế của đà nẵng", ranking, fields=["body"])
    terms = {s.term for u in p.units for s in u.scoring}
    assert "của" not in terms and "cua" not in terms
    assert {"kinh", "tế", "đà", "nẵng"} <= terms
    assert len(p.units) == 4
    bigrams = {s.term for s in p.bonus if s.view == "bigrams"}
    assert {"tế của", "của đà"} <= bigrams
    # kept when the ranking keeps stop words, or when nothing else is left
    assert "của" in {s.term for u in plan("kinh tế của", fields=["body"]).units for s in u.scoring}
    assert [s.term for u in plan("của", ranking).units for s in u.scoring][:1] == ["của"]


def test_a_stop_word_of_two_syllables_is_found_across_neighbouring_words():
    analyzed = analyze_query(parse("tuy nhiên giá nhiên liệu"), SCHEMA)
    assert [i.stop for i in analyzed.items] == [True, True, False, False, False]
    # not across a word that is not plain
    analyzed = analyze_query(parse("tuy -x nhiên"), SCHEMA)
    assert [i.stop for i in analyzed.items] == [False, False, False]


def test_an_unaccented_query_gets_restored_exact_terms_at_restored_weight():
    accents = AccentVocabulary({"duong pho": (("đường phố", 5), ("dương phố", 1))}, {})
    ranking = dataclasses.replace(PLAIN, restored_weight=0.5)
    p = plan("duong pho", ranking, accents, fields=["body"])
    assert scored(p.units[0].scoring) == [
        ("body.syllables", "đường", 0.5),  # restored: the view's weight x 0.5
        ("body.folded", "duong", 0.5),  # folded: as typed, the view's weight
    ]
    bonus = scored(p.bonus)
    assert ("body.bigrams", "đường phố", 0.125) in bonus
    assert ("body.folded_bigrams", "duong pho", 0.125) in bonus
    # matching is unchanged: folded syllables
    assert p.units[0].any_of == (("body.folded", "duong"),)
    # one accented word: the query is taken as typed
    typed = plan("duong phố", ranking, accents, fields=["body"])
    assert scored(typed.units[0].scoring)[0] == ("body.syllables", "duong", 1.0)
    # restoring off: the ranking's restored_weight is 0
    off = plan("duong pho", PLAIN, accents, fields=["body"])
    assert scored(off.units[0].scoring)[0] == ("body.syllables", "duong", 1.0)


def test_i_and_y_are_spelled_as_the_index_spells_them_keeping_capitals():
    accents = AccentVocabulary(
        {"vat ly": (("vật lý", 9), ("vật lí", 1)), "my": (("mỹ", 3),)}, {"my": (("mỹ", 3),)}
    )
    ranking = dataclasses.replace(PLAIN, respell=True)
    analyzed = analyze_query(parse("vật lí ở Mĩ"), SCHEMA, accents, ranking)
    assert [i.node.text for i in analyzed.items] == ["vật", "lý", "ở", "Mỹ"]
    assert [i.syllables for i in analyzed.items][1::2] == [("lý",), ("mỹ",)]
    assert analyzed.plain.syllables == ("vật", "lý", "ở", "mỹ")
    as_typed = analyze_query(parse("vật lí ở Mĩ"), SCHEMA, accents, PLAIN)
    assert [i.node.text for i in as_typed.items] == ["vật", "lí", "ở", "Mĩ"]


PREFERS_Y = AccentVocabulary(
    {},
    {
        f: ((form, df),)
        for f, form, df in [("li", "lí", 1), ("ly", "lý", 9), ("mi", "mĩ", 1), ("my", "mỹ", 9)]
        + [("ti", "tỉ", 1), ("ty", "tỷ", 9), ("ki", "kĩ", 1), ("ky", "kỹ", 9)]
    },
)


@pytest.mark.parametrize(
    "query",
    ["lí", "Lí", "LÍ", "li\u0301 do", "vật lí", "Mĩ.", "(tỉ) lệ", "kĩ-thuật lí", '"vat li" ki'],
)
def test_a_respelled_item_holds_the_analysis_of_its_new_text(query):
    """Respelling swaps a syllable's letters in its token instead of analyzing the item
    again: the result must be what analyzing the respelled text gives."""
    ranking = dataclasses.replace(PLAIN, respell=True)
    analyzed = analyze_query(parse(query), SCHEMA, PREFERS_Y, ranking)
    assert any(i.node != n for i, (_c, n) in zip(analyzed.items, parse(query).items()))
    for item in analyzed.items:
        fresh = analyze_query(parse(f'"{item.node.text}"'), SCHEMA).items[0]
        assert (item.syllables, item.folded) == (fresh.syllables, fresh.folded)
        assert [p - item.positions[0] for p in item.positions] == [
            p - fresh.positions[0] for p in fresh.positions
        ]


def test_capitalized_words_after_the_first_weigh_more():
    ranking = dataclasses.replace(PLAIN, capitals=2.0)
    p = plan("Thủ tướng Chính", ranking, fields=["body"])
    first, second, third = ([s.weight for s in u.scoring] for u in p.units)
    assert first == second == [1.0, 0.5]  # the first word starts a sentence
    assert third == [2.0, 1.0]


def test_a_long_query_matches_its_plain_words_as_one_group_after_the_other_clauses():
    ranking = dataclasses.replace(PLAIN, group_from=3, stopwords=True, question_words=True)
    p = plan("kinh tế năm nào +biển", ranking, fields=["body"])
    assert [u.occur for u in p.units] == ["must", "should"]
    group = p.units[1]
    # question words (``nào``) neither match nor score, nor form bonus terms, in a group
    assert group.any_of == (("body.folded", "kinh"), ("body.folded", "te"), ("body.folded", "nam"))
    assert not any("nào" in s.term or "nao" in s.term for s in p.bonus)
    assert {s.term for s in p.bonus if s.view == "bigrams"} == {"kinh tế", "tế năm"}


def test_analyze_query_tokenizes_each_word_once_and_planning_tokenizes_nothing():
    query_text._recent_text.cache_clear()
    accents = AccentVocabulary({"vat ly": (("vật lý", 9), ("vật lí", 1))}, {})
    ranking = dataclasses.replace(PLAIN, respell=True, stopwords=True, capitals=2.0)
    parsed = parse('vật lí "hà nội" của -x lí')  # "lí" twice: one analysis
    real = SYLLABLES.tokenize_normalized
    with mock.patch.object(SYLLABLES, "tokenize_normalized", side_effect=real) as tokenize:
        analyzed = analyze_query(parsed, SCHEMA, accents, ranking)
    texts = sorted(call.args[0] for call in tokenize.call_args_list)
    assert texts == sorted(["vật", "lí", "hà nội", "của", "x"])
    # everything planning needs is in the analysis: it tokenizes and segments nothing
    broken = mock.Mock(side_effect=AssertionError("planning analyzed text"))
    with (
        mock.patch.object(SYLLABLES, "tokenize_normalized", broken),
        mock.patch.object(SEGMENT, "default_segmenter", broken),
    ):
        p = plan_query(analyzed, SCHEMA, ["body"], ranking)
    assert {s.term for u in p.units for s in u.scoring} >= {"vật", "lý", "hà", "nội"}
    assert broken.call_count == 0


def test_the_analysis_is_immutable():
    analyzed = analyze_query(parse("hà nội"), SCHEMA)
    with pytest.raises(AttributeError):
        analyzed.items[0].syllables = ("x",)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        analyzed.plain.words = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        plan("hà nội").units[0].any_of = ()  # type: ignore[misc]
    assert isinstance(analyzed.items, tuple) and isinstance(analyzed.plain.syllables, tuple)
