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

from vnsearch.analysis.normalize import OffsetMap, normalize_with_map
from vnsearch.analysis.token import Token

__all__ = ["syllables", "tokenize_normalized"]

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


def tokenize_normalized(norm: str, offsets: OffsetMap) -> list[Token]:
    """Syllable tokens of an already normalized text; ``offsets`` maps back to the original."""
    tokens: list[Token] = []
    append = tokens.append
    start, end = offsets.start, offsets.end
    position = 0
    for m in _PATTERN.finditer(norm):
        text = m.group()
        kind = m.lastgroup
        if kind == "token":
            if _JOINER.search(text) is None:
                append(Token(text, start(m.start()), end(m.end()), position, "syllable"))
                position += 1
                continue
            kind = _kind(text)
        base = m.start()
        append(Token(text, start(base), end(m.end()), position, kind))
        if kind == "number":
            position += 1
            continue
        for p in _PART.finditer(text):
            append(Token(p.group(), start(base + p.start()), end(base + p.end()), position, "part"))
            position += 1
    return tokens


def syllables(text: str) -> list[Token]:
    """Split ``text`` into syllable tokens with offsets into ``text`` itself.

    >>> [t.text for t in syllables("Ở Đà Nẵng, ngày 29/6/2020")]
    ['Ở', 'Đà', 'Nẵng', 'ngày', '29/6/2020', '29', '6', '2020']
    >>> [(t.text, t.position) for t in syllables("Quyết định 205-QĐ/TW.")]
    [('Quyết', 0), ('định', 1), ('205-QĐ/TW', 2), ('205', 2), ('QĐ', 3), ('TW', 4)]
    """
    norm, offsets = normalize_with_map(text)
    return tokenize_normalized(norm, offsets)
