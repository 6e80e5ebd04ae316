"""What ``vnsearch serve`` answers: its JSON API as plain functions of an index and the
request's parameters, with no HTTP in them (:mod:`vnsearch.cli.serve` is the server).

- ``search(ix, params)``: ``q``, ``limit`` (1 to :data:`MAX_LIMIT`, larger is capped),
  ``offset`` (``offset + limit`` at most :data:`MAX_WINDOW`), ``filter=field:value``
  (repeatable; several values of one field match any of them; ``field:a..b`` a range of a
  NUMERIC or DATETIME field, either end may be empty), ``sort=[-]field``, ``field=name``
  (searched TEXT fields, repeatable), ``facet=name`` (when the library counts facets).
- ``suggest(ix, params)``: ``q``, ``limit``.
- ``document(ix, doc_id)``: the stored fields of one document.

A bad parameter raises :class:`ApiError` with its HTTP status and a one-line message.
"""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from vnsearch.highlight import DEFAULT_LENGTH, ELLIPSIS, Snippet
from vnsearch.index import Index
from vnsearch.index.schema import DATETIME, ID, KEYWORD, NUMERIC, Schema
from vnsearch.ranking.filters import Range

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_WINDOW",
    "ApiError",
    "Params",
    "document",
    "filters",
    "hit_json",
    "plain",
    "search",
    "search_options",
    "snippet_fields",
    "suggest",
]

DEFAULT_LIMIT = 10
MAX_LIMIT = 100  # hits in one answer; a larger ``limit`` is capped
MAX_WINDOW = 10_000  # offset + limit, as Elasticsearch's index.max_result_window
MAX_SUGGEST = 20

Params = Mapping[str, Sequence[str]]  # what urllib.parse.parse_qs gives


class ApiError(Exception):
    """A request the API refuses: ``status`` (400, 404...) and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _one(params: Params, name: str, default: str = "") -> str:
    values = params.get(name) or ()
    if len(values) > 1:
        raise ApiError(400, f"parameter {name!r} given {len(values)} times; give it once")
    return values[0] if values else default


def _int(params: Params, name: str, default: int, low: int) -> int:
    text = _one(params, name).strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {text[:40]!r}") from None
    if value < low:
        raise ApiError(400, f"{name} must be {low} or more, got {value}")
    return value


def _date(text: str, name: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            400, f"filter {name}: not a date (YYYY-MM-DD[THH:MM]): {text[:40]!r}"
        ) from None


def _number(text: str, name: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise ApiError(400, f"filter {name}: not a number: {text[:40]!r}")
    return value


def _value(schema: Schema, name: str, text: str) -> Any:
    """A filter's value as the field takes it: a string, a number, a date or a Range."""
    ftype = schema[name]
    if isinstance(ftype, (ID, KEYWORD)):
        return text
    convert = _date if isinstance(ftype, DATETIME) else _number
    if ".." not in text:
        return convert(text, name)
    start, _, end = text.partition("..")
    return Range(
        convert(start, name) if start else None,
        convert(end, name) if end else None,
    )


def filters(schema: Schema, given: Sequence[str]) -> dict[str, Any]:
    """``["topic:the-thao", "topic:du-lich", "year:2020..", ...]`` as ``search``'s
    ``filter``: each field's values (any of them matches).

    >>> from vnsearch import ID, KEYWORD, NUMERIC, Schema
    >>> s = Schema(id=ID(unique=True), topic=KEYWORD(), year=NUMERIC())
    >>> f = filters(s, ["topic:a", "topic:b:c", "year:2020.."])
    >>> f["topic"], f["year"][0].start, f["year"][0].end
    (['a', 'b:c'], 2020, None)
    """
    out: dict[str, list[Any]] = {}
    usable = [n for n, f in schema.items() if isinstance(f, (ID, KEYWORD, NUMERIC, DATETIME))]
    for item in given:
        name, colon, text = item.partition(":")
        if not colon or not name:
            raise ApiError(400, f"filter must be field:value, got {item[:60]!r}")
        if name not in usable:
            raise ApiError(
                400,
                f"filter: no field {name[:40]!r} to filter by "
                f"(fields: {', '.join(usable) or 'none'})",
            )
        out.setdefault(name, []).append(_value(schema, name, text))
    return out


def _sort(schema: Schema, text: str) -> list[str] | None:
    """``sort=-published,title``: the keys in order (``score`` sorts by score)."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    sortable = [n for n, f in schema.items() if isinstance(f, (NUMERIC, DATETIME, KEYWORD, ID))]
    for key in keys:
        name = key.removeprefix("-")
        if name not in sortable and not (name == "score" and name not in schema):
            raise ApiError(
                400,
                f"sort: no field {name[:40]!r} to sort by "
                f"(fields: {', '.join(sortable) or 'none'}, or score)",
            )
    return keys or None


def _fields(schema: Schema, given: Sequence[str]) -> list[str] | None:
    unknown = [f for f in given if f not in schema.text_fields]
    if unknown:
        raise ApiError(
            400,
            f"field: no TEXT field {unknown[0][:40]!r} (TEXT fields: "
            f"{', '.join(schema.text_fields)})",
        )
    return list(given) or None


def _whole(text: str, s: Snippet) -> Snippet:
    """A short text (a title) whole, with the spans of its snippet ``s``: the snippet
    starts at a sentence start (after ``Tin 5:``) even when the whole text would fit."""
    core, shift = s.text, 0
    if core.startswith(ELLIPSIS) and not text.startswith(ELLIPSIS):
        core, shift = core[1:], 1
    if core.endswith(ELLIPSIS) and not text.endswith(ELLIPSIS):
        core = core[:-1]
    at = text.find(core) if core else -1
    if at < 0:  # white space collapsed: the snippet as it is
        return s
    spans = tuple((a - shift + at, b - shift + at) for a, b in s.spans)
    return Snippet(text, tuple(p for p in spans if 0 <= p[0] < p[1] <= len(text)))


def _snippets(hit: Any, names: Sequence[str]) -> dict[str, Any]:
    """Each stored TEXT field's snippet: ``text``, ``spans`` and ``html`` (escaped); a
    field of at most :data:`DEFAULT_LENGTH` characters whole."""
    out = {}
    for name in names:
        text = hit.fields.get(name)
        if isinstance(text, str):
            s = hit.snippet(name)
            if len(text) <= DEFAULT_LENGTH:
                s = _whole(text, s)
            out[name] = {"text": s.text, "spans": [list(p) for p in s.spans], "html": s.to_html()}
    return out


def _facets_supported(ix: Index) -> bool:
    return "facets" in inspect.signature(ix.search).parameters


def plain(value: Any) -> Any:
    """Facet counts (or anything the library returns) as JSON-able data."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def search_options(schema: Schema, params: Params) -> dict[str, Any]:
    """A ``GET /search`` request's parameters, checked against ``schema``: ``q``,
    ``limit`` (capped), ``offset``, ``fields``, ``filter``, ``sort`` and the ``facets``
    asked for (a bad one is an :class:`ApiError`)."""
    q = _one(params, "q")
    limit = min(_int(params, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = _int(params, "offset", 0, 0)
    if offset + limit > MAX_WINDOW:
        raise ApiError(
            400, f"offset + limit must be at most {MAX_WINDOW:,}, got {offset + limit:,}"
        )
    return {
        "q": q,
        "limit": limit,
        "offset": offset,
        "fields": _fields(schema, params.get("field") or ()),
        "filter": filters(schema, params.get("filter") or ()) or None,
        "sort": _sort(schema, _one(params, "sort")),
        "facets": list(params.get("facet") or ()),
    }


def snippet_fields(schema: Schema, fields: Sequence[str] | None) -> list[str]:
    """The stored TEXT fields a hit's snippets come from: the searched ones, and the
    title."""
    names = [n for n in fields or schema.text_fields if schema[n].stored]
    if "title" in schema.text_fields and schema["title"].stored and "title" not in names:
        names.append("title")
    return names


def hit_json(hit: Any, names: Sequence[str]) -> dict[str, Any]:
    """One hit as ``/search`` answers it: ``id``, ``score``, ``fields``, ``snippets``."""
    return {
        "id": plain(hit.id),
        "score": hit.score,
        "fields": plain(dict(hit.fields)),
        "snippets": _snippets(hit, names),
    }


def search(ix: Index, params: Params) -> dict[str, Any]:
    """The answer of ``GET /search``."""
    schema = ix.schema
    options = search_options(schema, params)
    q, limit, offset = options["q"], options["limit"], options["offset"]
    kwargs = {k: options[k] for k in ("offset", "fields", "filter", "sort")}
    if options["facets"] and _facets_supported(ix):
        kwargs["facets"] = options["facets"]
    results = ix.search(q, limit, **kwargs)
    names = snippet_fields(schema, kwargs["fields"])
    hits = [hit_json(hit, names) for hit in results]
    out: dict[str, Any] = {
        "query": q,
        "total": results.total,
        "offset": offset,
        "limit": limit,
        "hits": hits,
        "notes": list(results.notes),
    }
    corrected = getattr(results, "corrected", None)
    if corrected is not None:
        out["corrected"] = plain(corrected)
    facets = getattr(results, "facets", None)
    if facets is not None:
        out["facets"] = plain(facets)
    return out


def suggest(ix: Index, params: Params) -> dict[str, Any]:
    """The answer of ``GET /suggest``: completions of ``q``, most documents first."""
    prefix = _one(params, "q")
    limit = min(_int(params, "limit", 8, 1), MAX_SUGGEST)
    max_chars = ix.query_limits.max_chars
    if len(prefix) > max_chars:
        raise ApiError(400, f"q is {len(prefix):,} characters, more than {max_chars:,}")
    found = ix.suggest(prefix, limit) if prefix.strip() else []
    return {"prefix": prefix, "suggestions": [s._asdict() for s in found]}


def document(ix: Index, doc_id: str) -> dict[str, Any]:
    """The answer of ``GET /doc/<id>``; a 404 when no live document has that id."""
    if ix.schema.unique_field is None:
        raise ApiError(404, "the index has no unique id field: documents cannot be fetched")
    fields = ix.get(doc_id)
    if fields is None:
        raise ApiError(404, f"no document with id {doc_id[:100]!r}")
    return {"id": doc_id, "fields": plain(fields)}
