"""How one field of a dictionary file is read: in place, a block at a time.

The layout is :mod:`vnsearch.index.dictionary`'s. :func:`read_dictionary` reads a file's
header; :class:`FieldTerms` finds a key with a binary search over the blocks' first
bytes and a scan of one block, and reads all records at once as arrays for merges and
the checks ahead.

>>> from vnsearch.index.dictionary import DictionaryField, dictionary_chunks
>>> field = DictionaryField("body")
>>> field.add(b"ha", 0, 24, 2)
>>> field.add(b"noi", 24, 16, 1)
>>> fields, extra = read_dictionary(b"".join(dictionary_chunks([field])), "example")
>>> terms = fields["body"]
>>> terms.find(b"noi"), terms.find(b"hue"), terms.entry(terms.find(b"noi"))
(1, -1, (24, 16, 1))
"""

from __future__ import annotations

import json
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import wraps
from typing import Any, NamedTuple

import numpy as np

from vnsearch.errors import DamagedFile
from vnsearch.index.bitpack import unpack, word_view
from vnsearch.index.checksums import PageChecks
from vnsearch.index.dictionary import BLOCK, LONG_KEY, MAGIC, key_prefix

__all__ = ["FieldTerms", "read_dictionary"]

_U32 = struct.Struct("<I")


def _bounded(read: Callable[..., Any]) -> Callable[..., Any]:
    """``read``, with reads past the ends of its arrays (bytes an attacker wrote and
    summed, or a bug) raised as :class:`DamagedFile`, not as ``IndexError``."""

    @wraps(read)
    def bounded(*args: Any) -> Any:
        try:
            return read(*args)
        except (IndexError, struct.error) as exc:
            raise DamagedFile(f"term dictionary: a read past its end ({exc})") from None

    return bounded


def _head(blob: Any, at: int) -> tuple[int, int, int]:
    """A key's head at ``at`` (see :data:`~vnsearch.index.dictionary.LONG_KEY`): the
    bytes it shares with the key before, its length, and where its bytes start."""
    h = blob[at]
    if h != LONG_KEY:
        return h >> 4, h & 15, at + 1
    shared, length = blob[at + 1], blob[at + 2]
    if length == 255:
        (length,) = _U32.unpack_from(blob, at + 3)
        return shared, length, at + 7
    return shared, length, at + 3


def _array(mv: memoryview, at: int, count: int, size: int) -> memoryview:
    """``count`` unsigned numbers of ``size`` bytes at ``at``, read as Python ints."""
    return mv[at : at + size * count].cast("I" if size == 4 else "Q")


def read_dictionary(
    buf: Any, what: str, pages: PageChecks | None = None, at: int = 0
) -> tuple[dict[str, FieldTerms], int | None]:
    """The fields of a dictionary file (see :func:`dictionary_chunks`), and where its
    extra bytes start (None if it has none). With ``pages`` (the segment file's checks;
    the dictionary starts at byte ``at`` of it), every read is checked first."""
    if len(buf) < 8:
        raise DamagedFile(f"bad {what}")
    if pages is not None:
        pages.check(at, at + 8)
    if bytes(buf[:4]) != MAGIC:
        raise DamagedFile(f"bad {what}")
    (hlen,) = struct.unpack_from("<I", buf, 4)
    if 8 + hlen > len(buf):
        raise DamagedFile(f"bad {what}: header past the end")
    if pages is not None:
        pages.check(at, at + 8 + hlen)
    try:
        header = json.loads(bytes(buf[8 : 8 + hlen]).decode("utf-8"))
        extra = header.pop("extra", None)
        fields = {name: FieldTerms(buf, 8 + hlen, spec, pages, at) for name, spec in header.items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise DamagedFile(f"bad {what}: {exc}") from None
    return fields, None if extra is None else 8 + hlen + int(extra)


class _Blocks(NamedTuple):
    """Consecutive blocks of a dictionary, to read as arrays (:meth:`FieldTerms._blocks`)."""

    block_at: np.ndarray  # where each starts in the blob, and where the last ends
    lo: int  # where the first starts: ``words`` are the blob from there
    words: np.ndarray
    heads: np.ndarray  # the whole blob's bytes
    cw: np.ndarray  # per block: its counts' width, its number of keys
    sizes: np.ndarray
    blk: np.ndarray  # per key: its block (from the first), its place there, its count
    j: np.ndarray
    counts: np.ndarray


class FieldTerms:
    """One field of a dictionary file, read in place."""

    __slots__ = (
        "_at", "_bases", "_blob", "_blob_at", "_block_at", "_buf", "_index_span",
        "_pages", "_prefixes", "n", "nb", "positions", "positions_from", "postings_from",
    )  # fmt: skip

    def __init__(
        self,
        buf: Any,
        base_at: int,
        spec: dict[str, Any],
        pages: PageChecks | None = None,
        at: int = 0,
    ) -> None:
        n, nb = int(spec["n"]), int(spec["nb"])
        if n <= 0 or nb != -(-n // BLOCK):
            raise ValueError(f"{n} keys in {nb} blocks")
        mv = memoryview(buf)
        start, end = base_at + int(spec["blocks"]), base_at + int(spec["end"])
        if not base_at <= start <= end <= len(mv):
            raise ValueError("arrays past the end of the file")
        sizes = {"prefixes": 8, "block_at": spec["block_at_size"], "bases": spec["bases_size"]}
        for name, count in (("prefixes", nb), ("block_at", nb + 1), ("bases", nb + 1)):
            a = base_at + int(spec[name])
            if sizes[name] not in (4, 8) or not (base_at <= a and a + sizes[name] * count <= start):
                raise ValueError(f"{name} past the end of the file")
        self.n, self.nb = n, nb
        self.positions = spec.get("positions") is True
        froms = (spec.get("positions_from"), spec.get("postings_from"))  # field names
        self.positions_from, self.postings_from = (f if isinstance(f, str) else None for f in froms)
        self._buf = buf
        self._prefixes = mv[base_at + spec["prefixes"] :][: 8 * nb].cast("Q")
        self._block_at = _array(mv, base_at + spec["block_at"], nb + 1, spec["block_at_size"])
        self._bases = _array(mv, base_at + spec["bases"], nb + 1, spec["bases_size"])
        self._blob = mv[start:end]
        self._blob_at = at + start  # where the blob is in the segment file
        self._at = at
        # with checksums: the pages of the three small arrays are checked on first use
        # (then None), each block's before it is read
        self._index_span: tuple[int, int] | None = (
            at + base_at + int(spec["prefixes"]),
            at + start,
        )
        self._pages = pages

    def stop_checking_reads(self) -> None:
        """Read without checking pages against the checksums (every page of the
        dictionary matched, or checks were turned off)."""
        self._pages = None

    def _check_index(self, pages: PageChecks) -> None:
        """Check the three index arrays against the checksums, once (then lookups skip it)."""
        span = self._index_span  # read once: the thread checking ahead may clear it
        if span is not None:
            pages.check(*span)
            self._index_span = None

    def _checked(self, pages: PageChecks, b: int) -> None:
        """Check the index arrays (once) and block ``b`` against the checksums."""
        self._check_index(pages)
        s = self._blob_at + self._block_at[b]
        e = self._blob_at + self._block_at[b + 1]
        if not (s <= e <= self._blob_at + len(self._blob)):
            pages.check(s, min(max(s, e), self._blob_at + len(self._blob)))
            raise DamagedFile("term dictionary: a block past the end")
        done, shift = pages.done, pages.shift
        if e - s >= 1 << shift or not (done[s >> shift] and done[max(s, e - 1) >> shift]):
            pages.check(s, e)

    def _block(self, b: int) -> tuple[int, int, int, int, int]:
        """Block ``b``: (its number of keys, count width, distance width, where the
        packed records start, where its keys start) in the blob."""
        pages = self._pages  # read once: a thread checking ahead may switch checks off
        if pages is not None:
            self._checked(pages, b)
        at = self._block_at[b]
        size = BLOCK if b < self.nb - 1 else self.n - BLOCK * b
        blob = self._blob
        if at + 2 > len(blob):
            raise DamagedFile("term dictionary: a block past the end")
        cw, rw = blob[at], blob[at + 1]
        if cw > 32 or rw > 32:
            raise DamagedFile("term dictionary: a width out of range")
        keys_at = at + 2 + ((size * cw + 7) >> 3) + ((size * rw + 7) >> 3)
        return size, cw, rw, at + 2, keys_at

    @_bounded
    def _first_key(self, b: int) -> bytes:
        _shared, length, kat = _head(self._blob, self._block(b)[4])
        return bytes(self._blob[kat : kat + length])

    def _find_block(self, key: bytes) -> int:
        prefixes = self._prefixes
        pages = self._pages
        if pages is not None:
            self._check_index(pages)
        p = key_prefix(key)
        hi = bisect_right(prefixes, p)
        if not hi or prefixes[hi - 1] != p:
            return hi - 1
        lo = bisect_left(prefixes, p, 0, hi)
        # blocks before lo start below the key, blocks from hi above it; those between
        # start with the same 8 bytes: the last one starting at or below the key
        while lo < hi:
            mid = (lo + hi) // 2
            if self._first_key(mid) <= key:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1

    @_bounded
    def find(self, key: bytes) -> int:
        """The number of ``key``, or -1."""
        b = self._find_block(key)
        if b < 0:
            return -1
        size, _cw, _rw, _rec, at = self._block(b)
        blob = self._blob
        m = 0  # bytes the last key read shares with ``key`` (it is below ``key``)
        klen = len(key)
        for j in range(size):
            h = blob[at]
            if h != LONG_KEY:
                shared, length = h >> 4, h & 15
                at += 1
            else:
                shared, length, at = _head(blob, at)
            if shared < m:  # parts from the last key earlier than ``key`` does: above it
                return -1
            if shared == m:
                rest = blob[at : at + length]
                if rest == key[m:]:
                    return BLOCK * b + j
                # ``key`` from byte m on, against the rest: above, or a longer match
                k = 0
                top = min(length, klen - m)
                while k < top and rest[k] == key[m + k]:
                    k += 1
                if k == top:
                    if top == length:  # the rest is a prefix of what is sought: below
                        m += k
                        at += length
                        continue
                    return -1  # ``key`` is a prefix of this key: above it
                if rest[k] > key[m + k]:
                    return -1
                m += k
            at += length
        return -1

    @_bounded
    def _lower_bound(self, key: bytes) -> int:
        """The number of the first key at or above ``key`` (``n`` if none is)."""
        b = self._find_block(key)
        if b < 0:
            return 0
        return BLOCK * b + bisect_left(self._block_keys(b), key)

    def prefix_range(self, prefix: bytes) -> tuple[int, int]:
        """``(start, end)``: the keys that start with ``prefix`` are numbers ``start`` to
        ``end - 1`` (keys are sorted by their bytes): two binary searches over the blocks'
        first bytes and a scan of one block at each end.

        >>> from vnsearch.index.dictionary import DictionaryField, dictionary_chunks
        >>> field = DictionaryField("body")
        >>> for i, k in enumerate([b"ha", b"hai", b"han", b"noi"]):
        ...     field.add(k, i, 1, 1)
        >>> terms = read_dictionary(b"".join(dictionary_chunks([field])), "example")[0]["body"]
        >>> terms.prefix_range(b"ha"), terms.prefix_range(b"hai"), terms.prefix_range(b"x")
        ((0, 3), (1, 2), (4, 4))
        """
        start = self._lower_bound(prefix)
        stop = prefix.rstrip(b"\xff")
        if not stop:  # every key starts with it
            return start, self.n
        return start, max(start, self._lower_bound(stop[:-1] + bytes([stop[-1] + 1])))

    def _block_counts(self, b0: int, b1: int) -> list[int]:
        """The counts of the keys of blocks ``b0`` to ``b1 - 1``."""
        out: list[int] = []
        blob = self._blob
        for b in range(b0, b1):
            size, cw, _rw, rec, _kat = self._block(b)
            if not cw:
                out += [0] * size
                continue
            raw = int.from_bytes(blob[rec : rec + ((size * cw + 7) >> 3)], "little")
            mask = (1 << cw) - 1
            out += [(raw >> (j * cw)) & mask for j in range(size)]
        return out

    @_bounded
    def counts_range(self, start: int, end: int) -> np.ndarray:
        """The counts of keys ``start`` to ``end - 1`` as an array: only the blocks that
        hold them read, all at once (checked first, while reads are checked)."""
        if end <= start:
            return np.empty(0, np.int64)
        b0, b1 = start // BLOCK, (end - 1) // BLOCK + 1
        if b1 - b0 <= 4:  # a few blocks: cheaper in Python than numpy's set-up
            return np.array(self._block_counts(b0, b1)[start - BLOCK * b0 : end - BLOCK * b0])
        pages = self._pages
        if pages is not None:
            self._check_index(pages)
            pages.check(self._blob_at + self._block_at[b0], self._blob_at + self._block_at[b1])
        return self._blocks(b0, b1).counts.astype(np.int64)[start - BLOCK * b0 : end - BLOCK * b0]

    def _blocks(self, b0: int, b1: int) -> _Blocks:
        """Blocks ``b0`` to ``b1 - 1`` and their keys' counts (pages checked by the caller)."""
        block_at = np.array(self._block_at[b0 : b1 + 1], np.int64)
        if block_at[-1] > len(self._blob) or (np.diff(block_at) < 2).any():
            raise DamagedFile("term dictionary: blocks out of order")
        lo = int(block_at[0])
        words = word_view(self._blob, lo, int(block_at[-1]))
        heads = np.frombuffer(self._blob, np.uint8)
        cw = heads[block_at[:-1]].astype(np.int64)
        if (cw > 32).any():
            raise DamagedFile("term dictionary: a width out of range")
        sizes = np.minimum(BLOCK, self.n - BLOCK * np.arange(b0, b1, dtype=np.int64))
        blk = np.repeat(np.arange(b1 - b0), sizes)
        j = np.arange(len(blk)) - blk * BLOCK
        counts = unpack(words, 0, cw[blk], 8 * (block_at[:-1] - lo + 2)[blk] + j * cw[blk])
        return _Blocks(block_at, lo, words, heads, cw, sizes, blk, j, counts)

    @_bounded
    def _record(self, i: int, want_count: bool = True) -> tuple[int, int, int]:
        b, j = divmod(i, BLOCK)
        size, cw, rw, rec, _kat = self._block(b)
        blob = self._blob
        count = 0
        if want_count and cw:
            bit = j * cw
            raw = int.from_bytes(blob[rec + (bit >> 3) : rec + (bit >> 3) + 5], "little")
            count = (raw >> (bit & 7)) & ((1 << cw) - 1)
        rat = rec + ((size * cw + 7) >> 3)
        rel = nxt = 0
        if rw:
            bit = j * rw
            raw = int.from_bytes(blob[rat + (bit >> 3) : rat + (bit >> 3) + 13], "little")
            raw >>= bit & 7
            mask = (1 << rw) - 1
            rel = raw & mask
            nxt = (raw >> rw) & mask
        base = self._bases[b]
        if j + 1 < size:
            end = base + nxt
        else:
            end = self._bases[b + 1]
        start = base + rel
        if end < start:
            raise DamagedFile("term dictionary: a record out of order")
        return start, end - start, count

    def extent(self, i: int) -> tuple[int, int]:
        """(offset, length) of key ``i``'s data."""
        start, length, _count = self._record(i, False)
        return start, length

    def entry(self, i: int) -> tuple[int, int, int]:
        """(offset, length, count) of key ``i``."""
        return self._record(i)

    def count(self, i: int) -> int:
        """Key ``i``'s count (for terms: its document frequency)."""
        return self._record(i)[2]

    def key(self, i: int) -> bytes:
        """Key number ``i``."""
        b, j = divmod(i, BLOCK)
        return self._block_keys(b, j + 1)[j]

    @_bounded
    def _block_keys(self, b: int, upto: int = BLOCK) -> list[bytes]:
        """The keys of block ``b`` (its first ``upto``)."""
        size, _cw, _rw, _rec, at = self._block(b)
        blob = self._blob
        out = []
        prev = b""
        for _ in range(min(size, upto)):
            h = blob[at]
            if h != LONG_KEY:  # the common case, without a call
                shared, length = h >> 4, h & 15
                at += 1
            else:
                shared, length, at = _head(blob, at)
            prev = prev[:shared] + bytes(blob[at : at + length])
            at += length
            out.append(prev)
        return out

    def key_list(self, rows: np.ndarray | None = None) -> list[bytes]:
        """The keys numbered ``rows`` (all by default)."""
        if rows is None:
            out: list[bytes] = []
            for b in range(self.nb):
                out += self._block_keys(b)
            return out
        numbers = rows.tolist()
        need: dict[int, int] = {}  # per block, how many of its keys are read
        for i in numbers:
            b, j = divmod(i, BLOCK)
            if need.get(b, 0) <= j:
                need[b] = j + 1
        got = {b: self._block_keys(b, upto) for b, upto in need.items()}
        return [got[i // BLOCK][i % BLOCK] for i in numbers]

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every key's count, and its data's offset and length, as arrays: all blocks
        read at once (each checked first, while reads are checked)."""
        pages = self._pages
        if pages is not None:
            self._check_index(pages)
            pages.check(self._blob_at, self._blob_at + len(self._blob))
        nb, n = self.nb, self.n
        at, lo, words, heads, cw, sizes, blk, j, counts = self._blocks(0, nb)
        rw = heads[at[:-1] + 1].astype(np.int64)
        if (rw > 32).any():
            raise DamagedFile("term dictionary: a width out of range")
        rstart = at[:-1] + 2 + ((sizes * cw + 7) >> 3) - lo
        rels = unpack(words, 0, rw[blk], 8 * rstart[blk] + j * rw[blk])
        bases = np.array(self._bases, np.int64)
        offsets = bases[blk] + rels.astype(np.int64)
        ends = np.empty(n, np.int64)
        ends[:-1] = offsets[1:]
        ends[BLOCK * np.arange(1, nb) - 1] = bases[1:nb]
        ends[-1] = bases[nb]
        lengths = ends - offsets
        if (lengths < 0).any():
            raise DamagedFile("term dictionary: records out of order")
        return counts.astype(np.int64), offsets, lengths

    def counts(self) -> np.ndarray:
        """Every key's count (for terms: document frequencies), as an array."""
        return self._columns()[0]

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(counts, offsets, lengths) of every key, as arrays."""
        return self._columns()
