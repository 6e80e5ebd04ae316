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

from typing import Any

import numpy as np

__all__ = ["bit_lengths", "group_max", "pack", "pack_into", "unpack", "word_view"]

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
