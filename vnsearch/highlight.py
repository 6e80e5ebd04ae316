"""Snippets: which fragment of a stored text to show for a query, and where its matches are.

A :class:`Highlighter` is made once per query from its plan (the clauses that are not
``-must_not``) and shared by the hits; a hit asks it for a :class:`Snippet` of one of its
stored TEXT fields only when the caller wants one. No CRF runs: a text syllable matches when
its folded form equals the folded form of a query syllable, so ``ha noi``, ``Hà Nội``,
``hòa``/``hoà``, NFC and NFD all find each other, and the span always points into the
ORIGINAL text with its accents.

How a text is searched, cheaply: each character is folded to exactly one ASCII byte through
a table (``Đ`` -> ``d``, ``ộ`` -> ``o``, other characters that are not letters or digits ->
a separator) with one numpy lookup, so offsets in the folded bytes are offsets in the text.
Each query syllable is then found with ``bytes.find`` as a whole word (``b" hoa "``) in a
copy where everything but ``a-z0-9`` is a space: a whole alphanumeric run, which is exactly
a syllable, or a part of a compound, to the analyzer. Nothing is compiled per query.
Phrases and compounds (``covid-19``) are checked word by word after their first run, with
white space (phrases) or their exact joiners (compounds) between the runs. Texts the table
cannot fold one-to-one (NFD, zero-width characters, ligatures such as ``æ``, letters of
other scripts, characters outside the BMP) are normalized first (``normalize_with_map``,
offsets kept) and the rare characters left are folded one by one with ``fold_term``
(0, 1 or several letters each), with an offset map back.

The fragment is the window of ``length`` characters whose distinct query terms weigh most
(their idf when the index is known), cut at a sentence start or between syllables, with
``…`` where the text was cut; white space runs become one space.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from vnsearch.analysis.analyzer import fold_term
from vnsearch.analysis.fold import fold
from vnsearch.analysis.normalize import normalize_with_map

__all__ = ["DEFAULT_LENGTH", "Highlighter", "Snippet"]

DEFAULT_LENGTH = 160
ELLIPSIS = "\u2026"

_UNSAFE = 1  # folded byte of a character that does not fold to exactly one ASCII byte
_CLEAN = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256)).lower()
_WORD = re.compile(r"[^\W_]")
_SPACE_RUN = re.compile(r"\s{2,}|[^\S ]")
_SENTENCE_END = re.compile(r"[.!?\u2026;:][\"'\u201d\u2019)\]]*\s+|\n\s*")


@dataclass(frozen=True)
class Snippet:
    """A fragment of a stored text and the spans of the query's matches in it.

    ``spans`` are ``(start, end)`` offsets into ``text``, sorted and disjoint.

    >>> s = Snippet("Thủ đô Hà Nội & Huế", ((7, 13),))
    >>> s.text[7:13]
    'Hà Nội'
    >>> s.to_html()
    'Thủ đô <mark>Hà Nội</mark> &amp; Huế'
    >>> s.to_ansi(pre="[", post="]")
    'Thủ đô [Hà Nội] & Huế'
    """

    text: str
    spans: tuple[tuple[int, int], ...] = ()

    def __str__(self) -> str:
        return self.text

    def to_html(self, pre: str = "<mark>", post: str = "</mark>") -> str:
        """The text HTML-escaped (``html.escape``), each match between ``pre`` and ``post``."""
        return self._render(html.escape, pre, post)

    def to_ansi(self, pre: str = "\x1b[1;33m", post: str = "\x1b[0m") -> str:
        """The text for a terminal: each match in bold yellow (or between ``pre``/``post``)."""
        return self._render(str, pre, post)

    def _render(self, escape: Callable[[str], str], pre: str, post: str) -> str:
        out, last = [], 0
        for start, end in self.spans:
            out += [escape(self.text[last:start]), pre, escape(self.text[start:end]), post]
            last = end
        out.append(escape(self.text[last:]))
        return "".join(out)


# --- folding a text to one ASCII byte per character ---------------------------------------


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
    from vnsearch.analysis.normalize import _INVISIBLE  # what normalize removes

    for m in _INVISIBLE.finditer(invisible):
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


class _Folded:
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


# --- the query's syllables, per field -----------------------------------------------------

_PARTS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class _Sequence:
    """A query term or phrase as alphanumeric runs and what must stand between them:
    ``None`` for white space (between the syllables of a phrase), else the exact joiner
    bytes (inside a compound such as ``covid-19`` or ``29/6/2020``)."""

    parts: tuple[bytes, ...]
    gaps: tuple[bytes | None, ...]
    key: str
    weight: float


def _sequence(terms: Sequence[str], weight: float) -> _Sequence | None:
    parts: list[bytes] = []
    gaps: list[bytes | None] = []
    for k, term in enumerate(terms):
        data = term.encode("ascii", "replace")
        runs = list(_PARTS.finditer(term))
        if not runs:
            return None
        if k:
            gaps.append(None)
        for j, m in enumerate(runs):
            if j:
                gaps.append(data[runs[j - 1].end() : m.start()])
            parts.append(m.group().encode())
    return _Sequence(tuple(parts), tuple(gaps), " ".join(terms), weight)


@dataclass(frozen=True)
class _FieldQuery:
    single: dict[bytes, tuple[str, float]]  # one-run terms: key and weight
    multi: dict[bytes, tuple[_Sequence, ...]]  # first run -> longer sequences, longest first


class Highlighter:
    """Finds a query's matches in stored texts and picks the fragment to show.

    Made from the positive clauses of a query plan (``-must_not`` clauses are never
    highlighted); ``field:term`` clauses highlight only in that field. ``idf(hidden_field,
    term)`` weighs the terms (the same idf ranking uses); without it, every distinct term
    weighs 1.

    >>> h = Highlighter.for_query('ha noi -Huế')
    >>> s = h.snippet("text", "Từ Huế ra Hà Nội, rồi về lại Huế.")
    >>> s.text[s.spans[0][0] : s.spans[0][1]], len(s.spans)
    ('Hà Nội', 1)
    """

    def __init__(
        self,
        units: Sequence[Any],
        text_fields: Iterable[str],
        idf: Callable[[str, str], float] | None = None,
    ) -> None:
        self.units = units
        self.text_fields = tuple(text_fields)
        self._idf = idf
        self._fields: dict[str, _FieldQuery] = {}

    @classmethod
    def for_query(
        cls, query: str, schema: Any = None, fields: Iterable[str] | None = None
    ) -> Highlighter:
        """A highlighter for ``query`` without an index (terms weigh 1 each).

        ``schema`` defaults to one stored TEXT field named ``text``.
        """
        from vnsearch.index.schema import TEXT, Schema
        from vnsearch.ranking.bm25 import DEFAULT_RANKING
        from vnsearch.ranking.plan import plan_text

        if schema is None:
            schema = Schema(text=TEXT(stored=True))
        plan = plan_text(query, schema, fields, DEFAULT_RANKING)
        return cls([u for u in plan.units if u.occur != "must_not"], schema.text_fields)

    def _field(self, name: str) -> _FieldQuery:
        fq = self._fields.get(name)
        if fq is None:
            fq = self._fields[name] = self._plan_field(name)
        return fq

    def _plan_field(self, name: str) -> _FieldQuery:
        folded_field = f"{name}.folded"
        hidden = {folded_field, f"{name}.syllables"}
        keys: dict[tuple[str, ...], None] = {}
        for unit in self.units:
            for f, term in unit.any_of:
                if f == folded_field and term:
                    keys[(term,)] = None
            for phrase in unit.phrases:
                if phrase and phrase[0][0] in hidden:
                    terms = tuple(fold_term(t) for _f, t, _off in sorted(phrase, key=_offset))
                    if all(terms):
                        keys[terms] = None
        single: dict[bytes, tuple[str, float]] = {}
        multi: dict[bytes, list[_Sequence]] = {}
        weigh = self._weight if len(keys) > 1 else _one  # one term: nothing to weigh
        for terms in keys:
            weight = sum(weigh(folded_field, t) for t in dict.fromkeys(terms))
            seq = _sequence(terms, weight)
            if seq is None:
                continue
            if len(seq.parts) == 1:
                single[seq.parts[0]] = (seq.key, weight)
            else:
                multi.setdefault(seq.parts[0], []).append(seq)
        return _FieldQuery(
            single,
            {w: tuple(sorted(v, key=lambda q: -len(q.parts))) for w, v in multi.items()},
        )

    def _weight(self, field: str, term: str) -> float:
        if self._idf is None:
            return 1.0
        return max(self._idf(field, term), 1e-6)

    def matches(self, field: str, text: str) -> list[tuple[int, int, str, float]]:
        """Every match of the query in ``text`` (a value of ``field``): ``(start, end, key,
        weight)`` with offsets into ``text``, sorted, overlaps removed (longest first)."""
        fq = self._field(field)
        if not (fq.single or fq.multi) or not text:
            return []
        folded = _Folded(text)
        clean = folded.clean
        found: list[tuple[int, int, str, float]] = []
        for w, (key, weight) in fq.single.items():
            _find_word(clean, w, found, key, weight)
        for w, seqs in fq.multi.items():
            firsts: list[tuple[int, int, str, float]] = []
            _find_word(clean, w, firsts, "", 0.0)
            for start, _end, _k, _w in firsts:
                for seq in seqs:
                    end = _sequence_end(seq, folded.data, clean, start)
                    if end is not None:
                        found.append((start, end, seq.key, seq.weight))
                        break
        if not found:
            return []
        if not fq.multi:
            found.sort()  # whole words: never two at one place
        elif len(found) > 1:
            found.sort(key=_by_start_longest)
            kept, reach = [], -1
            for m in found:
                if m[0] >= reach:
                    kept.append(m)
                    reach = m[1]
            found = kept
        if folded.identity:
            return found
        span = folded.span
        return [(*span(a, b), key, weight) for a, b, key, weight in found]

    def spans(self, field: str, text: str) -> list[tuple[int, int]]:
        """The highlighted spans of ``text``: matches merged when they touch or are separated
        only by white space (so ``Hà Nội`` is one span)."""
        return _merge(text, [(m[0], m[1]) for m in self.matches(field, text)])

    def snippet(
        self, field: str, text: str, length: int = DEFAULT_LENGTH, fragments: int = 1
    ) -> Snippet:
        """The best ``fragments`` windows of about ``length`` characters of ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        length = max(int(length), 1)
        matches = self.matches(field, text)
        windows: list[tuple[int, int]] = []
        left = matches
        for _ in range(max(int(fragments), 1)):
            best = _best_window(left, length)
            if best is None:
                break
            window = _widen(text, left[best[0]][0], left[best[1]][1], length)
            windows.append(window)
            if fragments > 1:
                left = [m for m in left if not any(a < m[1] and m[0] < b for a, b in windows)]
        if not windows:
            windows = [_widen(text, 0, 0, length)] if text else []
        windows = sorted(w for w in windows if w[0] < w[1])
        return _assemble(text, windows, matches)


def _find_word(clean: bytes, word: bytes, out: list, key: str, weight: float) -> None:
    """Append ``(start, end, key, weight)`` for every whole-word occurrence of ``word``."""
    size, n = len(word), len(clean)
    if clean.startswith(word) and (size == n or clean[size] == 32):
        out.append((0, size, key, weight))
    pattern = b" " + word + b" "
    find = clean.find
    i = find(pattern)
    while i >= 0:
        out.append((i + 1, i + 1 + size, key, weight))
        i = find(pattern, i + size + 1)
    if n > size and clean.endswith(word) and clean[n - size - 1] == 32:
        out.append((n - size, n, key, weight))


def _by_start_longest(m: tuple[int, int, str, float]) -> tuple[int, int]:
    return m[0], -m[1]


_WHITE = re.compile(rb"\s+")


def _sequence_end(seq: _Sequence, raw: bytes, clean: bytes, start: int) -> int | None:
    """Where ``seq`` ends if it starts at ``start`` (its first run is there), else None."""
    end = start + len(seq.parts[0])
    n = len(clean)
    for part, gap in zip(seq.parts[1:], seq.gaps):
        if gap is None:
            m = _WHITE.match(raw, end)
            if m is None:
                return None
            end = m.end()
        elif raw.startswith(gap, end):
            end += len(gap)
        else:
            return None
        # the run there must be exactly ``part`` (the gap ended the run before it)
        after = end + len(part)
        if not clean.startswith(part, end) or (after < n and clean[after] != 32):
            return None
        end = after
    return end


def _one(field: str, term: str) -> float:
    return 1.0


def _offset(item: tuple[str, str, int]) -> int:
    return item[2]


def _merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and (start <= out[-1][1] or text[out[-1][1] : start].isspace()):
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _best_window(matches: list, length: int) -> tuple[int, int] | None:
    """Indexes ``(i, j)`` of the first and last match of the window of at most ``length``
    characters whose distinct keys weigh most (then: more matches, then earliest)."""
    if not matches:
        return None
    best, best_score = (0, 0), -1.0
    counts: dict[str, int] = {}
    weight = 0.0
    i = 0
    for j, (_s, end, key, w) in enumerate(matches):
        seen = counts.get(key, 0)
        if not seen:
            weight += w
        counts[key] = seen + 1
        while end - matches[i][0] > length and i < j:
            k = matches[i][2]
            counts[k] -= 1
            if not counts[k]:
                weight -= matches[i][3]
            i += 1
        score = weight + 1e-6 * (j - i)  # weights are idfs (>= 1e-6) or 1
        if score > best_score + 1e-9:
            best, best_score = (i, j), score
    return best


def _is_word(c: str) -> bool:
    return c.isalnum() or "\u0300" <= c <= "\u036f"


def _widen(text: str, start: int, end: int, length: int) -> tuple[int, int]:
    """A window of about ``length`` characters around ``text[start:end]``, cut at a
    sentence start when one is near before the match, else between syllables."""
    n = len(text)
    slack = max(length - (end - start), 0)
    lo = max(0, start - slack)
    sentence = None
    for m in _SENTENCE_END.finditer(text, lo, start + 1):
        if m.end() <= start:
            sentence = m.end()
    if start == 0 or (lo == 0 and sentence is None):
        a = 0
    elif sentence is not None and start - sentence <= slack * 2 // 3:
        a = sentence
    else:
        a = max(0, start - slack // 3)
        while 0 < a < start and _is_word(text[a - 1]) and _is_word(text[a]):
            a += 1  # do not cut a syllable: start after it
    b = min(n, max(end, a + length))
    if b < n:
        while b > end and _is_word(text[b - 1]) and _is_word(text[b]):
            b -= 1
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _assemble(text: str, windows: list[tuple[int, int]], matches: list) -> Snippet:
    out: list[str] = []
    out_spans: list[tuple[int, int]] = []
    size = 0
    for k, (a, b) in enumerate(windows):
        if a > 0 or k:
            lead = ELLIPSIS if k == 0 else f" {ELLIPSIS} "
            out.append(lead)
            size += len(lead)
        piece, shift = _collapse(text[a:b])
        inside = _merge(text, [(m[0], m[1]) for m in matches if a <= m[0] and m[1] <= b])
        inside = [(s - a, e - a) for s, e in inside]
        out_spans += [(size + shift(s), size + shift(e)) for s, e in inside]
        out.append(piece)
        size += len(piece)
    if windows and windows[-1][1] < len(text) and not out[-1].endswith((ELLIPSIS, "...")):
        out.append(ELLIPSIS)  # (a fragment that ends with its own "…" gets no second one)
    return Snippet("".join(out), tuple(out_spans))


def _collapse(piece: str) -> tuple[str, Callable[[int], int]]:
    """``piece`` with each run of white space as one space, and the offset map into it."""
    if piece.isprintable() and "  " not in piece:  # no tab, newline or unusual space
        return piece, _same
    runs = list(_SPACE_RUN.finditer(piece))
    if not runs:
        return piece, _same
    out, cuts, last, removed = [], [], 0, 0
    for m in runs:
        out += [piece[last : m.start()], " "]
        removed += len(m.group()) - 1
        cuts.append((m.end(), removed))
        last = m.end()
    out.append(piece[last:])

    def shift(i: int) -> int:
        before = 0
        for end, total in cuts:
            if end > i:
                break
            before = total
        return i - before

    return "".join(out), shift


def _same(i: int) -> int:
    return i


def snapshot_idf(snap: Any) -> Callable[[str, str], float]:
    """Lucene's idf of a term in a hidden field of ``snap``, as ranking computes it."""

    def idf(field: str, term: str) -> float:
        postings = snap.postings(field, term)
        df = postings.df if postings is not None else 0
        n = snap.doc_count
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    return idf
