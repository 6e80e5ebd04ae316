"""Finding a query's words and phrases in a stored text, whatever its accents and form.

A text syllable matches when its folded form equals the folded form of a query syllable, so
``ha noi``, ``Hà Nội``, ``hòa``/``hoà``, NFC and NFD all find each other, and the span
always points into the ORIGINAL text. The text is folded to one ASCII byte per character
(:class:`~vnsearch.highlight.folding.FoldedText`); each query syllable is then found with
``bytes.find`` as a whole word (``b" hoa "``) in a copy where everything but ``a-z0-9`` is a
space: a whole alphanumeric run, which is exactly a syllable, or a part of a compound, to
the analyzer. Nothing is compiled per query. Phrases and compounds (``covid-19``) are
checked word by word after their first run, with white space (phrases) or their exact
joiners (compounds) between the runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from vnsearch.highlight.folding import FoldedText
from vnsearch.highlight.snippet import DEFAULT_LENGTH, Match, Snippet, merge_spans, snippet_of

__all__ = ["Highlighter"]


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

    ``terms`` maps each TEXT field to the folded term sequences to find in it: a word as
    ``("noi",)``, a phrase as its words in order (a field it does not name has none).
    ``idf(field, folded_term)`` weighs the terms (the same idf ranking uses); without it,
    every distinct term weighs 1.

    >>> h = Highlighter({"text": [("ha",), ("noi",)]}, ["text"])
    >>> s = h.snippet("text", "Từ Huế ra Hà Nội, rồi về lại Huế.")
    >>> s.text[s.spans[0][0] : s.spans[0][1]], len(s.spans)
    ('Hà Nội', 1)
    """

    def __init__(
        self,
        terms: Mapping[str, Iterable[Sequence[str]]],
        text_fields: Iterable[str],
        idf: Callable[[str, str], float] | None = None,
    ) -> None:
        self.terms = terms
        self.text_fields = tuple(text_fields)
        self._idf = idf
        self._fields: dict[str, _FieldQuery] = {}

    def _field(self, name: str) -> _FieldQuery:
        fq = self._fields.get(name)
        if fq is None:
            fq = self._fields[name] = self._plan_field(name)
        return fq

    def _plan_field(self, name: str) -> _FieldQuery:
        keys = dict.fromkeys(tuple(terms) for terms in self.terms.get(name, ()))
        single: dict[bytes, tuple[str, float]] = {}
        multi: dict[bytes, list[_Sequence]] = {}
        weigh = self._weight if len(keys) > 1 else _one  # one term: nothing to weigh
        for terms in keys:
            weight = sum(weigh(name, t) for t in dict.fromkeys(terms))
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

    def matches(self, field: str, text: str) -> list[Match]:
        """Every match of the query in ``text`` (a value of ``field``): ``(start, end, key,
        weight)`` with offsets into ``text``, sorted, overlaps removed (longest first)."""
        fq = self._field(field)
        if not (fq.single or fq.multi) or not text:
            return []
        folded = FoldedText(text)
        clean = folded.clean
        found: list[Match] = []
        for w, (key, weight) in fq.single.items():
            _find_word(clean, w, found, key, weight)
        for w, seqs in fq.multi.items():
            firsts: list[Match] = []
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
        return merge_spans(text, [(m[0], m[1]) for m in self.matches(field, text)])

    def snippet(
        self, field: str, text: str, length: int = DEFAULT_LENGTH, fragments: int = 1
    ) -> Snippet:
        """The best ``fragments`` windows of about ``length`` characters of ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"expected str, got {type(text).__name__}")
        return snippet_of(text, self.matches(field, text), length, fragments)


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


def _by_start_longest(m: Match) -> tuple[int, int]:
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
