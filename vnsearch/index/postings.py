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


# Whoosh pickles the schema, each field's format with it, into the table of contents:
# existing indexes name this class vnsearch.index.codec.RawPositions (the codec imports
# it), and new ones keep doing so, byte for byte (an older vnsearch opens them too)
RawPositions.__module__ = "vnsearch.index.codec"


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


def pack_block(ids: array, weights: array, values: list[bytes], positions: bool) -> bytes:
    """One postings block; ``ids`` is ``array("I")`` and ``weights`` ``array("f")``."""
    parts = [BLOCK_HEAD.pack(FORMAT_MAGIC, len(ids), positions), ids.tobytes(), weights.tobytes()]
    if positions:
        offsets = array("I", [0])
        offsets.extend(accumulate(len(v) >> 2 for v in values))
        parts.append(offsets.tobytes())
        parts.extend(values)
    return b"".join(parts)


def postings_arrays(postfile: Any, terminfo: Any) -> PostingArrays:
    """Read a term's postings block (given its Whoosh ``TermInfo``) as numpy arrays."""
    offset, length = terminfo.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps struct.unpack's tuple
        length = length[0]
    return PostingArrays(postfile.get(offset, length))
