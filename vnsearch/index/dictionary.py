"""How term dictionaries and spellings are laid out: sorted keys and a hash table, as arrays.

Whoosh's W3 dictionary writes one pickled record per term into an on-disk hash file; a
segment of news text has millions of terms (bigram views multiply them), and that costs
tens of microseconds each. Here a dictionary file holds, per field:

* its keys, sorted, as one byte blob with an ``uint64`` offsets array;
* per key: an offset (``uint64``), a length, a count (``uint32``) and two weights
  (``float32``): for terms, where the postings block is, its document frequency, and
  the total and maximum weight;
* a hash table: keys grouped by ``crc32(key) & mask`` (bucket starts, key numbers), so a
  lookup compares one or two keys.

It is read with ``numpy.frombuffer`` (zero-copy on Whoosh's memory-mapped compound
segments); with the segment file's checksums, every read is checked first.

>>> field = DictionaryField("body")
>>> field.add(b"ha", 0, 24, 2, 3.0, 2.0)
>>> field.add(b"noi", 24, 16, 1, 1.0, 1.0)
>>> fields, extra = read_dictionary(b"".join(dictionary_chunks([field])), "example")
>>> terms = fields["body"]
>>> terms.find(b"noi"), terms.find(b"hue"), terms.extent(terms.find(b"noi"))
(1, -1, (24, 16))
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from vnsearch.errors import DamagedFile
from vnsearch.index.checksums import PageChecks

__all__ = ["DictionaryField", "FieldTerms", "dictionary_chunks", "read_dictionary"]

_MAGIC = b"VNT1"
_INFO = np.dtype(
    [("offset", "<u8"), ("length", "<u4"), ("df", "<u4"), ("weight", "<f4"), ("maxw", "<f4")]
)
_EXTENT = struct.Struct("<QI")  # the first two fields of an _INFO record


class DictionaryField:
    """One field of a dictionary being written: its keys, sorted, and per key its record
    (offset, length, count, weight, maximum weight), as a list or a record array."""

    __slots__ = ("infos", "keys", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.keys: list[bytes] = []
        self.infos: Any = []  # list of tuples, or a record array of _INFO

    @classmethod
    def from_arrays(cls, name: str, keys: list[bytes], *columns: Any) -> DictionaryField:
        """A field from its keys and its records' columns (offset, length, count, weight,
        maximum weight), each an array as long as ``keys``."""
        field = cls(name)
        field.keys = keys
        field.infos = np.rec.fromarrays(list(columns), dtype=_INFO)
        return field

    def add(
        self, key: bytes, offset: int, length: int, count: int, weight: float, maxw: float
    ) -> None:
        """Append a key (keys are added in sorted order) and its record."""
        self.keys.append(key)
        self.infos.append((offset, length, count, weight, maxw))

    def counts(self) -> np.ndarray:
        """The count of each key (for terms: its document frequency)."""
        return np.array(self.infos, dtype=_INFO)["df"]


def dictionary_chunks(fields: Sequence[DictionaryField], extra: bytes = b"") -> list[bytes]:
    """A dictionary file: magic, JSON header, then each field's arrays (8-aligned);
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
) -> tuple[dict[str, FieldTerms], int | None]:
    """The fields of a dictionary file (see :func:`dictionary_chunks`), and where its
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
    fields = {name: FieldTerms(buf, 8 + hlen, spec, pages, at) for name, spec in header.items()}
    return fields, None if extra is None else 8 + hlen + extra


class FieldTerms:
    """The arrays of one field of a dictionary file (views into the file's buffer).

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

    def key_list(self, rows: np.ndarray | None = None) -> list[bytes]:
        """The keys numbered ``rows`` (all by default), read at once, unchecked."""
        blob = bytes(self.keys)
        if rows is None:
            koff = self.key_offsets.tolist()
            return [blob[a:b] for a, b in zip(koff, koff[1:])]
        starts, ends = self.key_offsets[rows].tolist(), self.key_offsets[rows + 1].tolist()
        return [blob[a:b] for a, b in zip(starts, ends)]

    def stop_checking_reads(self) -> None:
        """Read without checking pages against the checksums (every page of the
        dictionary matched, or checks were turned off)."""
        self._pages = None

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
