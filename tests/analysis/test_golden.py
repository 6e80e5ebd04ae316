"""Golden tables: Vietnamese text in, exact tokens and offsets out."""

from __future__ import annotations

import unicodedata

import pytest

from vnsearch import analyze, fold, normalize, segment, syllables

NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hòa", "hoà"),  # old tone style -> new
        ("Hòa Bình", "Hoà Bình"),
        ("HÒA BÌNH", "HOÀ BÌNH"),  # case kept
        ("thủy điện", "thuỷ điện"),
        ("Ủy viên", "Uỷ viên"),
        ("úy", "uý"),
        ("khỏe mạnh", "khoẻ mạnh"),
        ("qúy", "quý"),  # the u of "qu" never carries the mark
        ("hoàn thành", "hoàn thành"),  # closed syllables are the same in both styles
        ("thuyết", "thuyết"),
        ("ngoài", "ngoài"),
        ("khuya", "khuya"),
        ("Tie\u0302\u0301ng Vie\u0323\u0302t", "Tiếng Việt"),  # NFD, marks in either order
        ("Ha\u0300 No\u0323\u0302i", "Hà Nội"),
        ("Hà\u200bNội\ufeff", "HàNội"),  # invisible characters removed
        ("Hà\x00Nội", "Hà Nội"),  # control characters separate words
        ("Đà Nẵng", "Đà Nẵng"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def _rows(tokens):
    return [(t.text, t.start, t.end, t.position, t.kind) for t in tokens]


SYLLABLE_CASES = [
    (
        "Chiều 3-8, Ban Tổ chức Trung ương",
        [
            ("Chiều", 0, 5, 0, "syllable"),
            ("3-8", 6, 9, 1, "date"),
            ("3", 6, 7, 1, "part"),
            ("8", 8, 9, 2, "part"),
            ("Ban", 11, 14, 3, "syllable"),
            ("Tổ", 15, 17, 4, "syllable"),
            ("chức", 18, 22, 5, "syllable"),
            ("Trung", 23, 28, 6, "syllable"),
            ("ương", 29, 33, 7, "syllable"),
        ],
    ),
    (
        "Quyết định 205-QĐ/TW ngày 29/6/2020",
        [
            ("Quyết", 0, 5, 0, "syllable"),
            ("định", 6, 10, 1, "syllable"),
            ("205-QĐ/TW", 11, 20, 2, "code"),
            ("205", 11, 14, 2, "part"),
            ("QĐ", 15, 17, 3, "part"),
            ("TW", 18, 20, 4, "part"),
            ("ngày", 21, 25, 5, "syllable"),
            ("29/6/2020", 26, 35, 6, "date"),
            ("29", 26, 28, 6, "part"),
            ("6", 29, 30, 7, "part"),
            ("2020", 31, 35, 8, "part"),
        ],
    ),
    (
        "nhiệm kỳ 2020-2025; Kết luận 75-KL/TW.",
        [
            ("nhiệm", 0, 5, 0, "syllable"),
            ("kỳ", 6, 8, 1, "syllable"),
            ("2020-2025", 9, 18, 2, "range"),
            ("2020", 9, 13, 2, "part"),
            ("2025", 14, 18, 3, "part"),
            ("Kết", 20, 23, 4, "syllable"),
            ("luận", 24, 28, 5, "syllable"),
            ("75-KL/TW", 29, 37, 6, "code"),
            ("75", 29, 31, 6, "part"),
            ("KL", 32, 34, 7, "part"),
            ("TW", 35, 37, 8, "part"),
        ],
    ),
    (
        "tăng 3,5% lên 1.000.000 đồng",
        [
            ("tăng", 0, 4, 0, "syllable"),
            ("3,5", 5, 8, 1, "number"),  # numbers stay whole, no parts
            ("lên", 10, 13, 2, "syllable"),
            ("1.000.000", 14, 23, 3, "number"),
            ("đồng", 24, 28, 4, "syllable"),
        ],
    ),
    (
        "Ở đây, ý kiến à? Ô!",  # one-letter syllables are words
        [
            ("Ở", 0, 1, 0, "syllable"),
            ("đây", 2, 5, 1, "syllable"),
            ("ý", 7, 8, 2, "syllable"),
            ("kiến", 9, 13, 3, "syllable"),
            ("à", 14, 15, 4, "syllable"),
            ("Ô", 17, 18, 5, "syllable"),
        ],
    ),
    (
        "Liên hệ ban.tc@dangcongsan.vn hoặc https://xaydungdang.org.vn/a-b.html.",
        [
            ("Liên", 0, 4, 0, "syllable"),
            ("hệ", 5, 7, 1, "syllable"),
            ("ban.tc@dangcongsan.vn", 8, 29, 2, "email"),
            ("ban", 8, 11, 2, "part"),
            ("tc", 12, 14, 3, "part"),
            ("dangcongsan", 15, 26, 4, "part"),
            ("vn", 27, 29, 5, "part"),
            ("hoặc", 30, 34, 6, "syllable"),
            ("https://xaydungdang.org.vn/a-b.html", 35, 70, 7, "url"),
            ("https", 35, 40, 7, "part"),
            ("xaydungdang", 43, 54, 8, "part"),
            ("org", 55, 58, 9, "part"),
            ("vn", 59, 61, 10, "part"),
            ("a", 62, 63, 11, "part"),
            ("b", 64, 65, 12, "part"),
            ("html", 66, 70, 13, "part"),
        ],
    ),
    (
        # NFD input: texts are NFC, offsets point into the NFD original.
        NFD("Đồng chí Phạm"),
        [
            ("Đồng", 0, 6, 0, "syllable"),
            ("chí", 7, 11, 1, "syllable"),
            ("Phạm", 12, 17, 2, "syllable"),
        ],
    ),
    (
        "Ủy viên Bộ Chính trị, thủy điện Hòa Bình",  # old tone style, offsets unchanged
        [
            ("Uỷ", 0, 2, 0, "syllable"),
            ("viên", 3, 7, 1, "syllable"),
            ("Bộ", 8, 10, 2, "syllable"),
            ("Chính", 11, 16, 3, "syllable"),
            ("trị", 17, 20, 4, "syllable"),
            ("thuỷ", 22, 26, 5, "syllable"),
            ("điện", 27, 31, 6, "syllable"),
            ("Hoà", 32, 35, 7, "syllable"),
            ("Bình", 36, 40, 8, "syllable"),
        ],
    ),
    ("Hà\u200bNội", [("HàNội", 0, 6, 0, "syllable")]),
]


@pytest.mark.parametrize(("text", "expected"), SYLLABLE_CASES)
def test_syllables(text: str, expected: list) -> None:
    tokens = syllables(text)
    assert _rows(tokens) == expected
    for t in tokens:  # offsets always slice the caller's original text
        assert normalize(text[t.start : t.end]) == t.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Ban Tổ chức Trung ương đã tổ chức Hội nghị",
            [
                ("Ban", 0, 3),
                ("Tổ chức", 4, 11),
                ("Trung ương", 12, 22),
                ("đã", 23, 25),
                ("tổ chức", 26, 33),
                ("Hội nghị", 34, 42),
            ],
        ),
        (
            "Đồng chí Phạm Minh Chính, Ủy viên Bộ Chính trị.",
            [
                ("Đồng chí", 0, 8),
                ("Phạm Minh Chính", 9, 24),
                ("Uỷ viên", 26, 33),
                ("Bộ", 34, 36),
                ("Chính trị", 37, 46),
            ],
        ),
        (
            NFD("Thủy điện Hòa Bình"),
            [("Thuỷ điện", 0, 12), ("Hoà Bình", 13, 23)],
        ),
    ],
)
def test_segment(text: str, expected: list) -> None:
    words = segment(text)
    assert [(w.text, w.start, w.end) for w in words] == expected
    assert [w.position for w in words] == list(range(len(words)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đà Nẵng", "da nang"),
        ("ĐƯỜNG đường dương", "duong duong duong"),
        ("Thuỷ điện Hoà Bình", "thuy dien hoa binh"),
        ("Nguyễn Văn Đức", "nguyen van duc"),
        (NFD("Tiếng Việt"), "tieng viet"),
        ("205-QĐ/TW", "205-qd/tw"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_analyze_views() -> None:
    a = analyze("Thủy điện Hòa Bình, Đà Nẵng")
    assert a.terms("syllables") == ["thuỷ", "điện", "hoà", "bình", "đà", "nẵng"]
    assert a.terms("folded") == ["thuy", "dien", "hoa", "binh", "da", "nang"]
    # no bigram across the comma
    assert a.terms("bigrams") == ["thuỷ điện", "điện hoà", "hoà bình", "đà nẵng"]
    assert a.terms("folded_bigrams") == ["thuy dien", "dien hoa", "hoa binh", "da nang"]
    assert a.terms("words") == ["thuỷ điện", "hoà bình", "đà nẵng"]
    hb = a["bigrams"][2]
    assert (hb.start, hb.end, hb.position) == (10, 18, 2)


def test_analyze_compound_bigram_and_line_break() -> None:
    a = analyze("Quyết định 205-QĐ/TW\nHội nghị")
    assert a.terms("bigrams") == ["quyết định", "định 205-qđ/tw", "hội nghị"]
    assert "qđ" in a.terms("syllables")  # "QĐ" finds 205-QĐ/TW


def test_analysis_prints_terms_positions_offsets() -> None:
    printed = str(analyze("Ở Hà Nội"))
    assert "hà nội@1[2:8]" in printed
    assert printed.splitlines()[0].startswith("syllables")


def test_both_tone_styles_and_nfd_analyze_alike() -> None:
    new = analyze("Thuỷ điện Hoà Bình khoẻ")
    for variant in ("Thủy điện Hòa Bình khỏe", NFD("Thủy điện Hòa Bình khỏe")):
        other = analyze(variant)
        for view in new:
            assert other.terms(view) == new.terms(view)
