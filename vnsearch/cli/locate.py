"""Where an index is, for the command line: open it, with its errors as one-line messages.

(Kept apart from :mod:`vnsearch.cli.default_index`, which builds the seeds index with
:mod:`vnsearch.cli.indexing`, so that neither imports the other in a circle.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vnsearch.cli.errors import UserError
from vnsearch.errors import VnsearchError

__all__ = ["is_index", "open_index"]


def is_index(path: Path) -> bool:
    """Whether ``path`` holds a vnsearch index (without importing the index layer).

    >>> is_index(Path("/nonexistent/folder"))
    False
    """
    return (path / "vnsearch.json").is_file()  # vnsearch.index.storage.SCHEMA_FILE


def open_index(path: Path, sharded: bool = False, cache_mb: float | None = None) -> Any:
    """``vnsearch.Index.open(path, cache_mb=cache_mb)``, its errors as one-line user
    errors; with ``sharded``, a sharded index's folder opens as a
    :class:`vnsearch.ShardedIndex` (which searches as an index does), else it is an error
    that says which commands read it."""
    from vnsearch.index import Index

    try:
        if not is_index(path) and (path / "shards.json").is_file():  # shards.MANIFEST
            if not sharded:
                raise UserError(
                    f"{path}: a sharded index (shards.json): `vnsearch query` and `vnsearch"
                    f" shards serve` read it; this command takes one index (a shard:"
                    f" {path / 'shard-000'})"
                )
            from vnsearch.shards import ShardedIndex

            return ShardedIndex.open(path, cache_mb=cache_mb)
        return Index.open(path, cache_mb=cache_mb)
    except VnsearchError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{path}: cannot open the index: {exc.strerror or exc}") from None
