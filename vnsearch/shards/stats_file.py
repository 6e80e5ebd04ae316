"""A sharded index's merged ranking statistics, saved beside its manifest: ``stats.json.gz``.

A shard searched in another process (a Ray Serve replica, another machine) cannot sum the
other shards' statistics on demand as :class:`~vnsearch.ShardedIndex` does in one process;
it ranks with the statistics of every shard merged (:class:`~vnsearch.Stats`) read from
this file. The file is gzip-compressed JSON (never a pickle): the merged ``Stats`` and,
for each shard, the generation and live documents of the commit they were taken from, so
that statistics older than a shard's last commit are told apart (:func:`load_stats`
returns None for them; :func:`current_stats` makes them anew).

It holds every term of every hidden TEXT field with its document frequency, so it grows
with the vocabulary: a few MB for thousands of short documents, see
``docs/scale-out.md`` for measured sizes.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

from vnsearch.errors import IndexCorrupted
from vnsearch.index import Index
from vnsearch.ranking.global_stats import Stats
from vnsearch.shards.sharded import ShardedIndex

__all__ = [
    "STATS_FILE",
    "commit_state",
    "current_stats",
    "load_stats",
    "read_stats_file",
    "save_stats",
    "shard_states",
]

STATS_FILE = "stats.json.gz"
FORMAT = "vnsearch-shard-stats/1"


def commit_state(ix: Index) -> dict[str, int]:
    """An index's last commit as the file records it: ``generation`` (-1 for an index
    without a segment) and ``documents``."""
    snap = ix.snapshot()
    generation = -1 if snap.generation is None else int(snap.generation)
    return {"generation": generation, "documents": int(snap.doc_count)}


def shard_states(shards: list[Index]) -> list[dict[str, int]]:
    """Each shard's :func:`commit_state`."""
    return [commit_state(ix) for ix in shards]


def save_stats(folder: str | Path, stats: Stats, states: list[dict[str, int]]) -> Path:
    """Write ``stats`` (merged over the shards whose commits ``states`` describes) to
    ``folder/stats.json.gz``: to a temporary name, synced, renamed into place."""
    path = Path(folder) / STATS_FILE
    data = {"format": FORMAT, "shards": states, "stats": stats.to_dict()}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    tmp = path.with_name(STATS_FILE + ".tmp")
    with open(tmp, "wb") as f:
        f.write(gzip.compress(text, compresslevel=6, mtime=0))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def read_stats_file(folder: str | Path) -> tuple[list[dict[str, int]], Stats] | None:
    """The shard states and statistics in ``folder/stats.json.gz`` (None if there is no
    such file); :class:`IndexCorrupted` naming the file when it is not one."""
    path = Path(folder) / STATS_FILE
    if not path.is_file():
        return None
    try:
        data: Any = json.loads(gzip.decompress(path.read_bytes()))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not {FORMAT!r}")
        states = [
            {"generation": int(s["generation"]), "documents": int(s["documents"])}
            for s in data["shards"]
        ]
        return states, Stats.from_dict(data["stats"])
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupted(f"{path}: not readable shard statistics ({exc})") from None


def load_stats(folder: str | Path, states: list[dict[str, int]]) -> Stats | None:
    """The saved statistics if they were taken from the commits ``states`` describe
    (every shard's), else None (no file, or a shard committed since)."""
    found = read_stats_file(folder)
    if found is None or found[0] != states:
        return None
    return found[1]


def current_stats(index: ShardedIndex) -> tuple[Stats, bool]:
    """The merged statistics of ``index``'s last commits: read from its file when they
    are current, else merged from the shards and saved. Returns them and whether they
    were made anew."""
    if index.path is None:
        raise ValueError("an in-memory sharded index has no statistics file")
    states = shard_states(index.shards)
    saved = load_stats(index.path, states)
    if saved is not None:
        return saved, False
    stats = index.ranking_stats()
    if shard_states(index.shards) != states:  # a shard committed meanwhile: once more
        return current_stats(index)
    save_stats(index.path, stats, states)
    return stats, True
