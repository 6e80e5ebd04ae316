"""How integers are packed into bits: little-endian bit streams, written and read by numpy.

Postings and term dictionaries store runs of small unsigned integers (gaps between
document numbers, frequencies, positions, counts) each in as many bits as its group
needs. A stream is the values one after another, value ``i`` at bit ``bitpos[i]``
(least significant bit first), ``widths[i]`` bits wide, at most 32. Both directions work
on whole arrays, without a Python loop per value:

* :func:`pack` ors each value's bytes into the output, the values that start in one
  byte or-ed together first (values never share a bit);
* :func:`unpack` reads 8 bytes at each value's first byte (a ``uint64`` view with a stride
  of one byte over a copy padded with 8 zero bytes), shifts and masks.

>>> widths = np.array([3, 1, 5])
>>> raw = pack(np.array([5, 1, 17]), widths)
>>> unpack(raw, 0, widths).tolist(), len(raw)
([5, 1, 17], 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "bit_lengths", "group_max", "in_document", "offsets_within", "pack", "pack_into", "ranks",
    "unpack", "word_view",
]  # fmt: skip

_WORD = np.dtype("<u8")
_LANES = 5  # a value of at most 32 bits, shifted by at most 7, spans 5 bytes


def bit_lengths(values: np.ndarray) -> np.ndarray:
    """The number of bits of each value (0 for 0), as ``int64``; values below 2**53.

    >>> bit_lengths(np.array([0, 1, 2, 255, 256])).tolist()
    [0, 1, 2, 8, 9]
    """
    return np.frexp(values.astype(np.float64))[1].astype(np.int64)


def group_max(bits: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The largest of ``bits`` in each group (group ``g`` starts at ``starts[g]``, groups
    not empty, in order)."""
    if not len(starts):
        return np.empty(0, np.int64)
    return np.maximum.reduceat(bits, starts)


def pack_into(out: np.ndarray, bitpos: np.ndarray, values: np.ndarray) -> None:
    """Or ``values`` into the bytes ``out`` (``uint8``), value ``i`` starting at bit
    ``bitpos[i]`` (its width is what it needs: the caller checked the widths hold the
    values; ``bitpos`` does not decrease, as in a stream). ``out`` must have 4 spare bytes
    past the last byte written.

    The values that start in one byte are or-ed together first (they follow one another);
    then each of their bytes (``lane``) is or-ed into ``out`` at once for all of them:
    the first bytes are then distinct, so no two values land on one byte in one step.
    Work is per value and lane, none per byte of ``out``."""
    if not len(values):
        return
    byte = bitpos >> 3
    shifted = values.astype(np.uint64) << (bitpos & 7).astype(np.uint64)
    if len(byte) > 1:
        starts = np.flatnonzero(np.concatenate(([True], byte[1:] != byte[:-1])))
        if len(starts) < len(byte):
            shifted = np.bitwise_or.reduceat(shifted, starts)
            byte = byte[starts]
    lanes = (int(shifted.max()).bit_length() + 7) >> 3  # a value and its shift: <= 5
    for lane in range(lanes):
        part = (shifted >> np.uint64(8 * lane)).astype(np.uint8)  # its low byte
        at = byte + lane
        out[at] |= part


def pack(values: np.ndarray, widths: np.ndarray) -> bytes:
    """``values`` packed one after another, value ``i`` in ``widths[i]`` bits; the bytes
    of the stream (its last byte padded with zero bits)."""
    if not len(values):
        return b""
    widths = widths.astype(np.int64, copy=False)
    bitpos = np.cumsum(widths) - widths
    nbytes = (int(bitpos[-1] + widths[-1]) + 7) >> 3
    out = np.zeros(nbytes + _LANES, np.uint8)
    pack_into(out, bitpos, values)
    return out[:nbytes].tobytes()


def word_view(data: Any, start: int = 0, end: int | None = None, pad: int = 0) -> np.ndarray:
    """``data[start:end]`` copied with ``pad`` + 8 zero bytes after it, as ``uint64`` words
    at every byte (a view with a stride of one byte): word ``k`` holds bytes ``k..k+7``."""
    raw = np.frombuffer(data, np.uint8)[start:end]
    padded = np.zeros(len(raw) + pad + 8, np.uint8)
    padded[: len(raw)] = raw
    return np.ndarray((len(raw) + pad + 1,), dtype="<u8", buffer=padded, strides=(1,))


def unpack(
    data: Any, start_bit: int, widths: np.ndarray, bitpos: np.ndarray | None = None
) -> np.ndarray:
    """The values of a stream of ``data`` (bytes, or a :func:`word_view`) starting at bit
    ``start_bit``, value ``i`` ``widths[i]`` bits wide (at ``bitpos[i]`` from the start,
    when given), as ``uint64``."""
    words = data if isinstance(data, np.ndarray) and data.dtype == _WORD else word_view(data)
    widths = widths.astype(np.int64, copy=False)
    if bitpos is None:
        bitpos = np.cumsum(widths) - widths
    at = bitpos + start_bit
    got = words.take(at >> 3) >> (at & 7).astype(np.uint64)
    return got & ((np.uint64(1) << widths.astype(np.uint64)) - np.uint64(1))


def ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[0]-1, 0, 1, ..., counts[1]-1, ..."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


def offsets_within(widths: np.ndarray, starts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each value's bit offset from the start of its group's stream."""
    before = np.cumsum(widths) - widths
    return before - before[starts[:-1]][group] if len(widths) else before


def in_document(gaps: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Positions from their gaps, each document's run starting from 0, as ``uint32``:
    document ``i``'s gaps are ``gaps[offsets[i]:offsets[i+1]]``. The running sum over
    all documents may wrap around 2**32; a document's own positions, below 2**32, are
    exact as its sums minus the sum before its first (modulo 2**32 too).

    >>> in_document(np.array([3, 1, 2, 5, 0]), np.array([0, 2, 2, 5])).tolist()
    [3, 4, 2, 7, 7]
    """
    sums = np.cumsum(gaps, dtype=np.uint32)
    if not len(sums):
        return sums
    starts = np.asarray(offsets[:-1], np.intp)
    before = sums.take(starts - 1, mode="wrap")  # the sum before each document's first
    before[starts == 0] = 0
    sums -= before.repeat(np.diff(offsets))
    return sums
