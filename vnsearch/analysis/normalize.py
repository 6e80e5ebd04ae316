"""Normalization: one spelling for one word, with a map back to the caller's original text.

What :func:`normalize` does, in order:

1. Lone surrogates become U+FFFD; control characters other than tab, newline, carriage
   return, vertical tab and form feed become a space (a NUL between two words still
   separates them).
2. Invisible characters are removed: zero-width space/joiners, soft hyphen, byte-order
   mark, bidi controls, word joiner, variation selectors, tag characters.
3. NFC: ``Tiê`` + U+0301 + ``ng`` becomes ``Tiếng``.
4. One tone-mark placement: the *new* style, the mark on the main vowel of the open
   syllables ``oa``, ``oe`` and ``uy``: ``hòa`` -> ``hoà``, ``khỏe`` -> ``khoẻ``,
   ``thủy`` -> ``thuỷ``, ``úy`` -> ``uý`` (and ``qúy`` -> ``quý``). Closed syllables
   (``hoàn``, ``thuyết``) are the same in both styles and are left alone. We chose the new
   style because pyvi's dictionary, which drives its word segmentation features, is
   written in it (``hoà``: 55 entries, ``hòa``: 0), so segmentation is better on it.

Case is kept. Every step keeps an :class:`OffsetMap`, so offsets into the normalized text
map back to the original string.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right

__all__ = [
    "INVISIBLE",
    "LONE_SURROGATE",
    "OffsetMap",
    "normalize",
    "normalize_with_map",
    "without_surrogates",
]

# Step 1: length-preserving replacements.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# In a Python str every surrogate is a lone one (a JSON "\\ud83d\\ude00" decodes to one
# character); UTF-8 cannot encode them.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# Step 2: characters that are removed (the highlighter's fold table marks them too).
INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]+"
)

# Characters with canonical combining class 0 that NFC may still compose with the preceding
# character (Hangul vowels/trailing consonants and a few Indic vowel signs); computed from
# unicodedata and checked by tests/analysis/test_normalize_tables.py.
_COMPOSING_STARTERS = frozenset(
    [0x09BE, 0x09D7, 0x0B3E, 0x0B56, 0x0B57, 0x0BBE, 0x0BD7, 0x0CC2, 0x0CD5, 0x0CD6]
    + [0x0D3E, 0x0D57, 0x0DCF, 0x0DDF, 0x102E, 0x1B35, 0x11127, 0x1133E, 0x11357]
    + [0x114B0, 0x114BA, 0x114BD, 0x115AF, 0x11930]
    + list(range(0x1161, 0x1176))
    + list(range(0x11A8, 0x11C3))
)

# Step 4: old-style tone placement in an open syllable -> new style.
_TONE_MARKS = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng
_OLD_STYLE = re.compile("([òóỏõọÒÓỎÕỌ])([aAeE])(?![^\\W\\d_])|([ùúủũụÙÚỦŨỤ])([yY])(?![^\\W\\d_])")


def _move_tone(m: re.Match[str]) -> str:
    first = m.group(1) or m.group(3)
    second = m.group(2) or m.group(4)
    base, mark = unicodedata.normalize("NFD", first)  # e.g. "o", U+0300
    return base + unicodedata.normalize("NFC", second + mark)


class OffsetMap:
    """Maps offsets in a normalized string back to the original string.

    Stored as segments, so a text that normalization leaves alone costs nothing:
    ``start(j)`` is where normalized character ``j`` starts in the original, and
    ``end(j)`` is where the original text of normalized character ``j - 1`` ends
    (so a normalized slice ``[i:j]`` maps to the original slice ``[start(i):end(j)]``).

    >>> text, offsets = normalize_with_map("Hoa\u0300 bi\u0300nh")
    >>> text
    'Hoà bình'
    >>> offsets.start(4), offsets.end(8)
    (5, 10)
    """

    __slots__ = ("_norm_starts", "_segments", "identity")

    def __init__(self, segments: list[tuple[int, int, int, int, bool]] | None = None) -> None:
        # segment: (norm_start, norm_len, orig_start, orig_len, is_identity)
        self._segments = segments or []
        self._norm_starts = [s[0] for s in self._segments]
        self.identity = not self._segments or (
            len(self._segments) == 1 and self._segments[0][4] and self._segments[0][2] == 0
        )

    def _segment(self, j: int) -> tuple[int, int, int, int, bool]:
        return self._segments[bisect_right(self._norm_starts, j) - 1]

    def start(self, j: int) -> int:
        if self.identity:
            return j
        if j >= self._end_norm():
            return self._end_orig()
        ns, _nl, os_, _ol, ident = self._segment(j)
        return os_ + (j - ns) if ident else os_

    def end(self, j: int) -> int:
        if self.identity:
            return j
        if j <= 0:
            return self._segments[0][2] if self._segments else 0
        ns, _nl, os_, ol, ident = self._segment(j - 1)
        return os_ + (j - ns) if ident else os_ + ol

    def _end_norm(self) -> int:
        ns, nl, _os, _ol, _ident = self._segments[-1]
        return ns + nl

    def _end_orig(self) -> int:
        _ns, _nl, os_, ol, _ident = self._segments[-1]
        return os_ + ol


def _nfc_segments(text: str, out: list[str], segs: list) -> None:
    """NFC ``text`` (which has no removable characters), keeping a map back to it.

    Appends output pieces to ``out`` and mapping segments to ``segs``. Whitespace never
    composes with its neighbours, so NFC is applied run by run, and only runs that are not
    NFC already are taken apart cluster by cluster.
    """
    norm_start = 0
    for m in re.finditer(r"\s+|\S+", text):
        chunk = m.group()
        if unicodedata.is_normalized("NFC", chunk):
            _add(segs, norm_start, len(chunk), m.start(), len(chunk), True)
            out.append(chunk)
            norm_start += len(chunk)
        else:
            norm_start = _nfc_clusters(chunk, norm_start, m.start(), out, segs)


def _nfc_clusters(chunk: str, norm_start: int, orig_start: int, out: list, segs: list) -> int:
    combining = unicodedata.combining
    n = len(chunk)
    i = 0
    while i < n:
        j = i + 1
        while j < n and (combining(chunk[j]) or ord(chunk[j]) in _COMPOSING_STARTERS):
            j += 1
        piece = unicodedata.normalize("NFC", chunk[i:j])
        ident = piece == chunk[i:j]
        _add(segs, norm_start, len(piece), orig_start + i, j - i, ident)
        out.append(piece)
        norm_start += len(piece)
        i = j
    return norm_start


def _add(segs: list, ns: int, nl: int, os_: int, ol: int, ident: bool) -> None:
    if nl == 0:
        return
    if ident and segs:
        pns, pnl, pos_, pol, pident = segs[-1]
        if pident and pns + pnl == ns and pos_ + pol == os_:
            segs[-1] = (pns, pnl + nl, pos_, pol + ol, True)
            return
    segs.append((ns, nl, os_, ol, ident))


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, as normalization does first:
    the same length, so offsets into the result are offsets into ``text``, and the
    analysis of both is the same.

    >>> without_surrogates("Hà\\ud83dNội")
    'Hà\ufffdNội'
    """
    if text.isascii() or LONE_SURROGATE.search(text) is None:
        return text
    return LONE_SURROGATE.sub("\ufffd", text)


def normalize_with_map(text: str) -> tuple[str, OffsetMap]:
    """Normalize ``text`` and return the offset map back to it.

    >>> normalize_with_map("thuỷ")[0] == normalize_with_map("thủy")[0] == "thuỷ"
    True
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    text = without_surrogates(text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    if text.isascii():
        return text, OffsetMap()
    if INVISIBLE.search(text) is None and unicodedata.is_normalized("NFC", text):
        norm, offsets = text, OffsetMap()
    else:
        # 1. remove invisible characters (they may sit between a letter and its mark)
        visible: list[str] = []
        segs: list[tuple[int, int, int, int, bool]] = []
        pos = length = 0
        for m in [*INVISIBLE.finditer(text), None]:
            piece = text[pos : m.start()] if m else text[pos:]
            _add(segs, length, len(piece), pos, len(piece), True)
            visible.append(piece)
            length += len(piece)
            pos = m.end() if m else pos
        norm = "".join(visible)
        offsets = OffsetMap(segs) if segs else _EmptyMap(len(text))
        # 2. compose
        if not unicodedata.is_normalized("NFC", norm):
            out: list[str] = []
            nfc_segs: list[tuple[int, int, int, int, bool]] = []
            _nfc_segments(norm, out, nfc_segs)
            norm = "".join(out)
            nfc_map = OffsetMap(nfc_segs)
            offsets = nfc_map if offsets.identity else _ComposedMap(nfc_map, offsets)
    # Tone placement swaps marks between two neighbouring characters: length-preserving.
    norm = _OLD_STYLE.sub(_move_tone, norm)
    return norm, offsets


class _ComposedMap(OffsetMap):
    """``outer`` maps into an intermediate text that ``inner`` maps into the original."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, outer: OffsetMap, inner: OffsetMap) -> None:
        super().__init__()
        self.identity = False
        self._outer, self._inner = outer, inner

    def start(self, j: int) -> int:
        return self._inner.start(self._outer.start(j))

    def end(self, j: int) -> int:
        return self._inner.end(self._outer.end(j))


class _EmptyMap(OffsetMap):
    """Map of a text whose normalized form is empty (only invisible characters)."""

    __slots__ = ("_length",)

    def __init__(self, length: int) -> None:
        super().__init__()
        self.identity = False
        self._length = length

    def start(self, j: int) -> int:
        return self._length

    def end(self, j: int) -> int:
        return self._length


def normalize(text: str) -> str:
    """Return ``text`` in vnsearch's normal form (NFC, new tone style, no invisibles).

    >>> normalize("Thu\u0309y điện Hòa Bình\u200b")
    'Thuỷ điện Hoà Bình'
    """
    return normalize_with_map(text)[0]
