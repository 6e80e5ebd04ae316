"""The writer: documents in, one Whoosh segment writer underneath, commit or roll back."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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
)

if TYPE_CHECKING:
    from whoosh.writing import SegmentWriter

    from vnsearch.index.schema import Schema

__all__ = ["Writer", "whoosh_document"]


def whoosh_document(schema: Schema, doc: Mapping[str, Any]) -> dict[str, Any]:
    """Turn one vnsearch document into the keyword arguments of Whoosh's ``add_document``.

    TEXT fields are analyzed once here; each view goes to its hidden field as
    ``(term, position)`` pairs.
    """
    if not isinstance(doc, Mapping):
        raise TypeError(f"a document is a mapping of field names to values, got {type(doc)}")
    out: dict[str, Any] = {}
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
                out[view_field(name, view)] = [(t.text, t.position) for t in analysis[view]]
            if ftype.stored:
                out[name] = value
        elif isinstance(ftype, ID):
            out[name] = str(value)
        elif isinstance(ftype, KEYWORD):
            values = [value] if isinstance(value, str) else list(value)
            out[name] = ",".join(str(v).replace(",", " ") for v in values)
        elif isinstance(ftype, NUMERIC):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"field {name!r} is NUMERIC: expected a number, got {value!r}")
            out[name] = float(value) if ftype.numtype == "float" else int(value)
        elif isinstance(ftype, DATETIME):
            if not isinstance(value, datetime.datetime):
                raise TypeError(f"field {name!r} is DATETIME: expected datetime, got {value!r}")
            out[name] = value
        elif isinstance(ftype, STORED):
            out[name] = value
    return out


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

    def __init__(self, schema: Schema, whoosh_writer: SegmentWriter) -> None:
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
        fields = whoosh_document(self._schema, doc)
        self._remember(fields)
        self._w.add_document(**fields)

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
        fields = whoosh_document(self._schema, doc)
        self._forget(fields[unique])
        self._remember(fields)
        self._w.update_document(**fields)

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
