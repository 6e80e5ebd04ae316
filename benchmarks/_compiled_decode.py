"""A compiled loop decoding postings blocks (vnsearch's layout: see
``vnsearch/index/postings.py``), for ``decode_compiled.py``: numba is imported with this
module. Every read is checked against the bytes given (an index folder is untrusted
input): a damaged block is a negative return, never a read outside ``raw``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

u64 = np.uint64
# per byte, its set bits' places (a bitmap's documents), and how many
_PLACES = np.array([([i for i in range(8) if b >> i & 1] + [0] * 8)[:8] for b in range(256)])
_COUNTS = np.array([bin(b).count("1") for b in range(256)])


@njit(cache=True, inline="always")
def _bits(raw, bit, w):
    """``w`` (<= 32) bits at ``bit``: 5 bytes read, ``raw`` padded by 8."""
    at = bit >> 3
    v = u64(raw[at]) | (u64(raw[at + 1]) << 8) | (u64(raw[at + 2]) << 16)
    v |= (u64(raw[at + 3]) << 24) | (u64(raw[at + 4]) << 32)
    return (v >> u64(bit & 7)) & ((u64(1) << u64(w)) - u64(1))


@njit(cache=True)
def _u32(raw, at):
    return (
        np.int64(raw[at])
        | (np.int64(raw[at + 1]) << 8)
        | (np.int64(raw[at + 2]) << 16)
        | (np.int64(raw[at + 3]) << 24)
    )


@njit(cache=True)
def decode(raw, size, at, n, docs, freqs, ends):
    """Blocks ``at[b]`` of ``n[b]`` postings in ``raw[:size]`` (padded by 8 zero bytes):
    their documents and frequencies one after another, and where each block's frequencies
    end (from its start); 0, or a negative number for a damaged block."""
    pos = 0
    for b in range(len(at)):
        a, m = at[b], n[b]
        if m <= 0 or a < 0 or a >= size:
            return -1
        nf = (m + 127) // 128
        dense = m > 128 and raw[a] == 0xFF
        nd = 1 if dense else 1 + (m - 1 + 127) // 128
        if a + nd + nf + (8 if dense else 0) > size:
            return -2
        for c in range((1 if dense else 0), nd + nf):
            if raw[a + c] > 32:
                return -3
        if dense:  # lo, size, then a bit a document from document 8 * lo
            h = a + nd + nf
            lo, nb = _u32(raw, h), _u32(raw, h + 4)
            if h + 8 + nb > size:
                return -2
            k = pos
            for j in range(nb):
                byte = raw[h + 8 + j]
                c = _COUNTS[byte]
                if k + c > pos + m:
                    return -5
                for i in range(c):
                    docs[k + i] = 8 * (lo + j) + _PLACES[byte, i]
                k += c
            if k != pos + m or 8 * (lo + nb) > (np.int64(1) << 32):
                return -5
            fstart = h + 8 + nb
        else:
            w0 = raw[a]
            first_bits = ((w0 + 7) & ~7) if m > 128 else w0  # gaps from the next byte
            dbits = first_bits
            for c in range(nd - 1):
                dbits += min(128, m - 1 - 128 * c) * raw[a + 1 + c]
            dstart = a + nd + nf
            fstart = dstart + ((dbits + 7) >> 3)
            if fstart > size:
                return -2
            bit = 8 * dstart
            doc = _bits(raw, bit, w0)
            bit += first_bits
            docs[pos] = doc
            k = pos + 1
            for c in range(nd - 1):
                w = raw[a + 1 + c]
                for _j in range(min(128, m - 1 - 128 * c)):
                    doc += _bits(raw, bit, w) + u64(1)
                    bit += w
                    docs[k] = doc
                    k += 1
            if doc >> u64(32):
                return -4
        fbits = 0
        for c in range(nf):
            fbits += min(128, m - 128 * c) * raw[a + nd + c]
        end = fstart + ((fbits + 7) >> 3)
        if end > size:
            return -2
        bit = 8 * fstart
        k = pos
        for c in range(nf):
            w = raw[a + nd + c]
            for _j in range(min(128, m - 128 * c)):
                freqs[k] = np.float32(_bits(raw, bit, w) + u64(1))
                bit += w
                k += 1
        ends[b] = end - a
        pos += m
    return 0
