"""``vnsearch index``: records from sources into an index, each replacing any document
with the same id, all in one commit (an error before the end commits nothing).

A new index gets the schema ``id`` (ID, unique), ``title`` (TEXT, boost 2), ``body``
(TEXT), a TEXT field for each ``--fields`` name, a KEYWORD, NUMERIC or DATETIME field for
each ``--keyword``, ``--numeric`` or ``--datetime`` column (stored too: filtered and sorted
on), and a STORED field for every other column of the sources' first records. Columns an
existing index has no field for are dropped and counted.
"""

from __future__ import annotations

import datetime
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vnsearch.cli.errors import USAGE_ERROR, UserError
from vnsearch.cli.locate import is_index
from vnsearch.cli.progress import Progress
from vnsearch.cli.sources import Record, Source, SourceError, TextFiles

__all__ = [
    "IndexOptions",
    "IndexSummary",
    "field_name",
    "index_sources",
    "parse_field_map",
    "parse_typed_columns",
    "read_documents",
]

DEFAULT_TEXT_FIELDS = {"title": "title", "body": "body"}
_ERRORS_SHOWN = 5  # skipped records whose error is printed


@dataclass(frozen=True)
class IndexOptions:
    """How records become documents.

    ``fields`` maps TEXT field names to source columns (``--fields title=tieu_de,body``).

    >>> IndexOptions(id_field="_id").id_field
    '_id'
    """

    id_field: str = "id"
    fields: Mapping[str, str] = field(default_factory=dict)
    typed: Mapping[str, str] = field(default_factory=dict)  # column -> KEYWORD, NUMERIC...
    skip_errors: bool = False
    wait: float = 10.0
    jobs: int | None = None  # analysis processes; None: one per core
    max_text_mb: float | None = 10.0  # longer text fields are data errors


@dataclass
class IndexSummary:
    """What one run did: documents added and updated, records skipped, columns dropped."""

    added: int = 0
    updated: int = 0
    skipped: int = 0
    dropped: Counter = field(default_factory=Counter)
    created: bool = False
    seconds: float = 0.0
    doc_count: int = 0
    size_bytes: int = 0
    first_errors: list[str] = field(default_factory=list)  # of the skipped records

    def skip(self, error: Exception) -> None:
        """Count a record skipped for ``error``; the first few errors are kept to show."""
        self.skipped += 1
        if len(self.first_errors) < _ERRORS_SHOWN:
            self.first_errors.append(str(error))


def parse_field_map(specs: Sequence[str]) -> dict[str, str]:
    """``["title=tieu_de,body", "summary"]`` -> ``{"title": "tieu_de", "body": "body",
    "summary": "summary"}`` (TEXT field = source column; a bare name maps to itself).

    >>> parse_field_map(["title=tieu_de,body"])
    {'title': 'tieu_de', 'body': 'body'}
    """
    out: dict[str, str] = {}
    for spec in specs:
        for item in filter(None, (s.strip() for s in spec.split(","))):
            name, _, column = item.partition("=")
            name, column = name.strip(), (column.strip() or name.strip())
            if not name.isidentifier() or name.startswith("_"):
                raise UserError(
                    f"--fields: {name!r} is not a field name (letters, digits and _, not first)",
                    USAGE_ERROR,
                )
            out[name] = column
    return out


def parse_typed_columns(**columns: Sequence[str]) -> dict[str, str]:
    """``keyword=["topic,tags"], datetime=["published"]`` -> ``{"topic": "KEYWORD", "tags":
    "KEYWORD", "published": "DATETIME"}`` (the ``--keyword``, ``--numeric`` and
    ``--datetime`` columns; a column named twice is a usage error).

    >>> parse_typed_columns(keyword=["topic, tags"], numeric=[], datetime=["published"])
    {'topic': 'KEYWORD', 'tags': 'KEYWORD', 'published': 'DATETIME'}
    """
    out: dict[str, str] = {}
    for option, specs in columns.items():
        for column in (c.strip() for spec in specs for c in spec.split(",")):
            if not column:
                continue
            if out.get(column, option.upper()) != option.upper():
                raise UserError(f"--{option}: {column!r} is named by two options", USAGE_ERROR)
            out[column] = option.upper()
    return out


def field_name(column: str) -> str:
    """The field a source column is stored in: non-word characters become ``_``, leading
    ``_`` dropped, a leading digit prefixed with ``f``.

    >>> field_name("ngày đăng"), field_name("_score"), field_name("2020")
    ('ngày_đăng', 'score', 'f2020')
    """
    import re

    name = re.sub(r"\W", "_", column).lstrip("_")
    return f"f{name}" if name[:1].isdigit() else name


def _new_schema(columns: Sequence[str], options: IndexOptions) -> Any:
    from vnsearch.index import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

    text_map = {**DEFAULT_TEXT_FIELDS, **options.fields}
    if "id" in text_map:
        raise UserError("--fields: 'id' is the documents' unique ID field, not a TEXT field")
    fields: dict[str, Any] = {"id": ID(stored=True, unique=True)}
    for name in text_map:
        fields[name] = TEXT(stored=True, boost=2.0 if name == "title" else 1.0)
    mapped = {options.id_field, *text_map.values()}
    kinds = {"KEYWORD": KEYWORD, "NUMERIC": lambda **kw: NUMERIC(numtype="float", **kw)}
    for column, kind in options.typed.items():
        name = field_name(column)
        if column in mapped or not name or name in fields:
            raise UserError(
                f"--{kind.lower()}: {column!r} is the id column or a TEXT field", USAGE_ERROR
            )
        fields[name] = kinds.get(kind, DATETIME)(stored=True)
    for column in columns:
        name = field_name(column)
        if column not in mapped and name and name not in fields:
            fields[name] = STORED()
    return Schema(**fields)


def _convert(ftype: Any, value: Any) -> Any:
    """A source value as the field type wants it; ``ValueError`` with a reason if it can't."""
    kind = ftype.kind
    if kind == "STORED":
        return value
    if kind in ("TEXT", "ID", "KEYWORD"):
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value if kind == "KEYWORD" else "\n".join(value)
        raise ValueError(f"expected text, got {type(value).__name__}")
    if isinstance(value, str) and not value.strip():
        return None
    if kind == "NUMERIC":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            return float(value) if ftype.numtype == "float" else int(value)
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if kind == "DATETIME" and isinstance(value, str):
        return datetime.datetime.fromisoformat(value)
    raise ValueError(f"expected an ISO date and time, got {value!r}")


class _Mapper:
    """Turns records into documents of one schema."""

    def __init__(self, schema: Any, options: IndexOptions, summary: IndexSummary) -> None:
        self.schema = schema
        self.unique = schema.unique_field
        if self.unique is None:
            raise UserError("the index has no unique ID field, so documents cannot be replaced")
        text_map = {k: v for k, v in DEFAULT_TEXT_FIELDS.items() if k in schema}
        for name in options.fields:
            if name not in schema.text_fields:
                raise UserError(
                    f"--fields: the index has no TEXT field {name!r} "
                    f"(its TEXT fields: {', '.join(schema.text_fields)})"
                )
        text_map.update(options.fields)
        for column, kind in options.typed.items():
            name = field_name(column)
            have = schema[name].kind if name in schema else None
            if have != kind:
                raise UserError(
                    f"--{kind.lower()} {column}: the index's field {name!r} is "
                    f"{have or 'missing'}, not {kind} (a field's kind is set when the index "
                    "is created)"
                )
        self.text_map = text_map
        self.summary = summary

    def document(self, record: Record, id_column: str) -> dict[str, Any]:
        values = record.fields
        doc_id = values.get(id_column)
        if doc_id is None or doc_id == "" or isinstance(doc_id, (dict, list, bool)):
            raise SourceError(f"{record.where}: no {id_column!r} value (the document's id)")
        doc: dict[str, Any] = {self.unique: str(doc_id)}
        used = {id_column}
        try:
            for name, column in self.text_map.items():
                used.add(column)
                if values.get(column) is not None:
                    doc[name] = _convert(self.schema[name], values[column])
            for column, value in values.items():
                if column in used or value is None:
                    continue
                name = field_name(column)
                if name in doc or name not in self.schema or name in self.text_map:
                    self.summary.dropped[column] += 1
                    continue
                converted = _convert(self.schema[name], value)
                if converted is not None:
                    doc[name] = converted
        except ValueError as exc:
            raise SourceError(f"{record.where}: column {column!r}: {exc}") from None
        return doc


def _check_columns(sources: Sequence[Source], id_field: str) -> list[str]:
    """The columns of the sources' first records; a source without the id column fails."""
    columns: list[str] = []
    for source in sources:
        cols = source.columns()
        id_column = "id" if isinstance(source, TextFiles) else id_field
        if cols and id_column not in cols:
            raise UserError(
                f"{source.path}: no {id_column!r} column (columns: {', '.join(cols)}); "
                "name the id column with --id-field"
            )
        columns.extend(c for c in cols if c not in columns)
    return columns


def read_documents(
    sources: Sequence[Source], options: IndexOptions, summary: IndexSummary
) -> tuple[Any, Iterator[tuple[str, dict[str, Any]]]]:
    """The schema a new index of ``sources`` gets, and their records as its documents,
    each with where it was read (``file:line``), read as :func:`index_sources` reads them:
    a bad record is a :class:`SourceError` naming file and line, or skipped and counted
    in ``summary`` with ``options.skip_errors``."""
    schema = _new_schema(_check_columns(sources, options.id_field), options)
    mapper = _Mapper(schema, options, summary)

    def documents() -> Iterator[tuple[str, dict[str, Any]]]:
        for source in sources:
            id_column = "id" if isinstance(source, TextFiles) else options.id_field
            for item in source.records():
                try:
                    if isinstance(item, SourceError):
                        raise item
                    yield item.where, mapper.document(item, id_column)
                except SourceError as exc:
                    if not options.skip_errors:
                        raise
                    summary.skip(exc)

    return schema, documents()


_ATTEMPTS = 5  # an index removed or created by another process meanwhile: try again


def _open_for_writing(
    path: Path, columns: list[str], options: IndexOptions, summary: IndexSummary
) -> tuple[Any, Any]:
    """The index at ``path`` (created if there is none) and its writer. Another process
    may create the same index meanwhile (then this one adds to it), or remove the one it
    created and could not fill while this one waited for its lock (then this one creates
    it): one outcome, never a raw file error."""
    from vnsearch.errors import IndexLocked, IndexNotFound, SchemaError, VnsearchError
    from vnsearch.index import Index
    from vnsearch.index.folder_files import folder_is_empty

    for _ in range(_ATTEMPTS):
        summary.created = False
        if is_index(path):
            try:
                ix = Index.open(path)
            except IndexNotFound:  # removed since is_index(): look again
                continue
            except VnsearchError as exc:
                raise UserError(str(exc)) from None
            except OSError as exc:
                raise UserError(f"{path}: cannot open the index: {exc.strerror or exc}") from None
        else:
            if path.exists() and not (path.is_dir() and folder_is_empty(path)):
                raise UserError(
                    f"{path}: exists and is not a vnsearch index; refusing to write into it"
                )
            try:
                ix = Index.create(path, _new_schema(columns, options))
            except SchemaError as exc:
                raise UserError(f"{path}: {exc}") from None
            except (VnsearchError, FileNotFoundError) as exc:
                if is_index(path) or not path.exists():  # another process was quicker
                    continue
                raise UserError(str(exc)) from None
            except OSError as exc:
                raise UserError(f"{path}: cannot create the index: {exc.strerror or exc}") from None
            summary.created = True
        try:
            writer = ix.writer(
                timeout=options.wait, jobs=options.jobs, max_text_mb=options.max_text_mb
            )
        except IndexLocked as exc:
            ix.close()
            raise UserError(str(exc)) from None
        except IndexNotFound:  # the process that created it removed it meanwhile
            ix.close()
            continue
        except BaseException:
            ix.close()
            raise
        return ix, writer
    raise UserError(f"{path}: other processes keep creating and removing this index")


def index_sources(
    path: Path,
    sources: Sequence[Source],
    options: IndexOptions,
    progress: Progress | None = None,
) -> IndexSummary:
    """Index ``sources`` into the index at ``path`` (created if missing); one commit."""
    start = time.perf_counter()
    summary = IndexSummary()
    columns = _check_columns(sources, options.id_field)
    existed = path.exists()
    ix, writer = _open_for_writing(path, columns, options, summary)
    try:
        mapper = _Mapper(ix.schema, options, summary)
        snap = None if summary.created else ix.snapshot()
        known = snap is not None and snap.doc_count > 0
        seen: set[str] = set()
        done = 0
        with writer:
            for source in sources:
                id_column = "id" if isinstance(source, TextFiles) else options.id_field
                for item in source.records():
                    try:
                        if isinstance(item, SourceError):
                            raise item
                        doc = mapper.document(item, id_column)
                        doc_id = doc[mapper.unique]
                        replace = doc_id in seen or (known and snap.doc_for_id(doc_id) is not None)
                        try:
                            (writer.update if replace else writer.add)(doc)
                        except ValueError as exc:  # e.g. a text over the writer's size limit
                            raise SourceError(f"{item.where}: {exc}") from None
                    except SourceError as exc:
                        if not options.skip_errors:
                            raise
                        summary.skip(exc)
                        continue
                    if replace:
                        summary.updated += 1
                    else:  # not in the index, nor earlier in this run
                        summary.added += 1
                    seen.add(doc_id)
                    if progress is not None:
                        progress.update(summary.added + summary.updated, done + source.position)
                done += source.size
            if progress is not None:
                progress.update(summary.added + summary.updated, done, force=True)
                progress.status(f"{summary.added + summary.updated:,} documents: committing")
        summary.doc_count = ix.doc_count
    except BaseException:
        writer.cancel()  # (done already if the error came inside ``with writer``)
        ix.close()
        if summary.created:  # leave the folder as it was, absent or empty, unless another
            # process waiting for the lock took it meanwhile: it adds to the index
            from vnsearch.index.folder_files import remove_index_files

            remove_index_files(path, keep_folder=existed)
        raise
    summary.size_bytes = ix.stats().size_bytes
    ix.close()
    summary.seconds = time.perf_counter() - start
    return summary
