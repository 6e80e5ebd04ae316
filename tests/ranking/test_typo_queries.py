"""Typo tolerance (``ranking/typos.py``): a query word the index lacks is read as the word
a slip away that it holds, scored below an exact word; ``~0``/``~1`` per word, the
ranking's ``typo_weight`` for all; ``Results.corrected`` and the CLI say how it was read."""

from __future__ import annotations

import dataclasses
import json

from vnsearch import DEFAULT_RANKING, TEXT, Index, Schema
from vnsearch.cli import main
from vnsearch.query import parse
from vnsearch.ranking.accents import AccentVocabulary
from vnsearch.ranking.query_text import analyze_query

SCHEMA = Schema(title=TEXT(), body=TEXT())
VOCAB = AccentVocabulary(
    {},
    {
        "thanh": (("thanh", 50), ("thành", 9), ("thánh", 4)),
        "thang": (("tháng", 1),),
        "chiem": (("chiếm", 7),),
        "pho": (("phố", 30),),
        "bao": (("bảo", 9),),
        "viet": (("việt", 40),),
    },
)
OFF = dataclasses.replace(DEFAULT_RANKING, typo_weight=0.0)


def read(query: str, ranking=DEFAULT_RANKING) -> list[tuple[str, ...]]:
    return [i.syllables for i in analyze_query(parse(query), SCHEMA, VOCAB, ranking).items]


def test_a_word_the_index_lacks_is_read_as_the_one_a_slip_away() -> None:
    # substituted neighbouring key, swapped letters, dropped and inserted letters
    assert read("tjành chimế thàh thàanh") == [("thành",), ("chiếm",), ("thành",), ("thành",)]
    # typed with accents: the form with the marks typed, before a more frequent one
    assert read("thánhh") == [("thánh",)]
    # typed without: searched without accents (any form), capital kept
    assert read("Thnah") == [("thanh",)]
    q = analyze_query(parse("Tjành phố"), SCHEMA, VOCAB)
    assert q.items[0].node.text == "Thành" and q.items[0].corrected
    assert not q.items[1].corrected and q.corrected == "Thành phố"


def test_a_correct_rare_word_is_never_read_as_another() -> None:
    # "tháng" is in one document, "thành" (one letter away) in many: taken as typed
    assert read("tháng thang") == [("tháng",), ("thang",)]
    assert analyze_query(parse("tháng"), SCHEMA, VOCAB).corrected is None


def test_short_words_only_when_asked_and_tilde_zero_turns_it_off() -> None:
    assert read("bảp") == [("bảp",)]  # under 4 letters
    assert read("bảp~1") == [("bảo",)]
    assert read("tjành~0 tjành") == [("tjành",), ("thành",)]


def test_the_ranking_turns_it_off() -> None:
    assert read("tjành", OFF) == [("tjành",)]
    assert analyze_query(parse("tjành"), SCHEMA, VOCAB, OFF).corrected is None


def test_raw_keys_are_read_first_and_codes_and_english_words_left_alone() -> None:
    assert read("vieetj") == [("việt",)]  # Telex, not a slip from something else
    query = "Weimar COVID iPhone 205-QĐ/TW"
    # no word of the index is one slip from any of them: left as typed
    assert read(query) == read(query, OFF)
    assert analyze_query(parse(query), SCHEMA, VOCAB).corrected is None
    # an index lacking them and holding words a slip away reads them so (and says so)
    near = {**VOCAB.syllables, "weimer": (("weimer", 3),), "covic": (("covic", 2),)}
    read_as = analyze_query(parse(query), SCHEMA, AccentVocabulary({}, near)).corrected
    assert read_as == "Weimer COVIC iPhone 205-QĐ/TW"
    # but not when it holds them as typed, even in one document
    holds = {**near, "weimar": (("weimar", 1),), "covid": (("covid", 1),)}
    assert analyze_query(parse(query), SCHEMA, AccentVocabulary({}, holds)).corrected is None


def test_corrected_words_score_below_exact_ones() -> None:
    from vnsearch.ranking.plan import plan_query

    q = analyze_query(parse("tjành phố"), SCHEMA, VOCAB)
    plan = plan_query(q, SCHEMA, ["title", "body"], DEFAULT_RANKING)
    first, second = ({s.view: s.weight for s in u.scoring} for u in plan.units)
    for view, weight in second.items():
        assert first[view] == DEFAULT_RANKING.typo_weight * weight < weight


def small_index() -> Index:
    ix = Index.in_memory(Schema(title=TEXT(stored=True), body=TEXT(stored=True)))
    with ix.writer() as w:
        w.add({"title": "Biển", "body": "Biển Vũng Tàu đông khách cuối tuần."})
        w.add({"title": "Cố đô", "body": "Cố đô Huế bên dòng sông Hương."})
        w.add({"title": "Thủ đô", "body": "Thành phố Hà Nội là thủ đô."})
    return ix


def test_search_finds_the_document_and_highlights_the_word_read() -> None:
    ix = small_index()
    results = ix.search("Tàuu")
    assert [h.fields["title"] for h in results] == ["Biển"]
    assert results.corrected == "Tàu"
    snippet = results[0].snippet("body")
    assert [snippet.text[a:b] for a, b in snippet.spans] == ["Tàu"]
    assert ix.search("thàng phố")[0].fields["title"] == "Thủ đô"
    assert len(ix.search("Tàuu~0")) == 0
    exact = ix.search("Tàu")
    assert exact.corrected is None and exact[0].score > results[0].score


def test_the_cli_shows_the_query_as_read(tmp_path, monkeypatch, capsys) -> None:
    ix_path = tmp_path / "ix"
    src = tmp_path / "docs.jsonl"
    src.write_text(
        json.dumps(
            {"id": "1", "title": "Biển", "body": "Biển Vũng Tàu đông khách."}, ensure_ascii=False
        )
        + "\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["index", str(src), "--index", str(ix_path)]) == 0
    capsys.readouterr()
    assert main(["query", "vungg", "Tàuu", "--index", str(ix_path)]) == 0
    out = capsys.readouterr().out
    # typed without accents beside a word typed with them: read with the accents seen
    assert out.splitlines()[0] == 'Showing results for "vũng Tàu"'
    assert main(["query", "vung", "Tàuu", "--index", str(ix_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["corrected"] == "vung Tàu"
    assert main(["query", "Tàu", "--index", str(ix_path)]) == 0
    assert "Showing results for" not in capsys.readouterr().out


# the neighbouring syllables decide: pairs as the index spells them, with their df
NEAR = AccentVocabulary(
    {
        "pho bien": (("phổ biến", 40),),
        "bien nhat": (("biến nhất", 6),),
        "bien nhan": (("biến nhân", 1),),
        "dong duc": (("đông đức", 12),),
        "dang duc": (("đảng đức", 1),),
        "ma ong": (("mà ông", 90),),
        "ma song": (("mà sóng", 1),),
        "song hong": (("sông hồng", 22), ("sóng hồng", 1)),
        "phan cua": (("phần của", 114), ("phận của", 48)),
        "thi nguoi": (("thì người", 30),),
        "nguoi nao": (("người nào", 40),),
        "ngam ngui": (("ngậm ngùi", 5),),
    },
    {
        "pho": (("phổ", 50),),
        "bien": (("biển", 90), ("biến", 60)),
        "nhat": (("nhất", 300), ("nhật", 80)),
        "nhan": (("nhân", 400),),
        "nha": (("nhà", 500),),
        "dong": (("đông", 70), ("động", 200)),
        "dang": (("đang", 150), ("đảng", 90)),
        "duc": (("đức", 30),),
        "ma": (("mà", 900),),
        "ong": (("ông", 1400),),
        "song": (("sống", 580), ("song", 345), ("sông", 297), ("sóng", 111)),
        "hong": (("hồng", 60),),
        "phan": (("phần", 1054), ("phân", 590), ("phản", 451), ("phán", 171)),
        "cua": (("của", 3000), ("cua", 5)),
        "tin": (("tin", 80),),
        "thi": (("thì", 700),),
        "nao": (("nào", 600),),
        "nguoi": (("người", 2000),),
        "ngui": (("ngùi", 6), ("ngửi", 3)),
        "ngam": (("ngậm", 7),),
    },
)


def near(query: str) -> str | None:
    return analyze_query(parse(query), SCHEMA, NEAR).corrected


def test_a_short_word_no_document_holds_is_read_by_its_neighbours() -> None:
    # "nht": a slip from nhất, nhật, nhân, nhà...: the pair the index holds decides
    assert near("phổ biến nht") == "phổ biến nhất"  # the form seen beside "biến"
    # a mark a slip took away with its letter: "Đông", though "đang" has the marks typed
    assert near("Đng Đức") == "Đông Đức"
    # alone, or where no candidate is held next to the neighbours: taken as typed
    assert near("nht") is None and near("nht tin") is None
    # a short word the index holds, an acronym: as typed
    assert near("phổ biến nhà") is None and near("phổ biến NHT") is None
    # an excluded word: a guess must not take documents away
    assert near("phổ biến -nht") is None


def test_the_candidate_that_fits_between_both_neighbours_wins() -> None:
    # "mà ông" is a far more common pair than "mà sông", but "sông Hồng" decides
    assert near("mà zông Hồng") == "mà sông Hồng"


def test_forms_beyond_the_most_frequent_are_found_beside_the_neighbours() -> None:
    # "phận" is not among the 4 forms kept for "phan", but "phận của" is a pair it holds
    assert near("phnậ của") == "phận của"


def test_a_short_word_is_read_in_a_search_and_said_so() -> None:
    ix = Index.in_memory(Schema(title=TEXT(stored=True), body=TEXT(stored=True)))
    with ix.writer() as w:
        w.add({"title": "Một", "body": "Trò chơi phổ biến nhất ở Huế."})
        w.add({"title": "Hai", "body": "Môn thể thao phổ biến nhất là bóng đá."})
        w.add({"title": "Ba", "body": "Biển Nhật Bản."})
    results = ix.search("thể thao phổ biến nht")
    assert results.corrected == "thể thao phổ biến nhất"
    assert results[0].fields["title"] == "Hai"


def test_a_short_word_typed_without_accents_takes_them_beside_accented_words() -> None:
    # typed with accents around it: the form the index holds beside them, not any form
    assert near("phổ biến nht") == "phổ biến nhất"
    # a query typed without any accent is searched without them
    assert near("pho bien nht") == "pho bien nhat"


def test_accents_the_index_never_puts_on_a_held_syllable_are_read_a_slip_away() -> None:
    # "ngui" is held (ngùi, ngửi), "ngưi" never: "người" keeps the mark typed and fits
    # both neighbours far better than the folded reading
    assert near("thì ngưi nào") == "thì người nào"
    assert near("Ngưi nào") == "Người nào"
    # the folded reading fits better ("ngậm ngùi"): searched as typed, folded
    assert near("ngậm ngưi") is None
    # a form the index holds, or one with no neighbour to decide: as typed
    assert near("thì ngửi nào") is None and near("ngưi") is None
    # an excluded word is never guessed
    assert near("thì -ngưi nào") is None
