"""How integers are packed into bits: little-endian bit streams, written and read by numpy.

Postings and term dictionaries store runs of small unsigned integers (gaps between
document numbers, frequencies, positions, counts) each in as many bits as its group
needs. A stream is the values one after another, value ``i`` at bit ``bitpos[i]``
(least significant bit first), ``widths[i]`` bits wide, at most 32. Both directions work
on whole arrays, without a Python loop per value:

* :func:`pack` adds each value's bytes into the output with ``numpy.bincount`` (values
  never share a bit, so adding is or-ing);
* :func:`unpack` reads 8 bytes at each value's first byte (a ``uint64`` view with a stride
  of one byte over a copy padded with 8 zero bytes), shifts and masks.

>>> widths = np.array([3, 1, 5])
>>> raw = pack(np.array([5, 1, 17]), widths)
>>> unpack(raw, 0, widths).tolist(), len(raw)
([5, 1, 17], 2)
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = [
    "CHUNK",
    "bit_lengths",
    "group_max",
    "pack",
    "pack_into",
    "unpack",
    "unpack_chunks",
    "word_view",
]

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
    """Add ``values`` into the ``float64`` byte accumulator ``out`` (one slot per output
    byte), value ``i`` starting at bit ``bitpos[i]`` (its width is what it needs: the
    caller checked the widths hold the values). ``out`` must have 4 spare slots past the
    last byte written."""
    if not len(values):
        return
    byte = bitpos >> 3
    shifted = values.astype(np.uint64) << (bitpos & 7).astype(np.uint64)
    size = len(out)
    for lane in range(_LANES):
        part = (shifted >> np.uint64(8 * lane)) & np.uint64(0xFF)
        out += np.bincount(byte + lane, weights=part.astype(np.float64), minlength=size)[:size]


def pack(values: np.ndarray, widths: np.ndarray) -> bytes:
    """``values`` packed one after another, value ``i`` in ``widths[i]`` bits; the bytes
    of the stream (its last byte padded with zero bits)."""
    if not len(values):
        return b""
    widths = widths.astype(np.int64, copy=False)
    bitpos = np.cumsum(widths) - widths
    nbytes = (int(bitpos[-1] + widths[-1]) + 7) >> 3
    out = np.zeros(nbytes + _LANES, np.float64)
    pack_into(out, bitpos, values)
    return out[:nbytes].astype(np.uint8).tobytes()


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


CHUNK = 128  # values per chunk of a stream (see unpack_chunks)


def unpack_chunks(raw: np.ndarray, starts: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """The chunks of :data:`CHUNK` values starting at bytes ``starts`` of ``raw``, chunk
    ``c``'s values ``widths[c]`` bits wide (at most 32), as rows: all read at once, each
    value's byte and shift from a table per width. ``raw`` is padded with ``16 * 32 + 8``
    zero bytes (a last, short chunk is read past its end).

    Returns a view into this thread's scratch arrays, valid until its next call: large
    temporaries allocated anew would be fresh pages each time (page faults cost more
    than the arithmetic).

    >>> raw = np.zeros(16 * 3 + 16 * 32 + 8, np.uint8)
    >>> raw[:2] = [0b11_010_101, 0b1]  # 5, 2, 7 in 3 bits each
    >>> unpack_chunks(raw, np.array([0]), np.array([3]))[0, :4].tolist()
    [5, 2, 7, 0]
    """
    w = widths.astype(np.intp)
    if int(w.max(initial=0)) <= 25:  # a value and its shift fit 32 bits
        count = len(w) * CHUNK
        scratch = _scratch(count)
        rows = scratch.rows[:count].reshape(len(w), CHUNK)
        np.take(_BYTE_AT, w, axis=0, out=rows)
        rows += starts[:, None]
        words = np.ndarray((len(raw) - 7,), "<u4", raw, 0, (1,))
        got = scratch.values[:count].reshape(len(w), CHUNK)
        words.take(rows, out=got)
        shifts = scratch.shifts[:count].reshape(len(w), CHUNK)
        np.take(_SHIFT32, w, axis=0, out=shifts)
        got >>= shifts
        got &= _MASK32[w][:, None]
    else:
        rows = starts[:, None] + _BYTE_AT[w]
        words = np.ndarray((len(raw) - 7,), "<u8", raw, 0, (1,))
        got = words.take(rows)
        got >>= _SHIFT32[w].astype(np.uint64)
        got &= _MASK64[w][:, None]
    return got


class _Scratch(threading.local):
    """Per thread: the index, value and shift arrays :func:`unpack_chunks` writes into."""

    rows = np.empty(0, np.intp)
    values = np.empty(0, np.uint32)
    shifts = np.empty(0, np.uint32)


_SCRATCH = _Scratch()


def _scratch(count: int) -> _Scratch:
    mine = _SCRATCH
    if len(mine.rows) < count:
        size = max(count, 2 * len(mine.rows), 1 << 14)
        mine.rows = np.empty(size, np.intp)
        mine.values = np.empty(size, np.uint32)
        mine.shifts = np.empty(size, np.uint32)
    return mine


_J = np.arange(CHUNK)
_BYTE_AT = np.array([(_J * w) >> 3 for w in range(33)], np.intp)  # per width, per value
_SHIFT32 = np.array([(_J * w) & 7 for w in range(33)], np.uint32)
_MASK64 = np.array([(1 << w) - 1 for w in range(33)], np.uint64)
_MASK32 = _MASK64.astype(np.uint32)
