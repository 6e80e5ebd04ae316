"""What a commit costs, small and large: the time of ``Writer.commit()`` alone.

small: one VNTC article added to an index of 1,000, committed (``--small`` runs);
large: 5,000 VNTC articles added to a new index, committed (``--large`` runs).
Run it with one vnsearch, then another (``PYTHONPATH=<tree>``), to compare, e.g. a commit
that syncs its files (fsync) with one that does not. Indexes are written under
``--folder`` (default: a temporary folder on the disk of ``/var/tmp``).

    python benchmarks/bench_commit.py --small 9 --large 5
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_CORPUS as VNTC
from _common import corpus_missing, machine

import vnsearch
from vnsearch import ID, TEXT, Index, Schema


def _articles(n: int) -> list[dict]:
    with gzip.open(VNTC, "rt", encoding="utf-8") as f:
        lines = itertools.islice(f, n)
        return [{"id": str(i), "body": json.loads(line)["text"]} for i, line in enumerate(lines)]


_SYNCED = [0.0]  # seconds spent in os.fsync


def _timed_fsync(fd: int, _fsync=os.fsync) -> None:
    start = time.perf_counter()
    try:
        _fsync(fd)
    finally:
        _SYNCED[0] += time.perf_counter() - start


def _commit_seconds(ix: Index, docs: list[dict]) -> tuple[float, float]:
    """``(seconds of commit(), of which in fsync)``."""
    w = ix.writer(jobs=1)  # each document analyzed in add(): commit() only writes
    for doc in docs:
        w.add(doc)
    _SYNCED[0] = 0.0
    start = time.perf_counter()
    w.commit()
    return time.perf_counter() - start, _SYNCED[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=9, help="runs of the small commit")
    parser.add_argument("--large", type=int, default=5, help="runs of the large commit")
    parser.add_argument("--folder", default="/var/tmp", help="where the indexes are written")
    args = parser.parse_args()
    os.fsync = _timed_fsync  # the time a commit waits for the disk, apart
    if not VNTC.exists():
        print(corpus_missing(VNTC), file=sys.stderr)
        raise SystemExit(2)
    docs = _articles(6_100)
    schema = Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))
    root = Path(tempfile.mkdtemp(prefix="bench-commit-", dir=args.folder))
    try:
        ix = Index.create(root / "small", schema)
        _commit_seconds(ix, docs[:1000])
        small, small_sync = zip(*(_commit_seconds(ix, [docs[1000 + i]]) for i in range(args.small)))
        ix.close()
        large, large_sync = [], []
        for i in range(args.large):
            with Index.create(root / f"large{i}", schema) as ix:
                seconds, synced = _commit_seconds(ix, docs[1100:6100])
                large.append(seconds)
                large_sync.append(synced)
            shutil.rmtree(root / f"large{i}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result = {
        "vnsearch": vnsearch.__file__,
        "small_commit_ms_median": round(statistics.median(small) * 1000, 1),
        "small_commit_ms": [round(s * 1000, 1) for s in small],
        "small_fsync_ms_median": round(statistics.median(small_sync) * 1000, 1),
        "large_commit_s_median": round(statistics.median(large), 2),
        "large_commit_s": [round(s, 2) for s in large],
        "large_fsync_s_median": round(statistics.median(large_sync), 3),
        "large_fsync_s": [round(s, 3) for s in large_sync],
        "machine": machine(),
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
