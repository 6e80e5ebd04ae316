"""Which segments a commit merges: few segments, each document rewritten a few times.

Every segment costs every query its own dictionary lookups, variants and spellings (an
index of 11 segments answered 1.8-2.8x slower than one of the same documents), and a merge
rewrites documents (about a millisecond each on a 2-core machine). Whoosh's own policy
(``MERGE_SMALL``) merges only while five or more segments hold fewer documents than a small
Fibonacci bound, so commits of 1,000 documents pile up to 17 segments and commits of
21,033 to 24. :func:`merge_levels` is a logarithmic policy, as Lucene's
``LogMergePolicy``: a segment's level is the power of :data:`MERGE_FACTOR` its live
documents reach above :data:`FLOOR` (level 0 below it), and a commit that would leave
:data:`MERGE_FACTOR` segments on a level merges that level's into the new segment, then
the next level's if it is now full, and so on. A level holds at most ``MERGE_FACTOR - 1``
segments (4 for each fivefold growth of the index: half as many as Whoosh's policy leaves
on average), and each document is rewritten about once per level it climbs.
``vnsearch optimize`` still merges everything into one.

>>> levels([50, 999, 1_000, 4_999, 5_000, 84_132])
[0, 0, 1, 1, 2, 3]
>>> merged_by_levels([84_132, 400, 300, 200, 100], 50)  # a fifth segment of level 0
[1, 2, 3, 4]
>>> merged_by_levels([84_132, 300, 200, 100], 50)
[]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["FLOOR", "MERGE_FACTOR", "levels", "merge_levels", "merged_by_levels"]

# a level holds at most this many segments less one: the next one merges them
MERGE_FACTOR = 5
# segments of fewer live documents are all on level 0 (cheap to merge, costly to search)
FLOOR = 1_000


def levels(sizes: Sequence[int], factor: int = MERGE_FACTOR) -> list[int]:
    """The level of a segment of each of ``sizes`` live documents: 0 below :data:`FLOOR`,
    then ``1 + k`` from ``FLOOR * factor**k`` documents on (integers: no rounding)."""
    out = []
    for size in sizes:
        level, bound = 0, FLOOR
        while size >= bound:
            level += 1
            bound *= factor
        out.append(level)
    return out


def merged_by_levels(sizes: Sequence[int], new: int, factor: int = MERGE_FACTOR) -> list[int]:
    """Which of the segments of ``sizes`` live documents a commit of ``new`` documents
    merges (their indexes, smallest levels first): from the new segment's level up,
    each level that would hold ``factor`` segments with the new one (grown by the levels
    merged below) is merged into it."""
    level_of = levels(sizes, factor)
    merged: list[int] = []
    size = new
    level = levels([size], factor)[0]
    while True:
        here = [i for i, lv in enumerate(level_of) if lv == level and i not in merged]
        if len(here) + (1 if size else 0) < factor:
            return merged
        merged += here
        size += sum(sizes[i] for i in here)
        level = max(level + 1, levels([size], factor)[0])


def merge_levels(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh's merge policy interface: merge the segments :func:`merged_by_levels` picks
    into ``writer``'s new segment (``writer.add_reader``); return the others."""
    from whoosh.reading import SegmentReader

    sizes = [s.doc_count() for s in segments]
    chosen = set(merged_by_levels(sizes, writer.docnum))
    for k, segment in enumerate(segments):
        if k in chosen:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            try:
                writer.add_reader(reader)
            finally:
                reader.close()
    return [s for k, s in enumerate(segments) if k not in chosen]
