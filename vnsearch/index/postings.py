"""What a term's postings block holds, and how it is written and read as arrays.

Format 3. A term's postings in a segment are one block of bit-packed streams
(:mod:`vnsearch.index.bitpack`); its number of postings ``n`` is in the term dictionary:

* one width byte per chunk of each stream: documents (the first document alone, then
  chunks of :data:`CHUNK` gaps), frequencies (chunks of ``CHUNK``), then the streams;
* documents: the first one, then each gap minus one (document numbers are increasing);
  in a list longer than a chunk, the gaps start on the byte after the first document,
  so every chunk starts on a byte (a full chunk of width ``w`` is ``16 * w`` bytes);
* or, in a list longer than a chunk whose documents take fewer bytes so (format 6: a
  word in most documents), its documents as a bitmap (:mod:`vnsearch.index.bitmaps`):
  one width byte :data:`~vnsearch.index.bitmaps.BITMAP` in place of the documents'
  widths, and the bitmap in place of their stream;
* frequencies minus one (most are 1: a chunk of them takes a width byte of 0 and no bits);
* for fields with positions, after the frequencies: the positions' chunk widths and the
  positions, each document's from 0 as gaps (a posting has as many as its frequency).

Each stream is as wide as its chunk's largest value needs and ends on a byte. Writing a
whole field (:mod:`vnsearch.index.encode`) and reading a block or many consecutive ones
are numpy over whole arrays;
reading a short list (most terms) is a few Python integer operations.

>>> from vnsearch.index.encode import encode_block
>>> block = encode_block(np.array([3, 7, 8]), np.array([1, 2, 1]))
>>> arrays = PostingArrays(block, 3, False)
>>> arrays.docs.tolist(), arrays.freqs.tolist(), arrays.freqs.dtype, len(block)
([3, 7, 8], [1, 2, 1], dtype('uint8'), 5)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from itertools import accumulate
from typing import Any

import numpy as np

from vnsearch.errors import DamagedFile
from vnsearch.index.bitmaps import BITMAP, HEAD, read_bitmap
from vnsearch.index.bitpack import in_document

__all__ = [
    "CHUNK",
    "FREQ_TYPES",
    "MASKS",
    "MASKS32",
    "PAD",
    "PostingArrays",
    "compact_freqs",
    "doc_slots",
    "narrow_positions",
]

CHUNK = 128  # values per width byte
_SMALL = CHUNK  # lists of one chunk are read with Python integers (faster than numpy)
_U4 = np.dtype("<u4")
# Frequencies are kept in the smallest unsigned type that holds them, found from the
# widest of their chunks (values stored minus one): most terms' fit a byte, so a kept
# posting weighs 5 bytes (its ``uint32`` document and a ``uint8``), not 8 with
# ``float32`` frequencies, and the recent terms of a given budget are 1.6x as many.
# Scoring widens them to ``float64`` as it joins them (``bm25_many``): the same scores.
FREQ_TYPES = tuple(
    np.dtype(np.uint8 if w < 8 else np.uint16 if w < 16 else np.uint32 if w < 32 else np.int64)
    for w in range(33)
)


def compact_freqs(values: np.ndarray) -> np.ndarray:
    """Frequencies (integers from 1) in the type :data:`FREQ_TYPES` gives their largest.

    >>> compact_freqs(np.array([1, 3])).dtype, compact_freqs(np.array([1, 300])).dtype
    (dtype('uint8'), dtype('uint16'))
    """
    top = int(values.max(initial=1))
    return values.astype(FREQ_TYPES[min(top - 1, (1 << 32) - 1).bit_length()], copy=False)


def narrow_positions(flat: np.ndarray) -> np.ndarray:
    """Positions (``uint32``) as ``uint16`` when every one is below 2**16 (a document of
    fewer syllables: nearly all), as a recent term keeps them.

    >>> [narrow_positions(np.array(p, np.uint32)).dtype.name for p in ([3, 70000], [3])]
    ['uint32', 'uint16']
    """
    return flat.astype(np.uint16) if len(flat) and int(flat.max()) < 1 << 16 else flat


def _chunks(n: int) -> int:
    return -(-n // CHUNK)


class PostingArrays:
    """A term's postings in one segment, as numpy arrays: ``docs`` (``uint32``, sorted;
    the segment's numbers plus ``base``, 0 unless :meth:`sharing`) and ``freqs`` (the
    smallest unsigned type that holds them: :data:`FREQ_TYPES`); positions decoded when
    first asked for."""

    __slots__ = (
        "_data", "_pos_at", "_positions", "base", "derive", "docs", "freqs",
        "has_positions", "positions_check",
    )  # fmt: skip

    def __init__(
        self,
        data: bytes | memoryview,
        n: int,
        has_positions: bool,
        checks: tuple[Any, int] | None = None,
    ) -> None:
        if n <= 0:
            raise DamagedFile(f"postings of {n} documents")
        dense = n > _SMALL and len(data) > 0 and data[0] == BITMAP  # documents as a bitmap
        nd, nf = 1 if dense else 1 + _chunks(n - 1), _chunks(n)
        fixed = nd + nf + (HEAD if dense else 0)  # what is read before the streams
        if len(data) < fixed:
            raise DamagedFile(f"postings block of {len(data)} bytes for {n} postings")
        if checks is not None:  # ``(page checks, where the block is in the segment file)``
            checks[0].check(checks[1], checks[1] + fixed)
        head = bytes(data[: nd + nf])
        if max(head[1:] if dense else head) > 32:
            raise DamagedFile("postings block: a width over 32 bits")
        w0 = head[0]
        if n <= _SMALL:
            wg, wf = head[1] if n > 1 else 0, head[nd]
            dend = nd + nf + ((w0 + (n - 1) * wg + 7) >> 3)
            end = dend + ((n * wf + 7) >> 3)
        else:
            hw = np.frombuffer(head, np.uint8)
            if dense:
                dend = fixed + int.from_bytes(data[nd + nf + 4 : fixed], "little")
            else:
                dend = nd + nf + ((w0 + 7) >> 3) + ((_stream_bits(hw[1:nd], n - 1) + 7) >> 3)
            end = dend + ((_stream_bits(hw[nd:], n) + 7) >> 3)
        if len(data) < end:
            raise DamagedFile(f"postings block of {len(data)} bytes, {end} needed")
        if checks is not None:
            checks[0].check(checks[1] + fixed, checks[1] + end)
        if n <= _SMALL:
            docs, freqs = _small(data, n, nd + nf, dend, end, w0, wg, wf)
            self.docs = np.array(docs, _U4)
            self.freqs = np.array(freqs, FREQ_TYPES[wf])
        else:
            # the streams read with numpy, padded (read past the end: zeros); a bitmap is
            # read in place
            start = dend if dense else 0
            raw = np.zeros(end - start + PAD + 8, np.uint8)
            raw[: end - start] = np.frombuffer(data, np.uint8, end - start, start)
            if dense:
                self.docs = read_bitmap(data, nd + nf, n)[0]
            else:
                self.docs = _gaps_read(raw, nd + nf, hw[:nd], n)
            fw = hw[nd:]
            if fw.any():
                kind = FREQ_TYPES[int(fw.max())]
                self.freqs = np.add(_stream(raw, dend - start, fw, n), 1, dtype=kind)
            else:
                self.freqs = np.ones(n, np.uint8)
        self._positions_at(data, end, has_positions, checks)

    def _positions_at(
        self, data: Any, end: int, has_positions: bool, checks: tuple[Any, int] | None
    ) -> None:
        """Where the positions are: from byte ``end`` of ``data``."""
        self.has_positions = has_positions
        self._data = data
        self._pos_at = end
        # with checksums: (checks, start, end) of the positions in the file, checked when read
        self.positions_check: tuple[Any, int, int] | None = None
        self._positions: tuple[np.ndarray, np.ndarray] | None = None
        self.derive: Callable[[PostingArrays], tuple[np.ndarray, np.ndarray]] | None = None
        self.base = 0
        if checks is not None and has_positions and end < len(data):
            self.positions_check = (checks[0], checks[1] + end, checks[1] + len(data))

    @classmethod
    def read(
        cls, data: Any, docs: np.ndarray, freqs: np.ndarray, end: int, positions: bool
    ) -> PostingArrays:
        """A block's arrays decoded elsewhere (``batch.read_many``, the whole block
        checked first): ``docs`` and ``freqs``, the positions (if any) from byte ``end``
        of ``data``."""
        self = cls.__new__(cls)
        self.docs, self.freqs = docs, freqs
        self._positions_at(data, end, positions, None)
        return self

    def sharing(self, docs: np.ndarray, freqs: np.ndarray, base: int) -> PostingArrays:
        """These postings with ``docs`` (their documents plus ``base``) and ``freqs``
        (equal to theirs) in place of their own arrays, positions read as before: the
        segment's part of a snapshot's postings joined over segments, which then holds
        each document and frequency once, not twice."""
        other = PostingArrays.__new__(PostingArrays)
        for name in PostingArrays.__slots__:
            setattr(other, name, getattr(self, name))
        other.docs, other.freqs, other.base = docs, freqs, base
        return other

    @property
    def positions_nbytes(self) -> int:
        """The bytes of its positions, once decoded (0 before)."""
        return 0 if self._positions is None else sum(a.nbytes for a in self._positions)

    @property
    def end(self) -> int:
        """Where the documents and frequencies end in the block (the positions follow)."""
        return self._pos_at

    def all_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(offsets, flat positions): posting ``i`` has ``flat[offsets[i]:offsets[i+1]]``,
        decoded on first use and kept (a recent term's arrays serve many queries)."""
        found = self._positions
        if found is None:
            found = self._positions = self._read_positions()
        return found

    def _read_positions(self) -> tuple[np.ndarray, np.ndarray]:
        stream = self.positions_stream()
        if stream is None:  # derived (the positions are never stored and decoded both)
            return self.derive(self)  # type: ignore[misc]
        head, raw, _total = stream
        offsets = np.zeros(len(self.freqs) + 1, np.int64)
        np.cumsum(self.freqs.astype(np.int64), out=offsets[1:])
        flat = in_document(_stream(raw, 0, head, int(offsets[-1])), offsets)
        return offsets.astype(_U4), narrow_positions(flat)

    def positions_stream(self) -> tuple[np.ndarray, np.ndarray, int] | None:
        """The stored positions, checked: ``(their chunks' widths, their bytes padded to
        be read past the end, how many)``, to read some of them (``batch.positions_at``);
        None when they are already decoded or read from other terms (``derive``)."""
        if self.derive is not None or self._positions is not None:
            return None
        pending = self.positions_check
        if pending is not None:
            pending[0].check(pending[1], pending[2])
            self.positions_check = None
        total = int(self.freqs.sum(dtype=np.float64))
        np_, at = _chunks(total), self._pos_at
        if len(self._data) < at + np_:
            raise DamagedFile("postings block: positions cut short")
        head = np.frombuffer(self._data, np.uint8, np_, at)
        if np_ and int(head.max()) > 32:
            raise DamagedFile("postings block: a width over 32 bits")
        nbytes = (_stream_bits(head, total) + 7) >> 3
        if len(self._data) < at + np_ + nbytes:
            raise DamagedFile("postings block: positions cut short")
        raw = np.zeros(nbytes + PAD + 8, np.uint8)
        raw[:nbytes] = np.frombuffer(self._data, np.uint8, nbytes, at + np_)
        return head, raw, total


def _gaps_read(raw: np.ndarray, at: int, widths: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` documents (``uint32``) of a list of more than a chunk: its first one at
    byte ``at`` of ``raw`` (padded), ``widths[0]`` bits, then chunks of gaps from the
    next byte, ``widths[1:]`` bits each."""
    w0 = int(widths[0])
    first = int.from_bytes(raw[at : at + 4].tobytes(), "little") & ((1 << w0) - 1)
    gw = widths[1:]
    steps = _stream(raw, at + ((w0 + 7) >> 3), gw, n - 1)
    # a step (a gap minus one, plus one) is at most 2**w of its chunk: the sum of the
    # steps is read only when that bound does not keep the last document below 2**32
    # (real lists are far below it)
    most = CHUNK * int((np.int64(1) << gw.astype(np.int64)).sum())
    if first + most >> 32 and first + int(steps.sum(dtype=np.uint64)) + n - 1 >> 32:
        raise DamagedFile("postings block: a document number over 2**32")
    docs = np.empty(n, _U4)
    docs[0] = first
    np.add(steps, np.uint32(1), out=docs[1:])
    docs[1] += np.uint32(first)
    np.cumsum(docs[1:], out=docs[1:], dtype=_U4)
    return docs


MASKS = np.array([(1 << w) - 1 for w in range(33)], np.uint64)  # per width: its low bits


def _stream_bits(widths: np.ndarray, n: int) -> int:
    """The bits of a stream of ``n`` values in chunks of ``widths``."""
    if not len(widths):
        return 0
    return CHUNK * int(widths.sum(dtype=np.int64)) - (CHUNK * len(widths) - n) * int(widths[-1])


PAD = CHUNK * 32 // 8  # the bytes a last, short chunk is read past its end


def _stream(raw: np.ndarray, start: int, widths: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` values of a stream of chunks starting at byte ``start`` of ``raw`` (bytes
    padded by ``PAD`` + 8 zeros), chunk ``c`` of :data:`CHUNK` values ``widths[c]`` bits
    wide: a full chunk is ``16 * width`` bytes, so every chunk starts on a byte, and all
    are read at once as rows, each value's byte and shift from a table per width.

    Returns a view into this thread's scratch arrays, valid until its next call: large
    temporaries allocated anew would be fresh pages each time (page faults cost more
    than the arithmetic)."""
    w = widths.astype(np.intp)
    size = 16 * w
    if int(w.max(initial=0)) <= 25:  # a value and its shift fit 32 bits
        count = len(w) * CHUNK
        scratch = _scratch(count)
        rows = scratch.rows[:count].reshape(len(w), CHUNK)
        np.take(_BYTE_AT, w, axis=0, out=rows)
        rows += (start + np.cumsum(size) - size)[:, None]
        words = np.ndarray((len(raw) - 7,), "<u4", raw, 0, (1,))
        got = scratch.values[:count].reshape(len(w), CHUNK)
        words.take(rows, out=got)
        shifts = scratch.shifts[:count].reshape(len(w), CHUNK)
        np.take(_SHIFT32, w, axis=0, out=shifts)
        got >>= shifts
        got &= MASKS32[w][:, None]
    else:
        rows = (start + np.cumsum(size) - size)[:, None] + _BYTE_AT[w]
        words = np.ndarray((len(raw) - 7,), "<u8", raw, 0, (1,))
        got = words.take(rows)
        got >>= _SHIFT32[w].astype(np.uint64)
        got &= MASKS[w][:, None]
    return got.ravel()[:n]


class _Scratch(threading.local):
    """Per thread: the index, value and shift arrays :func:`_stream` writes into."""

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
MASKS32 = MASKS.astype(np.uint32)


def _small(
    data: Any, n: int, at: int, dend: int, fend: int, w0: int, wg: int, wf: int
) -> tuple[list[int], list[int]]:
    """Documents and frequencies of a short list (at most one chunk), read with Python
    integers: the documents' stream is ``data[at:dend]``, the frequencies' ``[dend:fend]``."""
    bits = int.from_bytes(data[at:dend], "little")
    first = bits & ((1 << w0) - 1)
    if n > 1:
        mask = (1 << wg) - 1
        bits >>= w0
        steps = [((bits >> (wg * i)) & mask) + 1 for i in range(n - 1)]
        docs = list(accumulate(steps, initial=first))
        if docs[-1] >> 32:
            raise DamagedFile("postings block: a document number over 2**32")
    else:
        docs = [first]
    if wf:
        fb = int.from_bytes(data[dend:fend], "little")
        mask = (1 << wf) - 1
        freqs = [((fb >> (wf * i)) & mask) + 1 for i in range(n)]
    else:
        freqs = [1] * n
    return docs, freqs


def doc_slots(widths: np.ndarray, firsts: np.ndarray, df: np.ndarray) -> np.ndarray:
    """The bits each document value takes: its width, but the first document of a list
    longer than a chunk takes whole bytes (its gaps' chunks then start on a byte)."""
    slots = widths.copy()
    long = firsts[df > CHUNK]
    slots[long] = (slots[long] + 7) & ~7
    return slots
