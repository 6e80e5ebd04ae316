"""Facets: how many of a query's matches hold each value of a field, or lie in each range.

A KEYWORD or ID field's values are read once per snapshot from its postings into a
:class:`ValueColumn` (kept with :meth:`Snapshot.memo`): the distinct values, sorted, and
per posting its document and value number. Counting a facet is then one ``np.bincount``
of the value numbers of the matching documents' postings: no Python object per match.
NUMERIC and DATETIME fields count their distinct values, or the matches in each range the
caller gives, from :meth:`Snapshot.field_values`. Only matching documents are counted, and
those are live: a deleted document is never counted.

>>> import vnsearch
>>> ix = vnsearch.Index.in_memory(vnsearch.Schema(body=vnsearch.TEXT(),
...     topic=vnsearch.KEYWORD(), year=vnsearch.NUMERIC()))
>>> with ix.writer() as w:
...     w.add({"body": "phở bò", "topic": "an", "year": 2020})
...     w.add({"body": "phở gà", "topic": ["an", "re"], "year": 2021})
...     w.add({"body": "trà đá", "topic": "uong", "year": 2021})
>>> r = ix.search("pho", facets={"topic": None, "year": [(2000, 2021), (2021, None)]})
>>> r.facets
{'topic': {'an': 2, 're': 1}, 'year': {(2000, 2021): 1, (2021, None): 1}}
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from vnsearch.index.reader import Snapshot
from vnsearch.index.schema import DATETIME, ID, KEYWORD, NUMERIC
from vnsearch.index.terms import terms_reader
from vnsearch.ranking.filters import Range, range_mask

__all__ = ["FacetSpec", "ValueColumn", "count_facets", "facet_specs", "value_column"]

#: What to count per field: its values (``None``: all; an ``int`` n: the n most frequent)
#: or, for NUMERIC and DATETIME fields, the matches in each of a list of ranges
#: (:class:`~vnsearch.Range`, or ``(start, end)``: ``start <= value < end``).
FacetSpec: TypeAlias = (
    "Iterable[str] | Mapping[str, int | Sequence[Range | tuple[Any, Any]] | None]"
)

_EPOCH = datetime.datetime(1, 1, 1)  # DATETIME values are microseconds since then


@dataclass(frozen=True)
class ValueColumn:
    """The values of a KEYWORD or ID field by document, for one snapshot.

    ``values`` are the distinct values as indexed (KEYWORDs lowercased unless told
    otherwise), sorted; posting ``i`` says document ``docs[i]`` holds ``values[ids[i]]``.
    ``first`` and ``last``: per document, 1 + the number of its smallest and largest
    value (0: none), what sorting by the field compares.
    """

    values: tuple[str, ...]
    docs: np.ndarray
    ids: np.ndarray
    first: np.ndarray
    last: np.ndarray


def value_column(snap: Snapshot, name: str) -> ValueColumn:
    """The :class:`ValueColumn` of field ``name`` in ``snap``, made on first use."""
    return snap.memo(("value_column", name), _read_column, snap, name)  # type: ignore[no-any-return]


def _read_column(snap: Snapshot, name: str) -> ValueColumn:
    parts = []  # per segment: its keys, the number of postings of each, global documents
    for r, base in snap.segments:
        terms = terms_reader(r)
        if terms is None or terms.field_terms(name) is None:
            continue
        keys, counts, docs, *_rest = terms.field_postings(name)
        parts.append((keys, counts, docs.astype(np.int64) + base))
    if len(parts) == 1:  # one dictionary: its keys are sorted and distinct already
        vocabulary = parts[0][0]
        numbers = [np.arange(len(vocabulary))]
    else:
        vocabulary = sorted({key for keys, _c, _d in parts for key in keys})
        number = {key: i for i, key in enumerate(vocabulary)}
        numbers = [np.array([number[k] for k in keys]) for keys, _c, _d in parts]
    dtype = np.int32 if len(vocabulary) < 1 << 31 else np.int64
    ids = [np.repeat(n.astype(dtype), c) for n, (_k, c, _d) in zip(numbers, parts)]
    all_docs = np.concatenate([d for _k, _c, d in parts]) if parts else np.empty(0, np.int64)
    all_ids = np.concatenate(ids) if parts else np.empty(0, dtype)
    # a document lies in one segment, whose keys are sorted: its values come in order, so
    # the first and last of a stable sort by document are its smallest and largest
    order = np.argsort(all_docs, kind="stable")
    by_doc, slots = all_docs[order], all_ids[order] + 1
    held = np.bincount(by_doc, minlength=snap.total)
    start = np.cumsum(held) - held
    has = np.flatnonzero(held)
    first = np.zeros(snap.total, dtype)
    last = np.zeros(snap.total, dtype)
    first[has] = slots[start[has]]
    last[has] = slots[start[has] + held[has] - 1]
    values = tuple(key.decode("utf-8") for key in vocabulary)
    return ValueColumn(values, all_docs, all_ids, first, last)


def count_facets(
    snap: Snapshot, matched: np.ndarray, facets: FacetSpec
) -> dict[str, dict[Any, int]]:
    """Per field of ``facets``, its counts over the documents flagged in ``matched`` (a
    mask over the snapshot's documents): ``{value: count}`` most frequent first (equal
    counts by value; values no match holds left out), or ``{range: count}`` in the order
    the ranges were given, zeros included."""
    out: dict[str, dict[Any, int]] = {}
    for name, spec in facet_specs(facets).items():
        ftype = snap.schema.get(name)
        if ftype is None:
            raise ValueError(f"unknown facet field {name!r}")
        if isinstance(spec, Sequence):
            if not isinstance(ftype, (NUMERIC, DATETIME)):
                raise ValueError(f"facet field {name!r} ({ftype.kind}) cannot count ranges")
            out[name] = {r: _in_range(snap, name, r, matched) for r in spec}
        elif isinstance(ftype, (ID, KEYWORD)):
            column = value_column(snap, name)
            counts = np.bincount(column.ids[matched[column.docs]], minlength=len(column.values))
            out[name] = _most_frequent(list(column.values), counts, spec)
        elif isinstance(ftype, (NUMERIC, DATETIME)):
            values, present = snap.field_values(name)
            found, counts = np.unique(values[matched & present], return_counts=True)
            keys = found.tolist()
            if isinstance(ftype, DATETIME):
                keys = [_EPOCH + datetime.timedelta(microseconds=v) for v in keys]
            out[name] = _most_frequent(keys, counts, spec)
        else:
            raise ValueError(
                f"field {name!r} ({ftype.kind}) cannot facet: only KEYWORD, ID, NUMERIC and"
                " DATETIME fields can"
            )
    return out


def facet_specs(facets: FacetSpec) -> dict[str, Any]:
    """``facets`` as a dict of field -> None, a count or a list of ranges, checked."""
    if isinstance(facets, str):
        raise TypeError(f"facets must be a list of field names or a dict, not {facets!r}")
    specs = dict(facets) if isinstance(facets, Mapping) else dict.fromkeys(facets)
    for name, spec in specs.items():
        if not isinstance(name, str):
            raise TypeError(f"a facet field is a name, not {name!r}")
        if spec is None or (isinstance(spec, int) and not isinstance(spec, bool) and spec >= 0):
            continue
        if isinstance(spec, (list, tuple)) and all(_is_range(r) for r in spec):
            continue
        raise TypeError(
            f"facet {name!r}: give None, a number of values, or a list of ranges, not {spec!r}"
        )
    return specs


def _is_range(r: object) -> bool:
    return isinstance(r, Range) or (isinstance(r, tuple) and len(r) == 2)


def _in_range(snap: Snapshot, name: str, r: Range | tuple[Any, Any], matched: np.ndarray) -> int:
    rng = r if isinstance(r, Range) else Range(r[0], r[1], include_end=False)
    return int(np.count_nonzero(range_mask(snap, name, rng) & matched))


def _most_frequent(keys: list[Any], counts: np.ndarray, limit: int | None) -> dict[Any, int]:
    """``{key: count}`` of the keys counted at least once, most frequent first, equal
    counts in the keys' order; the first ``limit`` of them if given."""
    held = np.flatnonzero(counts)
    order = held[np.argsort(-counts[held], kind="stable")]
    if limit is not None:
        order = order[:limit]
    return {keys[i]: int(counts[i]) for i in order.tolist()}
