"""What can go wrong, by name: every error vnsearch raises on bad input or damaged files.

All are :class:`VnsearchError`, so one ``except vnsearch.VnsearchError`` catches them::

    VnsearchError
    ├── IndexNotFound        no index in the folder (or its files are missing)
    ├── IncompatibleIndex    another format version, or another schema than asked for
    ├── IndexCorrupted       bytes of an index file are not what was written
    ├── IndexLocked          another writer holds the index's lock
    ├── SchemaError          a schema (or a use of it) that cannot work; also a ValueError
    ├── DocumentError        a document that cannot be added: which field, and why
    └── ModelError           pyvi's word-segmentation model is missing or not readable

>>> import vnsearch
>>> try:
...     vnsearch.Index.open("/nonexistent/folder")
... except vnsearch.IndexNotFound as exc:
...     print(type(exc).__name__, isinstance(exc, vnsearch.VnsearchError))
IndexNotFound True
"""

from __future__ import annotations

import json
import pickle
import struct
import zlib

__all__ = [
    "DAMAGE",
    "DamagedFile",
    "DocumentError",
    "IncompatibleIndex",
    "IndexCorrupted",
    "IndexError_",
    "IndexLocked",
    "IndexNotFound",
    "ModelError",
    "SchemaError",
    "VnsearchError",
    "corrupted",
]


class VnsearchError(Exception):
    """The base of every error vnsearch raises on bad input or damaged files."""


class IndexNotFound(VnsearchError):
    """No vnsearch index where one was asked for (no folder, no ``vnsearch.json``, or
    Whoosh's files are missing)."""


class IncompatibleIndex(VnsearchError):
    """An index of another format version than this vnsearch reads, or opened with
    another schema than it was created with."""


class IndexCorrupted(VnsearchError):
    """Bytes of an index file are not what vnsearch wrote (truncated, overwritten, a bad
    disk): the message names the file, the part and the bytes when the checksums tell."""


class IndexLocked(VnsearchError):
    """Another writer (in this or another process) holds the index's lock."""


class SchemaError(VnsearchError, ValueError):
    """A schema that cannot work, or a use of a field the schema does not allow."""


class DocumentError(SchemaError, TypeError):
    """A document that cannot be added: the message names the field and says why.

    (Also a :class:`SchemaError`, a ``ValueError`` and a ``TypeError``: what a bad
    document raised before vnsearch named its errors.)"""


class ModelError(VnsearchError, RuntimeError):
    """pyvi's model files are missing or not in the expected format."""


class DamagedFile(IndexCorrupted, ValueError):
    """Raised by the codec where it reads bytes it did not write; the index turns it
    into an :class:`IndexCorrupted` that names the index folder (see :func:`corrupted`)."""


IndexError_ = VnsearchError
"""Deprecated alias (vnsearch 0.1): catch :class:`VnsearchError` or one of its kinds."""

# What a truncated or overwritten index file raises as Whoosh and the codec read it.
DAMAGE: tuple[type[BaseException], ...] = (
    EOFError,
    struct.error,
    zlib.error,
    pickle.UnpicklingError,
    UnicodeDecodeError,
    json.JSONDecodeError,
    DamagedFile,
)


def corrupted(where: str, exc: BaseException) -> IndexCorrupted:
    """The :class:`IndexCorrupted` to raise for ``exc``, met reading the index at ``where``.

    >>> print(corrupted("news.idx", DamagedFile("MAIN_x.seg: bytes 0-16383 differ")))
    ... # doctest: +NORMALIZE_WHITESPACE
    news.idx: damaged or truncated index file (MAIN_x.seg: bytes 0-16383 differ);
    restore the folder from a backup or rebuild the index
    """
    # a checksum's message names the file, the bytes and the parts; others name the error
    what = str(exc) if isinstance(exc, DamagedFile) else f"{type(exc).__name__}: {exc}"
    return IndexCorrupted(
        f"{where}: damaged or truncated index file ({what}); "
        "restore the folder from a backup or rebuild the index"
    )
