"""The hand-kept Unicode tables in normalize.py agree with this Python's unicodedata."""

from __future__ import annotations

import unicodedata

from vnsearch.analysis.normalize import _COMPOSING_STARTERS


def test_composing_starters_table_is_complete() -> None:
    """Every combining-class-0 character that NFC composes onto a preceding one is listed."""
    found = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul V and T jamo
    for cp in range(0x110000):
        decomposition = unicodedata.decomposition(chr(cp))
        if not decomposition or decomposition.startswith("<"):
            continue
        parts = [int(x, 16) for x in decomposition.split()]
        if (
            len(parts) == 2
            and unicodedata.combining(chr(parts[1])) == 0
            and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(cp)
        ):
            found.add(parts[1])
    assert found <= _COMPOSING_STARTERS


def test_nfc_of_indic_and_hangul_sequences_matches_unicodedata() -> None:
    from vnsearch import normalize

    for text in ["\u0b47\u0b3e", "\u1100\u1161\u11a8 x", "ka\u0301 \u0dd9\u0dcf"]:
        assert normalize(text) == unicodedata.normalize("NFC", text)
