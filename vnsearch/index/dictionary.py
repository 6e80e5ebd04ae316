"""How term dictionaries and spellings are laid out: front-coded blocks of sorted keys.

Format 3. A dictionary file holds, per field, its keys in byte order in blocks of
:data:`BLOCK` keys, and per key a record (where its data starts, how long it is, a count:
for terms, where the postings block is and the document frequency). The records of a
field lie one after another (each starts where the one before ends), so a block keeps the
start of its first, and each key its distance from it.

* ``prefixes``: per block, the first key's first 8 bytes as a big-endian number: a
  binary search over them (``bisect`` on the mapped array) finds the block of a key;
* ``block_at``, ``bases``: per block (and one past the last), where it starts in the
  blob, and where its first record's data starts;
* the blob, per block: two width bytes, the counts and distances bit-packed
  (:mod:`vnsearch.index.bitpack`) in them, then each key as the length it shares with the
  key before it, the length of the rest, and the rest (front coding).

A key costs its new bytes and two, a record a few bits: a news segment's millions of terms
(bigram views multiply them) take a few bytes each. A lookup is a binary search and a scan
of one block that skips keys sharing more with the one before than the key sought does.
It is read in place (zero-copy on the memory-mapped compound segment); with the segment
file's checksums, every block is checked before it is read.

>>> field = DictionaryField("body")
>>> field.add(b"ha", 0, 24, 2)
>>> field.add(b"noi", 24, 16, 1)
>>> len(b"".join(dictionary_chunks([field]))) % 8
0

:mod:`vnsearch.index.field_terms` reads it.
"""

from __future__ import annotations

import json
import struct
from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from vnsearch.index.bitpack import bit_lengths, pack_into, ranks

__all__ = [
    "BLOCK",
    "LONG_KEY",
    "MAGIC",
    "DictionaryField",
    "PackedKeys",
    "dictionary_chunks",
    "key_prefix",
]

MAGIC = b"VNT3"
BLOCK = 16  # keys per block
# A key's head: one byte ``shared << 4 | length`` when both are below 15; else
# ``LONG_KEY``, the shared length (a byte) and the length (a byte, or 255 and a uint32)
LONG_KEY = 0xFF


class PackedKeys:
    """Keys (``bytes``) held as one buffer of their bytes and where each ends: a field's
    millions of keys, kept until its segment's dictionaries are written, cost their
    bytes and 8 more each, not a ``bytes`` object and a list slot each (~60 more). Reads
    (an index, a slice, iteration) give ``bytes``.

    >>> keys = PackedKeys(); keys.extend([b"ha", b"hai"]); keys.append(b"noi")
    >>> len(keys), keys[1], keys[-1], keys[1:], list(keys) == [b"ha", b"hai", b"noi"]
    (3, b'hai', b'noi', [b'hai', b'noi'], True)
    """

    __slots__ = ("_blob", "_ends")

    def __init__(self) -> None:
        self._blob = bytearray()
        self._ends = array("q")

    def extend(self, keys: Iterable[bytes]) -> None:
        keys = list(keys)
        at = len(self._blob)
        self._blob += b"".join(keys)
        ends = accumulate(map(len, keys), initial=at)
        next(ends)
        self._ends.extend(ends)

    def append(self, key: bytes) -> None:
        self._blob += key
        self._ends.append(len(self._blob))

    @classmethod
    def of(cls, keys: Iterable[bytes]) -> PackedKeys:
        """``keys`` packed (a ``PackedKeys`` as it is)."""
        if isinstance(keys, PackedKeys):
            return keys
        packed = cls()
        packed.extend(keys)
        return packed

    def bytes_of(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Keys ``a`` to ``b - 1``: their bytes one after another (a copy) and lengths."""
        if b <= a:
            return np.empty(0, np.uint8), np.empty(0, np.int64)
        # slices of the array and the buffer are copies: nothing holds on to them (they
        # could not grow again while a view of them lived)
        ends = np.frombuffer(self._ends[a:b], np.int64)
        start = self._ends[a - 1] if a else 0
        raw = np.frombuffer(self._blob[start : int(ends[-1])], np.uint8)
        return raw, np.diff(ends, prepend=start)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: Any) -> Any:
        ends, blob = self._ends, self._blob
        if isinstance(i, slice):
            a, b, step = i.indices(len(ends))
            if step != 1:
                raise ValueError("PackedKeys: slices of consecutive keys only")
            if b <= a:
                return []
            starts = ends[a - 1 : b - 1] if a else [0, *ends[: b - 1]]
            with memoryview(blob) as view:  # released: the buffer may grow again
                return [view[s:e].tobytes() for s, e in zip(starts, ends[a:b])]
        i = range(len(ends))[i]  # negative numbers count from the end; IndexError past it
        return bytes(blob[ends[i - 1] if i else 0 : ends[i]])

    def __iter__(self) -> Iterator[bytes]:
        for a in range(0, len(self._ends), 1 << 16):
            yield from self[a : a + (1 << 16)]


class DictionaryField:
    """One field of a dictionary being written: its keys, sorted, and per key its record
    (offset, length, count), as lists or arrays."""

    __slots__ = (
        "counts_", "keys", "lengths", "name", "offsets", "positions", "positions_from",
        "postings_from",
    )  # fmt: skip

    def __init__(self, name: str, positions: bool = False) -> None:
        self.name = name
        self.positions = positions  # for terms: whether the postings hold positions
        # or, for a field whose positions are not stored, the field they are read from
        self.positions_from: str | None = None
        # for a field whose postings are not stored (records of length 0), the field
        # they are derived from (see :mod:`vnsearch.index.variants`)
        self.postings_from: str | None = None
        self.keys: Any = PackedKeys()  # or, ``from_arrays``, a list
        self.offsets: Any = []
        self.lengths: Any = []
        self.counts_: Any = []

    @classmethod
    def from_arrays(
        cls,
        name: str,
        keys: PackedKeys | list[bytes],
        offsets: Any,
        lengths: Any,
        counts: Any,
        positions: bool = False,
    ) -> DictionaryField:
        """A field from its keys and its records' columns, each as long as ``keys``."""
        field = cls(name, positions)
        field.keys, field.offsets, field.lengths, field.counts_ = keys, offsets, lengths, counts
        return field

    def add(self, key: bytes, offset: int, length: int, count: int) -> None:
        """Append a key (keys are added in sorted order) and its record."""
        self.keys.append(key)
        self.offsets.append(offset)
        self.lengths.append(length)
        self.counts_.append(count)

    def counts(self) -> np.ndarray:
        """The count of each key (for terms: its document frequency)."""
        return np.asarray(self.counts_, dtype=np.int64)


def key_prefix(key: bytes) -> int:
    """A key's first 8 bytes as a big-endian number: the order of keys, but for ties.

    >>> key_prefix(b"ab") < key_prefix(b"b"), key_prefix(b"abcdefgh1") == key_prefix(b"abcdefgh2")
    (True, True)
    """
    return int.from_bytes(key[:8].ljust(8, b"\0"), "big")


def _field_arrays(fb: DictionaryField) -> dict[str, bytes]:
    keys = PackedKeys.of(fb.keys)
    n = len(keys)
    offsets = np.asarray(fb.offsets, np.int64)
    lengths = np.asarray(fb.lengths, np.int64)
    counts = np.asarray(fb.counts_, np.int64)
    if n > 1 and (offsets[1:] != offsets[:-1] + lengths[:-1]).any():
        raise ValueError("a dictionary's records must follow one another")
    nb = -(-n // BLOCK)
    firsts = np.arange(nb) * BLOCK
    rels = offsets - np.repeat(offsets[firsts], BLOCK)[:n]
    cw = np.maximum.reduceat(bit_lengths(counts), firsts)
    rw = np.maximum.reduceat(bit_lengths(rels), firsts)
    if n and max(int(cw.max()), int(rw.max())) > 32:
        raise ValueError("a count or a block of records over 2**32")
    shared = _shared_lengths(keys)
    shared[firsts] = 0
    parts, prefixes = [], []
    block_at = [0]
    for b0 in range(0, nb, _CHUNK_BLOCKS):  # a bounded number of keys' arrays at a time
        b1 = min(nb, b0 + _CHUNK_BLOCKS)
        k0, k1 = BLOCK * b0, min(n, BLOCK * b1)
        raw, lens = keys.bytes_of(k0, k1)
        blob, at = _blocks(
            raw, lens, shared[k0:k1], counts[k0:k1], rels[k0:k1], cw[b0:b1], rw[b0:b1]
        )
        parts.append(blob)
        block_at.extend((block_at[-1] + at[1:]).tolist())
        # each block's first key's first 8 bytes, big-endian (``key_prefix``)
        heads = _leading(raw, lens, 8, BLOCK).astype(np.uint64)
        prefixes.append((heads << np.arange(56, -1, -8, dtype=np.uint64)).sum(axis=1))
    bases = np.zeros(nb + 1, np.uint64)
    bases[:nb] = offsets[firsts]
    bases[nb] = int(offsets[-1] + lengths[-1]) if n else 0
    prefixes = np.concatenate(prefixes) if prefixes else np.empty(0, np.uint64)
    return {
        "prefixes": prefixes.astype("<u8").tobytes(),  # read as native: little-endian only
        "block_at": np.array(block_at, _offsets_type(block_at[-1])).tobytes(),
        "bases": bases.astype(_offsets_type(int(bases[-1]))).tobytes(),
        "blocks": b"".join(parts),
    }


_CHUNK_BLOCKS = 1 << 14  # blocks written at once (their keys' arrays: a few MB)
_CHUNK_KEYS = 1 << 16  # keys compared at once by ``_shared_lengths``


def _blocks(
    raw: np.ndarray,
    lens: np.ndarray,
    shared: np.ndarray,
    counts: np.ndarray,
    rels: np.ndarray,
    cw: np.ndarray,
    rw: np.ndarray,
) -> tuple[bytes, np.ndarray]:
    """Consecutive blocks (the first key of each ``shared`` 0), as bytes, and where each
    starts in them (and the last ends): per block its two widths, its keys' counts and
    distances bit-packed, each key's head and new bytes. The keys are ``raw`` (their bytes
    one after another) and their ``lens``. Numpy over every key at once: no Python
    object per key."""
    n, nb = len(lens), len(cw)
    sizes = np.minimum(BLOCK, n - BLOCK * np.arange(nb))
    blk = np.repeat(np.arange(nb), sizes)
    j = np.arange(n) - BLOCK * blk
    rest = lens - shared
    small = (shared < 15) & (rest < 15)
    head = np.where(small, 1, np.where(rest < 255, 3, 7))
    entry = head + rest
    before = np.cumsum(entry) - entry  # entry bytes before each key, from the first block
    ebytes = np.add.reduceat(entry, BLOCK * np.arange(nb))
    cbytes, rbytes = (cw * sizes + 7) >> 3, (rw * sizes + 7) >> 3
    at = np.zeros(nb + 1, np.int64)
    np.cumsum(2 + cbytes + rbytes + ebytes, out=at[1:])
    out = np.zeros(int(at[-1]) + 8, np.uint8)  # 8 spare bytes: packing writes past a stream
    out[at[:-1]], out[at[:-1] + 1] = cw, rw
    cstart = at[:-1] + 2
    pack_into(out, 8 * cstart[blk] + j * cw[blk], counts)
    pack_into(out, 8 * (cstart + cbytes)[blk] + j * rw[blk], rels)
    eat = (cstart + cbytes + rbytes)[blk] + before - before[BLOCK * blk]
    out[eat[small]] = (shared[small] << 4) | rest[small]
    long = np.flatnonzero(~small)
    out[eat[long]], out[eat[long] + 1] = LONG_KEY, shared[long]
    out[eat[long] + 2] = np.minimum(rest[long], 255)
    huge = long[rest[long] >= 255]  # the length as a uint32 after 255
    for byte in range(4):
        out[eat[huge] + 3 + byte] = (rest[huge] >> (8 * byte)) & 0xFF
    within = ranks(rest)
    src = np.repeat(np.cumsum(lens) - lens + shared, rest) + within
    out[np.repeat(eat + head, rest) + within] = raw[src]
    return out[:-8].tobytes(), at


def _offsets_type(largest: int) -> str:
    """The type of an array of offsets up to ``largest``: 4 bytes each when they fit."""
    return "<u4" if largest < 1 << 32 else "<u8"


def _leading(raw: np.ndarray, lens: np.ndarray, width: int, step: int = 1) -> np.ndarray:
    """The first ``width`` bytes of every ``step``-th key, zeros past its end: a row per
    key (the keys' bytes are ``raw``, one after another; their lengths ``lens``)."""
    starts = (np.cumsum(lens) - lens)[::step]
    lens = lens[::step]
    cols = np.arange(width)
    padded = np.concatenate((raw, np.zeros(width, np.uint8)))
    grid = padded[starts[:, None] + cols]
    grid[cols >= lens[:, None]] = 0
    return grid


def _shared_lengths(keys: PackedKeys, width: int = 24) -> np.ndarray:
    """How many leading bytes each key shares with the one before (at most 255).

    >>> _shared_lengths(PackedKeys.of([b"ha", b"hai", b"han", b"noi"])).tolist()
    [0, 2, 2, 0]
    """
    n = len(keys)
    out = np.zeros(n, np.int64)
    if n < 2:
        return out
    # a grid of the keys' first ``width`` bytes, a bounded number of keys at a time (a
    # field's whole grid and its comparisons took ~3 x 24 bytes a key at once)
    for a in range(1, n, _CHUNK_KEYS):
        b = min(n, a + _CHUNK_KEYS)
        raw, lens = keys.bytes_of(a - 1, b)
        grid = _leading(raw, lens, width)
        differ = grid[1:] != grid[:-1]
        first = np.where(differ.any(axis=1), differ.argmax(axis=1), width)
        out[a:b] = np.minimum(first, np.minimum(lens[1:], lens[:-1]))
    for i in np.flatnonzero(out[1:] == width).tolist():  # longer shared parts
        a, b = keys[i], keys[i + 1]
        top, m = min(len(a), len(b), 255), width
        while m < top and a[m] == b[m]:
            m += 1
        out[i + 1] = m
    return out


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
        arrays = _field_arrays(fb)
        spec: dict[str, Any] = {"n": len(fb.keys), "nb": -(-len(fb.keys) // BLOCK)}
        nb = spec["nb"]
        spec["block_at_size"] = len(arrays["block_at"]) // (nb + 1)
        spec["bases_size"] = len(arrays["bases"]) // (nb + 1)
        if fb.positions:
            spec["positions"] = True
        if fb.positions_from is not None:
            spec["positions_from"] = fb.positions_from
        if fb.postings_from is not None:
            spec["postings_from"] = fb.postings_from
        for name, raw in arrays.items():
            spec[name] = put(raw)
        spec["end"] = at
        header[fb.name] = spec
    if extra:
        header["extra"] = put(extra)
    head = json.dumps(header).encode("utf-8")
    pad = (-(8 + len(head))) % 8
    return [MAGIC + struct.pack("<I", len(head) + pad) + head + b" " * pad, *chunks]
