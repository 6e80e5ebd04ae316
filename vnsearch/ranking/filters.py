"""Range filters on field values: which documents' NUMERIC or DATETIME value lies in a range.

A range works on :meth:`Snapshot.field_values`, one array over all documents: a vectorized
comparison. (Sorting by fields is :mod:`vnsearch.ranking.sorting`.)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import numpy as np

from vnsearch.index.reader import Snapshot
from vnsearch.index.schema import DATETIME, NUMERIC

__all__ = ["Range", "range_mask"]


@dataclass(frozen=True)
class Range:
    """A filter value for a NUMERIC or DATETIME field: from ``start`` to ``end``, both
    included unless told otherwise; ``None`` leaves that side open.

    >>> import vnsearch
    >>> ix = vnsearch.Index.in_memory(vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True),
    ...     body=vnsearch.TEXT(), year=vnsearch.NUMERIC()))
    >>> with ix.writer() as w:
    ...     for year in (2019, 2020, 2021):
    ...         w.add({"id": str(year), "body": "Hà Nội", "year": year})
    >>> [h.id for h in ix.search("ha noi", filter={"year": vnsearch.Range(2020, None)})]
    ['2020', '2021']
    >>> [h.id for h in ix.search("ha noi", filter={"year": vnsearch.Range(end=2020,
    ...     include_end=False)})]
    ['2019']
    """

    start: Any = None
    end: Any = None
    include_start: bool = True
    include_end: bool = True


def _field(snap: Snapshot, name: str, use: str) -> NUMERIC | DATETIME:
    ftype = snap.schema.get(name)
    if ftype is None:
        raise ValueError(f"unknown {use} field {name!r}")
    if not isinstance(ftype, (NUMERIC, DATETIME)):
        raise ValueError(
            f"field {name!r} ({ftype.kind}) cannot {use}: only NUMERIC and DATETIME fields can"
        )
    return ftype


def _bound(snap: Snapshot, name: str, ftype: NUMERIC | DATETIME, bound: Any) -> Any:
    """``bound`` as the field's values are kept (datetimes as Whoosh's microseconds)."""
    if isinstance(ftype, DATETIME):
        if not isinstance(bound, datetime.datetime):
            raise TypeError(
                f"field {name!r} is DATETIME: a Range bound is a datetime, not {bound!r}"
            )
        return snap.reader.schema[name].to_column_value(bound)
    if isinstance(bound, bool) or not isinstance(bound, (int, float)):
        raise TypeError(f"field {name!r} is NUMERIC: a Range bound is a number, not {bound!r}")
    return bound


def range_mask(snap: Snapshot, name: str, rng: Range) -> np.ndarray:
    """Per document: whether its value of field ``name`` lies in ``rng``."""
    ftype = _field(snap, name, "filter by range")
    values, present = snap.field_values(name)
    mask = present.copy()
    if rng.start is not None:
        lo = _bound(snap, name, ftype, rng.start)
        mask &= values >= lo if rng.include_start else values > lo
    if rng.end is not None:
        hi = _bound(snap, name, ftype, rng.end)
        mask &= values <= hi if rng.include_end else values < hi
    return mask
