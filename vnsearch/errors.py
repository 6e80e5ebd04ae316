"""What can go wrong, by name: every error vnsearch raises on bad input or damaged files.

All are :class:`VnsearchError`, so one ``except vnsearch.VnsearchError`` catches them::

    VnsearchError
    ├── IndexNotFound        no index in the folder (or its files are missing)
    ├── IncompatibleIndex    another format version, or another schema than asked for
    ├── IndexCorrupted       bytes of an index file are not what was written
    ├── IndexLocked          another writer holds the index's lock
    ├── IndexWriteError      a commit could not write its files (disk full, I/O error)
    ├── SchemaError          a schema (or a use of it) that cannot work; also a ValueError
    ├── DocumentError        a document that cannot be added: which field, and why
    ├── QueryTooLarge        a query over a limit of ``QueryLimits`` (when asked to refuse)
    ├── SynonymsError        a synonym table or file that cannot be read: which line, and why
    └── ModelError           pyvi's word-segmentation model is missing or not readable

>>> import vnsearch
>>> try:
...     vnsearch.Index.open("/nonexistent/folder")
... except vnsearch.IndexNotFound as exc:
...     print(type(exc).__name__, isinstance(exc, vnsearch.VnsearchError))
IndexNotFound True
"""

from __future__ import annotations

__all__ = [
    "DamagedFile",
    "DocumentError",
    "IncompatibleIndex",
    "IndexCorrupted",
    "IndexError_",
    "IndexLocked",
    "IndexNotFound",
    "IndexWriteError",
    "ModelError",
    "QueryTooLarge",
    "SchemaError",
    "SynonymsError",
    "VnsearchError",
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


class IndexWriteError(VnsearchError, OSError):
    """A commit could not write the index's files (a full disk, an I/O error): the
    message says what failed and where; the index keeps its previous commit, the commit's
    partial files are removed and the write lock is given back. (Also an ``OSError``, as
    such failures were before vnsearch named them; ``errno`` is the original's.)"""


class SchemaError(VnsearchError, ValueError):
    """A schema that cannot work, or a use of a field the schema does not allow."""


class DocumentError(SchemaError, TypeError):
    """A document that cannot be added: the message names the field and says why.

    (Also a :class:`SchemaError`, a ``ValueError`` and a ``TypeError``: what a bad
    document raised before vnsearch named its errors.)"""


class QueryTooLarge(VnsearchError, ValueError):
    """A query longer, or with more clauses or terms, than the search's
    :class:`~vnsearch.QueryLimits` allow, when they say to refuse rather than truncate:
    the message names the limit and the query's size."""


class SynonymsError(VnsearchError, ValueError):
    """A synonym table that cannot be used: a file that cannot be read, or a line (named
    ``file:line``) or mapping entry that is not a list of equivalent forms."""


class ModelError(VnsearchError, RuntimeError):
    """pyvi's model files are missing or not in the expected format."""


class DamagedFile(IndexCorrupted, ValueError):
    """Raised by the codec where it reads bytes it did not write; the index turns it
    into an :class:`IndexCorrupted` that names the index folder (see :func:`corrupted`)."""


IndexError_ = VnsearchError
"""Deprecated alias (vnsearch 0.1): catch :class:`VnsearchError` or one of its kinds."""
