"""Snippets and highlighting (vnsearch/highlight.py, Hit.snippet): spans slice the ORIGINAL
stored text however the query matched it, and the fragment is the one with the query's terms.
"""

from __future__ import annotations

import html
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vnsearch
from tests.conftest import read_seeds
from vnsearch import fold, syllables
from vnsearch.analysis.analyzer import fold_term
from vnsearch.analysis.stopwords import question_mask, stopword_mask
from vnsearch.highlight import ELLIPSIS, Highlighter, Snippet
from vnsearch.ranking.highlighting import highlighter_for_query

SEEDS = read_seeds()  # the five seed articles: {"id", "title", "body"}


def read(doc: dict) -> tuple[str, str]:
    return doc["title"], doc["body"]


@pytest.fixture
def ix(seeded_index):
    """The seed articles in an index of the news schema, in memory and on disk."""
    return seeded_index


def words(text: str) -> list[str]:
    """The folded syllables of a piece of text (what a span must consist of)."""
    return [fold_term(t.text) for t in syllables(text) if t.kind != "part"]


def span_texts(s: Snippet) -> list[str]:
    return [s.text[a:b] for a, b in s.spans]


def original_spans(query: str, text: str, field: str = "text") -> list[str]:
    return [text[a:b] for a, b in highlighter_for_query(query).spans(field, text)]


# --- through the index --------------------------------------------------------------------


def test_unaccented_query_highlights_the_accented_original(ix):
    results = ix.search("to chuc dang", limit=5)
    assert len(results) == 5
    for hit in results:
        for name in ("title", "body"):
            s = hit.snippet(name)
            for piece in span_texts(s):
                assert piece in hit.fields[name] or " ".join(piece.split()) in " ".join(
                    hit.fields[name].split()
                )
                assert words(piece) and set(words(piece)) <= {"to", "chuc", "dang"}
        assert "Tổ chức" in span_texts(hit.snippet("body")) or "tổ chức" in span_texts(
            hit.snippet("body")
        )


def test_snippets_mapping_is_lazy_over_stored_text_fields(ix):
    hit = ix.search("Trung ương", limit=1)[0]
    assert list(hit.snippets) == ["title", "body"]
    assert len(hit.snippets) == 2
    assert hit.snippets["body"] == hit.snippet("body")
    assert hit.snippets["body"] is hit.snippets["body"]  # made once
    with pytest.raises(KeyError):
        hit.snippets["id"]
    with pytest.raises(KeyError):
        hit.snippet("missing")


def test_hit_equality_and_repr_ignore_the_highlighter(ix):
    hit = ix.search("Trung ương", limit=1)[0]
    assert hit.highlighter is not None
    bare = vnsearch.Hit(hit.id, hit.score, hit.fields, hit.docnum)
    assert bare == hit
    assert "highlighter" not in repr(hit)
    assert repr(bare) == repr(hit)
    # a hit made by hand has snippets too: the start of the text, nothing highlighted
    assert bare.snippet("title").spans == ()
    assert bare.snippet("title").text.startswith(hit.fields["title"][:20])


def test_a_pickled_hit_keeps_its_data_not_the_highlighter(ix):
    import pickle

    hit = ix.search("Trung ương", limit=1)[0]
    assert hit.snippets["title"].spans
    back = pickle.loads(pickle.dumps(hit))
    assert back == hit and back.highlighter is None
    assert back.snippet("title").spans == ()


def test_snippet_is_exported():
    assert vnsearch.Snippet is vnsearch.ranking.Snippet is vnsearch.highlight.Snippet
    assert "Snippet" in vnsearch.__all__


def test_field_term_highlights_only_that_field(ix):
    results = ix.search("title:Đảng", limit=5)
    assert len(results) >= 2
    for hit in results:
        assert hit.snippet("body").spans == ()
        assert "Đảng" in hit.fields["body"]  # would have been highlighted otherwise
    assert any(span_texts(hit.snippet("title")) == ["Đảng"] for hit in results)


def test_must_not_is_not_highlighted(ix):
    results = ix.search('"Trung ương" -Hà', limit=5)
    assert len(results) > 0
    for hit in results:
        spans = span_texts(hit.snippet("body"))
        # TW: the abbreviation of trung ương (the built-in synonyms) is highlighted too
        assert spans and all(words(p) in (["trung", "uong"], ["tw"]) for p in spans)
    for hit in ix.search("Trung ương -Đảng", limit=5):
        for name in ("title", "body"):
            assert all("dang" not in words(p) for p in span_texts(hit.snippet(name)))


def test_the_fragment_holds_the_most_distinct_query_terms(ix):
    # the seed's first line says "Tổ chức" four times and "Hoàng Sơn" once
    hit = ix.search("tổ chức Hoàng Sơn", limit=1)[0]
    assert hit.fields["title"].count("Hoàng Sơn") == 1
    s = hit.snippet("title", length=80)
    assert "Hoàng Sơn" in span_texts(s) and "Tổ chức" in span_texts(s)


def test_idf_weighs_the_terms():
    text = "Hà Nội mở đầu câu chuyện. " + "Chuyện khác nữa. " * 20 + "Rồi đến Huế."
    plain = highlighter_for_query("ha noi hue")
    assert span_texts(plain.snippet("text", text, length=40)) == ["Hà Nội"]
    idf = {"ha": 1.0, "noi": 1.0, "hn": 1.0, "hue": 5.0}  # hn: the abbreviation of hà nội
    weighed = Highlighter(plain.terms, plain.text_fields, lambda field, term: idf[term])
    assert span_texts(weighed.snippet("text", text, length=40)) == ["Huế"]


def test_text_argument_stands_in_for_an_unstored_field(ix):
    hit = ix.search("hoan thanh", limit=1)[0]
    s = hit.snippet("body", text="Đã hoàn thành kế hoạch.")
    assert span_texts(s) == ["hoàn thành"]


# --- accents, tone styles, Unicode forms --------------------------------------------------


def test_tone_styles_and_d_match_each_other():
    text = "Hoà Bình, hòa bình và HOÀ BÌNH; Đà Nẵng, da nang, ĐÀ NẴNG"
    assert original_spans("hòa bình", text) == ["Hoà Bình", "hòa bình", "HOÀ BÌNH"]
    assert original_spans("hoà bình", text) == ["Hoà Bình", "hòa bình", "HOÀ BÌNH"]
    assert original_spans("da nang", text) == ["Đà Nẵng", "da nang", "ĐÀ NẴNG"]
    assert original_spans("đà nẵng", text) == ["Đà Nẵng", "da nang", "ĐÀ NẴNG"]


def test_old_tone_style_in_a_seed_is_found_by_the_new_style():
    title, _body = read(SEEDS[0])
    assert "Ủy viên" in title  # old style in the stored text
    spans = original_spans("uỷ viên", title)
    assert spans.count("Ủy viên") == 2 and set(spans) == {"Ủy viên", "ủy"}  # "Tỉnh ủy" too


@pytest.mark.parametrize("query", ["Trung ương", "trung uong", "TRUNG ƯƠNG"])
def test_nfd_stored_text_spans_slice_the_nfd_original(query):
    _title, body = read(SEEDS[0])
    nfd = unicodedata.normalize("NFD", body)
    assert len(nfd) > len(body)
    found = highlighter_for_query(query).spans("text", nfd)
    assert len(found) == len(highlighter_for_query(query).spans("text", body)) > 0
    both = {"Trung ương", "TW"}  # TW: its abbreviation (the built-in synonyms)
    for a, b in found:
        assert unicodedata.normalize("NFC", nfd[a:b]) in both
        assert not unicodedata.combining(nfd[b]) if b < len(nfd) else True  # marks kept
    s = highlighter_for_query(query).snippet("text", nfd)
    assert {unicodedata.normalize("NFC", p) for p in span_texts(s)} <= both
    assert "Trung ương" in {unicodedata.normalize("NFC", p) for p in span_texts(s)}


def test_nfd_query_matches_nfc_text():
    nfd_query = unicodedata.normalize("NFD", "Hà Nội")
    assert original_spans(nfd_query, "Thủ đô Hà Nội.") == ["Hà Nội"]


@pytest.mark.parametrize(
    "prefix",
    [
        "Æther …",  # Æ folds to two letters, … to three dots
        "ﬁ ligature ß straße",  # ligature and sharp s
        "x\u200by zero\u00adwidth",  # invisible characters that normalize removes
        "😀 emoji 𝐀𝐁 outside the BMP",
        "Ελληνικά, русский, 中文",  # other scripts
        "e\u0301\u0323 q\u0301 marks that do not compose",
        "\x00\x07 controls",
    ],
)
def test_characters_whose_fold_is_not_one_to_one_keep_offsets_right(prefix):
    text = f"{prefix} ở Hà Nội, {prefix} rồi Hà\u00a0Nội."
    spans = highlighter_for_query("ha noi").spans("text", text)
    assert [" ".join(text[a:b].split()) for a, b in spans] == ["Hà Nội", "Hà Nội"]
    s = highlighter_for_query("ha noi").snippet("text", text, length=400)
    assert span_texts(s) == ["Hà Nội", "Hà Nội"]


def test_letters_with_multi_letter_folds_are_matched():
    assert original_spans("aether", "The Æther and æther.") == ["Æther", "æther"]
    assert original_spans("strasse", "Eine Straße.") == ["Straße"]


# --- phrases and merging ------------------------------------------------------------------


def test_phrase_is_one_span_and_only_where_it_stands_whole():
    text = "Ban Tổ chức Trung ương; chức vụ và tổ dân phố; tổ   chức."
    assert original_spans('"tổ chức"', text) == ["Tổ chức", "tổ   chức"]
    # plain words: every syllable, touching ones merged
    assert original_spans("tổ chức", text) == ["Tổ chức", "chức", "tổ", "tổ   chức"]


def test_matches_separated_by_punctuation_are_separate_spans():
    assert original_spans("ha noi", "Hà, Nội") == ["Hà", "Nội"]


# --- fragments ----------------------------------------------------------------------------


def test_term_not_in_text_gives_the_start_of_the_text():
    _title, body = read(SEEDS[1])
    s = highlighter_for_query("xylophone").snippet("text", body, length=100)
    assert s.spans == ()
    assert s.text.endswith(ELLIPSIS)
    head = s.text[: -len(ELLIPSIS)]
    collapsed = " ".join(body.split())
    assert collapsed.startswith(head) and 60 <= len(head) <= 100
    assert not collapsed[len(head)].isalnum()  # cut between syllables


def test_empty_and_short_texts():
    h = highlighter_for_query("hà nội")
    assert h.snippet("text", "") == Snippet("", ())
    assert h.snippet("text", "Hà Nội") == Snippet("Hà Nội", ((0, 6),))
    assert h.snippet("text", "   ") == Snippet("", ())


def test_match_at_the_very_start_and_end():
    _title, body = read(SEEDS[2])
    body = " ".join(body.split())
    text = f"Huế {body} Cà Mau"
    s = highlighter_for_query("Huế").snippet("text", text)
    assert s.text.startswith("Huế ") and s.spans[0] == (0, 3)
    assert s.text.endswith(ELLIPSIS)
    s = highlighter_for_query("ca mau").snippet("text", text)
    assert s.text.startswith(ELLIPSIS) and s.text.endswith("Cà Mau")
    assert span_texts(s) == ["Cà Mau"] and s.spans[-1][1] == len(s.text)
    assert len(s.text) <= 161


def test_fragment_is_cut_between_syllables_and_keeps_its_length():
    texts = [" ".join(read(p)[1].split()) for p in SEEDS]
    h = highlighter_for_query("nhiệm vụ cán bộ Đảng")
    for text in texts:
        for length in (40, 90, 160, 300):
            s = h.snippet("text", text, length=length)
            inner = s.text.removeprefix(ELLIPSIS).removesuffix(ELLIPSIS)
            start = text.index(inner)
            assert len(inner) <= length + 20  # a match longer than the slack may widen it
            assert start == 0 or not (text[start - 1].isalnum() and text[start].isalnum())
            end = start + len(inner)
            assert end == len(text) or not (text[end - 1].isalnum() and text[end].isalnum())
            assert s.text.startswith(ELLIPSIS) == (start > 0)
            assert s.text.endswith(ELLIPSIS) == (end < len(text) or inner.endswith(ELLIPSIS))
            assert not s.text.endswith(ELLIPSIS * 2)
            assert s.spans and all(
                set(words(p)) <= {"nhiem", "vu", "can", "bo", "dang"} for p in span_texts(s)
            )


def test_several_fragments():
    text = "Hà Nội mở đầu. " + "Chuyện khác. " * 40 + "Rồi đến Huế. " + "Nữa. " * 40
    s = highlighter_for_query("ha noi hue").snippet("text", text, length=40, fragments=2)
    assert span_texts(s) == ["Hà Nội", "Huế"]
    assert f" {ELLIPSIS} " in s.text and s.text.endswith(ELLIPSIS)
    one = highlighter_for_query("ha noi hue").snippet("text", text, length=40)
    assert len(one.spans) == 1


def test_a_syllable_hundreds_of_times():
    text = "Đảng, " * 600 + "đảng viên."
    h = highlighter_for_query("dang")
    assert len(h.matches("text", text)) == 601
    s = h.snippet("text", text)
    assert len(s.spans) >= 20 and all(p.lower() == "đảng" for p in span_texts(s))
    assert len(s.text) <= 162


def test_a_two_megabyte_document():
    filler = " ".join(" ".join(read(p)[1].split()) for p in SEEDS)
    text = (filler + " ") * (2_000_000 // len(filler) + 1)
    text += "Cuối cùng, tổ chức hội nghị ở Cà Mau. " + filler[:5000]
    assert len(text) > 2_000_000
    s = highlighter_for_query("tổ chức Cà Mau").snippet("text", text)
    assert "Cà Mau" in span_texts(s) and "tổ chức" in span_texts(s)
    assert len(s.text) <= 162


def test_html_and_ansi_rendering_escape_the_text_not_the_spans():
    text = 'Tôi <b>yêu</b> "Hà Nội" & Huế\'s'
    s = highlighter_for_query("ha noi hue").snippet("text", text)
    assert s.text == text
    assert span_texts(s) == ["Hà Nội", "Huế"]
    assert s.to_html() == (
        "Tôi &lt;b&gt;yêu&lt;/b&gt; &quot;<mark>Hà Nội</mark>&quot; &amp; <mark>Huế</mark>&#x27;s"
    )
    assert html.unescape(re.sub("</?mark>", "", s.to_html())) == text
    assert s.to_html("<em>", "</em>").count("<em>") == 2
    ansi = s.to_ansi()
    assert ansi.count("\x1b[0m") == 2 and re.sub("\x1b\\[[0-9;]*m", "", ansi) == text


# --- properties ---------------------------------------------------------------------------

VI = "aàáảãạăắâấbcdđeèéêếghiìíklmnoòóỏôốồơởpqrstuùúủưừvxyýỳ"
SYLLABLE = st.text(alphabet=VI + VI.upper(), min_size=1, max_size=5)
SEPARATOR = st.sampled_from([" ", "  ", ", ", ".\n", " - ", "\u00a0", "\u200b", " … ", " & "])


@st.composite
def text_and_query(draw):
    sylls = draw(st.lists(SYLLABLE, min_size=0, max_size=30))
    seps = draw(st.lists(SEPARATOR, min_size=len(sylls), max_size=len(sylls)))
    text = "".join(s + sep for s, sep in zip(sylls, seps))
    if draw(st.booleans()):
        text = unicodedata.normalize("NFD", text)
    pool = sylls + draw(st.lists(SYLLABLE, max_size=3))
    picked = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4)) if pool else ["a"]
    if draw(st.booleans()):
        picked = [fold(p) for p in picked]
    return text, _searched([p for p in picked if p.lower() not in ("or", "and", "not")]) or ["a"]


def _searched(words: list[str]) -> list[str]:
    """The words a query of ``words`` searches: stop words (``ạ``, ``tuy nhiên``) and, from
    four words on, question words are dropped while other words remain."""
    while True:
        drop = stopword_mask(words)
        if len(words) >= 4:
            drop = [a or b for a, b in zip(drop, question_mask(words))]
        if not any(drop) or all(drop):
            return words
        words = [w for w, d in zip(words, drop) if not d]


@settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text_and_query())
def test_spans_slice_query_syllables_and_find_every_one(case):
    text, picked = case
    wanted = {fold_term(p.lower()) for p in picked}
    h = highlighter_for_query(" ".join(picked))
    spans = h.spans("text", text)
    last = 0
    for a, b in spans:
        assert last <= a < b <= len(text)
        last = b
        piece = text[a:b]
        assert piece == piece.strip()
        parts = piece.split()
        assert parts and all(fold_term(w) in wanted for w in parts), (piece, wanted)
    # every syllable of the analyzer that folds to a query syllable is covered
    for t in syllables(text):
        if fold_term(t.text) in wanted:
            assert any(a <= t.start and t.end <= b for a, b in spans), (t, spans)
    s = h.snippet("text", text, length=50)
    last = 0
    for a, b in s.spans:
        assert last <= a < b <= len(s.text)
        last = b
        assert all(fold_term(w) in wanted for w in s.text[a:b].split())


def test_codes_and_dates_are_highlighted_whole_and_by_their_parts():
    _title, body = read(SEEDS[4])
    assert original_spans("75-KL/TW", body) == ["75-KL/TW"] * body.count("75-KL/TW")
    assert original_spans("75-kl/tw", "Kết luận 75-KL/TW; 75 KL TW; 75-KL") == ["75-KL/TW"]
    assert original_spans("29/6/2020", body) == ["29/6/2020"]
    # a part finds the compound's part, as the index does (``QĐ`` finds ``205-QĐ/TW``)
    _title, body = read(SEEDS[0])
    assert "205-QĐ/TW" in body and original_spans("qd", body) == ["QĐ"]
