"""What a retriever returns of a hit, whatever the framework: its text and its metadata.

Imports nothing optional: the LangChain and LlamaIndex retrievers both build on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import vnsearch

__all__ = ["RetrievedText", "content_field", "retrieve", "search_options"]

RetrievedText = tuple[str, str, dict[str, Any], float]  # (id, text, metadata, score)


def content_field(schema: vnsearch.Schema, given: str | None = None) -> str:
    """The field a retriever puts in a document's text: ``given`` (checked: a stored
    field of ``schema``), else ``body`` when it is a stored TEXT field, else the first
    stored TEXT field.

    >>> s = vnsearch.Schema(title=vnsearch.TEXT(stored=True), body=vnsearch.TEXT(stored=True))
    >>> content_field(s), content_field(s, "title")
    ('body', 'title')
    >>> content_field(vnsearch.Schema(body=vnsearch.TEXT()))
    Traceback (most recent call last):
    ...
    vnsearch.errors.SchemaError: a retriever needs a stored TEXT field; the schema has none
    """
    if given is not None:
        if given not in schema or not schema[given].stored:
            stored = sorted(name for name, f in schema.items() if f.stored)
            raise vnsearch.SchemaError(
                f"content_field {given!r} is not a stored field of the index (stored: {stored})"
            )
        return given
    texts = [name for name in schema.text_fields if schema[name].stored]
    if not texts:
        raise vnsearch.SchemaError("a retriever needs a stored TEXT field; the schema has none")
    return "body" if "body" in texts else texts[0]


def search_options(k: int, search_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``Index.search``'s keyword arguments: ``search_kwargs`` with ``limit=k`` (a
    ``limit`` in ``search_kwargs`` is refused: say ``k``)."""
    if "limit" in search_kwargs:
        raise TypeError("search_kwargs: give the number of documents as k, not limit")
    return {**search_kwargs, "limit": k}


def retrieve(
    index: vnsearch.Index, query: str, k: int, search_kwargs: Mapping[str, Any], field: str
) -> list[RetrievedText]:
    """The top ``k`` hits of ``index.search(query, **search_kwargs)`` as ``(id, text,
    metadata, score)``: ``text`` the stored ``field`` (``""`` when the document has none),
    ``metadata`` the other stored fields with ``id`` (the document's unique id, else its
    document number as a string) and ``score``, in ``ix.search``'s order."""
    results = index.search(query, **search_options(k, search_kwargs))
    out: list[RetrievedText] = []
    for hit in results:
        doc_id = str(hit.id) if hit.id is not None else str(hit.docnum)
        value = hit.fields.get(field)
        text = value if isinstance(value, str) else ""
        metadata = {name: v for name, v in hit.fields.items() if name != field}
        metadata["id"] = doc_id
        metadata["score"] = float(hit.score)
        out.append((doc_id, text, metadata, float(hit.score)))
    return out
