"""Sorted runs of postings in temporary storage, read back a range of keys at a time.

When the segment being written holds more postings than its pool's limit, the pool sorts
them and writes them out as a *run* (:meth:`~vnsearch.index.pool.ArrayPool.save`): per
field, its keys in order and each key's postings (documents ascending) with their
positions, as plain arrays one after another in one temporary file. At commit a field's
runs are merged a *range of keys* at a time (:func:`key_ranges`), each range holding
about a given number of bytes of postings over all runs: what a commit holds in memory
depends on that bound and on the largest single term, not on the size of the segment
(Lucene flushes and merges segments term by term for the same reason).

Runs are written in the order documents were added, so the postings of one term from an
earlier run come before those of a later one: a range's parts, concatenated in run order
and sorted by term with a stable sort, are sorted by document within each term.

>>> import tempfile
>>> from whoosh.filedb.filestore import FileStorage
>>> from vnsearch.index.pool import FieldPostings
>>> store = FileStorage(tempfile.mkdtemp()).create()
>>> fp = FieldPostings([b"ha", b"noi"], np.array([0, 2, 3]), np.array([1, 4, 4], np.uint32),
...                    np.ones(3, np.float32), None, None)
>>> with store.create_file("run0").raw_file() as f:
...     run = write_run(f, store, "run0", fp)
>>> run.lower_bound(b"hz"), run.read(1, 2)[0], run.read(0, 2)[2].tolist()
(1, [b'noi'], [1, 4, 4])
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, BinaryIO

import numpy as np

__all__ = ["POSITION_BYTES", "POSTING_BYTES", "RANGE_BYTES", "Run", "key_ranges", "write_run"]

# Bytes per posting held in memory (term, document, weight, positions count) and per
# position: what a range of keys is measured in.
POSTING_BYTES = 16
POSITION_BYTES = 4
# the bytes of postings a range of keys holds at most (by default): merging a range takes
# about three times as much memory for its sorts and copies
RANGE_BYTES = 64 << 20
# every SAMPLE-th key of a run is kept in memory: a key's rows are found by reading at
# most one block of SAMPLE keys from the file
SAMPLE = 128


class Run:
    """One field's postings in one run file: where its arrays are in the file, and every
    :data:`SAMPLE`-th key with the bytes of postings held before it."""

    __slots__ = ("_at", "_file", "_name", "_store", "mass", "positional", "rows", "sample")

    def __init__(self, store: Any, name: str, at: dict[str, tuple[int, str]], rows: int,
                 sample: list[bytes], mass: np.ndarray, positional: bool) -> None:  # fmt: skip
        self._store = store
        self._name = name
        self._at = at  # array -> (offset in the file, dtype)
        self._file: BinaryIO | None = None
        self.rows = rows  # keys in this run
        self.sample = sample  # the keys of rows 0, SAMPLE, 2 * SAMPLE, ...
        self.mass = mass  # bytes held before each sampled row, and in all (len(sample) + 1)
        self.positional = positional

    def _read(self, array: str, a: int, b: int) -> np.ndarray:
        """Items ``a:b`` of one of the run's arrays."""
        offset, dtype = self._at[array]
        size = np.dtype(dtype).itemsize
        if self._file is None:
            self._file = self._store.open_file(self._name).raw_file()
        f = self._file
        f.seek(offset + a * size)
        return np.frombuffer(f.read((b - a) * size), dtype)

    def keys(self, a: int, b: int) -> list[bytes]:
        """The keys of rows ``a:b``."""
        if a >= b:
            return []
        ends = self._read("key_ends", max(a - 1, 0), b).tolist()
        if a == 0:
            ends.insert(0, 0)
        blob = self._read("keys", ends[0], ends[-1]).tobytes()
        first = ends[0]
        return [blob[s - first : e - first] for s, e in zip(ends[:-1], ends[1:])]

    def lower_bound(self, key: bytes | None) -> int:
        """The first row whose key is ``key`` or after it (all rows for None: the end)."""
        if key is None:
            return self.rows
        i = bisect_left(self.sample, key)  # sample[i - 1] < key <= sample[i]
        if i == 0:
            return 0
        a = (i - 1) * SAMPLE
        return a + bisect_left(self.keys(a, min(i * SAMPLE, self.rows)), key)

    def read(self, a: int, b: int) -> tuple:
        """Rows ``a:b`` in the form ``pool._sorted`` takes: ``(keys, term numbers, docs,
        weights, positions counts, positions or None)``, term numbers local to the rows."""
        keys = self.keys(a, b)
        starts = self._read("starts", a, b + 1)
        p0, p1 = int(starts[0]), int(starts[-1])
        tids = np.repeat(np.arange(b - a, dtype=np.uint32), np.diff(starts))
        docs, weights = self._read("docs", p0, p1), self._read("weights", p0, p1)
        if not self.positional:
            return keys, tids, docs, weights, np.zeros(p1 - p0, np.uint32), None
        pos_starts = self._read("pos_starts", p0, p1 + 1)
        npos = np.diff(pos_starts).astype(np.uint32)
        return (
            keys,
            tids,
            docs,
            weights,
            npos,
            self._read("positions", int(pos_starts[0]), int(pos_starts[-1])),
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def write_run(f: BinaryIO, store: Any, name: str, fp: Any) -> Run:
    """Append one field's sorted postings (a :class:`~vnsearch.index.pool.FieldPostings`)
    to the run file ``f`` (``name`` in ``store``) and return what reads them back."""
    at: dict[str, tuple[int, str]] = {}
    starts = np.asarray(fp.starts, dtype=np.int64)
    arrays: list[tuple[str, Any]] = [
        ("key_ends", np.cumsum([len(k) for k in fp.keys], dtype=np.int64)),
        ("keys", np.frombuffer(b"".join(fp.keys), dtype=np.uint8)),
        ("starts", starts),
        ("docs", np.ascontiguousarray(fp.docs)),
        ("weights", np.ascontiguousarray(fp.weights)),
    ]
    positional = fp.pos_starts is not None
    held = starts * POSTING_BYTES
    if positional:
        pos_starts = np.asarray(fp.pos_starts, dtype=np.int64)
        arrays += [("pos_starts", pos_starts), ("positions", np.ascontiguousarray(fp.positions))]
        held = held + pos_starts[starts] * POSITION_BYTES
    for array, values in arrays:
        at[array] = (f.tell(), values.dtype.str)
        f.write(memoryview(values).cast("B"))
    rows = len(fp.keys)
    sampled = np.append(np.arange(0, rows, SAMPLE), rows)
    sample = [fp.keys[i] for i in sampled[:-1].tolist()]
    return Run(store, name, at, rows, sample, held[sampled], positional)


def key_ranges(runs: list[Run], limit: int) -> list[tuple[bytes | None, bytes | None]]:
    """Ranges of keys ``[low, high)`` (None: no bound) that together cover every key of
    ``runs``, each holding about ``limit`` bytes of postings over all of them (more when
    a single key holds more, or by up to :data:`SAMPLE` keys of each run).

    Each run's sampled keys, sorted together, carry the bytes between them and the run's
    previous sample: summed in key order, they give about the bytes below each sampled
    key over every run, and a range ends where those pass the next ``limit``.
    """
    steps = []
    for run in runs:
        gains = np.diff(run.mass).tolist()  # bytes from each sampled row to the next
        steps += zip(run.sample, gains)
    steps.sort(key=lambda step: step[0])
    ranges: list[tuple[bytes | None, bytes | None]] = []
    low: bytes | None = None
    held = 0
    for key, gain in steps:
        if held and held + gain > limit and key != low:
            ranges.append((low, key))
            low, held = key, 0
        held += gain
    ranges.append((low, None))
    return ranges
