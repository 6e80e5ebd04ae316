"""The token: an immutable piece of text with offsets into the caller's original string."""

from __future__ import annotations

from typing import NamedTuple


class Token(NamedTuple):
    """One token of a text.

    ``text`` is the token's term (normalized, possibly lowercased or folded by a view);
    ``start``/``end`` are offsets into the ORIGINAL string given to the analyzer, so
    ``original[token.start:token.end]`` is always what the user wrote; ``position`` is the
    token's ordinal in its stream (parts of a compound share the compound's position);
    ``kind`` says what the tokenizer recognized (``syllable``, ``number``, ``date``,
    ``code``, ``email``, ``url``, ``part``, ``word``, ``bigram``).

    >>> from vnsearch import syllables
    >>> text = "Hà Nội"
    >>> t = syllables(text)[1]
    >>> t
    Token(text='Nội', start=3, end=6, position=1, kind='syllable')
    >>> text[t.start:t.end]
    'Nội'

    Tokens are named tuples: immutable, cheap to make by the million, and printable.
    """

    text: str
    start: int
    end: int
    position: int
    kind: str = "syllable"
