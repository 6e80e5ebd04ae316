"""What a term's postings block holds, and how it is written and read as arrays.

A term's postings in a segment are one block: a head (magic, number of postings, whether
positions follow), then raw little-endian arrays: document numbers (``uint32``), term
frequencies (``float32``) and, for fields with positions, an offsets array (``uint32``,
n + 1) into a flat ``uint32`` positions array. Whoosh's W3 codec pickles each block of
128 postings as Python ints instead; these are read with ``numpy.frombuffer``.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import Any

import numpy as np
from whoosh.formats import Positions

from vnsearch.errors import DamagedFile

__all__ = [
    "BLOCK_HEAD",
    "FORMAT_MAGIC",
    "PostingArrays",
    "RawPositions",
    "block_parts",
    "block_sizes",
    "field_blocks",
    "join_blocks",
    "pack_block",
    "postings_arrays",
]

FORMAT_MAGIC = b"VNP2"
# magic, number of postings, has positions, 3 bytes of padding: every block's length is a
# multiple of 4, so its arrays stay 4-aligned in the file (and in memory: see VnSegment)
BLOCK_HEAD = struct.Struct("<4sIB3x")
assert array("I").itemsize == 4 and array("f").itemsize == 4 and sys.byteorder == "little"
_U4 = np.dtype("<u4")
_F4 = np.dtype("<f4")


class RawPositions(Positions):
    """Positions stored as raw ``uint32`` bytes (not Whoosh's pickled deltas)."""

    def encode(self, poslist: list[int]) -> bytes:
        return array("I", poslist).tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        out = array("I")
        out.frombytes(valuestring)
        return out.tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

    def combine(self, vs: list[bytes]) -> bytes:
        s: set[int] = set()
        for v in vs:
            s.update(self.decode_positions(v))
        return self.encode(sorted(s))


class PostingArrays:
    """A term's postings in one segment, as numpy arrays (views into the file's bytes)."""

    __slots__ = ("_data", "_pos_at", "docs", "freqs", "has_positions", "positions_check")

    def __init__(self, data: bytes | memoryview) -> None:
        magic, n, has_positions = BLOCK_HEAD.unpack_from(data, 0)
        if magic != FORMAT_MAGIC:
            raise DamagedFile("not a vnsearch postings block")
        off = BLOCK_HEAD.size
        if len(data) < off + 8 * n:
            raise DamagedFile(f"postings block of {len(data)} bytes for {n} postings")
        # positional arguments: numpy parses keywords more slowly than it reads the block
        self.docs = np.frombuffer(data, _U4, n, off)
        self.freqs = np.frombuffer(data, _F4, n, off + 4 * n)
        self.has_positions = bool(has_positions)
        self._data = data
        self._pos_at = off + 8 * n
        # with checksums: ``(checks, start, end)``, the positions' bytes in the segment
        # file, checked when first read (most searches read no positions)
        self.positions_check: tuple[Any, int, int] | None = None

    def all_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(offsets, flat positions): posting ``i`` has ``flat[offsets[i]:offsets[i+1]]``."""
        pending = self.positions_check
        if pending is not None:
            pending[0].check(pending[1], pending[2])
            self.positions_check = None
        n = len(self.docs)
        offsets = np.frombuffer(self._data, _U4, n + 1, self._pos_at)
        base = self._pos_at + 4 * (n + 1)
        flat = np.frombuffer(self._data, _U4, int(offsets[-1]), base)
        return offsets, flat


def block_parts(
    docs: bytes, weights: bytes, offsets: bytes | None = None, positions: Iterable[bytes] = ()
) -> list[bytes]:
    """A postings block, as the byte strings to write one after another: the one encoder
    of the layout, for a single term (:func:`pack_block`) and a whole field
    (:func:`field_blocks`).

    ``docs`` are the ``uint32`` document numbers and ``weights`` the ``float32``
    frequencies of its ``n`` postings; a field with positions adds ``offsets`` (``n + 1``
    ``uint32``, from 0) into the ``uint32`` positions, given in pieces.

    >>> block = b"".join(block_parts(array("I", [3, 7]).tobytes(), array("f", [1, 2]).tobytes()))
    >>> arrays = PostingArrays(block)
    >>> arrays.docs.tolist(), arrays.freqs.tolist(), arrays.has_positions
    ([3, 7], [1.0, 2.0], False)
    """
    parts = [BLOCK_HEAD.pack(FORMAT_MAGIC, len(docs) >> 2, offsets is not None), docs, weights]
    if offsets is not None:
        parts.append(offsets)
        parts.extend(positions)
    return parts


def block_sizes(df: Any, npos: Any = None) -> Any:
    """The length in bytes of blocks of ``df`` postings holding ``npos`` positions in all
    (arrays or ints); without ``npos``, of their head, documents and frequencies only."""
    sizes = BLOCK_HEAD.size + 8 * df
    if npos is not None:
        sizes += 4 * (df + 1) + 4 * npos
    return sizes


def pack_block(ids: array, weights: array, values: list[bytes], positions: bool) -> bytes:
    """One postings block from Whoosh's postings one at a time: ``ids`` is ``array("I")``,
    ``weights`` ``array("f")``, ``values`` each posting's raw positions.

    >>> block = pack_block(array("I", [3, 7]), array("f", [1, 2]),
    ...                    [RawPositions().encode([0, 5]), RawPositions().encode([2])], True)
    >>> offsets, flat = PostingArrays(block).all_positions()
    >>> offsets.tolist(), flat.tolist()
    ([0, 2, 3], [0, 5, 2])
    """
    offsets = None
    if positions:
        starts = array("I", [0])
        starts.extend(accumulate(len(v) >> 2 for v in values))
        offsets = starts.tobytes()
    return b"".join(block_parts(ids.tobytes(), weights.tobytes(), offsets, values))


def field_blocks(
    starts: np.ndarray,
    docs: np.ndarray,
    weights: np.ndarray,
    pos_starts: np.ndarray | None = None,
    positions: np.ndarray | None = None,
) -> Iterator[bytes]:
    """The postings blocks of a field's terms, in order, joined in chunks of a few
    thousand: term ``i`` has postings ``starts[i]:starts[i+1]`` of ``docs`` and
    ``weights`` (``float32``), and with ``pos_starts``, posting ``j`` the positions
    ``positions[pos_starts[j]:pos_starts[j+1]]``. Their lengths are :func:`block_sizes`.

    >>> starts, docs = np.array([0, 2, 3]), np.array([3, 7, 1])
    >>> blob = b"".join(field_blocks(starts, docs, np.array([1, 2, 1], np.float32)))
    >>> size = int(block_sizes(2))
    >>> PostingArrays(blob[:size]).docs.tolist(), PostingArrays(blob[size:]).docs.tolist()
    ([3, 7], [1])
    """
    dbytes = docs.astype("<u4", copy=False).tobytes()
    wbytes = weights.astype("<f4", copy=False).tobytes()
    st = starts.tolist()
    chunk: list[bytes] = []
    if pos_starts is not None and positions is not None:
        pbytes = positions.astype("<u4", copy=False).tobytes()
        pst = pos_starts.tolist()
        for a, b in zip(st, st[1:]):
            offsets = (pos_starts[a : b + 1] - pst[a]).astype("<u4").tobytes()
            where = slice(4 * a, 4 * b)
            chunk += block_parts(
                dbytes[where], wbytes[where], offsets, (pbytes[4 * pst[a] : 4 * pst[b]],)
            )
            if len(chunk) > 4096:
                yield b"".join(chunk)
                chunk = []
    else:
        for a, b in zip(st, st[1:]):
            chunk += block_parts(dbytes[4 * a : 4 * b], wbytes[4 * a : 4 * b])
            if len(chunk) > 4096:
                yield b"".join(chunk)
                chunk = []
    if chunk:
        yield b"".join(chunk)


def join_blocks(
    raw: bytes, offsets: list[int], counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The postings of consecutive blocks, joined: ``(docs, weights, npos, positions)``,
    ``npos`` the number of positions of each posting (zeros, and ``positions`` None,
    without positions). Block ``i`` starts at ``raw[offsets[i]]`` and holds ``counts[i]``
    postings. Each block is cut into its arrays by byte slicing, and each kind of array
    joined at once: no Python object per posting.

    >>> raw = b"".join(field_blocks(np.array([0, 2, 3]), np.array([3, 7, 1]),
    ...                             np.array([1, 2, 1], np.float32)))
    >>> at = [0, int(block_sizes(2))]
    >>> docs, weights, npos, positions = join_blocks(raw, at, np.array([2, 1]))
    >>> docs.tolist(), weights.tolist(), npos.tolist(), positions
    ([3, 7, 1], [1.0, 2.0, 1.0], [0, 0, 0], None)
    """
    h = BLOCK_HEAD.size
    positional = bool(BLOCK_HEAD.unpack_from(raw)[2])
    docs, freqs, starts, flats = [], [], [], []
    for off, n in zip(offsets, counts.tolist()):
        at = off + h
        docs.append(raw[at : at + 4 * n])
        freqs.append(raw[at + 4 * n : at + 8 * n])
        if positional:
            pat = at + 8 * n
            starts.append(raw[pat : pat + 4 * (n + 1)])
            total = int.from_bytes(raw[pat + 4 * n : pat + 4 * (n + 1)], "little")
            flats.append(raw[pat + 4 * (n + 1) : pat + 4 * (n + 1) + 4 * total])
    all_docs = np.frombuffer(b"".join(docs), dtype=_U4)
    weights = np.frombuffer(b"".join(freqs), dtype=_F4)
    if not positional:
        return all_docs, weights, np.zeros(len(all_docs), np.uint32), None
    # each term's offsets array has n + 1 entries: the diffs inside it are the counts
    bounds = np.frombuffer(b"".join(starts), dtype=_U4).astype(np.int64)
    inside = np.ones(len(bounds) - 1, dtype=bool)
    inside[np.cumsum(counts + 1)[:-1] - 1] = False
    npos = np.diff(bounds)[inside].astype(np.uint32)
    return all_docs, weights, npos, np.frombuffer(b"".join(flats), _U4)


def postings_arrays(postfile: Any, terminfo: Any) -> PostingArrays:
    """Read a term's postings block (given its Whoosh ``TermInfo``) as numpy arrays."""
    offset, length = terminfo.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps struct.unpack's tuple
        length = length[0]
    return PostingArrays(postfile.get(offset, length))
