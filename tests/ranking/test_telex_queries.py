"""Query words typed as raw Telex or VNI keystrokes are read as the syllables they spell
(``ranking/query_text.py``), unless the index holds the word as typed more often; English
words, names and codes are left as typed."""

from __future__ import annotations

from vnsearch.index.schema import TEXT, Schema
from vnsearch.query import parse
from vnsearch.ranking.accents import AccentVocabulary
from vnsearch.ranking.query_text import analyze_query

SCHEMA = Schema(title=TEXT(), body=TEXT())
VOCAB = AccentVocabulary(
    {},
    {
        "viet": (("việt", 40),),
        "nam": (("nam", 50), ("năm", 30)),
        "dai": (("đại", 20),),
        "hoi": (("hội", 25), ("hỏi", 5)),
        "duong": (("đường", 30), ("dương", 10)),
        "bao": (("bao", 9), ("bảo", 2)),
        "covid": (("covid", 8),),
    },
)


def read(query: str, vocab: AccentVocabulary | None = VOCAB) -> list[tuple[str, ...]]:
    return [item.syllables for item in analyze_query(parse(query), SCHEMA, vocab).items]


def test_telex_and_vni_words_read_as_syllables() -> None:
    assert read("Vieejt Nam ddaij hooji dduwowngf") == [
        ("việt",), ("nam",), ("đại",), ("hội",), ("đường",)
    ]  # fmt: skip
    assert read("Vie65t Nam d9ai5 ho6i5 duong92") == [
        ("việt",), ("nam",), ("đại",), ("hội",), ("đường",)
    ]  # fmt: skip


def test_in_phrases_and_must_and_must_not_words_too() -> None:
    assert read('"vieetj nam" +dduwowngf -hooij') == [
        ("việt", "nam"), ("đường",), ("hội",)
    ]  # fmt: skip


def test_read_words_keep_their_capital() -> None:
    items = analyze_query(parse("xin DDaij"), SCHEMA, VOCAB).items
    assert items[1].node.text == "Đại" and items[1].capitalized


def test_english_words_names_and_codes_are_not_rewritten() -> None:
    query = "Weimar COVID iPhone 205-QĐ/TW iOS sex fox dr"
    typed = read(query, None)
    assert read(query) == typed
    assert typed[0] == ("weimar",) and typed[1] == ("covid",)


def test_a_word_the_index_holds_as_typed_more_often_stays() -> None:
    """``baro`` spells ``bảo`` in Telex: read so only when the index holds ``bảo`` in more
    documents than ``baro``, or ``baro`` in none."""
    assert read("baro") == [("bảo",)]  # no document holds "baro"
    more_baro = AccentVocabulary({}, {**VOCAB.syllables, "baro": (("baro", 2),)})
    assert read("baro", more_baro) == [("baro",)]
    fewer_baro = AccentVocabulary({}, {**VOCAB.syllables, "baro": (("baro", 1),)})
    assert read("baro", fewer_baro) == [("bảo",)]


def test_unaccented_words_are_still_restored_not_read() -> None:
    """A plain unaccented word is no keystrokes of another syllable: restoration applies."""
    items = analyze_query(parse("duong"), SCHEMA, VOCAB).items
    assert items[0].syllables == ("duong",) and items[0].restored == "đường"


def test_search_finds_the_same_documents_typed_raw(corpus) -> None:
    for query, typed in (("Việt Nam", "Vieejt Nam"), ("Việt Nam", "Vie65t Nam")):
        want = [h.id for h in corpus.search(query, limit=5)]
        assert want
        assert [h.id for h in corpus.search(typed, limit=5)] == want
