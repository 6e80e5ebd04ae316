"""Property tests (hypothesis) for the analysis layer: offsets, normalization, folding.

Deterministic: every test uses ``derandomize=True`` and no example database, so a run
tests the same examples every time (until hypothesis, Python or the test changes).
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unidecode import unidecode

from vnsearch import VIEWS, analyze, fold, normalize, segment, syllables
from vnsearch.analysis import normalize_with_map

SETTINGS = dict(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FAST = settings(max_examples=300, **SETTINGS)
SLOW = settings(max_examples=150, **SETTINGS)

# --- alphabets --------------------------------------------------------------------------

VI_LOWER = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
VI_LETTERS = VI_LOWER + VI_LOWER.upper()
DIGITS = "0123456789"
SPACES = " \n"
PUNCT = ".,;:-/()\"'"
ZWSP = "\u200b"
COMBINING = "\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b"

# Real syllables, in particular the ones whose tone placement differs between styles.
REAL_SYLLABLES = [
    "hoà",
    "hòa",
    "thuỷ",
    "thủy",
    "khoẻ",
    "khỏe",
    "uý",
    "úy",
    "quý",
    "hoàn",
    "thuyết",
    "ngoài",
    "khuya",
    "Hoà",
    "HOÀ",
    "THỦY",
    "Tiếng",
    "Việt",
    "Nguyễn",
    "đường",
    "Đà",
    "Nẵng",
    "tổ",
    "chức",
    "Trung",
    "ương",
    "xoè",
    "hoạt",
    "tuỵ",
    "Uỷ",
    "viên",
    "hoạ",
    "thoả",
]

# --- strategies -------------------------------------------------------------------------

# Characters mixed at random: mostly letters (the alphabet is long), plus everything else.
vi_char = st.one_of(
    st.sampled_from(VI_LETTERS),
    st.sampled_from(VI_LETTERS),
    st.sampled_from(DIGITS),
    st.sampled_from(SPACES),
    st.sampled_from(PUNCT),
    st.just(ZWSP),
    st.sampled_from(COMBINING),
)
vi_chars_text = st.lists(vi_char, max_size=60).map("".join)

# Word-shaped text: syllables (real or random) separated by spaces, punctuation, newlines.
vi_word = st.one_of(
    st.sampled_from(REAL_SYLLABLES), st.text(alphabet=VI_LETTERS + DIGITS, min_size=1, max_size=7)
)
separator = st.one_of(
    st.just(" "),
    st.just(" "),
    st.text(alphabet=SPACES + PUNCT, min_size=1, max_size=3),
)


@st.composite
def joined(draw, words=vi_word, seps=separator, max_words=12) -> str:
    parts = draw(st.lists(st.tuples(words, seps), max_size=max_words))
    return "".join(w + s for w, s in parts)


vi_words_text = joined()

_INVISIBLES = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad", "\u2060"]


@st.composite
def with_invisibles(draw, text: str) -> str:
    """``text`` with invisible characters inserted between some of its code points."""
    out = []
    for ch in text:
        if draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(_INVISIBLES)))
        out.append(ch)
    return "".join(out)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# Text as it comes: NFC or NFD words, invisible characters between syllables or inside
# them (between whole characters: see test_normalize_output_is_nfc).
realistic_word = st.one_of(
    vi_word,
    vi_word.map(nfd),
    vi_word.flatmap(with_invisibles),
    vi_word.flatmap(with_invisibles).map(nfd),
)
realistic_text = st.one_of(
    vi_words_text,
    joined(words=realistic_word, seps=st.one_of(separator, st.sampled_from(_INVISIBLES))),
)

# Everything that can hit the tokenizers: chars at random (combining marks anywhere), or
# word-shaped text with the invisible and combining characters sprinkled in.
sprinkled = joined(
    words=realistic_word,
    seps=st.one_of(separator, st.sampled_from([ZWSP, *COMBINING])),
)
vi_text = st.one_of(vi_chars_text, vi_words_text, sprinkled)

# Compounds (``a.b``, ``a-b``, ``a/b``) of syllables with a stray combining mark: a doubled
# tone mark, or a mark NFC cannot compose (``x`` + U+0301).
stray_word = st.tuples(realistic_word, st.lists(st.sampled_from(COMBINING), max_size=2)).map(
    lambda wm: wm[0] + "".join(wm[1])
)
stray_text = joined(words=stray_word, seps=st.sampled_from([".", "-", "/", " ", "-\u0301"]))

# Vietnamese text without invisible or combining characters (the NFD/NFC comparison).
vi_plain_text = st.one_of(
    st.text(alphabet=VI_LETTERS + DIGITS + SPACES + PUNCT, max_size=60), vi_words_text
)


# --- helpers ----------------------------------------------------------------------------


def assert_bounds(text: str, tokens) -> None:
    for t in tokens:
        assert 0 <= t.start < t.end <= len(text), (t, len(text))
        assert t.text, t


def assert_syllable_slices(text: str, tokens) -> None:
    for t in tokens:
        assert normalize(text[t.start : t.end]) == t.text, (t, text[t.start : t.end])


def _strip_marks(text: str) -> str:
    while text and unicodedata.combining(text[-1]):
        text = text[:-1]
    return text


def assert_word_slices(text: str, tokens) -> None:
    """The original slice of a word, normalized, starts and ends with its syllables.

    pyvi's syllables are ``\\w+``, so a combining mark that NFC cannot compose (a doubled
    tone mark) is left out of the word's text; but an offset map cannot split an NFC
    cluster, so the word's end offset covers the stray mark. Trailing marks are ignored.
    """
    for t in tokens:
        sylls = t.text.split(" ")
        assert all(sylls), t
        original = normalize(text[t.start : t.end])
        assert original.startswith(sylls[0]), (t, original)
        assert _strip_marks(original).endswith(sylls[-1]), (t, original)


# --- offsets ----------------------------------------------------------------------------


@FAST
@given(realistic_text)
def test_syllable_offsets(text: str) -> None:
    tokens = syllables(text)
    assert_bounds(text, tokens)
    assert_syllable_slices(text, tokens)


@FAST
@given(st.one_of(vi_text, stray_text))
def test_syllable_offsets_stray_marks(text: str) -> None:
    """Also with combining marks anywhere (after punctuation, doubled, uncomposable)."""
    tokens = syllables(text)
    assert_bounds(text, tokens)
    assert_syllable_slices(text, tokens)


@FAST
@given(vi_text)
def test_word_offsets(text: str) -> None:
    words = segment(text)
    assert_bounds(text, words)
    assert_word_slices(text, words)


@FAST
@given(vi_text)
def test_analyze_offsets(text: str) -> None:
    analysis = analyze(text)
    assert set(analysis) == set(VIEWS)
    for view in VIEWS:
        assert_bounds(text, analysis[view])


@FAST
@given(st.text(max_size=200))
def test_offsets_arbitrary_unicode(text: str) -> None:
    assert_bounds(text, syllables(text))
    assert_bounds(text, segment(text))
    analysis = analyze(text)
    for view in VIEWS:
        assert_bounds(text, analysis[view])


@pytest.mark.parametrize(
    "text",
    [
        "Hoa\u0300 bi\u0300nh",
        "Thu\u0309y điện Hòa Bình\u200b",
        "Tie\u0302\u0301ng Vie\u0323\u0302t",
        "Hà\u200bNội",
        "Chiều 3-8, Ban Tổ chức (205-QĐ/TW).",
        "\u200bHòa",
        "hoa\u0300\u0300 bình",  # a doubled mark: the word's offsets cover the whole cluster
    ],
)
def test_offsets_examples(text: str) -> None:
    assert_bounds(text, syllables(text))
    assert_syllable_slices(text, syllables(text))
    assert_bounds(text, segment(text))
    assert_word_slices(text, segment(text))
    analysis = analyze(text)
    for view in VIEWS:
        assert_bounds(text, analysis[view])


# Library bugs found by the properties above (minimal reproductions).


def test_compound_parts_keep_combining_marks() -> None:
    """A compound's parts are its syllables, uncomposable combining marks included.

    ``_PART`` in syllables.py is ``[^\\W_]+`` while a syllable (``_ALNUM``) also takes
    U+0300-U+036F: the part drops the mark, or is split in two by it.
    """
    text = "x\u0301.y"  # x + acute: no precomposed character, NFC keeps two code points
    assert [t.text for t in syllables(text)] == ["x\u0301.y", "x\u0301", "y"]
    text = "a\u0301\u0301b.c"  # a doubled tone mark
    assert [t.text for t in syllables(text)] == ["á\u0301b.c", "á\u0301b", "c"]
    text = "a\u0323\u0300.a"  # NFD input: the part's offsets cover the mark, its text does not
    assert_syllable_slices(text, syllables(text))


def test_lone_mark_offsets_do_not_depend_on_the_rest_of_the_chunk() -> None:
    """A combining mark after punctuation is a token of its own; its start is the mark's.

    When the chunk also holds text that NFC changes, the cluster ``-`` + U+0301 gets a
    non-identity segment (``_nfc_clusters`` requires ``len(piece) == 1`` for identity even
    though NFC left the piece unchanged), so the token's offsets swallow the ``-``.
    """
    assert syllables("é-\u0301")[-1] == ("\u0301", 2, 3, 1, "syllable")
    assert syllables("e\u0301-\u0301")[-1] == ("\u0301", 3, 4, 1, "syllable")


# --- NFD input == NFC input -------------------------------------------------------------


def _rows(tokens) -> list[tuple[str, int]]:
    return [(t.text, t.position) for t in tokens]


@FAST
@given(vi_plain_text)
def test_nfd_equals_nfc(text: str) -> None:
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    assert normalize(nfd) == normalize(nfc)
    assert [t.text for t in syllables(nfd)] == [t.text for t in syllables(nfc)]
    assert [t.text for t in segment(nfd)] == [t.text for t in segment(nfc)]
    a_nfd, a_nfc = analyze(nfd), analyze(nfc)
    for view in VIEWS:
        assert _rows(a_nfd[view]) == _rows(a_nfc[view]), view


# --- old tone style == new tone style ---------------------------------------------------

_TONES = "\u0300\u0301\u0309\u0303\u0323"


def _old_style_table() -> dict[str, str]:
    """New-style pair -> old-style pair, for oa/oe/uy, every tone and every casing."""
    table = {}
    for first, second in ["oa", "oe", "uy"]:
        for tone in _TONES:
            for f in (first, first.upper()):
                for s in (second, second.upper()):
                    new = f + unicodedata.normalize("NFC", s + tone)
                    old = unicodedata.normalize("NFC", f + tone) + s
                    table[new] = old
    return table


_OLD_STYLE = _old_style_table()
_NEW_PAIR = re.compile("(" + "|".join(_OLD_STYLE) + ")(?![^\\W\\d_])")


def old_style(text: str) -> str:
    """``text`` with the tone mark of open oa/oe/uy syllables moved to the old place."""
    return _NEW_PAIR.sub(lambda m: _OLD_STYLE[m.group()], text)


def test_old_style_helper() -> None:
    assert old_style("hoà thuỷ khoẻ uý quý hoàn thuyết ngoài khuya") == (
        "hòa thủy khỏe úy qúy hoàn thuyết ngoài khuya"
    )
    assert old_style("Hoà HOÀ THUỶ Uỷ, xoè.") == "Hòa HÒA THỦY Ủy, xòe."
    assert len(_OLD_STYLE) == 3 * 5 * 4


old_new_text = st.one_of(
    joined(words=st.sampled_from(REAL_SYLLABLES)),
    vi_words_text,
)


@FAST
@given(old_new_text)
def test_old_and_new_tone_style_agree(text: str) -> None:
    old = old_style(text)
    assert normalize(old) == normalize(text)
    assert syllables(old) == syllables(text)  # length-preserving: offsets agree too
    assert segment(old) == segment(text)
    assert analyze(old).views == analyze(text).views


# --- fold and normalize -----------------------------------------------------------------


@FAST
@given(st.text(max_size=200))
def test_fold(text: str) -> None:
    folded = fold(text)
    assert folded == unidecode(text).lower()
    assert folded.isascii()
    assert fold(folded) == folded


@FAST
@given(st.one_of(st.text(max_size=200), vi_text))
def test_normalize_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


# Invisible characters anywhere, also between a base letter and its combining marks.
clusters_with_invisibles = st.one_of(vi_words_text, vi_chars_text).map(nfd).flatmap(with_invisibles)


@FAST
@given(clusters_with_invisibles)
def test_normalize_removes_invisibles_then_composes(text: str) -> None:
    """normalize = remove invisibles, then NFC (then the tone style): as documented."""
    once = normalize(text)
    assert normalize(once) == once
    assert unicodedata.is_normalized("NFC", once)
    visible = "".join(ch for ch in text if ch not in _INVISIBLES)
    assert once == normalize(visible)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("e\u200b\u0301", "é"),
        ("Tie\u0302\u200b\u0301ng", "Tiếng"),
        ("Vie\u0323\u00ad\u0302t", "Việt"),
        ("\u2000", "\u2002"),  # EN QUAD: its NFC is EN SPACE (whitespace is not composed)
    ],
)
def test_normalize_output_is_nfc(text: str, expected: str) -> None:
    """Bug: invisibles are removed by cutting the text in pieces that are composed apart.

    ``normalize_with_map`` NFCs the text between two invisible characters piece by piece,
    so a combining mark after an invisible character never joins its base letter; and
    ``_nfc_segments`` copies whitespace runs without normalizing them.
    """
    once = normalize(text)
    assert once == expected
    assert unicodedata.is_normalized("NFC", once)
    assert normalize(once) == once


# --- positions --------------------------------------------------------------------------


@FAST
@given(st.one_of(vi_text, st.text(max_size=100)))
def test_positions(text: str) -> None:
    positions = [t.position for t in syllables(text)]
    assert positions == sorted(positions)
    if positions:
        assert positions[0] == 0
    assert [t.position for t in segment(text)] == list(range(len(segment(text))))
    analysis = analyze(text)
    assert [t.position for t in analysis["words"]] == list(range(len(analysis["words"])))
    assert _rows(analysis["syllables"]) == [(t.text.lower(), t.position) for t in syllables(text)]


# --- OffsetMap --------------------------------------------------------------------------


@st.composite
def offset_text(draw) -> str:
    """Vietnamese text, some characters decomposed, some invisible characters inserted."""
    text = draw(st.one_of(vi_words_text, vi_chars_text))
    out = []
    for ch in text:
        if draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(_INVISIBLES)))
        out.append(nfd(ch) if draw(st.booleans()) else ch)
    if draw(st.booleans()):
        out.append(draw(st.sampled_from(_INVISIBLES)))
    return "".join(out)


@SLOW
@given(offset_text())
def test_offset_map(text: str) -> None:
    norm, offsets = normalize_with_map(text)
    n = len(text)
    assert norm == normalize(text)
    for j in range(len(norm)):
        assert 0 <= offsets.start(j) <= n
        assert 0 <= offsets.end(j + 1) <= n
        assert offsets.start(j) <= offsets.end(j + 1)
        assert offsets.start(j) < offsets.end(j + 1)  # every character has a source
        if j:
            assert offsets.start(j - 1) <= offsets.start(j)
            assert offsets.end(j) <= offsets.end(j + 1)


@given(vi_text, vi_text, st.sampled_from(["29/6/2020", "205-QĐ/TW", "3,5", "a@b.vn", "www.x.vn"]))
def test_a_compound_between_two_texts_shifts_them_only(a: str, b: str, compound: str) -> None:
    """Plain syllables are tokenized in runs, compounds one by one: the tokens of
    ``a + compound + b`` are a's, the compound's, then b's moved by their offset and by
    the positions the compound takes."""
    whole = f"{a} {compound} {b}"
    left, middle, right = syllables(a), syllables(f" {compound} "), syllables(b)
    shift = len(a) + len(compound) + 2
    taken = len({t.position for t in middle})
    base = len({t.position for t in left})
    expected = [*left]
    expected += [
        t._replace(start=t.start + len(a), end=t.end + len(a), position=t.position + base)
        for t in middle
    ]
    expected += [
        t._replace(start=t.start + shift, end=t.end + shift, position=t.position + base + taken)
        for t in right
    ]
    assert syllables(whole) == expected
