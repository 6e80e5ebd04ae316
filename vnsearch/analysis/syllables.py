"""Syllable tokens: every Vietnamese syllable, plus numbers, dates, codes, e-mails and URLs whole.

A *syllable* is a run of letters and digits (``ở``, ``Nguyễn``, ``2020``). Runs joined by
``-``, ``.``, ``/`` or ``_`` (and ``,``/``:``/``–`` between digits) stay one *compound*
token: ``1.000.000`` and ``3,5`` (``number``), ``29/6/2020`` and ``3-8`` (``date``),
``2020-2025`` (``range``), ``205-QĐ/TW`` and ``TP.HCM`` (``code``). E-mails and URLs are
compounds too. Compounds other than numbers are also findable by their parts: the whole
token takes the position of its first part and the parts take consecutive positions, so
``QĐ`` finds ``205-QĐ/TW`` and a phrase across the compound still lines up. Punctuation is
dropped.
"""

from __future__ import annotations

import re
from itertools import repeat

from vnsearch.analysis.normalize import OffsetMap, normalize_with_map
from vnsearch.analysis.token import Token

__all__ = ["Columns", "syllables", "tokenize_columns", "tokenize_normalized"]

_new_tuple = tuple.__new__

_ALNUM = "(?:[^\\W_]|[\u0300-\u036f])+"
_JOIN = "(?:[-./_](?=[^\\W_])|(?<=\\d)[,:\u2013](?=\\d))"
_PATTERN = re.compile(
    "(?P<url>(?:(?:https?|ftp)://|www\\.)[^\\s<>\"'`]*[^\\s<>\"'`.,;:!?)\\]}])"
    # the bounded look-ahead keeps the e-mail alternative linear on runs like "a+a+a+..."
    "|(?P<email>(?=[\\w.+-]{1,64}@)[^\\W_][\\w.+-]*@[^\\W_][\\w-]*(?:\\.[\\w-]+)+)"
    f"|(?P<token>{_ALNUM}(?:{_JOIN}{_ALNUM})*)"
)
_PART = re.compile(_ALNUM)
_JOINER = re.compile("[-./_,:\u2013]")


def _kind(text: str) -> str:
    """Classify a compound of the ``token`` pattern."""
    parts = _PART.findall(text)
    if not all(p.isdigit() for p in parts):
        return "code"
    seps = set(_PART.sub("", text))
    if seps <= {".", ","}:
        return "number"
    if len(parts) == 2 and seps <= {"-", "\u2013"} and min(len(p) for p in parts) >= 3:
        return "range"
    return "date"


Columns = tuple[list[str], list[int], list[int], list[int], list[str]]


def tokenize_columns(norm: str, offsets: OffsetMap) -> Columns:
    """Syllable tokens of an already normalized text as columns: texts, starts, ends,
    positions and kinds (``offsets`` maps back to the original). The index takes them
    like this, without a ``Token`` per syllable."""
    start, end = offsets.start, offsets.end
    if offsets.identity:
        start = end = int
    matches = list(_PATTERN.finditer(norm))
    found = [m.group() for m in matches]
    # plain syllables go in runs; compounds, e-mails, URLs (and marks left uncomposed)
    # one by one
    special = [i for i, t in enumerate(found) if not t.isalnum()]
    if not special:
        n = len(found)
        return (
            found,
            [start(m.start()) for m in matches],
            [end(m.end()) for m in matches],
            [*range(n)],
            ["syllable"] * n,
        )
    texts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    positions: list[int] = []
    kinds: list[str] = []
    position = prev = 0
    special.append(len(found))
    for i in special:
        if i > prev:
            run = matches[prev:i]
            texts += found[prev:i]
            starts += [start(m.start()) for m in run]
            ends += [end(m.end()) for m in run]
            positions += range(position, position + len(run))
            kinds += ["syllable"] * len(run)
            position += len(run)
        prev = i + 1
        if i == len(found):
            break
        m = matches[i]
        text = found[i]
        kind = m.lastgroup
        if kind == "token":
            kind = "syllable" if _JOINER.search(text) is None else _kind(text)
        base = m.start()
        texts.append(text)
        starts.append(start(base))
        ends.append(end(m.end()))
        positions.append(position)
        kinds.append(kind)
        if kind in ("syllable", "number"):
            position += 1
            continue
        for p in _PART.finditer(text):
            texts.append(p.group())
            starts.append(start(base + p.start()))
            ends.append(end(base + p.end()))
            positions.append(position)
            kinds.append("part")
            position += 1
    return texts, starts, ends, positions, kinds


def tokenize_normalized(norm: str, offsets: OffsetMap) -> list[Token]:
    """Syllable tokens of an already normalized text; ``offsets`` maps back to the original."""
    return list(map(_new_tuple, repeat(Token), zip(*tokenize_columns(norm, offsets))))


def syllables(text: str) -> list[Token]:
    """Split ``text`` into syllable tokens with offsets into ``text`` itself.

    >>> [t.text for t in syllables("Ở Đà Nẵng, ngày 29/6/2020")]
    ['Ở', 'Đà', 'Nẵng', 'ngày', '29/6/2020', '29', '6', '2020']
    >>> [(t.text, t.position) for t in syllables("Quyết định 205-QĐ/TW.")]
    [('Quyết', 0), ('định', 1), ('205-QĐ/TW', 2), ('205', 2), ('QĐ', 3), ('TW', 4)]
    """
    norm, offsets = normalize_with_map(text)
    return tokenize_normalized(norm, offsets)
