"""Diacritic folding: ``Đà Nẵng`` -> ``da nang``, the way people type on phones."""

from __future__ import annotations

import re

from unidecode import unidecode

__all__ = ["fold"]


def _table() -> dict[int, str]:
    # Latin-1 Supplement, Latin Extended-A/B, combining diacritics and the Vietnamese block:
    # precomputed from unidecode, so the common case is one str.translate call.
    ranges = [(0x00C0, 0x0250), (0x0300, 0x0370), (0x1EA0, 0x1F00)]
    return {cp: unidecode(chr(cp)) for lo, hi in ranges for cp in range(lo, hi)}


_TABLE = _table()
_NON_ASCII = re.compile("[^\x00-\x7f]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unidecode_run(m: re.Match[str]) -> str:
    # unidecode drops a lone surrogate (text read with "surrogateescape", a query from a
    # command line in another encoding) with a RuntimeWarning on stderr: dropped quietly
    return unidecode(_SURROGATE.sub("", m.group()))


def fold(text: str) -> str:
    """Lowercase ``text`` and strip every diacritic (``đ``/``Đ`` -> ``d``), via unidecode.

    Equal to ``unidecode(text).lower()``, so it is idempotent and its result is ASCII.
    Apply it per token: a token keeps its offsets, only its text is folded.

    >>> fold("Thuỷ điện Hoà Bình, ĐÀ NẴNG")
    'thuy dien hoa binh, da nang'
    >>> fold("h" + chr(0xDCFF) + "à")  # a lone surrogate: dropped as unidecode does, quietly
    'ha'
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    s = text.translate(_TABLE)
    if not s.isascii():  # unidecode maps each character alone: only the rest needs it
        s = _NON_ASCII.sub(_unidecode_run, s)
    return s.lower()
