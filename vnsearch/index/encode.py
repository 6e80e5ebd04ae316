"""How postings blocks are written: a whole field's terms at once, with numpy.

The layout is :mod:`vnsearch.index.postings`'; a list whose documents take fewer bytes
as a bitmap is written as one (:mod:`vnsearch.index.bitmaps`).

>>> from vnsearch.index.postings import PostingArrays
>>> block = encode_block(np.array([3, 7, 8]), np.array([1, 2, 1]))
>>> PostingArrays(block, 3, False).docs.tolist(), len(block)
([3, 7, 8], 5)
"""

from __future__ import annotations

import numpy as np

from vnsearch.index.bitmaps import BITMAP, bitmap_bytes, write_bitmaps
from vnsearch.index.bitpack import bit_lengths, group_max, offsets_within, pack_into, ranks
from vnsearch.index.postings import CHUNK, doc_slots

__all__ = ["encode_block", "encode_blocks"]


def encode_block(docs: np.ndarray, freqs: np.ndarray, positions: np.ndarray | None = None) -> bytes:
    """One term's postings block: its documents (increasing), frequencies (whole numbers
    from 1) and, for a field with positions, each posting's ``freqs[i]`` positions, one
    after another (increasing within a document)."""
    blob, _lengths = encode_blocks(np.array([0, len(docs)]), docs, freqs, positions)
    return blob


def encode_blocks(
    starts: np.ndarray,
    docs: np.ndarray,
    freqs: np.ndarray,
    positions: np.ndarray | None = None,
) -> tuple[bytes, np.ndarray]:
    """The blocks of consecutive terms, joined, and each one's length in bytes: term
    ``i`` has postings ``starts[i]:starts[i+1]`` of ``docs`` and ``freqs``; with
    ``positions``, each posting's ``freqs[j]`` positions follow one another in it.

    >>> blob, lengths = encode_blocks(np.array([0, 2, 3]), np.array([3, 7, 1]), np.array([1, 2, 1]))
    >>> lengths.tolist()
    [5, 3]
    >>> from vnsearch.index.batch import decode_blocks
    >>> docs, freqs, npos, positions = decode_blocks(blob, [0, 5], np.array([2, 1]), False)
    >>> docs.tolist(), freqs.tolist()
    ([3, 7, 1], [1.0, 2.0, 1.0])
    """
    starts = np.asarray(starts, np.int64)
    df = np.diff(starts)
    k, n = len(df), int(starts[-1])
    if not k:
        return b"", np.empty(0, np.int64)
    if (df <= 0).any():
        raise ValueError("a term without postings")
    d = np.asarray(docs, np.int64)
    tf = np.asarray(freqs)
    tfi = tf.astype(np.int64)
    if (tfi < 1).any() or (tfi != tf).any():
        raise ValueError("frequencies must be whole numbers from 1")
    tid = np.repeat(np.arange(k), df)
    local = np.arange(n) - starts[:-1][tid]
    first = local == 0
    gaps = np.empty(n, np.int64)
    gaps[0] = d[0]
    gaps[1:] = d[1:] - d[:-1] - 1
    gaps[first] = d[first]
    if (gaps < 0).any():
        raise ValueError("documents must increase within a term")
    # documents: the first alone, then chunks of gaps; frequencies: chunks
    nd = 1 + (df - 1 + CHUNK - 1) // CHUNK
    nf = (df + CHUNK - 1) // CHUNK
    dchunk = (np.cumsum(nd) - nd)[tid] + np.where(first, 0, 1 + (local - 1) // CHUNK)
    fchunk = (np.cumsum(nf) - nf)[tid] + local // CHUNK
    dw = group_max(bit_lengths(gaps), _group_starts(dchunk))
    fw = group_max(bit_lengths(tfi - 1), _group_starts(fchunk))
    dval_w, fval_w = dw[dchunk], fw[fchunk]
    dslot_w = doc_slots(dval_w, starts[:-1], df)
    dbytes = (np.add.reduceat(dslot_w, starts[:-1]) + 7) >> 3
    fbytes = (np.add.reduceat(fval_w, starts[:-1]) + 7) >> 3
    # a list of more than a chunk whose documents take fewer bytes as a bitmap: one width
    # byte (:data:`BITMAP`), the bitmap in place of the documents' stream
    bitmap = bitmap_bytes(d[starts[:-1]], d[starts[1:] - 1])
    dense = (df > CHUNK) & (bitmap < nd - 1 + dbytes)
    sparse = ~dense
    hd = np.where(dense, 1, nd)  # width bytes of the documents
    dbytes = np.where(dense, bitmap, dbytes)
    lengths = hd + nf + dbytes + fbytes
    if positions is not None:
        p = np.asarray(positions, np.int64)
        pstarts = np.zeros(n + 1, np.int64)
        np.cumsum(tfi, out=pstarts[1:])
        if len(p) != pstarts[-1]:
            raise ValueError("a posting's positions must be as many as its frequency")
        ptid = np.repeat(tid, tfi)
        pgaps = np.empty(len(p), np.int64)
        if len(p):
            pgaps[0] = p[0]
            pgaps[1:] = p[1:] - p[:-1]
            pgaps[pstarts[:-1]] = p[pstarts[:-1]]
        if (pgaps < 0).any():
            raise ValueError("positions must increase within a posting")
        tpos = np.add.reduceat(tfi, starts[:-1])  # positions per term
        tpstart = np.cumsum(tpos) - tpos
        plocal = np.arange(len(p)) - tpstart[ptid]
        npc = (tpos + CHUNK - 1) // CHUNK
        pchunk = (np.cumsum(npc) - npc)[ptid] + plocal // CHUNK
        pw = group_max(bit_lengths(pgaps), _group_starts(pchunk))
        pval_w = pw[pchunk]
        pbytes = (np.add.reduceat(pval_w, tpstart) + 7) >> 3
        lengths = lengths + npc + pbytes
    offsets = np.cumsum(lengths) - lengths
    out = np.zeros(int(lengths.sum()) + 8, np.uint8)
    # width bytes
    out[np.repeat(offsets[sparse], nd[sparse]) + ranks(nd[sparse])] = dw[np.repeat(sparse, nd)]
    out[offsets[dense]] = BITMAP
    out[np.repeat(offsets + hd, nf) + ranks(nf)] = fw
    dstart = offsets + hd + nf
    packed = sparse[tid]
    bit = 8 * dstart[tid] + offsets_within(dslot_w, starts, tid)
    pack_into(out, bit[packed], gaps[packed])
    write_bitmaps(out, dstart[dense], d[~packed], df[dense])
    fstart = dstart + dbytes
    pack_into(out, 8 * fstart[tid] + offsets_within(fval_w, starts, tid), tfi - 1)
    if positions is not None:
        pwstart = fstart + fbytes
        out[np.repeat(pwstart, npc) + ranks(npc)] = pw
        pos_starts = np.r_[tpstart, len(p)]
        pbit = 8 * (pwstart + npc)[ptid] + offsets_within(pval_w, pos_starts, ptid)
        pack_into(out, pbit, pgaps)
    return out[: len(out) - 8].tobytes(), lengths


def _group_starts(groups: np.ndarray) -> np.ndarray:
    """Where each run of equal, non-decreasing group numbers starts."""
    return np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
