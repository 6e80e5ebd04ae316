"""What a document is: each field's value checked and converted for its type, before
anything is analyzed or written.

:func:`document_fields` turns a mapping of field names to values into what the writer
takes (stored fields, the postings of ID, KEYWORD, NUMERIC and DATETIME fields, the TEXT
values to analyze), and refuses a bad document with a
:class:`~vnsearch.errors.DocumentError` naming the field: a wrong type, an unknown field,
an absurd size (:data:`MAX_TEXT_MB`, :data:`MAX_KEYWORDS`), a lone surrogate in an exact
term.

>>> from vnsearch.index.schema import Schema, ID, TEXT
>>> schema = Schema(id=ID(unique=True, stored=True), body=TEXT(stored=True))
>>> fields, postings, texts = document_fields(schema, {"id": "1", "body": "Hà Nội"})
>>> texts
[('body', 'Hà Nội')]
>>> document_fields(schema, {"id": "1", "title": "x"})
Traceback (most recent call last):
...
vnsearch.errors.DocumentError: unknown field 'title' (schema fields: id, body)
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from vnsearch.analysis import VIEWS
from vnsearch.analysis.normalize import LONE_SURROGATE, without_surrogates
from vnsearch.errors import DocumentError
from vnsearch.index.schema import (
    DATETIME,
    ID,
    KEYWORD,
    NUMERIC,
    STORED,
    TEXT,
    Schema,
    view_field,
)
from vnsearch.index.stored import STORABLE, storable

__all__ = ["MAX_KEYWORDS", "MAX_TEXT_MB", "document_fields"]

# The largest TEXT value a writer takes by default, in megabytes of UTF-8: indexing holds
# about 140 bytes of memory per byte of text until the commit (a 10 MB value: ~1.4 GB).
MAX_TEXT_MB = 10.0

# The most values a KEYWORD field of one document takes (each is a posting until commit).
MAX_KEYWORDS = 100_000


def _check_size(name: str, text: str | bytes, max_bytes: int | None) -> None:
    """Refuse a value (TEXT, or an ID, KEYWORD or STORED string or bytes) longer than
    ``max_bytes`` of UTF-8 (measured without a copy unless the length in characters leaves
    it in doubt)."""
    if max_bytes is None or len(text) * 4 <= max_bytes:
        return
    if isinstance(text, str) and len(text) <= max_bytes:
        size = len(text.encode("utf-8", "surrogatepass"))
    else:
        size = len(text)
    if size > max_bytes:
        raise DocumentError(
            f"field {name!r}: the text is {size / 1e6:.1f} MB, more than the writer's limit "
            f"of {max_bytes / 1e6:g} MB (pass max_text_mb to Index.writer to change it)"
        )


def _keywords(name: str, value: Any, max_bytes: int | None) -> str:
    """A KEYWORD value (one keyword, or an iterable of them) as Whoosh takes it: the
    keywords joined by commas (commas inside one become spaces). Refused before anything
    is joined when it holds more than ``MAX_KEYWORDS`` keywords or more than ``max_bytes``
    of text."""
    values: list[str] = []
    for v in [value] if isinstance(value, str) else value:
        values.append(str(v).replace(",", " "))
        if len(values) > MAX_KEYWORDS:  # a generator of millions stops here
            raise DocumentError(
                f"field {name!r}: more than {MAX_KEYWORDS:,} keywords in one document"
            )
    chars = sum(map(len, values))
    if max_bytes is not None and chars > max_bytes:
        raise DocumentError(
            f"field {name!r}: the keywords are {chars / 1e6:.1f} MB, more than the writer's "
            f"limit of {max_bytes / 1e6:g} MB (pass max_text_mb to Index.writer to change it)"
        )
    joined = ",".join(values)
    _check_size(name, joined, max_bytes)
    return joined


def document_fields(
    schema: Schema, doc: Mapping[str, Any], max_text_bytes: int | None = None
) -> tuple[dict[str, Any], list[tuple], list[tuple[str, str]]]:
    """One vnsearch document checked and converted, its TEXT fields not yet analyzed.

    Returns ``(fields, postings, texts)``: ``fields`` maps each Whoosh field with a value to
    it (the original text for stored TEXT fields, ``True`` for their hidden views);
    ``postings`` are the ``(field, term bytes, 0, weight, value bytes, frequency)`` tuples
    of the other indexed fields; ``texts`` the ``(TEXT field, text)`` pairs to analyze
    (:func:`~vnsearch.index.workers.text_views`). Raises
    :class:`~vnsearch.errors.DocumentError` for a bad document, also for a TEXT value of
    more than ``max_text_bytes`` bytes of UTF-8. A lone surrogate (not valid Unicode) in a
    TEXT value becomes U+FFFD, stored as analyzed; in an ID or KEYWORD value it is a
    ``DocumentError`` (STORED values are kept as given).
    """
    if not isinstance(doc, Mapping):
        raise DocumentError(f"a document is a mapping of field names to values, got {type(doc)}")
    fields: dict[str, Any] = {}
    postings: list[tuple] = []
    texts: list[tuple[str, str]] = []
    wschema = schema.whoosh_schema_cached()
    for name, value in doc.items():
        ftype = schema.get(name)
        if ftype is None:
            raise DocumentError(f"unknown field {name!r} (schema fields: {', '.join(schema)})")
        if value is None:
            continue
        if isinstance(ftype, TEXT):
            if not isinstance(value, str):
                raise DocumentError(
                    f"field {name!r} is TEXT: expected str, got {type(value).__name__}"
                )
            # stored as analyzed: a lone surrogate cannot be encoded for printing; U+FFFD
            # keeps the length, so snippets' offsets still line up
            value = without_surrogates(value)
            _check_size(name, value, max_text_bytes)
            texts.append((name, value))
            for view in VIEWS:
                fields[view_field(name, view)] = True
            if ftype.stored:
                fields[name] = value
            continue
        if isinstance(ftype, ID):
            value = str(value)
            _check_size(name, value, max_text_bytes)
        elif isinstance(ftype, KEYWORD):
            value = _keywords(name, value, max_text_bytes)
        elif isinstance(ftype, NUMERIC):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise DocumentError(f"field {name!r} is NUMERIC: expected a number, got {value!r}")
            value = float(value) if ftype.numtype == "float" else int(value)
        elif isinstance(ftype, DATETIME):
            if not isinstance(value, datetime.datetime):
                raise DocumentError(f"field {name!r} is DATETIME: expected datetime, got {value!r}")
        elif not isinstance(ftype, STORED):
            raise DocumentError(f"field {name!r}: unsupported type {ftype!r}")
        elif isinstance(value, (str, bytes)):
            _check_size(name, value, max_text_bytes)
        if isinstance(ftype, (ID, KEYWORD)) and not value.isascii():
            found = LONE_SURROGATE.search(value)
            if found is not None:  # an exact term: U+FFFD could merge two different values
                raise DocumentError(
                    f"field {name!r}: a lone surrogate (U+{ord(found.group()):04X}) at "
                    f"character {found.start()}: not valid Unicode"
                )
        if ftype.stored and isinstance(ftype, (STORED, DATETIME)):
            try:
                storable(value)
            except TypeError as exc:
                raise DocumentError(f"field {name!r}: {exc} ({STORABLE})") from None
        fields[name] = value
        wfield = wschema[name]
        if wfield.indexed:
            postings.extend((name, t, 0, w, v or b"", f) for t, f, w, v in wfield.index(value))
    return fields, postings, texts
