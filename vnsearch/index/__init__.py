"""The index: schema, codec, writer and the on-disk (or in-memory) store."""

from vnsearch.index.index import Index, IndexStats
from vnsearch.index.schema import (
    DATETIME,
    FORMAT_VERSION,
    ID,
    KEYWORD,
    NUMERIC,
    STORED,
    TEXT,
    FieldType,
    Schema,
)
from vnsearch.index.suggest import Suggestion
from vnsearch.index.writer import Writer

__all__ = [
    "DATETIME",
    "FORMAT_VERSION",
    "ID",
    "KEYWORD",
    "NUMERIC",
    "STORED",
    "TEXT",
    "FieldType",
    "Index",
    "IndexStats",
    "Schema",
    "Suggestion",
    "Writer",
]
