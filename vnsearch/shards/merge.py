"""How the hits and facet counts of several shards merge into one index's.

Each shard answers with its best ``offset + limit`` hits in vnsearch's order and its facet
counts over its own matches; the merged page is the one a single index over every
document would give:

* ranked by relevance: by clauses matched, then score (equal when every shard ranked with
  the same global statistics), then :attr:`~vnsearch.Hit.order` (where the document
  stands in the order documents were added over every shard), then shard;
* sorted by fields: by each hit's :attr:`~vnsearch.Hit.sort_values` (documents without a
  value last in either direction), then score, then order, then shard;
* facet counts summed per value, most frequent first (equal counts by value), cut to the
  number asked for only after summing (so each shard counts every value), ranges in the
  order given.

One index orders hits tied on clauses and score by document number: the order documents
were added, as long as no merge of segments reordered them (Whoosh puts the documents of
the small segments it merges after those of the new one).

>>> from vnsearch.ranking.results import Hit
>>> a = [Hit("x", 2.0, {}, 0, clauses=1), Hit("y", 1.0, {}, 1, clauses=1)]
>>> b = [Hit("z", 1.5, {}, 0, clauses=1)]
>>> [h.id for h in merge_hits([a, b], (), 0, 10)]
['x', 'z', 'y']
>>> merge_facets([{"topic": {"an": 2, "re": 1}}, {"topic": {"re": 2, "uong": 2}}],
...              {"topic": 2})
{'topic': {'re': 3, 'an': 2}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vnsearch.ranking.results import Hit
from vnsearch.ranking.sorting import SortKey

__all__ = ["merge_facets", "merge_hits", "shard_facets"]


def merge_hits(
    found: Sequence[Sequence[Hit]], keys: Sequence[SortKey], offset: int, limit: int
) -> tuple[Hit, ...]:
    """Hits ``offset`` to ``offset + limit`` of the shards' hits ``found`` (shard ``i``'s
    best first), ordered by ``keys`` (``()``: by relevance)."""
    entries = [(hit, shard) for shard, hits in enumerate(found) for hit in hits]
    if not keys:
        entries.sort(key=lambda e: (-e[0].clauses, -e[0].score, e[0].order, e[1]))
    else:  # stable sorts, least significant key first
        entries.sort(key=lambda e: (-e[0].score, e[0].order, e[1]))
        for i in reversed(range(len(keys))):
            # present values first in either direction: (present, value) from the largest
            # when descending, (absent, value) from the smallest when ascending
            if keys[i].descending:
                entries.sort(key=lambda e, i=i: e[0].sort_values[i], reverse=True)
            else:
                entries.sort(key=lambda e, i=i: _ascending(e[0].sort_values[i]))
    return tuple(hit for hit, _shard in entries[offset : offset + limit])


def _ascending(value: tuple[bool, Any]) -> tuple[bool, Any]:
    present, v = value
    return not present, v


def shard_facets(specs: Mapping[str, Any]) -> dict[str, Any]:
    """What each shard counts for the facets ``specs`` (checked ones, see
    :func:`~vnsearch.ranking.facets.facet_specs`): every value where a number of them is
    asked for (the best of the sum are not always the best of each shard)."""
    return {name: None if isinstance(spec, int) else spec for name, spec in specs.items()}


def merge_facets(
    parts: Sequence[Mapping[str, Mapping[Any, int]]], specs: Mapping[str, Any]
) -> dict[str, dict[Any, int]]:
    """The shards' facet counts ``parts`` summed, per field of ``specs``, in one index's
    order, the first ``n`` values where a number ``n`` is asked for."""
    out: dict[str, dict[Any, int]] = {}
    for name, spec in specs.items():
        counts: dict[Any, int] = {}
        for part in parts:
            for value, n in part.get(name, {}).items():
                counts[value] = counts.get(value, 0) + n
        if isinstance(spec, (list, tuple)):  # ranges, in the order given
            out[name] = counts
            continue
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        out[name] = dict(ordered[:spec] if isinstance(spec, int) else ordered)
    return out
