"""What an index holds: :class:`IndexStats` (``Index.stats()``, ``vnsearch info``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vnsearch.index.reader import Snapshot
from vnsearch.index.schema import FORMAT_VERSION

__all__ = ["IndexStats", "index_stats"]


@dataclass(frozen=True)
class IndexStats:
    """What an index holds, as of its last commit (:meth:`Index.stats`).

    ``documents`` are live; ``deleted`` are marked deleted and dropped at the next merge;
    ``size_bytes`` is the folder's size (0 for an index in memory).
    """

    documents: int
    deleted: int
    segments: int
    size_bytes: int
    format: int


def index_stats(snap: Snapshot, path: Path | None) -> IndexStats:
    """The facts of the commit ``snap`` of the index in the folder ``path`` (None: in
    memory)."""
    size = 0
    if path is not None:
        size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return IndexStats(
        documents=snap.doc_count,
        deleted=snap.total - snap.doc_count,
        segments=len(snap.segments),
        size_bytes=size,
        format=FORMAT_VERSION,
    )
