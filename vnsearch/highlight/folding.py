"""Folding a text to one ASCII byte per character, with the way back to its offsets.

Each character is folded through a table (``Đ`` -> ``d``, ``ộ`` -> ``o``, other characters
that are not letters or digits -> a separator) with one numpy lookup, so offsets in the
folded bytes are offsets in the text. Texts the table cannot fold one-to-one (NFD,
zero-width characters, ligatures such as ``æ``, letters of other scripts, characters outside
the BMP) are normalized first (``normalize_with_map``, offsets kept) and the rare characters
left are folded one by one with ``fold_term`` (0, 1 or several letters each), with an
offset map back.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from vnsearch.analysis.analyzer import fold_term
from vnsearch.analysis.fold import fold
from vnsearch.analysis.normalize import INVISIBLE, normalize_with_map

__all__ = ["FoldedText"]

_UNSAFE = 1  # folded byte of a character that does not fold to exactly one ASCII byte
_CLEAN = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256)).lower()
_WORD = re.compile(r"[^\W_]")


@cache
def _table() -> np.ndarray:
    """Folded byte of every BMP character (index 0x10000 stands for the others)."""
    table = np.full(0x10001, ord("#"), dtype=np.uint8)  # not a letter or digit: a separator
    bmp = "".join(map(chr, range(0x10000)))

    def where(pattern: str) -> np.ndarray:  # which BMP characters match a pattern
        marked = re.sub(pattern, "\x00", bmp).encode("utf-16-le", "surrogatepass")
        found = np.frombuffer(marked, dtype=np.uint16) == 0
        found[0] = False
        return found

    space = where(r"\s")  # the same characters as str.isspace
    space[:0x80] = False
    table[:0x10000][space] = ord(" ")
    word = where(_WORD.pattern)
    table[:0x10000][word] = _UNSAFE  # letters and digits: unsafe unless listed below
    table[0x0300:0x0370] = _UNSAFE  # combining marks (NFD): normalize first
    table[0xD800:0xE000] = _UNSAFE  # lone surrogates
    table[0x10000] = _UNSAFE
    invisible = "".join(map(chr, np.flatnonzero(~word[0x80:0x10000]) + 0x80))
    for m in INVISIBLE.finditer(invisible):  # what normalize removes
        table[[ord(c) for c in m.group()]] = _UNSAFE
    for cp in range(0x80):
        c = chr(cp)
        table[cp] = ord(c.lower()) if c.isprintable() or c in "\t\n\r\x0b\x0c" else ord(" ")
    for cp in [*range(0xAA, 0x250), *range(0x1E00, 0x1F00), *range(0xFF10, 0xFF5B)]:
        if word[cp]:
            folded = fold(chr(cp)).replace(" ", "")
            if len(folded) == 1 and folded.isascii() and folded.isalnum():
                table[cp] = ord(folded)
    table[0x2013] = ord("-")  # en dash joins numbers (2020–2025), as in the analyzer
    return table


@cache
def _clean_table() -> np.ndarray:
    """Like :func:`_table`, but every byte other than ``a-z0-9`` (and the marker) a space."""
    clean = np.frombuffer(_CLEAN, dtype=np.uint8).copy()
    clean[_UNSAFE] = _UNSAFE
    return clean.take(_table())


def _codes(text: str) -> np.ndarray:
    """The text's code points, as indexes into the tables (0x10000 for beyond the BMP)."""
    codes = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    if len(codes) != len(text):  # characters outside the BMP: one code point each
        wide = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return np.minimum(wide, 0x10000)
    return codes


def _fold_bytes(text: str) -> bytes:
    table = _table()
    codes = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    if len(codes) != len(text):  # characters outside the BMP: one code point each
        wide = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return table.take(np.minimum(wide, 0x10000)).tobytes()
    return table.take(codes).tobytes()


class FoldedText:
    """A text folded to one ASCII byte per folded character, and the way back.

    ``clean`` has ``a-z0-9`` and spaces only (what words are found in); ``data`` (made on
    first use) keeps the other separators apart (white space, joiners such as ``-``).
    ``span(start, end)`` turns a span of the folded bytes into a span of the original text.
    """

    __slots__ = ("_codes", "_data", "_ends", "_offsets", "_starts", "clean")

    def __init__(self, text: str) -> None:
        self._offsets = self._starts = self._ends = self._data = None
        self._codes = _codes(text)
        clean = _clean_table().take(self._codes).tobytes()
        if _UNSAFE in clean:
            self._data = self._general(text)
            clean = self._data.translate(_CLEAN)
        self.clean = clean

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = _table().take(self._codes).tobytes()
        return self._data

    def _general(self, text: str) -> bytes:
        norm, self._offsets = normalize_with_map(text)
        data = _fold_bytes(norm)
        if _UNSAFE not in data:
            return data
        # the rare characters left: fold each alone (it may give 0, 1 or several letters)
        pieces, lengths = [], np.ones(len(norm), dtype=np.int64)
        last = 0
        for i in np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _UNSAFE).tolist():
            c = norm[i]
            piece = fold_term(c).encode("ascii", "replace") if _WORD.match(c) else b""
            if not _WORD.match(c) and not ("\u0300" <= c <= "\u036f"):
                piece = b" " if c.isspace() else b"#"
            pieces += [data[last:i], piece]
            lengths[i] = len(piece)
            last = i + 1
        pieces.append(data[last:])
        # folded byte k comes from character src[k]; character i ends at folded ends[i]
        self._starts = np.repeat(np.arange(len(norm)), lengths)
        self._ends = np.cumsum(lengths)
        return b"".join(pieces)

    @property
    def identity(self) -> bool:
        """Whether offsets in ``data`` are offsets in the original text."""
        return self._offsets is None and self._starts is None

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self._starts is not None:
            starts, ends = self._starts, self._ends
            start = int(starts[start])
            last = int(starts[end - 1])
            end = int(np.searchsorted(ends, ends[last], side="right"))  # + marks that fold to ""
        if self._offsets is not None:
            return self._offsets.start(start), self._offsets.end(end)
        return start, end
