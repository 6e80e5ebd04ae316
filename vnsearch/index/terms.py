"""The term dictionary of a segment: sorted terms and a hash table, as arrays.

Whoosh's W3 dictionary writes one pickled record per term into an on-disk hash file; a
segment of news text has millions of terms (bigram views multiply them), and that costs
tens of microseconds each. Here each field of a segment stores:

* its terms, sorted, as one byte blob with an ``uint64`` offsets array;
* per term: postings offset (``uint64``), postings length, document frequency (``uint32``),
  total and maximum weight (``float32``);
* a hash table: terms grouped by ``crc32(term) & mask`` (bucket starts, term numbers), so a
  lookup compares one or two keys.

The file is read with ``numpy.frombuffer`` (zero-copy on Whoosh's memory-mapped compound
segments). ``VnTermsReader`` offers Whoosh's ``TermsReader`` interface, so Whoosh's own
searcher, merging and term iteration work unchanged.
"""

from __future__ import annotations

import json
import struct
import threading
import zlib
from array import array
from collections.abc import Iterator
from typing import Any

import numpy as np
from whoosh.codec import base
from whoosh.reading import TermInfo, TermNotFound

from vnsearch.errors import DamagedFile
from vnsearch.index.checksums import PageChecks, page_checks
from vnsearch.index.files import buffer_of, mapped_range, open_mapped
from vnsearch.index.postings import (
    BLOCK_HEAD,
    PostingArrays,
    block_sizes,
    field_blocks,
    pack_block,
)

__all__ = [
    "TERMS_EXT",
    "VnFieldWriter",
    "VnTermInfo",
    "VnTermsReader",
    "dictionary_chunks",
    "read_dictionary",
]

TERMS_EXT = ".vnt"
POSTS_EXT = ".vnp"
_MAGIC = b"VNT1"
_INFO = np.dtype(
    [("offset", "<u8"), ("length", "<u4"), ("df", "<u4"), ("weight", "<f4"), ("maxw", "<f4")]
)
_EXTENT = struct.Struct("<QI")  # the first two fields of an _INFO record


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


class _FieldBuffer:
    __slots__ = ("infos", "keys", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.keys: list[bytes] = []
        self.infos: list[tuple[int, int, int, float, float]] = []


class VnFieldWriter(base.FieldWriter):
    """Writes postings blocks and the array term dictionary of one segment."""

    def __init__(self, storage, segment) -> None:
        self._storage = storage
        self._segment = segment
        self._postfile = segment.create_file(storage, POSTS_EXT)
        self._fields: list[_FieldBuffer] = []
        self._field: _FieldBuffer | None = None
        self._positions = False
        self._btext: bytes | None = None
        self._ids = array("I")
        self._weights = array("f")
        self._values: list[bytes] = []
        self.is_closed = False

    # Whoosh's per-posting interface (used by merges and add_postings)

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        from whoosh.formats import Positions

        self._field = _FieldBuffer(fieldname)
        self._fields.append(self._field)
        self._positions = isinstance(fieldobj.format, Positions)

    def start_term(self, btext: bytes) -> None:
        self._btext = btext
        self._ids = array("I")
        self._weights = array("f")
        self._values = []

    def add(self, docnum: int, weight: float, vbytes: bytes, length: int) -> None:
        self._ids.append(docnum)
        self._weights.append(weight)
        self._values.append(vbytes)

    def finish_term(self) -> None:
        data = pack_block(self._ids, self._weights, self._values, self._positions)
        offset = self._postfile.tell()
        self._postfile.write(data)
        weights = self._weights
        assert self._field is not None and self._btext is not None
        self._field.keys.append(self._btext)
        self._field.infos.append((offset, len(data), len(self._ids), sum(weights), max(weights)))

    def finish_field(self) -> None:
        self._field = None

    def add_postings(self, schema, lengths, items) -> None:
        """Whoosh's loop over sorted postings, without a field-length lookup per posting."""
        lastfn = lasttext = None
        ids, weights, values = self._ids, self._weights, self._values
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != lastfn:
                if lasttext is not None:
                    self.finish_term()
                self.start_field(fieldname, schema[fieldname])
                lastfn, lasttext = fieldname, None
            if docnum == -1:  # Whoosh's spelling-graph marker
                continue
            if btext != lasttext:
                if lasttext is not None:
                    self.finish_term()
                self.start_term(btext)
                ids, weights, values = self._ids, self._weights, self._values
                lasttext = btext
            ids.append(docnum)
            weights.append(weight)
            values.append(value or b"")
        if lasttext is not None:
            self.finish_term()

    def add_field_postings(self, fieldname: str, fieldobj: Any, fp: Any) -> None:
        """Write a whole field from a :class:`vnsearch.index.pool.FieldPostings`: every
        term's block from array slices (what :meth:`add_postings` does one posting at a time)."""
        from whoosh.formats import Positions

        n = len(fp.keys)
        if not n:
            return
        positional = isinstance(fieldobj.format, Positions) and fp.pos_starts is not None
        starts = fp.starts
        df = np.diff(starts)
        lengths = block_sizes(df, np.diff(fp.pos_starts[starts]) if positional else None)
        offsets = np.zeros(n, dtype=np.int64)
        np.cumsum(lengths[:-1], out=offsets[1:])
        offsets += self._postfile.tell()
        weights = fp.weights.astype(np.float32, copy=False)
        firsts = starts[:-1]
        sums = np.add.reduceat(weights.astype(np.float64), firsts)
        maxes = np.maximum.reduceat(weights, firsts)
        if positional:
            blocks = field_blocks(starts, fp.docs, weights, fp.pos_starts, fp.positions)
        else:
            blocks = field_blocks(starts, fp.docs, weights)
        for chunk in blocks:
            self._postfile.write(chunk)
        size = int(offsets[-1] + lengths[-1])
        assert self._postfile.tell() == size, "postings block sizes disagree"
        fb = _FieldBuffer(fieldname)
        fb.keys = fp.keys
        fb.infos = np.rec.fromarrays(
            [offsets, lengths, df, sums.astype(np.float32), maxes], dtype=_INFO
        )
        self._fields.append(fb)

    def close(self) -> None:
        self._postfile.close()
        f = self._segment.create_file(self._storage, TERMS_EXT)
        for chunk in dictionary_chunks(self._fields):
            f.write(chunk)
        f.close()
        from vnsearch.index.spellings import write_spellings

        write_spellings(self._storage, self._segment, self._fields)
        self.is_closed = True


def dictionary_chunks(fields: list[_FieldBuffer], extra: bytes = b"") -> list[bytes]:
    """A term dictionary file: magic, JSON header, then each field's arrays (8-aligned);
    ``extra`` bytes follow, their offset in the header under ``"extra"``."""
    header: dict[str, Any] = {}
    chunks: list[bytes] = []
    at = 0

    def put(raw: bytes) -> int:
        nonlocal at
        start = at
        pad = (-len(raw)) % 8
        chunks.append(raw + b"\0" * pad)
        at += len(raw) + pad
        return start

    for fb in fields:
        if not len(fb.keys):
            continue
        n = len(fb.keys)
        key_offsets = np.zeros(n + 1, dtype="<u8")
        np.cumsum([len(k) for k in fb.keys], out=key_offsets[1:])
        nb = 1 << max(0, (n - 1).bit_length())
        buckets = np.fromiter((zlib.crc32(k) for k in fb.keys), dtype=np.uint32, count=n)
        buckets &= np.uint32(nb - 1)
        order = np.argsort(buckets, kind="stable").astype("<u4")
        starts = np.searchsorted(buckets[order], np.arange(nb + 1)).astype("<u4")
        header[fb.name] = {
            "n": n,
            "nb": nb,
            "keys": put(b"".join(fb.keys)),
            "key_offsets": put(key_offsets.tobytes()),
            "infos": put(np.array(fb.infos, dtype=_INFO).tobytes()),
            "bucket_starts": put(starts.tobytes()),
            "bucket_terms": put(order.tobytes()),
        }
    if extra:
        header["extra"] = put(extra)
    head = json.dumps(header).encode("utf-8")
    pad = (-(8 + len(head))) % 8
    return [_MAGIC + struct.pack("<I", len(head) + pad) + head + b" " * pad, *chunks]


def read_dictionary(
    buf: Any, what: str, pages: PageChecks | None = None, at: int = 0
) -> tuple[dict[str, _FieldTerms], int | None]:
    """The fields of a term dictionary file (see :func:`dictionary_chunks`), and where its
    extra bytes start (None if it has none). With ``pages`` (the segment file's checks;
    the dictionary starts at byte ``at`` of it), every read is checked first."""
    if pages is not None:
        pages.check(at, at + 8)
    if bytes(buf[:4]) != _MAGIC:
        raise DamagedFile(f"bad {what}")
    (hlen,) = struct.unpack_from("<I", buf, 4)
    if pages is not None:
        pages.check(at, at + 8 + hlen)
    header = json.loads(bytes(buf[8 : 8 + hlen]).decode("utf-8"))
    extra = header.pop("extra", None)
    fields = {name: _FieldTerms(buf, 8 + hlen, spec, pages, at) for name, spec in header.items()}
    return fields, None if extra is None else 8 + hlen + extra


class _FieldTerms:
    """The arrays of one field's dictionary (views into the file's buffer).

    Lookups read single entries through memoryviews (a Python int per read, no numpy scalar).
    """

    __slots__ = (
        "_at", "_buf", "_infos_at", "_koff", "_pages", "_starts", "_terms",
        "bucket_starts", "bucket_terms", "infos", "key_offsets", "keys", "mask", "n",
    )  # fmt: skip

    def __init__(
        self,
        buf: Any,
        base_at: int,
        spec: dict[str, int],
        pages: PageChecks | None = None,
        at: int = 0,
    ) -> None:
        n, nb = spec["n"], spec["nb"]
        self.n = n
        self.mask = nb - 1
        end = spec["key_offsets"]
        self.keys = memoryview(buf)[base_at + spec["keys"] : base_at + end]
        self.key_offsets = np.frombuffer(buf, "<u8", n + 1, base_at + spec["key_offsets"])
        self.infos = np.frombuffer(buf, _INFO, n, base_at + spec["infos"])
        self.bucket_starts = np.frombuffer(buf, "<u4", nb + 1, base_at + spec["bucket_starts"])
        self.bucket_terms = np.frombuffer(buf, "<u4", n, base_at + spec["bucket_terms"])
        self._buf = buf
        self._infos_at = base_at + spec["infos"]
        self._koff = memoryview(self.key_offsets).cast("B").cast("Q")
        self._starts = memoryview(self.bucket_starts).cast("B").cast("I")
        self._terms = memoryview(self.bucket_terms).cast("B").cast("I")
        # with checksums: the segment file's page checks, and where each array starts in
        # the segment file (bucket starts, bucket terms, key offsets, keys, infos)
        self._pages = pages
        base = at + base_at
        self._at = tuple(
            base + spec[name]
            for name in ("bucket_starts", "bucket_terms", "key_offsets", "keys", "infos")
        )

    def key(self, i: int) -> bytes:
        pages = self._pages  # read once: a thread checking ahead may switch checks off
        if pages is not None:
            self._check_key(i, pages)
        return bytes(self.keys[self._koff[i] : self._koff[i + 1]])

    def _check_key(self, i: int, pages: PageChecks) -> None:
        """Check the pages of key ``i``'s offsets and bytes (a range shorter than a page
        lies on its first and last page)."""
        at = self._at
        done, shift = pages.done, pages.shift
        s = at[2] + 8 * i
        if not (done[s >> shift] and done[(s + 15) >> shift]):
            pages.check(s, s + 16)
        s, e = at[3] + self._koff[i], at[3] + self._koff[i + 1]
        if e - s >= 1 << shift or not (done[s >> shift] and done[max(s, e - 1) >> shift]):
            pages.check(s, e)

    def find(self, key: bytes) -> int:
        b = zlib.crc32(key) & self.mask
        koff, keys, terms = self._koff, self.keys, self._terms
        lo, hi = self._starts[b], self._starts[b + 1]
        pages = self._pages
        if pages is not None:  # the bucket's start and its term numbers (each key below)
            done, shift, at = pages.done, pages.shift, self._at
            s = at[0] + 4 * b
            if not (done[s >> shift] and done[(s + 7) >> shift]):
                pages.check(s, s + 8)  # raises before lo, hi are used if they are wrong
            s, e = at[1] + 4 * lo, at[1] + 4 * hi
            if e - s >= 1 << shift or not (done[s >> shift] and done[max(s, e - 1) >> shift]):
                pages.check(s, e)
        for j in range(lo, hi):
            i = terms[j]
            if pages is not None:
                self._check_key(i, pages)
            if keys[koff[i] : koff[i + 1]] == key:
                return i
        return -1

    def _check_info(self, i: int, size: int, pages: PageChecks) -> None:
        s = self._at[4] + i * _INFO.itemsize
        done, shift = pages.done, pages.shift
        if not (done[s >> shift] and done[(s + size - 1) >> shift]):
            pages.check(s, s + size)

    def info(self, i: int) -> Any:
        """Term ``i``'s record: offset, length, df, weight, maxw."""
        pages = self._pages
        if pages is not None:
            self._check_info(i, _INFO.itemsize, pages)
        return self.infos[i]

    def extent(self, i: int) -> tuple[int, int]:
        """(offset, length) of term ``i``'s postings block."""
        pages = self._pages
        if pages is not None:
            self._check_info(i, _EXTENT.size, pages)
        return _EXTENT.unpack_from(self._buf, self._infos_at + i * _INFO.itemsize)


class VnTermsReader(base.TermsReader):
    """Whoosh's ``TermsReader`` interface over the array dictionary."""

    def __init__(self, codec, storage, segment) -> None:
        self._codec = codec
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
        from vnsearch.index.spellings import read_spellings

        self.spellings = read_spellings(storage, segment, self._pages)
        self._postfile = open_mapped(storage, segment.make_filename(POSTS_EXT))
        posts = buffer_of(self._postfile)  # mapped or in memory: read without copying
        self._posts = memoryview(posts) if posts is not None else None
        if self._posts is None:
            self._pages = None
        # what checks postings reads: the page checks until every page of the postings
        # matched (see :meth:`trust_checked`), then nothing
        self._read_checks = self._pages

    def stop_checking_reads(self) -> None:
        """Read without checking pages against the checksums (``Index.open(...,
        check_reads=False)``); the checks on open, in merges and ``verify`` remain."""
        self._pages = self._read_checks = None
        for ft in self._fields.values():
            ft._pages = None
        if self.spellings is not None:
            self.spellings.stop_checking_reads()

    def _index(self, fieldname: str, tbytes: bytes) -> tuple[_FieldTerms, int]:
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

    def terms(self) -> Iterator[tuple[str, bytes]]:
        for name in sorted(self._fields):
            ft = self._fields[name]
            for i in range(ft.n):
                yield name, ft.key(i)

    def terms_from(self, fieldname: str, prefix: bytes) -> Iterator[tuple[str, bytes]]:
        for name, key in self.terms():
            if (name, key) >= (fieldname, prefix):
                yield name, key

    def _info(self, ft: _FieldTerms, i: int) -> VnTermInfo:
        offset, length, df, weight, maxw = ft.info(i).tolist()
        return VnTermInfo(offset, length, df, weight, maxw)

    def items(self):
        for name, key in self.terms():
            ft = self._fields[name]
            yield (name, key), self._info(ft, ft.find(key))

    def items_from(self, fieldname: str, prefix: bytes):
        for (name, key), info in self.items():
            if (name, key) >= (fieldname, prefix):
                yield (name, key), info

    def extent(self, fieldname: str, tbytes: bytes) -> tuple[int, int] | None:
        """(offset, length) of the term's postings block, or None: the fast path."""
        ft = self._fields.get(fieldname)
        i = ft.find(tbytes) if ft is not None else -1
        return ft.extent(i) if i >= 0 else None

    def arrays(self, fieldname: str, tbytes: bytes) -> PostingArrays | None:
        """The term's postings as arrays, or None: :meth:`extent` and :meth:`postings` in
        one call (searches look up a few dozen terms each)."""
        extent = self.extent(fieldname, tbytes)
        return self.postings(*extent) if extent is not None else None

    def field_postings(self, fieldname: str) -> tuple:
        """Every postings list of a field, concatenated in term order: ``(keys, counts,
        docs, weights, npos, positions)`` (``npos`` zeros and ``positions`` None without
        positions), for merging segments without a Python object per posting: each block
        is cut into its arrays by byte slicing, and each kind of array joined at once."""
        ft = self._fields[fieldname]
        blob = bytes(ft.keys)
        koff = ft.key_offsets.tolist()
        keys = [blob[a:b] for a, b in zip(koff, koff[1:])]
        offsets = ft.infos["offset"].tolist()
        dfs = ft.infos["df"].tolist()
        counts = ft.infos["df"].astype(np.int64)
        if not offsets:
            empty = np.empty(0, np.uint32)
            return keys, counts, empty, np.empty(0, np.float32), empty, None
        lo = offsets[0]
        hi = offsets[-1] + int(ft.infos["length"][-1])
        raw = bytes(self.block(lo, hi - lo))
        h = BLOCK_HEAD.size
        positional = bool(BLOCK_HEAD.unpack_from(raw)[2])
        docs, freqs, starts, flats = [], [], [], []
        for off, n in zip(offsets, dfs):
            at = off - lo + h
            docs.append(raw[at : at + 4 * n])
            freqs.append(raw[at + 4 * n : at + 8 * n])
            if positional:
                pat = at + 8 * n
                starts.append(raw[pat : pat + 4 * (n + 1)])
                total = int.from_bytes(raw[pat + 4 * n : pat + 4 * (n + 1)], "little")
                flats.append(raw[pat + 4 * (n + 1) : pat + 4 * (n + 1) + 4 * total])
        docs_all = np.frombuffer(b"".join(docs), dtype="<u4")
        weights = np.frombuffer(b"".join(freqs), dtype="<f4")
        if not positional:
            return keys, counts, docs_all, weights, np.zeros(len(docs_all), np.uint32), None
        # each term's offsets array has n + 1 entries: the diffs inside it are the counts
        bounds = np.frombuffer(b"".join(starts), dtype="<u4").astype(np.int64)
        inside = np.ones(len(bounds) - 1, dtype=bool)
        inside[np.cumsum(counts + 1)[:-1] - 1] = False
        npos = np.diff(bounds)[inside].astype(np.uint32)
        return keys, counts, docs_all, weights, npos, np.frombuffer(b"".join(flats), "<u4")

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
        for span, readers in self._dictionaries():
            if pages.all_checked(*span):
                for reader in readers:
                    reader._pages = None
        if pages.all_checked(*self._posts_span):
            self._read_checks = None

    def _dictionaries(self) -> list[tuple[tuple[int, int], list[Any]]]:
        """The bytes of the term dictionary and of the spellings in the segment file, and
        the readers that check their reads."""
        out: list[tuple[tuple[int, int], list[Any]]] = [
            (self._terms_span, list(self._fields.values()))
        ]
        spellings = self.spellings
        if spellings is not None and spellings._pages is not None:  # mapped, not trusted yet
            out.append((spellings.span, [spellings, *spellings._tables.values()]))
        return out

    def frequent_postings(self, min_df: int) -> list[tuple[int, int]]:
        """Byte ranges, in the segment file, of the documents and frequencies of each term
        in more than ``min_df`` documents, most frequent first (what searches read whole;
        positions only phrases read). Empty without checksums."""
        if self._pages is None:
            return []
        found = []
        for ft in self._fields.values():
            infos = ft.infos
            i = np.flatnonzero(infos["df"] > min_df)
            if len(i):
                df = infos["df"][i].astype(np.int64)
                start = infos["offset"][i].astype(np.int64) + self._posts_at
                length = np.minimum(infos["length"][i], block_sizes(df))
                found.append((df, start, start + length))
        if not found:
            return []
        df, start, end = (np.concatenate(column) for column in zip(*found))
        order = np.argsort(-df, kind="stable")
        return list(zip(start[order].tolist(), end[order].tolist()))

    def postings(self, offset: int, length: int) -> PostingArrays:
        """The postings block at ``offset`` as arrays. With checksums, its head, documents
        and frequencies are checked now, its positions when they are first read."""
        if self._posts is None:
            return PostingArrays(self._postfile.get(offset, length))
        data = self._posts[offset : offset + length]
        pages = self._read_checks  # read once: the thread checking ahead may clear it
        if pages is None:
            return PostingArrays(data)
        at = self._posts_at + offset
        end = length
        if length >= BLOCK_HEAD.size:  # the range checked holds the head: a wrong count
            n = BLOCK_HEAD.unpack_from(data)[1]  # read here is found by this check
            end = min(length, BLOCK_HEAD.size + 8 * n)
        pages.check(at, at + end)
        arrays = PostingArrays(data)
        if arrays.has_positions and end < length:
            arrays.positions_check = (pages, at + end, at + length)
        return arrays

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
        return self._info(*self._index(fieldname, tbytes))

    def frequency(self, fieldname: str, tbytes: bytes) -> float:
        ft, i = self._index(fieldname, tbytes)
        return float(ft.info(i)["weight"])

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        ft, i = self._index(fieldname, tbytes)
        return int(ft.info(i)["df"])

    def matcher(self, fieldname: str, tbytes: bytes, format_, scorer=None):
        info = self.term_info(fieldname, tbytes)
        return self._codec.postings_reader(
            self._postfile, info, format_, term=(fieldname, tbytes), scorer=scorer
        )

    def close(self) -> None:
        self._file.close()
        self._postfile.close()
