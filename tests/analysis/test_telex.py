"""Telex and VNI typed raw (``vnsearch/analysis/telex.py``): pairs, refusals, round trips."""

from __future__ import annotations

import pytest

import vnsearch
from tests.conftest import read_seeds
from vnsearch.analysis import normalize, syllables, telex
from vnsearch.analysis.telex import (
    ENGLISH,
    from_telex,
    from_vni,
    is_syllable,
    syllable_forms,
    to_telex,
    to_vni,
)

TELEX = [
    ("vieejt", "việt"),
    ("vieetj", "việt"),
    ("Vieejt", "Việt"),
    ("VIEETJ", "VIỆT"),
    ("nam", "nam"),
    ("dduwowngf", "đường"),
    ("dduowngf", "đường"),
    ("dwongf", "dường"),
    ("dwong", "dương"),
    ("sawts", "sắt"),
    ("tinhr", "tỉnh"),
    ("ddaij", "đại"),
    ("DDaij", "Đại"),
    ("DDAIJ", "ĐẠI"),
    ("hoij", "họi"),  # hoi + nặng: oo is needed for ô
    ("hooij", "hội"),
    ("hooji", "hội"),
    ("nguwowif", "người"),
    ("nguoiwf", "người"),
    ("hoaf", "hoà"),  # the new tone style, as normalize() spells it
    ("thuyr", "thuỷ"),
    ("khoer", "khoẻ"),
    ("thuowr", "thuở"),
    ("quyeets", "quyết"),
    ("quoocs", "quốc"),
    ("gif", "gì"),
    ("giuwx", "giữ"),
    ("gieengs", "giếng"),
    ("rwouj", "rượu"),
    ("khuyur", "khuỷu"),
    ("ddoanf", "đoàn"),
    ("ddoafn", "đoàn"),
    ("mawtj", "mặt"),
    ("aan", "ân"),
    ("uw", "ư"),
    ("w", "ư"),
    ("yeeu", "yêu"),
    ("tieengs", "tiếng"),
    ("huyeenf", "huyền"),
    ("xoay", "xoay"),
    ("chuaw", None),  # chuă: no such rhyme
    ("duongf", "dường"),  # uo before a final in keys typed: ươ
    ("duong", None),  # a plain unaccented word reads as no keystrokes
    ("nguoi", None),
]

VNI = [
    ("Vie65t", "Việt"),
    ("vie6t5", "việt"),
    ("d9u7o7ng2", "đường"),
    ("du7o7ng92", "đường"),
    ("duong92", "đường"),  # the horns left out: uo before a final is ươ
    ("duo7ng29", "đường"),
    ("tinh3", "tỉnh"),
    ("d9ai5", "đại"),
    ("D9ai5", "Đại"),
    ("ho6i5", "hội"),
    ("hoa2", "hoà"),
    ("sa8t1", "sắt"),
    ("nguo7i2", "người"),
    ("thuo73", "thuở"),
    ("qua6n", "quân"),
    ("nam", "nam"),
]

# English words, names, codes and abbreviations people type in Vietnamese queries
NOT_TELEX = [
    "Weimar", "COVID", "iPhone", "205-QĐ/TW", "sex", "fox", "dr", "iOS", "COVID-19",
    "HCM", "TPHCM", "UBND", "THPT", "CSGT", "BCH", "TW", "NĐ-CP", "Facebook", "Google",
    "email", "online", "World", "Cup", "the", "of", "and", "with", "from", "which", "virus",
    "Windows", "Apple", "Trump", "Obama", "euro", "USD", "WTO", "ASEAN", "laptop", "web",
    "show", "new", "few", "law", "saw", "view", "jazz", "fan", "its", "this", "was", "how",
]  # fmt: skip
NOT_VNI = ["205", "2020", "COVID19", "G7", "A1", "B52", "iPhone15", "H5N1", "MH370", "x2"]


@pytest.mark.parametrize(("keys", "expected"), TELEX)
def test_telex_pairs(keys: str, expected: str | None) -> None:
    assert from_telex(keys) == expected


@pytest.mark.parametrize(("keys", "expected"), VNI)
def test_vni_pairs(keys: str, expected: str) -> None:
    assert from_vni(keys) == expected


@pytest.mark.parametrize("word", NOT_TELEX)
def test_english_words_and_codes_are_not_telex(word: str) -> None:
    """Not rewritten: no reading, or the word itself (``the``, ``Cup`` spell syllables)."""
    assert from_telex(word) in (None, word)


@pytest.mark.parametrize("word", NOT_TELEX + NOT_VNI)
def test_english_words_and_codes_are_not_vni(word: str) -> None:
    assert from_vni(word) in (None, word)


def test_the_brief_examples_read_as_nothing() -> None:
    for word in ("Weimar", "COVID", "iPhone", "205-QĐ/TW", "sex", "fox", "dr", "iOS"):
        assert from_telex(word) is None and from_vni(word) is None, word


def test_english_list_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each listed English word does spell a syllable: without the list it would be read."""
    words = sorted(ENGLISH)
    monkeypatch.setattr(telex, "ENGLISH", frozenset())
    assert [w for w in words if from_telex(w) is None] == []


@pytest.mark.parametrize(
    "keys", ["tatf", "mapr", "hocx", "vieejtj", "ngif", "cif", "gew", "kaf", "ghaf", "tyeen"]
)
def test_invalid_syllables_are_refused(keys: str) -> None:
    """A stop final takes only sắc or nặng; one tone key; k/gh/ngh only before i e ê y."""
    assert from_telex(keys) is None


def test_results_are_normalized() -> None:
    for _keys, expected in TELEX + VNI:
        if expected is not None:
            assert normalize(expected) == expected


def test_every_syllable_round_trips() -> None:
    """Every valid syllable, typed in Telex or VNI with the tone key after its vowel or
    at the end, reads back as itself (except where the keys are a listed English word)."""
    forms = syllable_forms()
    assert len(forms) > 15_000
    failed = []
    for form in forms:
        assert is_syllable(form) and normalize(form) == form
        for word in (form, form.capitalize()):
            for at_end in (False, True):
                for to, read in ((to_telex, from_telex), (to_vni, from_vni)):
                    keys = to(word, tone_at_end=at_end)
                    code = to is to_vni and len(word) == 1 and word.isupper()  # A1
                    if keys.lower() not in ENGLISH and not code and read(keys) != word:
                        failed.append((word, keys, read(keys)))
    assert failed == []


def test_seed_syllables_round_trip() -> None:
    """The syllables of the bundled seed articles that are valid syllables round-trip."""
    words = {
        t.text
        for doc in read_seeds()
        for t in syllables(doc["title"] + "\n" + doc["body"])
        if t.kind == "syllable" and t.text.isalpha()
    }
    valid = [w for w in words if w.lower() in syllable_forms()]
    assert len(valid) > 500
    for word in valid:
        for at_end in (False, True):
            keys = to_telex(word, tone_at_end=at_end)
            if keys.lower() not in ENGLISH:
                assert from_telex(keys) == word, keys
            keys = to_vni(word, tone_at_end=at_end)
            # VNI in capitals reads as nothing: GIO71I could be a code, like A1 or H5N1
            assert from_vni(keys) == (None if word.isupper() else word), keys


def test_to_keys_refuses_non_syllables() -> None:
    with pytest.raises(ValueError, match="not a Vietnamese syllable"):
        to_telex("Weimar")


def test_exported_from_package() -> None:
    assert vnsearch.from_telex("vieetj") == "việt"
    assert vnsearch.from_vni("Vie65t") == "Việt"
    assert {"from_telex", "from_vni"} <= set(vnsearch.__all__)
