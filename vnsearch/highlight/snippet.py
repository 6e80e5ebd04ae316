"""Snippets: a fragment of a stored text with its matches, and how the fragment is chosen.

The fragment is the window of ``length`` characters whose distinct query terms weigh most
(their idf when the index is known), cut at a sentence start or between syllables, with
``…`` where the text was cut; white space runs become one space.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DEFAULT_LENGTH", "ELLIPSIS", "Match", "Snippet", "merge_spans", "snippet_of"]

DEFAULT_LENGTH = 160
ELLIPSIS = "\u2026"

_SPACE_RUN = re.compile(r"\s{2,}|[^\S ]")
_SENTENCE_END = re.compile(r"[.!?\u2026;:][\"'\u201d\u2019)\]]*\s+|\n\s*")

Match = tuple[int, int, str, float]  # (start, end, key, weight), offsets into the text


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


def snippet_of(text: str, matches: list[Match], length: int, fragments: int) -> Snippet:
    """The best ``fragments`` windows of about ``length`` characters of ``text``, given the
    query's ``matches`` in it (sorted, disjoint)."""
    length = max(int(length), 1)
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


def merge_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and (start <= out[-1][1] or text[out[-1][1] : start].isspace()):
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _best_window(matches: list[Match], length: int) -> tuple[int, int] | None:
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


def _assemble(text: str, windows: list[tuple[int, int]], matches: list[Match]) -> Snippet:
    out: list[str] = []
    out_spans: list[tuple[int, int]] = []
    size = 0
    for k, (a, b) in enumerate(windows):
        if a > 0 or k:
            lead = ELLIPSIS if k == 0 else f" {ELLIPSIS} "
            out.append(lead)
            size += len(lead)
        piece, shift = _collapse(text[a:b])
        inside = merge_spans(text, [(m[0], m[1]) for m in matches if a <= m[0] and m[1] <= b])
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
