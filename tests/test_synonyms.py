"""Synonym tables (``vnsearch/query/synonyms.py``): the file format, its errors, which runs
of query words read as a form, and the built-in abbreviations."""

from __future__ import annotations

import pytest

import vnsearch
from vnsearch.analysis.telex import is_syllable
from vnsearch.query import ABBREVIATIONS, Synonyms, as_synonyms
from vnsearch.query.synonyms import MAX_ALTERNATIVES, form_key


def alternatives(table: Synonyms, query: str) -> list[tuple[int, int, tuple[str, ...]]]:
    return [tuple(m) for m in table.matches(query.split())]


def test_a_line_makes_every_form_equivalent_both_ways() -> None:
    t = Synonyms.parse("# cars\n\nô tô, xe hơi => xe con  # a comment\nC#, Csharp\n")
    assert t.groups == (("ô tô", "xe hơi", "xe con"), ("C#", "Csharp"))
    assert alternatives(t, "xe con") == [(0, 2, ("ô tô", "xe hơi"))]
    assert alternatives(t, "mua ô tô") == [(1, 3, ("xe hơi", "xe con"))]
    assert alternatives(t, "csharp") == [(0, 1, ("c",))]  # "#" inside a word: no comment


def test_groups_sharing_a_form_are_one_group() -> None:
    t = Synonyms.parse("a1, b1\nc1 => b1\n") | Synonyms([["c1", "d1"]])
    assert t.groups == (("a1", "b1", "c1", "d1"),)


def test_forms_compare_normalized_lowercase_and_compounds_as_parts() -> None:
    t = Synonyms.parse("TP.HCM => thành phố Hồ Chí Minh")
    for typed in ("tp.hcm", "Tp.HCM", "TP HCM", "tp-hcm"):
        assert alternatives(t, typed)[0][2] == ("thành phố hồ chí minh",), typed
    # typed without any accent: compared folded; with accents: as typed
    assert alternatives(t, "thanh pho ho chi minh")[0][:2] == (0, 5)
    assert alternatives(t, "THÀNH PHỐ Hồ Chí Minh")[0][:2] == (0, 5)
    assert alternatives(t, "thành phố hồ chỉ minh") == []


def test_accented_words_never_match_an_abbreviation_by_folding() -> None:
    assert alternatives(ABBREVIATIONS, "tw")[0][2] == ("trung ương",)
    assert alternatives(ABBREVIATIONS, "tư tưởng") == []
    assert alternatives(ABBREVIATIONS, "dh") != []  # ĐH typed without accents
    assert alternatives(ABBREVIATIONS, "đại hội") == []


def test_english_words_and_codes_are_not_rewritten() -> None:
    for query in ("Weimar", "COVID", "205-QĐ/TW", "iPhone", "NĐ129", "LG.HN.ACB", "tphcm2"):
        assert alternatives(ABBREVIATIONS, query) == [], query


def test_the_longest_run_wins_and_a_form_holding_another_is_left_out() -> None:
    assert alternatives(ABBREVIATIONS, "BCH TW") == [(0, 2, ("bchtw", "ban chấp hành trung ương"))]
    # HCM finds every text that writes TP HCM or TP.HCM: that form is not searched again
    assert alternatives(ABBREVIATIONS, "HCM") == [
        (0, 1, ("tphcm", "tp hồ chí minh", "thành phố hồ chí minh"))
    ]
    big = Synonyms([[f"x{i}" for i in range(20)]])
    assert len(alternatives(big, "x0")[0][2]) == MAX_ALTERNATIVES


def test_every_built_in_abbreviation_is_not_a_vietnamese_syllable() -> None:
    # folded and lowercased, an abbreviation of one word must not be a word people type
    for group in ABBREVIATIONS:
        for form in group:
            exact, folded = form_key(form)
            if len(exact) == 1:
                assert not is_syllable(folded[0]), form
    assert str(ABBREVIATIONS).splitlines()[0].startswith("TP.HCM, TPHCM, HCM")
    assert vnsearch.ABBREVIATIONS is ABBREVIATIONS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ok1, ok2\nUBND =>\n", "syn.txt:2: an empty form"),
        ("a1,, b1", "syn.txt:1: an empty form"),
        ("a1 => b1 => c1", "syn.txt:1: more than one '=>'"),
        ("\n\nUBND", "syn.txt:3: a line needs two different forms"),
        ("UBND, ubnd", "syn.txt:1: a line needs two different forms"),
        ("a1, !!!", "syn.txt:1: '!!!' has no letter or digit"),
        ("a1 => " + "b " * 13, "syn.txt:1: 'b b b"),
    ],
)
def test_a_malformed_line_is_named_by_file_and_line(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "syn.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(vnsearch.SynonymsError) as info:
        Synonyms.read(path)
    assert str(info.value).startswith(f"{path}:"), info.value
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_files_and_bad_mappings_are_synonyms_errors(tmp_path) -> None:
    with pytest.raises(vnsearch.SynonymsError, match="cannot read"):
        Synonyms.read(tmp_path / "missing.txt")
    (tmp_path / "latin1.txt").write_bytes("xe hơi, ô tô".encode("utf-16"))
    with pytest.raises(vnsearch.SynonymsError, match="not UTF-8"):
        Synonyms.read(tmp_path / "latin1.txt")
    with pytest.raises(vnsearch.SynonymsError, match="is not a str"):
        Synonyms.from_mapping({"a1": ["b1", 3]})
    with pytest.raises(TypeError):
        as_synonyms(3)


def test_as_synonyms_adds_a_users_table_to_the_built_in_one(tmp_path) -> None:
    path = tmp_path / "mine.txt"
    path.write_text("\ufeffô tô => xe hơi\n", encoding="utf-8")  # a BOM is read as none
    table = as_synonyms(path)
    assert table.groups == (*ABBREVIATIONS.groups, ("ô tô", "xe hơi"))
    assert as_synonyms(str(path)) == table
    assert as_synonyms({"ô tô": "xe hơi"}) == table
    assert as_synonyms(Synonyms.read(path)).groups == (("ô tô", "xe hơi"),)
    assert as_synonyms(True) is ABBREVIATIONS and len(as_synonyms(False)) == 0
