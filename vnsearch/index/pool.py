"""The postings of the segment being written: flat arrays, sorted by term once, at commit.

Whoosh's ``PostingPool`` keeps one Python tuple per posting, sorts runs of them, pickles
the runs to disk and merges them with a heap: a full VNTC build holds 117 million
postings and spent most of its hour there. Here each field keeps a vocabulary (term ->
term number) and flat arrays. The views of TEXT fields are fed one *occurrence* per
token (term number, document, position: three array appends, no per-document grouping);
other fields one posting at a time (Whoosh's ``add``). Documents arrive in document
order and a document's tokens in position order, so one stable ``argsort`` by term
number at commit lines every term's occurrences up by document and position; runs of
equal (term, document) are the postings, their lengths the frequencies.

When the arrays outgrow ``limitmb`` they are written, sorted, as a *run* (one file, each
field's buffer freed before the next is sorted) to temporary storage; at commit the runs
of a field are merged by the same sort a range of keys at a time (:mod:`.runs`: at most
``limitmb`` and 64 MB of postings a range), so that what a commit holds does not grow
with the segment.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from vnsearch.index.runs import (
    POSITION_BYTES,
    POSTING_BYTES,
    RANGE_BYTES,
    Run,
    key_ranges,
    write_run,
)

__all__ = ["ArrayPool", "FieldPostings"]


class PendingPostings:
    """One field's postings (or, for views, occurrences) as they arrive."""

    __slots__ = ("docs", "npos", "occurrences", "positions", "terms", "tids", "weights")

    def __init__(self, occurrences: bool) -> None:
        self.occurrences = occurrences  # one entry per token (views), else per posting
        self.terms: dict[Any, int] = {}  # str terms for views, bytes otherwise
        self.tids = array("I")
        self.docs = array("I")
        self.positions = array("I")  # views: one per token; else flat, npos per posting
        self.weights = array("f")
        self.npos = array("I")


class FieldPostings:
    """One field's postings sorted by term (then document): what a field writer needs.

    ``keys`` are the sorted term bytes; term ``i`` has postings ``starts[i]:starts[i+1]``
    of ``docs``/``weights``, and, if ``pos_starts`` is not None, the positions
    ``positions[pos_starts[j]:pos_starts[j+1]]`` for posting ``j``.
    """

    __slots__ = ("docs", "keys", "pos_starts", "positions", "starts", "weights")

    def __init__(self, keys, starts, docs, weights, pos_starts, positions) -> None:
        self.keys: list[bytes] = keys
        self.starts: np.ndarray = starts
        self.docs: np.ndarray = docs
        self.weights: np.ndarray = weights
        self.pos_starts: np.ndarray | None = pos_starts
        self.positions: np.ndarray | None = positions


# Postings whose positions are gathered at once when sorting (bounds the temporaries).
_GATHER_CHUNK = 1 << 20


def _sorted(keys: list[bytes], tids, docs, weights, npos, positions) -> FieldPostings:
    """Postings of one field (term numbers index ``keys``) sorted by term, then document.

    The largest field of a full VNTC build has tens of millions of postings: temporaries
    are kept to 32-bit where the values fit, and positions are gathered in chunks.
    """
    n = len(keys)
    order_of_keys = sorted(range(n), key=keys.__getitem__)
    rank = np.empty(n, dtype=np.uint32)
    rank[order_of_keys] = np.arange(n, dtype=np.uint32)
    tids = rank[tids]
    del rank
    order = np.argsort(tids, kind="stable")
    tids = tids[order]
    docs = docs[order]
    same = tids[1:] == tids[:-1]
    if np.any(same & (docs[1:] <= docs[:-1])):  # documents came out of order (merges)
        order2 = np.lexsort((docs, tids))
        order, tids, docs = order[order2], tids[order2], docs[order2]
        del order2
    del same
    # where each term's postings start (tids are sorted; no 64-bit copy as bincount makes)
    starts = np.searchsorted(tids, np.arange(n + 1, dtype=tids.dtype)).astype(np.int64)
    del tids
    pos_starts = flat = None
    if positions is not None and len(npos):
        pos_starts, flat = _gather_positions(order, npos, positions)
    keys = [keys[i] for i in order_of_keys]
    return FieldPostings(keys, starts, docs, weights[order], pos_starts, flat)


def _gather_positions(order: np.ndarray, npos: np.ndarray, positions: np.ndarray) -> tuple:
    """``(pos_starts, flat)``: the positions of the postings taken in ``order`` (posting
    ``j`` of the old order has the next ``npos[j]`` positions)."""
    old_starts = np.zeros(len(npos) + 1, dtype=np.int64)
    np.cumsum(npos, out=old_starts[1:])
    counts = npos[order]
    pos_starts = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(counts, out=pos_starts[1:])
    flat = np.empty(int(pos_starts[-1]), dtype=positions.dtype)
    for a in range(0, len(order), _GATHER_CHUNK):
        b = min(len(order), a + _GATHER_CHUNK)
        lo, hi = int(pos_starts[a]), int(pos_starts[b])
        take = np.repeat(old_starts[order[a:b]] - pos_starts[a:b], counts[a:b])
        take += np.arange(lo, hi)
        flat[lo:hi] = positions[take]
    return pos_starts, flat


def _postings_of_occurrences(keys: list, tids, docs, positions, positional: bool) -> tuple:
    """(term, document, position) occurrences in arrival order as ``_sorted``'s postings:
    one per (term, document), weight = frequency, positions in order."""
    order = np.argsort(tids, kind="stable")  # stable: documents, then positions, stay in order
    tids, docs = tids[order], docs[order]
    first = np.ones(len(tids), dtype=bool)
    first[1:] = (tids[1:] != tids[:-1]) | (docs[1:] != docs[:-1])
    at = np.flatnonzero(first)
    counts = np.diff(np.append(at, len(tids))).astype(np.uint32)
    return (
        keys,
        tids[at],
        docs[at],
        counts.astype(np.float32),
        counts if positional else np.zeros(len(at), dtype=np.uint32),
        positions[order] if positional else None,
    )


class ArrayPool:
    """Collects a segment's postings; Whoosh's ``PostingPool`` interface where it is used.

    ``add`` takes Whoosh's ``(field, term bytes, docnum, weight, value bytes)`` tuples (merges
    of small segments use it); ``add_doc`` takes one document's postings at once.
    """

    def __init__(self, tempstore: Any, positional: Mapping[str, bool], limitmb: int = 256) -> None:
        self.tempstore = tempstore
        self._positional = positional  # field name -> whether its postings have positions
        self.limit = limitmb * 1024 * 1024
        self.currentsize = 0
        self.fieldnames: set[str] = set()
        self.runs: list[str] = []  # the run files' names
        self._runs: dict[str, list[Run]] = {}  # each field's part of every run, in order
        # a field's runs are merged a range of keys holding about this many bytes at a time
        self.range_bytes = min(self.limit, RANGE_BYTES)
        self._fields: dict[str, PendingPostings] = {}

    def _buffer(self, field: str, occurrences: bool) -> PendingPostings:
        buf = self._fields.get(field)
        if buf is None:
            buf = self._fields[field] = PendingPostings(occurrences)
            self.fieldnames.add(field)
        elif buf.occurrences != occurrences:
            raise ValueError(f"field {field!r}: postings and occurrences mixed")
        return buf

    def add_view(self, field: str, docnum: int, terms: list[str], positions: list[int]) -> None:
        """The tokens of one document's view: their terms and positions, in order."""
        if not terms:
            return
        buf = self._buffer(field, True)
        ids = self._numbers(buf, terms)
        buf.tids.frombytes(ids.astype(np.uint32).tobytes())
        buf.docs.extend([docnum] * len(ids))
        buf.positions.extend(positions)
        self.currentsize += 12 * len(ids)
        if self.currentsize > self.limit:
            self.save()

    def add_tokens(
        self, field: str, first: int, terms: list[str], ids: bytes, positions: bytes,
        counts: list[int],
    ) -> None:  # fmt: skip
        """The tokens of one view for consecutive documents numbered from ``first``:
        ``terms`` the distinct terms, ``ids`` (``uint32`` bytes) each token's index in
        ``terms``, ``positions`` its position, ``counts`` the tokens of each document."""
        if not terms:
            return
        buf = self._buffer(field, True)
        local = np.frombuffer(ids, dtype=np.uint32)
        buf.tids.frombytes(self._numbers(buf, terms).astype(np.uint32).take(local).tobytes())
        docs = np.repeat(np.arange(first, first + len(counts), dtype=np.uint32), counts)
        buf.docs.frombytes(docs.tobytes())
        buf.positions.frombytes(positions)
        self.currentsize += 12 * len(local)
        if self.currentsize > self.limit:
            self.save()

    def add_postings(
        self, field: str, keys: list[bytes], counts: np.ndarray, docs: np.ndarray,
        weights: np.ndarray, npos: np.ndarray, positions: np.ndarray | None,
    ) -> None:  # fmt: skip
        """Whole postings lists (a merged segment's): term ``i`` of ``keys`` has the next
        ``counts[i]`` postings (documents ascending), posting ``j`` the next ``npos[j]``
        positions."""
        if not keys:
            return
        buf = self._fields.get(field)
        positional = self._positional.get(field, False) and positions is not None
        if buf is not None and buf.occurrences:  # a view with new documents: as tokens
            terms = [k.decode("utf-8") for k in keys]
            tids = np.repeat(self._numbers(buf, terms), counts)
            if positional:
                per = npos.astype(np.int64)
                flat = positions
            else:  # a view without positions: its weight is its frequency
                per = weights.astype(np.int64)
                flat = np.zeros(int(per.sum()), dtype=np.uint32)
            buf.tids.frombytes(np.repeat(tids, per).astype(np.uint32).tobytes())
            buf.docs.frombytes(np.repeat(docs, per).astype(np.uint32).tobytes())
            buf.positions.frombytes(flat.astype(np.uint32).tobytes())
            self.currentsize += 12 * len(flat)
        else:
            buf = self._buffer(field, False)
            tids = np.repeat(self._numbers(buf, keys), counts)
            buf.tids.frombytes(tids.astype(np.uint32).tobytes())
            buf.docs.frombytes(docs.astype(np.uint32).tobytes())
            buf.weights.frombytes(weights.astype(np.float32).tobytes())
            if positional:
                buf.npos.frombytes(npos.astype(np.uint32).tobytes())
                buf.positions.frombytes(positions.astype(np.uint32).tobytes())
            else:
                buf.npos.frombytes(bytes(4 * len(docs)))
            held = POSTING_BYTES * len(docs)
            self.currentsize += held + (POSITION_BYTES * len(positions) if positional else 0)
        if self.currentsize > self.limit:
            self.save()

    @staticmethod
    def _numbers(buf: PendingPostings, terms: list[Any]) -> np.ndarray:
        """The field's number of each of ``terms`` (new terms numbered in first-seen order)."""
        vocab = buf.terms
        try:
            numbers = list(map(vocab.__getitem__, terms))
        except KeyError:
            for term in terms:
                if term not in vocab:
                    vocab[term] = len(vocab)
            numbers = list(map(vocab.__getitem__, terms))
        return np.array(numbers, dtype=np.int64)

    def add_doc(self, docnum: int, postings: list[tuple]) -> None:
        """One document's ``(field, term bytes, _, weight, positions bytes, frequency)``."""
        size = 0
        field = None
        buf = terms = None
        for item in postings:
            if item[0] != field:
                field = item[0]
                buf = self._buffer(field, False)
                terms = buf.terms
            tbytes = item[1]
            tid = terms.get(tbytes)
            if tid is None:
                tid = terms[tbytes] = len(terms)
            buf.tids.append(tid)
            buf.docs.append(docnum)
            buf.weights.append(item[3])
            value = item[4]
            if value and self._positional[field]:
                buf.positions.frombytes(value)
                buf.npos.append(len(value) >> 2)
                size += len(value)
            else:
                buf.npos.append(0)
        self.currentsize += size + POSTING_BYTES * len(postings)
        if self.currentsize > self.limit:
            self.save()

    def add(self, item: tuple) -> None:
        """One posting, as Whoosh's pools take them (``docnum`` -1 marks nothing here)."""
        field, tbytes, docnum, weight, value = item
        if docnum == -1:
            return
        if not self._positional.get(field):
            value = None
        buf = self._fields.get(field)
        if buf is not None and buf.occurrences:  # a view that also has new documents
            if value:
                positions = array("I")
                positions.frombytes(value)
            else:  # a view without positions: its weight is its frequency
                positions = array("I", bytes(4 * int(weight)))
            self.add_view(field, docnum, [tbytes.decode("utf-8")] * len(positions), positions)
            return
        buf = self._buffer(field, False)
        tid = buf.terms.get(tbytes)
        if tid is None:
            tid = buf.terms[tbytes] = len(buf.terms)
        buf.tids.append(tid)
        buf.docs.append(docnum)
        buf.weights.append(weight)
        if value:
            buf.positions.frombytes(value)
            buf.npos.append(len(value) >> 2)
        else:
            buf.npos.append(0)
        self.currentsize += POSTING_BYTES + len(value or b"")
        if self.currentsize > self.limit:
            self.save()

    def _arrays(self, field: str, buf: PendingPostings) -> tuple:
        positional = self._positional[field]
        if buf.occurrences:
            keys = [k.encode("utf-8") for k in buf.terms]
            return _postings_of_occurrences(
                keys,
                np.frombuffer(buf.tids, dtype=np.uint32),
                np.frombuffer(buf.docs, dtype=np.uint32),
                np.frombuffer(buf.positions, dtype=np.uint32),
                positional,
            )
        positions = np.frombuffer(buf.positions, dtype=np.uint32) if positional else None
        return (
            list(buf.terms),
            np.frombuffer(buf.tids, dtype=np.uint32),
            np.frombuffer(buf.docs, dtype=np.uint32),
            np.frombuffer(buf.weights, dtype=np.float32),
            np.frombuffer(buf.npos, dtype=np.uint32),
            positions,
        )

    def save(self) -> None:
        """Write the postings held as a sorted run to temporary storage (one file, a field
        after another), each field's buffer freed before the next is sorted."""
        name = f"vnpool{len(self.runs)}"
        with self.tempstore.create_file(name).raw_file() as f:
            self.runs.append(name)
            for field in sorted(self._fields):
                fp = _sorted(*self._arrays(field, self._fields.pop(field)))
                self._runs.setdefault(field, []).append(write_run(f, self.tempstore, name, fp))
                del fp
        self.currentsize = 0

    def fields(self) -> Iterator[tuple[str, Iterator[FieldPostings]]]:
        """``(field name, its FieldPostings in pieces)`` for every field, in name order:
        the pieces hold consecutive ranges of keys and must be read before the next field.
        Without runs, one piece of a field's postings (held in memory, under the limit);
        with runs, what is still held is saved as one more, and the runs of a field are
        merged a range of keys of about ``range_bytes`` at a time (:mod:`.runs`)."""
        if self.runs and self._fields:
            self.save()
        if not self.runs:
            for field in sorted(self._fields):
                yield field, iter([_sorted(*self._arrays(field, self._fields.pop(field)))])
            return
        for field in sorted(self._runs):
            yield field, self._merged(self._runs[field])

    def _merged(self, runs: list[Run]) -> Iterator[FieldPostings]:
        try:
            for low, high in key_ranges(runs, self.range_bytes):
                parts = []
                for run in runs:
                    a, b = run.lower_bound(low) if low is not None else 0, run.lower_bound(high)
                    if a < b:
                        parts.append(run.read(a, b))
                if parts:
                    fp = _sorted(*_concat(parts))
                    yield fp
                    del fp  # the caller is done with it: freed before the next is read
        finally:
            for run in runs:
                run.close()

    def cleanup(self) -> None:
        for runs in self._runs.values():
            for run in runs:
                run.close()
        for name in self.runs:
            with contextlib.suppress(OSError):
                self.tempstore.delete_file(name)
        self.runs = []
        self._runs = {}
        self._fields = {}


def _concat(parts: list[tuple]) -> tuple:
    """Arrays of several runs of one field as one, with one vocabulary. ``parts`` is
    emptied as the runs are copied, so that each run's arrays are freed once copied."""
    if len(parts) == 1:
        return parts.pop()
    vocab: dict[bytes, int] = {}
    for keys, *_rest in parts:
        for k in keys:
            vocab.setdefault(k, len(vocab))
    positional = parts[0][5] is not None
    total = sum(len(p[1]) for p in parts)
    total_positions = sum(len(p[5]) for p in parts) if positional else 0
    tids = np.empty(total, dtype=np.uint32)
    docs = np.empty(total, dtype=parts[0][2].dtype)
    weights = np.empty(total, dtype=parts[0][3].dtype)
    npos = np.empty(total, dtype=parts[0][4].dtype)
    flat = np.empty(total_positions, dtype=parts[0][5].dtype) if positional else None
    at = at_pos = 0
    parts.reverse()
    while parts:
        keys, t, d, w, p, f = parts.pop()
        local = np.fromiter(map(vocab.__getitem__, keys), dtype=np.uint32, count=len(keys))
        end = at + len(t)
        tids[at:end] = local[t]
        docs[at:end], weights[at:end], npos[at:end] = d, w, p
        if positional:
            flat[at_pos : at_pos + len(f)] = f
            at_pos += len(f)
        at = end
        del keys, t, d, w, p, f, local
    return list(vocab), tids, docs, weights, npos, flat
