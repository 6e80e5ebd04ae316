"""Which terms a segment holds, and where their postings are: its terms reader.

``VnTermsReader`` reads what :mod:`vnsearch.index.field_writer` wrote: the ``.vnt`` term
dictionary (per term: where its postings block is and its document frequency; see
:mod:`vnsearch.index.field_terms`), the ``.vnp`` postings blocks and the ``.vna``
variants. It offers Whoosh's ``TermsReader`` interface, so Whoosh's own searcher and term
iteration work unchanged, and vnsearch's own reads: a term's arrays, many terms' at
once, a whole field's for merges, the checks ahead. A ``folded_bigrams`` term has no
block: its arrays are the union of its variants' (:func:`~vnsearch.index.variants.union_postings`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
from whoosh.codec import base
from whoosh.reading import TermInfo, TermNotFound

from vnsearch.errors import DamagedFile
from vnsearch.index.batch import read_many
from vnsearch.index.checksums import PageChecks, page_checks
from vnsearch.index.field_terms import FieldTerms, read_dictionary
from vnsearch.index.field_writer import POSTS_EXT, TERMS_EXT
from vnsearch.index.files import buffer_of, mapped_range, open_mapped
from vnsearch.index.pieces import field_pieces
from vnsearch.index.postings import PostingArrays
from vnsearch.index.spellings import read_spellings
from vnsearch.index.variants import union_postings, variant_positions

__all__ = [
    "TERMS_EXT",
    "VnTermInfo",
    "VnTermsReader",
    "arrays_of_many",
    "terms_reader",
]

# lists this long or shorter are read together by ``arrays_many`` (longer ones alone:
# numpy's fixed cost per list matters less than the per-value work)
BATCH_POSTINGS = 4096
# ... in reads of at most this many postings together (a read's temporaries take ~120
# bytes a posting: a query of a thousand rare terms would otherwise take hundreds of MB)
BATCH_READ = 1 << 17


class MissingTerm(TermNotFound, KeyError):
    """No such term (Whoosh catches ``TermNotFound`` in some places, ``KeyError`` in others)."""


class VnTermInfo(TermInfo):
    """Whoosh's ``TermInfo`` plus where the term's postings block is."""

    __slots__ = ("_length", "_offset")

    def __init__(self, offset: int, length: int, df: int, weight: float, maxweight: float):
        # field lengths are not kept per term: the widest bounds keep Whoosh's block-quality
        # optimizations safe (they only ever overestimate)
        super().__init__(weight=weight, df=df, minlength=1, maxlength=1 << 30, maxweight=maxweight)
        self._offset = offset
        self._length = length

    def extent(self) -> tuple[int, int]:
        return self._offset, self._length

    def is_inlined(self) -> bool:
        return False


class VnTermsReader(base.TermsReader):
    """Whoosh's ``TermsReader`` interface over the array dictionary."""

    def __init__(self, codec, storage, segment) -> None:
        self._codec = codec
        self._doc_count = segment.doc_count_all()
        # pages of the mapped segment file are checked against its checksums on first read
        self._pages: PageChecks | None = None
        self._posts_at = terms_at = posts_length = 0
        posts_mapped = mapped_range(storage, segment.make_filename(POSTS_EXT))
        terms_mapped = mapped_range(storage, segment.make_filename(TERMS_EXT))
        if posts_mapped is not None and terms_mapped is not None:
            source, self._posts_at, posts_length = posts_mapped
            terms_at = terms_mapped[1]
            self._pages = page_checks(storage, segment, source)
        self._terms_span = (terms_at, terms_at + (terms_mapped[2] if terms_mapped else 0))
        self._posts_span = (self._posts_at, self._posts_at + posts_length)
        self._file = open_mapped(storage, segment.make_filename(TERMS_EXT))
        buf = buffer_of(self._file)
        if buf is None:
            buf = self._file.read()
        self._fields, _extra = read_dictionary(
            buf, f"segment {segment.segid}: term dictionary", self._pages, terms_at
        )
        self.spellings = read_spellings(storage, segment, self._fields, self._pages)
        self._postfile = open_mapped(storage, segment.make_filename(POSTS_EXT))
        posts = buffer_of(self._postfile)  # mapped or in memory: read without copying
        self._posts = memoryview(posts) if posts is not None else None
        if self._posts is None:
            self._pages = None
        # what checks postings reads: the page checks until every page of the postings
        # matched (see :meth:`trust_checked`), then nothing
        self._read_checks = self._pages

    @property
    def page_checks(self) -> PageChecks | None:
        """The checks of the mapped segment file's pages, while reads are checked (None:
        not mapped, written without checksums, or checks turned off)."""
        return self._pages

    def stop_checking_reads(self) -> None:
        """Read without checking pages against the checksums (``Index.open(...,
        check_reads=False)``); the checks on open, in merges and ``verify`` remain."""
        self._pages = self._read_checks = None
        self._trust_dictionary()
        if self.spellings is not None:
            self.spellings.stop_checking_reads()

    def _index(self, fieldname: str, tbytes: bytes) -> tuple[FieldTerms, int]:
        ft = self._fields.get(fieldname)
        i = ft.find(tbytes) if ft is not None else -1
        if i < 0:
            raise MissingTerm(f"No term {fieldname}:{tbytes!r}")
        return ft, i

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        ft = self._fields.get(term[0])
        return ft is not None and ft.find(term[1]) >= 0

    def indexed_field_names(self):
        return self._fields.keys()

    def field_terms(self, fieldname: str) -> FieldTerms | None:
        """The dictionary of one field (None if the segment has no terms in it)."""
        return self._fields.get(fieldname)

    def terms(self) -> Iterator[tuple[str, bytes]]:
        for name in sorted(self._fields):
            for key in self._fields[name].key_list():
                yield name, key

    def terms_from(self, fieldname: str, prefix: bytes) -> Iterator[tuple[str, bytes]]:
        for name, key in self.terms():
            if (name, key) >= (fieldname, prefix):
                yield name, key

    def _info(self, ft: FieldTerms, i: int, fieldname: str) -> VnTermInfo:
        offset, length, df = ft.entry(i)
        freqs = self._term_arrays(ft, fieldname, i).freqs  # Whoosh's paths only
        return VnTermInfo(offset, length, df, float(freqs.sum()), float(freqs.max()))

    def items(self):
        for name in sorted(self._fields):
            ft = self._fields[name]
            for i, key in enumerate(ft.key_list()):
                yield (name, key), self._info(ft, i, name)

    def items_from(self, fieldname: str, prefix: bytes):
        for (name, key), info in self.items():
            if (name, key) >= (fieldname, prefix):
                yield (name, key), info

    def extent(self, fieldname: str, tbytes: bytes) -> tuple[int, int] | None:
        """(offset, length) of the term's postings block in the postings file, or None."""
        ft = self._fields.get(fieldname)
        i = ft.find(tbytes) if ft is not None else -1
        return ft.extent(i) if i >= 0 else None

    def arrays(self, fieldname: str, tbytes: bytes) -> PostingArrays | None:
        """The term's postings as arrays, or None (searches look up a few dozen terms
        each)."""
        ft = self._fields.get(fieldname)
        i = ft.find(tbytes) if ft is not None else -1
        if i < 0:
            return None
        return self._term_arrays(ft, fieldname, i)

    def _term_arrays(self, ft: FieldTerms, fieldname: str, i: int) -> PostingArrays:
        """Term ``i`` of ``fieldname``'s arrays: its block's, or its variants' union."""
        if ft.postings_from is None:
            offset, length, df = ft.entry(i)
            return self._found(self.postings(offset, length, df, ft.positions), ft, fieldname, i)
        accented, found = self._variants(fieldname, i)
        parts = [self._term_arrays(accented, ft.postings_from, v) for v in found]
        return self._derived(ft, i, parts)

    def _variants(self, fieldname: str, i: int) -> tuple[FieldTerms, list[int]]:
        if self.spellings is None:
            raise DamagedFile(f"no variants file: postings of {fieldname} cannot be read")
        return self.spellings.variants(fieldname, i)

    def _derived(self, ft: FieldTerms, i: int, parts: list[Any]) -> PostingArrays:
        """A derived term's arrays: its one variant's, or the union of its variants'
        ``parts``, checked against the term's stored document frequency."""
        arrays = parts[0]
        if len(parts) > 1:
            arrays = PostingArrays.read(b"", *union_postings(parts), 0, False)
        if not parts or len(arrays.docs) != ft.count(i):
            raise DamagedFile("derived postings disagree with their document frequency")
        return arrays

    def arrays_many(self, items: list[tuple[str, bytes]]) -> list[PostingArrays | None]:
        """:meth:`arrays` of many terms (a query's): the short lists read together (a
        derived term's variants' too); :func:`arrays_of_many` for several segments."""
        return arrays_of_many([(self, items)])[0]

    def _lookups(self, items: list[tuple[str, bytes]]) -> tuple[list, list, dict]:
        """Where ``items`` are: ``(direct, derived, reads)``, the items with a block
        ``(k, read key)``, the derived ones ``(k, dictionary, number, variants' read
        keys)``, and each block to read once, ``read key -> (dictionary, field, number)``."""
        reads: dict[tuple[str, int], tuple[FieldTerms, str, int]] = {}
        direct, derived = [], []
        for k, (fieldname, tbytes) in enumerate(items):
            ft = self._fields.get(fieldname)
            i = ft.find(tbytes) if ft is not None else -1
            if i < 0:
                continue
            if ft.postings_from is None:
                direct.append((k, (fieldname, i)))
                reads.setdefault((fieldname, i), (ft, fieldname, i))
                continue
            accented, found = self._variants(fieldname, i)
            source = ft.postings_from
            derived.append((k, ft, i, [(source, v) for v in found]))
            for v in found:
                reads.setdefault((source, v), (accented, source, v))
        return direct, derived, reads

    def _found(self, arrays: PostingArrays, ft: FieldTerms, fieldname: str, i: int) -> Any:
        """A term's arrays, checked against the segment, with what reads its positions
        when they are not stored."""
        if int(arrays.docs[-1]) >= self._doc_count:
            raise DamagedFile(f"postings of {fieldname}: a document past the segment's last")
        if ft.positions_from is not None:
            arrays.derive = partial(variant_positions, self, fieldname, i)
            arrays.has_positions = True
        return arrays

    def field_postings(self, fieldname: str) -> tuple:
        """Every postings list of a field, concatenated in term order: ``(keys, counts,
        docs, weights, npos, positions)`` (``npos`` zeros and ``positions`` None without
        positions), for merging segments without a Python object per posting (see
        :func:`~vnsearch.index.postings.decode_blocks`)."""
        return next(field_pieces(self, fieldname))

    def check_ahead(self, min_df: int, stop: threading.Event) -> None:
        """Check, from a background thread, what searches read most: the documents and
        frequencies of the terms in more than ``min_df`` documents (read whole), then the
        term dictionary and the spellings (see :meth:`PageChecks.check_ahead` and
        :meth:`trust_checked`); :meth:`check_rest` follows."""
        pages = self._pages
        if pages is None:
            return
        pages.check_ahead(self.frequent_postings(min_df), stop)
        for span, _readers in self._dictionaries():
            pages.check_ahead([span], stop)
        self.trust_checked()

    def check_rest(self, stop: threading.Event) -> None:
        """Check the rest of the postings from a background thread; once every page of
        them matched, postings are read without checks."""
        pages = self._pages
        if pages is not None:
            pages.check_ahead([self._posts_span], stop)
            self.trust_checked()

    def trust_checked(self) -> None:
        """Read the term dictionary, the spellings and the postings without checking each
        read once every page of them is checked."""
        pages = self._pages
        if pages is None:
            return
        for span, stop_checking in self._dictionaries():
            if pages.all_checked(*span):
                stop_checking()
        if pages.all_checked(*self._posts_span):
            self._read_checks = None

    def _dictionaries(self) -> list[tuple[tuple[int, int], Callable[[], None]]]:
        """The bytes of the term dictionary and of the spellings in the segment file, each
        with what stops checking its reads."""
        out = [(self._terms_span, self._trust_dictionary)]
        spellings = self.spellings
        if spellings is not None and spellings.checks_reads:  # mapped, not trusted yet
            out.append((spellings.span, spellings.stop_checking_reads))
        return out

    def _trust_dictionary(self) -> None:
        for ft in self._fields.values():
            ft.stop_checking_reads()

    def frequent_postings(self, min_df: int) -> list[tuple[int, int]]:
        """Byte ranges, in the segment file, of the postings of each term in more than
        ``min_df`` documents, most frequent first (what searches read whole). Empty
        without checksums."""
        if self._pages is None:
            return []
        found = []
        for ft in self._fields.values():
            if ft.postings_from is not None:  # no blocks: its variants' are read
                continue
            counts, offsets, lengths = ft.columns()
            i = np.flatnonzero(counts > min_df)
            if len(i):
                start = offsets[i] + self._posts_at
                found.append((counts[i], start, start + lengths[i]))
        if not found:
            return []
        df, start, end = (np.concatenate(column) for column in zip(*found))
        order = np.argsort(-df, kind="stable")
        return list(zip(start[order].tolist(), end[order].tolist()))

    def postings(self, offset: int, length: int, n: int, positions: bool) -> PostingArrays:
        """The postings block at ``offset`` (of ``n`` postings) as arrays. With checksums,
        its documents and frequencies are checked now, its positions when first read."""
        if self._posts is None:
            return PostingArrays(self._postfile.get(offset, length), n, positions)
        data = self._posts[offset : offset + length]
        pages = self._read_checks  # read once: the thread checking ahead may clear it
        if pages is None:
            return PostingArrays(data, n, positions)
        at = self._posts_at + offset
        return PostingArrays(data, n, positions, (pages, at))

    def block(self, offset: int, length: int) -> bytes | memoryview:
        """A postings block's bytes (a view into the mapped file where there is one)."""
        if self._posts is not None:
            pages = self._read_checks
            if pages is not None:
                at = self._posts_at + offset
                pages.check(at, at + length)
            return self._posts[offset : offset + length]
        return self._postfile.get(offset, length)

    def term_info(self, fieldname: str, tbytes: bytes) -> VnTermInfo:
        return self._info(*self._index(fieldname, tbytes), fieldname)

    def frequency(self, fieldname: str, tbytes: bytes) -> float:
        return self.term_info(fieldname, tbytes).weight()

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        ft, i = self._index(fieldname, tbytes)
        return ft.count(i)

    def matcher(self, fieldname: str, tbytes: bytes, format_, scorer=None):
        info = self.term_info(fieldname, tbytes)
        arrays = self.arrays(fieldname, tbytes)
        assert arrays is not None  # term_info found it
        return self._codec.matcher_of(arrays, format_, (fieldname, tbytes), info, scorer)

    def close(self) -> None:
        self._file.close()
        self._postfile.close()


def arrays_of_many(
    requests: list[tuple[VnTermsReader, list[tuple[str, bytes]]]],
) -> list[list[PostingArrays | None]]:
    """:meth:`VnTermsReader.arrays_many` of several readers (the segments of an index),
    each with its items: every short list of every segment read together, in batches of
    at most :data:`BATCH_READ` postings (numpy's fixed cost per batch, not per segment)."""
    lookups = [reader._lookups(items) for reader, items in requests]
    reads = [
        (reader, *read)
        for (reader, _items), (_direct, _derived, wanted) in zip(requests, lookups)
        for read in wanted.values()
    ]
    arrays = iter(_read_all(reads))  # in the order of ``reads``: each request's in turn
    outs = []
    for (reader, items), (direct, derived, wanted) in zip(requests, lookups):
        got = dict(zip(wanted, arrays))
        out: list[PostingArrays | None] = [None] * len(items)
        for k, key in direct:
            out[k] = got[key]
        for k, ft, i, keys in derived:
            out[k] = reader._derived(ft, i, [got[key] for key in keys])
        outs.append(out)
    return outs


def _read_all(reads: list[tuple[VnTermsReader, FieldTerms, str, int]]) -> list[PostingArrays]:
    """The arrays of stored terms ``(reader, dictionary, field, number)``: short lists
    read together, in batches of at most :data:`BATCH_READ` postings."""
    out: list[Any] = [None] * len(reads)
    batch, where = [], []
    for k, (reader, ft, fieldname, i) in enumerate(reads):
        offset, length, df = ft.entry(i)
        if df > BATCH_POSTINGS:
            arrays = reader.postings(offset, length, df, ft.positions)
            out[k] = reader._found(arrays, ft, fieldname, i)
            continue
        batch.append((reader.block(offset, length), df))  # checked whole
        where.append((k, reader, ft, fieldname, i))
    start = 0
    while start < len(batch):
        stop, size = start, 0
        while stop < len(batch) and (stop == start or size + batch[stop][1] <= BATCH_READ):
            size += batch[stop][1]
            stop += 1
        for (k, reader, ft, fieldname, i), (data, _n), (docs, freqs, end) in zip(
            where[start:stop], batch[start:stop], read_many(batch[start:stop])
        ):
            arrays = PostingArrays.read(data, docs, freqs, end, ft.positions)
            out[k] = reader._found(arrays, ft, fieldname, i)
        start = stop
    return out


def terms_reader(segment_reader: Any) -> VnTermsReader | None:
    """The :class:`VnTermsReader` of a Whoosh ``SegmentReader`` (None for a segment of
    another codec)."""
    terms = getattr(segment_reader, "_terms", None)  # where Whoosh keeps it
    return terms if isinstance(terms, VnTermsReader) else None
