"""Many postings blocks read at once: a merge's whole field, a query's short lists.

:func:`decode_blocks` reads consecutive blocks (the layout of
:mod:`vnsearch.index.postings`) with numpy over all their values together: no Python
object per posting or per term. :func:`read_many` gives a query's short lists their
documents and frequencies that way, one numpy pass for all of them instead of numpy's
fixed cost per list.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vnsearch.errors import DamagedFile
from vnsearch.index.bitmaps import BITMAP, bitmap_sizes, read_bitmaps
from vnsearch.index.bitpack import in_document, offsets_within, ranks, unpack, word_view
from vnsearch.index.postings import (
    CHUNK,
    FREQ_TYPES,
    MASKS,
    MASKS32,
    PAD,
    PostingArrays,
    doc_slots,
)

__all__ = ["decode_blocks", "positions_at", "read_many"]


def decode_blocks(
    raw: Any,
    offsets: list[int] | np.ndarray,
    counts: np.ndarray,
    positional: bool,
    ends: list[int] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The postings of consecutive blocks, joined: ``(docs, freqs, npos, positions)``,
    ``npos`` the number of positions of each posting (zeros, and ``positions`` None,
    without positions). Block ``i`` starts at ``raw[offsets[i]]`` and holds ``counts[i]``
    postings. All blocks are read at once: no Python object per posting or per term.
    Without positions, ``ends`` (a list) gets where each block's frequencies end."""
    df = np.asarray(counts, np.int64)
    at = np.asarray(offsets, np.int64)
    k, n = len(df), int(df.sum())
    if not k:
        empty = np.empty(0, np.uint32)
        return empty, np.empty(0, np.float32), empty, None
    words = word_view(raw)
    size = len(words) - 1
    heads = np.frombuffer(words.base, np.uint8)  # the padded copy, byte by byte
    starts = np.cumsum(df) - df
    tid = np.repeat(np.arange(k), df)
    local = np.arange(n) - starts[tid]
    if int(at.max()) >= size:
        raise DamagedFile("postings blocks cut short")
    dense = (df > CHUNK) & (heads[at] == BITMAP)  # documents as a bitmap: one width byte
    nd = np.where(dense, 1, 1 + (df - 1 + CHUNK - 1) // CHUNK)
    nf = (df + CHUNK - 1) // CHUNK
    dw = _widths(heads, np.repeat(at, nd) + ranks(nd), size, np.cumsum(nd)[dense] - 1)
    fw = _widths(heads, np.repeat(at + nd, nf) + ranks(nf), size)
    # a bitmap's postings all read its width byte (as 0: no bits), replaced below
    later = (local > 0) & ~dense[tid]
    dchunk = (np.cumsum(nd) - nd)[tid] + np.where(later, 1 + (local - 1) // CHUNK, 0)
    fchunk = (np.cumsum(nf) - nf)[tid] + local // CHUNK
    dval_w, fval_w = dw[dchunk], fw[fchunk]
    bounds = np.r_[starts, n]
    dslot_w = doc_slots(dval_w, starts, df)
    dbytes = (np.add.reduceat(dslot_w, starts) + 7) >> 3
    fbytes = (np.add.reduceat(fval_w, starts) + 7) >> 3
    dstart = at + nd + nf
    if dense.any():
        dbytes[dense] = bitmap_sizes(heads, size, dstart[dense])
    fstart = dstart + dbytes
    if int((fstart + fbytes).max()) > size:
        raise DamagedFile("postings blocks cut short")
    gaps = unpack(words, 0, dval_w, 8 * dstart[tid] + offsets_within(dslot_w, bounds, tid))
    sums = np.cumsum(gaps.astype(np.int64))
    docs = sums - np.repeat(np.r_[0, sums][starts], df) + local
    if dense.any():
        docs[dense[tid]] = read_bitmaps(heads, size, dstart[dense], df[dense])
    freqs = unpack(words, 0, fval_w, 8 * fstart[tid] + offsets_within(fval_w, bounds, tid)) + 1
    if not positional:
        if ends is not None:  # the caller wants where each block's frequencies end
            ends.extend((fstart + fbytes).tolist())
        return docs.astype(np.uint32), freqs.astype(np.float32), np.zeros(n, np.uint32), None
    tfi = freqs.astype(np.int64)
    tpos = np.add.reduceat(tfi, starts)
    npc = (tpos + CHUNK - 1) // CHUNK
    pwstart = fstart + fbytes
    pw = _widths(heads, np.repeat(pwstart, npc) + ranks(npc), size)
    ptid = np.repeat(tid, tfi)
    tpstart = np.cumsum(tpos) - tpos
    plocal = np.arange(int(tpos.sum())) - tpstart[ptid]
    pchunk = (np.cumsum(npc) - npc)[ptid] + plocal // CHUNK
    pval_w = pw[pchunk]
    pbounds = np.r_[tpstart, len(pval_w)]
    pbit = 8 * (pwstart + npc)[ptid] + offsets_within(pval_w, pbounds, ptid)
    if len(pbit) and int(pbit[-1] + pval_w[-1]) > 8 * size:
        raise DamagedFile("postings blocks cut short")
    pgaps = unpack(words, 0, pval_w, pbit)
    poffsets = np.zeros(n + 1, np.int64)
    np.cumsum(tfi, out=poffsets[1:])
    flat = in_document(pgaps, poffsets)
    return docs.astype(np.uint32), freqs.astype(np.float32), tfi.astype(np.uint32), flat


def read_many(blocks: list[tuple[Any, int]]) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Documents and frequencies of many blocks (``(bytes, number of postings)`` each),
    read at once: each block's ``(docs, freqs, where its frequencies end)``.

    The work is per chunk of :data:`CHUNK` values, not per value: every chunk of every
    block is a row (its first bit, width and count), all rows are read with one table of
    bit offsets per width, and only the documents' running sums and the frequencies are
    per value. A query's short lists cost a few tens of numpy calls in all, not a few tens
    each (numpy's fixed cost per call, not the values, is most of a short list's time).
    """
    raw = b"".join(bytes(data) for data, _n in blocks)
    k = len(blocks)
    lengths = np.fromiter((len(data) for data, _n in blocks), np.int64, k)
    n = np.fromiter((count for _data, count in blocks), np.int64, k)
    at = np.cumsum(lengths) - lengths
    words = word_view(raw, pad=PAD)
    heads = np.frombuffer(words.base, np.uint8)  # the padded copy, byte by byte
    size = len(raw)
    if (n <= 0).any():
        raise DamagedFile("postings block of no postings")
    ng = (n - 1 + CHUNK - 1) // CHUNK  # chunks of gaps (a first document alone before them)
    nf = (n + CHUNK - 1) // CHUNK
    if int((at + 1 + ng + nf).max()) > size:
        raise DamagedFile("postings blocks cut short")
    w0 = heads[at].astype(np.int64)
    dense = (n > CHUNK) & (w0 == BITMAP)
    if dense.any():
        return _with_bitmaps(blocks, dense.tolist())
    gblock = np.repeat(np.arange(k), ng)
    grank = ranks(ng)
    gw = heads[at[gblock] + 1 + grank].astype(np.int64)
    fblock = np.repeat(np.arange(k), nf)
    frank = ranks(nf)
    fw = heads[(at + 1 + ng)[fblock] + frank].astype(np.int64)
    widest = int(fw.max())  # of the frequencies: their type
    if max(int(w0.max()), int(gw.max(initial=0)), widest) > 32:
        raise DamagedFile("postings block: a width over 32 bits")
    dstart = at + 1 + ng + nf
    gcount = np.minimum(CHUNK, (n - 1)[gblock] - CHUNK * grank)
    fcount = np.minimum(CHUNK, n[fblock] - CHUNK * frank)
    # a list longer than a chunk has its gaps from the byte after its first document
    first_bits = np.where(n > CHUNK, (w0 + 7) & ~7, w0)
    gbit = 8 * dstart[gblock] + first_bits[gblock] + _before_in_block(CHUNK * gw, gblock, ng)
    dbits = first_bits + np.bincount(gblock, gcount * gw, k).astype(np.int64)
    fstart = dstart + ((dbits + 7) >> 3)
    fbit = 8 * fstart[fblock] + _before_in_block(CHUNK * fw, fblock, nf)
    ends = fstart + ((np.bincount(fblock, fcount * fw, k).astype(np.int64) + 7) >> 3)
    if int(ends.max()) > size:
        raise DamagedFile("postings blocks cut short")
    firsts = words.take(dstart) & MASKS[w0]
    steps = np.empty(int(n.sum()), np.int64)
    starts = np.cumsum(n) - n
    later = np.ones(len(steps), bool)
    later[starts] = False
    gaps = _chunk_values(words, gbit, gw, gcount)
    gaps += 1
    steps[later] = gaps
    steps[starts] = firsts
    sums = np.cumsum(steps)
    docs = sums - np.repeat(sums[starts] - steps[starts], n)
    if int(docs.max()) >> 32:
        raise DamagedFile("postings block: a document number over 2**32")
    freqs = _chunk_values(words, fbit, fw, fcount).astype(FREQ_TYPES[widest])
    freqs += 1
    docs32 = docs.astype(np.uint32)
    bounds = starts.tolist()
    bounds.append(len(steps))
    return [
        (docs32[a:b], freqs[a:b], end)
        for a, b, end in zip(bounds, bounds[1:], (ends - at).tolist())
    ]


def _with_bitmaps(
    blocks: list[tuple[Any, int]], dense: list[bool]
) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """:func:`read_many` of blocks some of which hold their documents as a bitmap
    (:mod:`~vnsearch.index.bitmaps`): those are read alone, the others together."""
    packed = [block for block, bitmap in zip(blocks, dense) if not bitmap]
    rest = iter(read_many(packed) if packed else [])
    out = []
    for (data, n), bitmap in zip(blocks, dense):
        if bitmap:
            arrays = PostingArrays(data, n, False)
            out.append((arrays.docs, arrays.freqs, arrays.end))
        else:
            out.append(next(rest))
    return out


def positions_at(
    head: np.ndarray, raw: np.ndarray, counts: np.ndarray, idx: np.ndarray
) -> np.ndarray:
    """The positions of postings ``idx`` of a block, one posting's after another, each
    from its document's start: read one by one from the stream ``(head, raw)`` (see
    :meth:`~vnsearch.index.postings.PostingArrays.positions_stream`), ``counts`` every
    posting's number of positions. A phrase checks a few candidates of a long list: their
    positions cost a few numpy calls, not a decode of every position of the term.

    >>> from vnsearch.index.encode import encode_block
    >>> from vnsearch.index.postings import PostingArrays
    >>> block = encode_block(np.array([2, 5, 9]), np.array([2, 1, 3]), np.array([0, 4, 7, 1, 2, 8]))
    >>> arrays = PostingArrays(block, 3, True)
    >>> positions_at(*arrays.positions_stream()[:2], np.array([2, 1, 3]), np.array([0, 2])).tolist()
    [0, 4, 1, 2, 8]
    """
    lengths = counts[idx]
    starts = np.cumsum(counts)[idx] - lengths
    want = np.repeat(starts, lengths) + ranks(lengths)  # in the stream
    rows = want // CHUNK
    width = head.astype(np.int64)
    chunk_bits = CHUNK * (np.cumsum(width) - width)
    w = width[rows]
    bit = chunk_bits[rows] + (want - CHUNK * rows) * w
    words = np.ndarray((len(raw) - 7,), "<u8", raw, 0, (1,))
    got = words.take(bit >> 3) >> (bit & 7).astype(np.uint64)
    got &= MASKS[w]
    return in_document(got, np.r_[0, np.cumsum(lengths)])


_J = np.arange(CHUNK)
# per first bit within its byte (0-7) and width (0-32): each value's byte and shift
_BYTE_AT = np.array([[(s + _J * w) >> 3 for w in range(33)] for s in range(8)], np.int64)
_SHIFT = np.array([[(s + _J * w) & 7 for w in range(33)] for s in range(8)], np.uint32)


def _before_in_block(sizes: np.ndarray, block: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per row (``rows[b]`` rows of block ``b`` after those of block ``b - 1``; row ``i``
    in block ``block[i]``), the sum of ``sizes`` of the rows before it in its block."""
    before = np.cumsum(sizes) - sizes
    totals = np.bincount(block, sizes, len(rows)).astype(np.int64)
    return before - np.repeat(np.cumsum(totals) - totals, rows)


def _chunk_values(
    words: np.ndarray, bit: np.ndarray, width: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """The values of chunks, one after another: chunk ``i`` holds ``count[i]`` values of
    ``width[i]`` bits from bit ``bit[i]`` of ``words`` (a :func:`word_view`), as
    ``int64``. Each value is read from the 4 bytes at its first byte when a value and its
    shift fit them (widths up to 25), else from 8."""
    first = bit & 7
    at = _BYTE_AT[first, width]
    at += (bit >> 3)[:, None]
    shifts = _SHIFT[first, width]
    if len(width) and int(width.max()) > 25:
        got = words.take(at)
        got >>= shifts.astype(np.uint64)
        got &= MASKS[width][:, None]
    else:
        raw = words.base
        got = np.ndarray((len(raw) - 7,), "<u4", raw, 0, (1,)).take(at)
        got >>= shifts
        got &= MASKS32[width][:, None]
    return got[count[:, None] > _J].astype(np.int64)


def _widths(
    heads: np.ndarray, where: np.ndarray, size: int, bitmaps: np.ndarray | None = None
) -> np.ndarray:
    """The width bytes at ``where`` in ``heads`` (those numbered ``bitmaps``, the flags of
    bitmaps, as 0), checked."""
    if len(where) and int(where.max()) >= size:
        raise DamagedFile("postings blocks cut short")
    widths = heads[where].astype(np.int64)
    if bitmaps is not None:
        widths[bitmaps] = 0
    if len(widths) and int(widths.max()) > 32:
        raise DamagedFile("postings block: a width over 32 bits")
    return widths
