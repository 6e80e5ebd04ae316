"""The query that matches every document: :data:`ALL` (``vnsearch.ALL``).

``ix.search(vnsearch.ALL, filter=...)`` (or an empty query, ``""``) lists the documents
that pass the filter instead of ranking them: by ``sort`` if given, else by document
number (the order they were added in, as of the last merge), every score 0.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ALL", "MatchAll", "is_match_all"]


class MatchAll:
    """The type of :data:`ALL`, its one instance.

    >>> MatchAll() is ALL, repr(ALL)
    (True, 'vnsearch.ALL')
    """

    _one: MatchAll | None = None

    def __new__(cls) -> MatchAll:
        if cls._one is None:
            cls._one = super().__new__(cls)
        return cls._one

    def __repr__(self) -> str:
        return "vnsearch.ALL"

    def __reduce__(self) -> str:
        return "ALL"  # pickled by name: unpickled as this module's ALL


ALL: Final = MatchAll()
"""Match every document: ``ix.search(vnsearch.ALL, filter={"topic": "the-thao"})``."""


def is_match_all(query: object) -> bool:
    """Whether ``query`` lists documents rather than ranks them: :data:`ALL`, or a string
    of nothing but white space.

    >>> is_match_all(ALL), is_match_all("  "), is_match_all("hà nội")
    (True, True, False)
    """
    return query is ALL or (isinstance(query, str) and not query.strip())
