"""Sorting by fields: the order of a search's matches by one or several keys.

A key is a field name, ``"-name"`` for descending: a NUMERIC or DATETIME field (its
values, :meth:`Snapshot.field_values`), a KEYWORD or ID field (its values in code point
order, from the :class:`~vnsearch.ranking.facets.ValueColumn`; a document with several
values sorts by its smallest ascending, by its largest descending, as Elasticsearch
does), or ``"score"`` / ``"-score"`` (lowest / best score first) unless the schema has a
field of that name. Documents without a value come last in either direction; equal keys
are ordered by score (best first), then by document number, so an order is total and its
pages (``offset``) are slices of it. One ``np.lexsort`` of the matches.

>>> import vnsearch
>>> ix = vnsearch.Index.in_memory(vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True),
...     body=vnsearch.TEXT(), topic=vnsearch.KEYWORD(), views=vnsearch.NUMERIC()))
>>> with ix.writer() as w:
...     w.add({"id": "a", "body": "phở", "topic": "an", "views": 1})
...     w.add({"id": "b", "body": "phở", "topic": "uong", "views": 5})
...     w.add({"id": "c", "body": "phở", "topic": "an", "views": 5})
...     w.add({"id": "d", "body": "phở"})
>>> [h.id for h in ix.search("pho", sort=["-views", "topic"])]
['c', 'b', 'a', 'd']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from vnsearch.index.reader import Snapshot
from vnsearch.index.schema import DATETIME, ID, KEYWORD, NUMERIC
from vnsearch.ranking.facets import value_column

__all__ = ["SCORE", "SortKey", "sort_docs", "sort_keys", "sort_values"]

SCORE = "score"  # the key of the score, when no field has that name


class SortKey(NamedTuple):
    """One key of an order: a field (or :data:`SCORE`) and its direction."""

    name: str
    descending: bool


def sort_keys(snap: Snapshot, sort: str | Sequence[str] | None) -> tuple[SortKey, ...]:
    """``sort`` (a key, or a list of keys) as :class:`SortKey`\\ s, checked against the
    schema; ``()`` for none (rank by score)."""
    if sort is None:
        return ()
    keys = [sort] if isinstance(sort, str) else sort
    if not isinstance(keys, Sequence):
        raise TypeError(f"sort must be a field name or a list of them, got {sort!r}")
    out = []
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"a sort key is a field name, got {key!r}")
        name = key.removeprefix("-")
        ftype = snap.schema.get(name)
        if ftype is None and name != SCORE:
            raise ValueError(f"unknown sort field {name!r}")
        if ftype is not None and not isinstance(ftype, (NUMERIC, DATETIME, KEYWORD, ID)):
            raise ValueError(
                f"field {name!r} ({ftype.kind}) cannot sort: only NUMERIC, DATETIME, KEYWORD"
                " and ID fields can"
            )
        out.append(SortKey(name, key.startswith("-")))
    return tuple(out)


def sort_docs(
    snap: Snapshot, keys: Sequence[SortKey], docs: np.ndarray, scores: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` of ``docs`` (with their ``scores``) ordered by ``keys``, then by
    score (best first), then by document number; per key, documents without a value last."""
    columns: list[np.ndarray] = []  # most significant first
    for name, descending in keys:
        ftype = snap.schema.get(name)
        if ftype is None:  # the score
            columns.append(-scores if descending else scores)
            continue
        if isinstance(ftype, (KEYWORD, ID)):
            column = value_column(snap, name)
            slot = (column.last if descending else column.first)[docs]
            present, key = slot > 0, slot.astype(np.int64)
        else:
            values, has = snap.field_values(name)
            present, key = has[docs], values[docs]
        if descending:  # ~x == -x - 1 reverses int64 order without overflow
            key = -key if key.dtype.kind == "f" else ~key
        columns += [~present, key]
    columns += [-scores, docs]
    order = np.lexsort(columns[::-1])[:limit]
    return docs[order], scores[order]


def sort_values(
    snap: Snapshot, keys: Sequence[SortKey], docs: np.ndarray, scores: np.ndarray
) -> list[tuple[tuple[bool, Any], ...]]:
    """Per document of ``docs``, what :func:`sort_docs` compares under each key, as
    ``(present, value)``: a KEYWORD or ID field's smallest value (largest, descending) as
    text, a NUMERIC or DATETIME field's number as stored, the score. Comparable across
    indexes with the same schema: the hits of several shards merge by them
    (:mod:`vnsearch.shards.merge`)."""
    columns: list[list[tuple[bool, Any]]] = []
    for name, descending in keys:
        ftype = snap.schema.get(name)
        if ftype is None:  # the score
            columns.append([(True, s) for s in scores.tolist()])
        elif isinstance(ftype, (KEYWORD, ID)):
            column = value_column(snap, name)
            slots = (column.last if descending else column.first)[docs].tolist()
            columns.append([(True, column.values[s - 1]) if s else (False, "") for s in slots])
        else:
            values, has = snap.field_values(name)
            pairs = zip(has[docs].tolist(), values[docs].tolist())
            columns.append([(True, v) if h else (False, 0) for h, v in pairs])
    return list(zip(*columns)) if columns else [() for _ in range(len(docs))]
