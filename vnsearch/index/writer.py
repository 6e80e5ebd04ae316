"""The writer: documents in, one Whoosh segment writer underneath, commit or roll back."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from whoosh.writing import PostingPool, SegmentWriter

from vnsearch.analysis import VIEWS, analyze
from vnsearch.index.schema import (
    DATETIME,
    ID,
    KEYWORD,
    NUMERIC,
    STORED,
    TEXT,
    SchemaError,
    view_field,
    view_postings,
)

if TYPE_CHECKING:
    from vnsearch.index.schema import Schema

__all__ = ["FastSegmentWriter", "Writer", "whoosh_document"]

# Whoosh's PostingPool estimate of one posting's memory, without the value bytes.
_POSTING_SIZE = 28 + 20 + 21 + 26 + 18 + 16 + 21


# Runs of sorted postings merged at once at commit. Whoosh merges at most 128, and first
# merges the surplus into one run (a second pass over nearly all postings); a full VNTC
# build writes ~135 runs of 128 MB.
_MAX_RUNS = 4096


class _Pool(PostingPool):
    """Whoosh's posting pool, merging all its runs in one pass."""

    def iter_postings(self):
        return self.items(maxfiles=_MAX_RUNS)


class FastSegmentWriter(SegmentWriter):
    """Whoosh's segment writer with a bulk entry point for pre-analyzed documents.

    ``add_document`` asks every field to index its value and pushes each posting into the
    pool with one call; vnsearch has the postings of a document ready, so
    :meth:`add_prepared` writes the per-document data and extends the pool in one go.
    """

    def __init__(self, ix: Any, limitmb: int = 128, **kwargs: Any) -> None:
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool = _Pool(self._tempstorage, self.newsegment, limitmb=limitmb)

    def add_prepared(self, fields: dict[str, Any], postings: list[tuple]) -> None:
        """Add one document: ``fields`` as for ``add_document``, ``postings`` its
        ``(field, term bytes, docnum placeholder, weight, value bytes)`` tuples."""
        self._check_state()
        docnum = self.docnum
        schema = self.schema
        pdw = self.perdocwriter
        lengths: dict[str, int] = {}
        for item in postings:
            lengths[item[0]] = lengths.get(item[0], 0) + item[5]
        pdw.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            field = schema[name]
            stored = value if field.stored else None
            pdw.add_field(name, field, stored, lengths.get(name, 0) if field.scorable else 0)
            column = field.column_type
            if column and value is not None:
                pdw.add_column_value(name, column, field.to_column_value(value))
        pdw.finish_doc()
        pool = self.pool
        pool.fieldnames.update(lengths)
        pool.current.extend([(f, t, docnum, w, v) for f, t, _d, w, v, _n in postings])
        pool.currentsize += _POSTING_SIZE * len(postings) + sum(len(p[4]) for p in postings)
        if pool.currentsize > pool.limit:
            pool.save()
        self._added = True
        self.docnum += 1


def whoosh_document(schema: Schema, doc: Mapping[str, Any]) -> tuple[dict[str, Any], list]:
    """One vnsearch document as Whoosh field values and postings.

    Returns ``(fields, postings)``: ``fields`` maps each Whoosh field with a value to it (the
    original text for stored TEXT fields); ``postings`` are ``(field, term bytes, 0, weight,
    value bytes, frequency)`` tuples. TEXT fields are analyzed once, here.
    """
    if not isinstance(doc, Mapping):
        raise TypeError(f"a document is a mapping of field names to values, got {type(doc)}")
    fields: dict[str, Any] = {}
    postings: list[tuple] = []
    wschema = schema.whoosh_schema_cached()
    for name, value in doc.items():
        ftype = schema.get(name)
        if ftype is None:
            raise SchemaError(f"unknown field {name!r} (schema fields: {', '.join(schema)})")
        if value is None:
            continue
        if isinstance(ftype, TEXT):
            if not isinstance(value, str):
                raise TypeError(f"field {name!r} is TEXT: expected str, got {type(value).__name__}")
            analysis = analyze(value)
            for view in VIEWS:
                hidden = view_field(name, view)
                postings.extend(view_postings(hidden, wschema[hidden], analysis[view]))
                fields[hidden] = True
            if ftype.stored:
                fields[name] = value
            continue
        if isinstance(ftype, ID):
            value = str(value)
        elif isinstance(ftype, KEYWORD):
            values = [value] if isinstance(value, str) else list(value)
            value = ",".join(str(v).replace(",", " ") for v in values)
        elif isinstance(ftype, NUMERIC):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"field {name!r} is NUMERIC: expected a number, got {value!r}")
            value = float(value) if ftype.numtype == "float" else int(value)
        elif isinstance(ftype, DATETIME):
            if not isinstance(value, datetime.datetime):
                raise TypeError(f"field {name!r} is DATETIME: expected datetime, got {value!r}")
        elif not isinstance(ftype, STORED):
            raise SchemaError(f"field {name!r}: unsupported type {ftype!r}")
        fields[name] = value
        wfield = wschema[name]
        if wfield.indexed:
            postings.extend((name, t, 0, w, v or b"", f) for t, f, w, v in wfield.index(value))
    return fields, postings


class Writer:
    """Adds, replaces and deletes documents; commits on ``with`` exit, rolls back on error.

    Only one writer at a time holds an index's lock; readers keep seeing the last commit.

    >>> import vnsearch
    >>> ix = vnsearch.Index.in_memory(vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True),
    ...                                                 body=vnsearch.TEXT(stored=True)))
    >>> with ix.writer() as w:
    ...     w.add({"id": "1", "body": "Hà Nội"})
    ...     w.update({"id": "1", "body": "Hà Nội mùa thu"})
    >>> ix.doc_count
    1
    """

    def __init__(self, schema: Schema, whoosh_writer: FastSegmentWriter) -> None:
        self._schema = schema
        self._w = whoosh_writer
        self._open = True
        # unique value -> document number in the segment being written: Whoosh's own
        # update/delete only see committed documents, so this writer's are handled here
        self._pending: dict[str, list[int]] = {}

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("this writer was already committed or cancelled")

    def add(self, doc: Mapping[str, Any]) -> None:
        """Add a document (no check for an existing one with the same id: see ``update``)."""
        self._check_open()
        fields, postings = whoosh_document(self._schema, doc)
        self._remember(fields)
        self._w.add_prepared(fields, postings)

    def _remember(self, fields: Mapping[str, Any]) -> None:
        unique = self._schema.unique_field
        if unique is not None and unique in fields:
            self._pending.setdefault(fields[unique], []).append(self._w.docnum)

    def _forget(self, value: str) -> int:
        docnums = self._pending.pop(value, [])
        for docnum in docnums:
            self._w.newsegment.delete_document(docnum)
        return len(docnums)

    def update(self, doc: Mapping[str, Any]) -> None:
        """Add ``doc``, replacing any committed document with the same unique field value."""
        self._check_open()
        unique = self._schema.unique_field
        if unique is None:
            raise SchemaError("update needs a unique field: ID(unique=True) in the schema")
        if doc.get(unique) is None:
            raise SchemaError(f"update needs a value for the unique field {unique!r}")
        fields, postings = whoosh_document(self._schema, doc)
        self._forget(fields[unique])
        self._w.delete_by_term(unique, fields[unique])
        self._remember(fields)
        self._w.add_prepared(fields, postings)

    def delete(self, doc_id: Any) -> int:
        """Delete the document(s) whose unique field is ``doc_id``; returns how many."""
        self._check_open()
        unique = self._schema.unique_field
        if unique is None:
            raise SchemaError("delete needs a unique field: ID(unique=True) in the schema")
        return self._forget(str(doc_id)) + self._w.delete_by_term(unique, str(doc_id))

    def commit(self, optimize: bool = False) -> None:
        """Make the changes visible to new searches (and, with ``optimize``, merge all)."""
        self._check_open()
        self._open = False
        self._w.commit(optimize=optimize)

    def cancel(self) -> None:
        """Drop every change made through this writer and release the lock."""
        if self._open:
            self._open = False
            self._w.cancel()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            if self._open:
                self.commit()
        else:
            self.cancel()
