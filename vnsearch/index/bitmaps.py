"""Dense postings lists: a term's documents as one bit per document, where that is smaller.

The syllables that make Vietnamese sentences (``của``, ``và``, ``là``, ``có``,
``được``) are in most documents of a news collection. Their documents cost fewer bytes
as a bitmap than as packed gaps (a gap of 1-3 still takes 2 bits and its chunk's width
byte), and numpy reads a bitmap in two passes (its bits unpacked, the set ones
numbered) instead of reading every gap and summing them: ~2 ns a document instead of
~12. The writer (:func:`~vnsearch.index.encode.encode_blocks`) chooses, per list of
more than a chunk, whichever of the two forms is smaller.

A bitmap's bytes, where the packed documents would be (see
:mod:`~vnsearch.index.postings`): ``lo`` and ``size`` (``uint32``, little-endian), then
``size`` bytes; bit ``k`` of them (least significant first) says whether document
``8 * lo + k`` holds the term.

>>> out = np.zeros(HEAD + 2, np.uint8)  # documents 8 to 23: two bytes
>>> write_bitmaps(out, np.array([0]), np.array([9, 10, 23]), np.array([3]))
>>> docs, end = read_bitmap(out.tobytes(), 0, 3)
>>> docs.tolist(), end, out[HEAD:].tolist()
([9, 10, 23], 10, [6, 128])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vnsearch.errors import DamagedFile
from vnsearch.index.bitpack import ranks

__all__ = [
    "BITMAP", "HEAD", "bitmap_bytes", "bitmap_sizes", "read_bitmap", "read_bitmaps",
    "write_bitmaps",
]  # fmt: skip

BITMAP = 0xFF  # in place of the first document's width: the documents are a bitmap
HEAD = 8  # ``lo`` and ``size``


def bitmap_bytes(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The bytes of the bitmaps of lists whose documents run from ``first`` to ``last``."""
    return HEAD + (last >> 3) - (first >> 3) + 1


def write_bitmaps(out: np.ndarray, at: np.ndarray, docs: np.ndarray, counts: np.ndarray) -> None:
    """Write the bitmaps of lists into ``out`` (``uint8``, zeros there): list ``i`` at
    byte ``at[i]``, its ``counts[i]`` documents (increasing) the next of ``docs``."""
    if not len(at):
        return
    starts = np.cumsum(counts) - counts
    lo = docs[starts] >> 3
    size = (docs[starts + counts - 1] >> 3) - lo + 1
    head = np.empty((len(at), 2), "<u4")
    head[:, 0], head[:, 1] = lo, size
    out[np.repeat(at, HEAD) + np.tile(np.arange(HEAD), len(at))] = head.view(np.uint8).ravel()
    before = np.cumsum(size) - size  # each bitmap's first byte among all of them
    bits = np.zeros(8 * int(size.sum()), bool)
    bits[np.repeat(8 * (before - lo), counts) + docs] = True
    out[np.repeat(at + HEAD, size) + ranks(size)] = np.packbits(bits, bitorder="little")


def read_bitmap(data: Any, at: int, n: int) -> tuple[np.ndarray, int]:
    """The ``n`` documents (``uint32``) of the bitmap at byte ``at`` of ``data``, and
    where it ends."""
    if len(data) < at + HEAD:
        raise DamagedFile("postings block: its bitmap cut short")
    lo = int.from_bytes(data[at : at + 4], "little")
    size = int.from_bytes(data[at + 4 : at + HEAD], "little")
    end = at + HEAD + size
    if len(data) < end:
        raise DamagedFile(f"postings block of {len(data)} bytes, {end} needed")
    if 8 * (lo + size) > 1 << 32:
        raise DamagedFile("postings block: a document number over 2**32")
    bits = np.unpackbits(np.frombuffer(data, np.uint8, size, at + HEAD), bitorder="little")
    docs = bits.view(bool).nonzero()[0]
    if len(docs) != n:
        raise DamagedFile(f"postings block: a bitmap of {len(docs)} documents for {n}")
    out = docs.astype(np.uint32)
    out += np.uint32(8 * lo)
    return out, end


def bitmap_sizes(heads: np.ndarray, end: int, at: np.ndarray) -> np.ndarray:
    """The bytes (with their heads) of the bitmaps at bytes ``at`` of ``heads`` (``uint8``,
    its bytes from ``end`` on not the lists')."""
    return HEAD + _heads(heads, end, at)[1]


def _heads(heads: np.ndarray, end: int, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(at) and int(at.max()) + HEAD > end:
        raise DamagedFile("postings blocks: a bitmap past the end")
    lo = heads[at[:, None] + np.arange(4)].view("<u4")[:, 0].astype(np.int64)
    size = heads[at[:, None] + np.arange(4, 8)].view("<u4")[:, 0].astype(np.int64)
    if len(at) and int((at + HEAD + size).max()) > end:
        raise DamagedFile("postings blocks: a bitmap past the end")
    if len(at) and int((lo + size).max()) > 1 << 29:
        raise DamagedFile("postings blocks: a document number over 2**32")
    return lo, size


def read_bitmaps(heads: np.ndarray, end: int, at: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The documents (``int64``) of the bitmaps at bytes ``at`` of ``heads`` (``uint8``,
    its bytes from ``end`` on not the lists'), one list after another, ``counts[i]`` in
    list ``i``."""
    lo, size = _heads(heads, end, at)
    bits = np.unpackbits(heads[np.repeat(at + HEAD, size) + ranks(size)], bitorder="little")
    found = bits.view(bool).nonzero()[0]
    before = np.cumsum(size) - size  # each bitmap's first byte among all of them
    which = np.searchsorted(8 * before, found, "right") - 1
    if not np.array_equal(np.bincount(which, minlength=len(at)), counts):
        raise DamagedFile("postings blocks: a bitmap of another number of documents")
    return found - 8 * (before - lo)[which]
