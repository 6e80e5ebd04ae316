"""A snapshot: the last commit of an index, arranged for vectorized ranking.

Documents get global numbers (segment base + local number). For every scorable hidden field
the snapshot holds the exact length of every document as one ``float64`` array, the number
of live documents and their average length; deleted documents are masked out of every
statistic, so scores are the same before and after a merge, and across reopen.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import numpy as np

from vnsearch.analysis import VIEWS
from vnsearch.index.batch import positions_at
from vnsearch.index.lengths import per_doc_reader
from vnsearch.index.recent import ENTRY_BYTES, MISSING, RECENT_TERMS, Recent
from vnsearch.index.schema import DATETIME, MISSING_KEY, NUMERIC, TEXT, Schema, view_field
from vnsearch.index.terms import arrays_of_many, terms_reader

__all__ = ["FREQUENT_SHARE", "LOOKUP_COST", "Snapshot", "TermPostings", "lookup", "sorted_distinct"]


# Looking a document up in postings (a binary search) costs about this many postings read
# in full; below that ratio the whole postings are read instead.
LOOKUP_COST = 12

# A term or clause whose postings cover more than this share of the documents is frequent:
# ranking starts from the rare ones and reads a frequent term's postings whole, and the
# index checks those postings ahead, in the background, when it opens a segment.
FREQUENT_SHARE = 1 / 8
# a phrase reads the positions of its candidates alone when they are under 1 in this many
# of a term's postings (else the term's are decoded whole and kept with its arrays)
FEW_POSITIONS = 4


def lookup(sorted_docs: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``docs``: whether it is in ``sorted_docs``, and where (binary search;
    the index is meaningful only where found: past the end for a document after the last).
    ``docs`` are document numbers of the snapshot: they fit ``sorted_docs``' type."""
    if not len(sorted_docs):
        return np.zeros(len(docs), dtype=bool), np.zeros(len(docs), dtype=np.intp)
    keys = docs.astype(sorted_docs.dtype, copy=False)
    i = sorted_docs.searchsorted(keys)  # the method: numpy's function wrappers cost about
    # as much as a small search; ``clip`` reads the last posting for those past the end
    return sorted_docs.take(i, mode="clip") == keys, i


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """``values`` sorted, each once: ``np.unique`` without its import of ``numpy.ma``
    (~15 ms, paid by the first caller); a stable sort merges sorted runs.

    >>> sorted_distinct(np.array([5, 1, 5, 3])).tolist()
    [1, 3, 5]
    """
    out = np.sort(values, kind="stable")
    return out[np.concatenate(([True], out[1:] != out[:-1]))] if len(out) > 1 else out


class TermPostings:
    """One term of one hidden field, over all segments: global doc numbers and frequencies.

    Only live documents are kept; ``position_keys`` gives their positions for phrases.
    ``sorted_docs`` may be the file's own ``uint32`` array (no copy): looking documents up
    with ``find`` needs nothing more; ``docs`` is them as ``int64``. Immutable: a snapshot
    of one segment shares its recent terms' postings between queries and threads.
    """

    __slots__ = ("_parts", "df", "freqs", "sorted_docs")

    def __init__(self, docs: np.ndarray, freqs: np.ndarray, parts: list[tuple[int, int, Any, Any]]):
        self.sorted_docs = docs
        self.freqs = freqs
        self.df = len(docs)
        # (global offsets of the part's first and past its last posting, arrays, which of
        # the arrays' postings are kept: a mask, or None for all)
        self._parts = parts

    @property
    def nbytes(self) -> int:
        """The bytes of its arrays: documents, frequencies, positions decoded so far, and
        each segment's own documents and frequencies where they are not these (several
        segments, deleted documents)."""
        total = self.sorted_docs.nbytes + self.freqs.nbytes
        for _s, _e, arrays, _k in self._parts:
            total += arrays.positions_nbytes
            docs = arrays.docs  # the joined ones, a view of them, or (deletions) its own
            if docs is not self.sorted_docs and not np.may_share_memory(docs, self.sorted_docs):
                total += docs.nbytes + arrays.freqs.nbytes
        return total

    @property
    def docs(self) -> np.ndarray:
        """The documents as ``int64`` (a copy of the file's ``uint32`` ones: not kept)."""
        return self.sorted_docs.astype(np.int64, copy=False)

    def find(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each of the sorted documents ``docs``: whether the term is in it, and the
        index of its posting (meaningful where found)."""
        return lookup(self.sorted_docs, docs)

    def position_keys(
        self, docs: np.ndarray, shift: int, where: np.ndarray | None = None
    ) -> np.ndarray:
        """``doc << 32 | (position - shift + 2**16)`` for every occurrence in ``docs``.

        ``docs`` must be a sorted subset of ``self.docs``; ``where``, if known, the index
        of each in the postings. Two terms at positions ``p`` and ``p + k`` of a document
        give equal keys when the second is asked with ``shift=k``, so a phrase is an
        intersection of key arrays.
        """
        keys = []
        if where is None:
            where = lookup(self.sorted_docs, docs)[1]
        for start, end, arrays, kept in self._parts:
            sel = where[(where >= start) & (where < end)]
            if not len(sel):
                continue
            idx = sel - start if kept is None else np.flatnonzero(kept)[sel - start]
            # a few of many postings: their positions alone (else all, decoded and kept)
            few = FEW_POSITIONS * len(idx) < len(arrays.freqs)
            stream = arrays.positions_stream() if few else None
            if stream is not None:
                counts = arrays.freqs.astype(np.int64)
                lengths = counts[idx]
                positions = positions_at(stream[0], stream[1], counts, idx)
            else:
                offsets, flat = arrays.all_positions()
                lo = offsets[idx].astype(np.int64)
                lengths = offsets[idx + 1].astype(np.int64) - lo
                before = np.cumsum(lengths) - lengths
                positions = flat[(lo - before).repeat(lengths) + np.arange(int(lengths.sum()))]
            # doc << 32 plus (position - shift + 2**16), which lies in [0, 2**32): an OR
            base = (self.sorted_docs[sel].astype(np.int64) << 32) + ((1 << 16) - shift)
            keys.append(base.repeat(lengths) + positions)
        return np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)


def _kept(docs: np.ndarray, deleted: np.ndarray, live: np.ndarray) -> np.ndarray | None:
    """Which postings (local, sorted ``docs``) are of live documents, or None when every
    one is. Few deleted documents are looked up in the postings (a term that holds none of
    them is used as stored, without a copy); many are read from ``live``, per posting."""
    if len(deleted) * LOOKUP_COST < len(docs):
        found, i = lookup(docs, deleted)
        if not found.any():
            return None
        keep = np.ones(len(docs), dtype=bool)
        keep[i[found]] = False
        return keep
    keep = live.take(docs)
    return None if keep.all() else keep


class Snapshot:
    """Searcher state of one commit; immutable and safe to share between threads."""

    def __init__(self, schema: Schema, whoosh_index: Any, budget: int) -> None:
        self.schema = schema
        self.reader = whoosh_index.reader()
        self.generation = self.reader.generation()
        self._stored_lock = threading.Lock()
        self._stored_readers: list[tuple[int, Any]] | None = None  # on first use
        self._scratch = threading.local()
        # an index with no commit yet has Whoosh's EmptyReader: no segments
        leaves = [(r, base) for r, base in self.reader.leaf_readers() if r.doc_count_all()]
        self.segments: list[tuple[Any, int]] = leaves
        self.total = sum(r.doc_count_all() for r, _ in leaves) if leaves else 0
        live = np.ones(self.total, dtype=bool)
        # per segment (by base) with deleted documents: their local numbers, sorted, and
        # the segment's part of ``live``
        self._deleted: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for r, base in leaves:
            deleted = sorted_distinct(np.fromiter(per_doc_reader(r).deleted_docs(), np.int64))
            if len(deleted):
                live[base + deleted] = False
                segment_live = live[base : base + r.doc_count_all()]
                self._deleted[base] = (deleted.astype(np.uint32), segment_live)
        self.live = live
        self._only = len(leaves) == 1 and not self._deleted  # global = local numbers
        # the recent terms, (field, term) -> its TermPostings (or None), shared by the
        # queries that use the term: with one segment without deletions, the segment's
        # arrays as they are; otherwise joined from each segment's once
        self._one = None
        self._readers: tuple[Any, ...] = ()
        if self._only:
            self._one = terms_reader(leaves[0][0])
        else:
            self._readers = tuple(terms_reader(r) for r, _ in leaves)
        # ``budget``: the bytes they may hold (``recent.cache_bytes``: Index.open's cache_mb)
        self._recent = Recent(RECENT_TERMS, budget, _postings_bytes)
        # global document numbers as the files store local ones while they fit
        self._doc_type = np.uint32 if self.total < 1 << 32 else np.int64
        self.doc_count = int(live.sum())
        self.lengths: dict[str, np.ndarray] = {}
        # filled on first use: per field, its length codes and distinct lengths (see
        # ``length_codes``); what the ranking derives from them and keeps (see ``memo``)
        self._codes: dict[str, tuple[np.ndarray | None, np.ndarray]] = {}
        self._memo: dict[Any, Any] = {}
        self._values: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # filled on first use
        self.avg_length: dict[str, float] = {}
        for name, ftype in schema.items():
            if isinstance(ftype, TEXT):
                for view in VIEWS:
                    self._load_lengths(view_field(name, view))

    def _load_lengths(self, field: str) -> None:
        lengths = np.zeros(self.total, dtype=np.float64)
        for r, base in self.segments:
            column = per_doc_reader(r).exact_lengths(field)
            lengths[base : base + len(column)] = column
        self.lengths[field] = lengths
        live_total = float(lengths[self.live].sum())
        self.avg_length[field] = live_total / self.doc_count if self.doc_count else 0.0

    def accumulator(self) -> np.ndarray:
        """This thread's array of zeros, one per document, to sum scores into; the caller
        puts the zeros back where it wrote. (A fresh array this size costs more than the
        sums: the allocator maps its pages anew each time.)"""
        acc = getattr(self._scratch, "acc", None)
        if acc is None:
            acc = self._scratch.acc = np.zeros(self.total, dtype=np.float64)
        return acc

    def memo(self, key: Any, make: Callable[..., Any], *args: Any) -> Any:
        """``make(*args)``, kept under ``key`` for the snapshot's life: what the ranking
        derives from this commit's data (such as BM25's norm of each distinct length).
        Two threads may both make it: ``make`` must give equal values each time."""
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = make(*args)
        return found

    def length_codes(self, field: str) -> tuple[np.ndarray | None, np.ndarray]:
        """``(codes, distinct)``: the distinct lengths of the hidden field ``field``
        (sorted ``float64``) and the number of each document's length among them (see
        :func:`length_codes`; ``(None, lengths)`` when there are too many).

        A search gathers values per length at thousands of scattered documents, and one
        ``float64`` per document of every field it scores does not stay in the CPU's
        caches; one or two bytes per document do (fields with equal lengths share them)."""
        found = self._codes.get(field)
        if found is None:
            lengths = self.lengths[field]
            for other, known in list(self._codes.items()):
                if known[0] is not None and np.array_equal(self.lengths[other], lengths):
                    found = known
                    break
            else:
                found = length_codes(lengths)
            self._codes[field] = found
        return found

    def field_values(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(values, present)`` of the NUMERIC or DATETIME field ``name`` for every
        document: ``int64`` (ints, and datetimes as Whoosh's microseconds) or ``float64``
        values (0 where missing), and whether the document has one. Read from the field's
        Whoosh column once per snapshot (two threads may both read it: same result)."""
        cached = self._values.get(name)
        if cached is None:
            cached = self._values[name] = self._load_values(name)
        return cached

    def _load_values(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        ftype = self.schema[name]
        if not isinstance(ftype, (NUMERIC, DATETIME)):
            raise ValueError(f"field {name!r} ({ftype.kind}) has no values to compare")
        wfield = self.reader.schema[name]
        keys = np.full(self.total, MISSING_KEY, dtype=np.uint64)
        for r, base in self.segments:
            column = per_doc_reader(r).numeric_keys(name, wfield.column_type)
            keys[base : base + len(column)] = column
        present = keys != MISSING_KEY
        if isinstance(ftype, DATETIME):
            values = keys.view(np.int64)  # datetime_to_long: microseconds, not shifted
        else:
            values = (keys ^ np.uint64(1 << 63)).view(np.int64)  # undo to_sortable's shift
            if ftype.numtype == "float":  # and float_to_sortable_long's flip of negatives
                values = np.where(values < 0, values ^ np.int64((1 << 63) - 1), values)
                values = values.view(np.float64)
            elif not present.all():  # the int 2**63 - 1 has the missing key
                p = self.postings(name, wfield.to_bytes(wfield.max_value))
                if p is not None:
                    present[p.sorted_docs] = True
        values[~present] = 0
        return values, present

    def postings(self, field: str, term: str | bytes) -> TermPostings | None:
        """The live postings of ``term`` in the hidden or plain field ``field``."""
        key = (field, term if isinstance(term, bytes) else term.encode("utf-8"))
        p = self._recent.get(key)
        if p is MISSING:
            if self._one is not None:  # one segment without deletions
                p = _one_segment_postings(self._one.arrays(*key))
            else:
                p = self._joined(tuple(r.arrays(*key) for r in self._readers))
            self._recent.put(key, p)
        return p

    def postings_many(self, pairs: list[tuple[str, str | bytes]]) -> list[TermPostings | None]:
        """:meth:`postings` of many terms: those not used recently are read together (the
        short lists of every segment in one batch: ``terms.arrays_of_many``), and kept."""
        keys = [(f, t if isinstance(t, bytes) else t.encode("utf-8")) for f, t in pairs]
        out = [self._recent.get(key) for key in keys]
        missing = [k for k, p in enumerate(out) if p is MISSING]
        if missing:
            asked = [keys[k] for k in missing]
            if self._one is not None:  # one segment without deletions: its arrays as they are
                read = [_one_segment_postings(a) for a in self._one.arrays_many(asked)]
            else:
                per_segment = arrays_of_many([(r, asked) for r in self._readers])
                by_term = zip(*per_segment) if per_segment else [()] * len(asked)  # no segment
                read = [self._joined(found) for found in by_term]
            for k, p in zip(missing, read):
                out[k] = p
                self._recent.put(keys[k], p)
        return out

    def _joined(self, found: tuple[Any, ...]) -> TermPostings | None:
        """A term's postings over every segment from its arrays in each (None where it is
        absent): global numbers, deleted documents left out."""
        docs, freqs, parts = [], [], []
        count = 0
        for (_r, base), arrays in zip(self.segments, found):
            if arrays is None:
                continue
            # the decoded uint32 numbers and narrow frequencies, as one segment's are
            # used: a copy only to add the segment's base, none to widen them
            glob, tf = arrays.docs, arrays.freqs
            if base:
                glob = glob + self._doc_type(base)
            keep = None  # posting i of this part is posting i of the segment's list
            deleted = self._deleted.get(base)
            if deleted is not None:
                keep = _kept(arrays.docs, *deleted)
                if keep is not None:
                    glob, tf = glob[keep], tf[keep]
            docs.append(glob)
            freqs.append(tf)
            parts.append((count, count + len(glob), arrays, keep, base))
            count += len(glob)
        if not docs:
            return None
        joined = (
            (docs[0], freqs[0]) if len(docs) == 1 else (np.concatenate(docs), np.concatenate(freqs))
        )
        # a segment's arrays without deleted postings share the joined ones (one copy of
        # each document and frequency: the recent terms hold as many as with one segment)
        shared = []
        for s, e, a, k, base in parts:
            if k is None and a.docs is not joined[0]:
                a = a.sharing(joined[0][s:e], joined[1][s:e], base)
            shared.append((s, e, a, k))
        return TermPostings(*joined, shared)

    def stored_fields(self, doc: int) -> dict[str, Any]:
        """The stored fields of global document ``doc``."""
        readers = self._stored_readers
        if readers is None:
            with self._stored_lock:  # a file that is not mapped is read by seek and read
                readers = self._stored_readers = [
                    (base, per_doc_reader(r).stored_reader()) for r, base in self.segments
                ]
        i = len(readers) - 1
        if i:
            i = bisect_right(readers, doc, key=itemgetter(0)) - 1
        if i >= 0 and doc >= 0:
            base, read = readers[i]
            if read is not None:  # a mapped file: no lock needed
                return read(doc - base)
        with self._stored_lock:
            return self.reader.stored_fields(doc)

    def doc_for_id(self, doc_id: Any) -> int | None:
        """Global number of the live document whose unique field is ``doc_id``."""
        unique = self.schema.unique_field
        if unique is None:
            return None
        postings = self.postings(unique, str(doc_id))
        if postings is None or not postings.df:
            return None
        return int(postings.sorted_docs[-1])

    def document(self, doc_id: Any) -> dict[str, Any] | None:
        """The stored fields of the live document whose unique field is ``doc_id`` (a
        copy), or None."""
        doc = self.doc_for_id(doc_id)
        return None if doc is None else dict(self.stored_fields(doc))

    def close(self) -> None:
        # views of the files about to be closed
        self._recent.clear()
        self.reader.close()


def length_codes(lengths: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """``(codes, values)`` with ``values[codes] == lengths``: the distinct lengths, sorted,
    and the number of each document's among them as ``uint8`` or ``uint16``; ``(None,
    lengths)`` when there are more than 65,536 distinct lengths."""
    ints = lengths.astype(np.int64)  # exact lengths: whole numbers
    top = int(ints.max()) if len(ints) else 0
    if top <= 4 * len(ints) + 256:  # counted: no sort
        present = np.zeros(top + 1, dtype=bool)
        present[ints] = True
        values = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[ints]
    else:
        values, codes = np.unique(ints, return_inverse=True)
    if len(values) > 1 << 16:
        return None, lengths
    dtype = np.uint8 if len(values) <= 1 << 8 else np.uint16
    return codes.astype(dtype), values.astype(np.float64)


def _one_segment_postings(arrays: Any) -> TermPostings | None:
    """A term's postings in the one segment of a snapshot without deletions, from its
    arrays there (or None)."""
    if arrays is None:
        return None
    return TermPostings(arrays.docs, arrays.freqs, [(0, len(arrays.docs), arrays, None)])


def _postings_bytes(p: TermPostings | None) -> int:
    return ENTRY_BYTES + (p.nbytes if p is not None else 0)
