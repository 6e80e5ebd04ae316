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
from vnsearch.index.bitpack import unpack, word_view
from vnsearch.index.postings import CHUNK, doc_slots, in_document, offsets_within, ranks

__all__ = ["decode_blocks", "read_many"]


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
    nd = 1 + (df - 1 + CHUNK - 1) // CHUNK
    nf = (df + CHUNK - 1) // CHUNK
    dw = _widths(heads, np.repeat(at, nd) + ranks(nd), size)
    fw = _widths(heads, np.repeat(at + nd, nf) + ranks(nf), size)
    dchunk = (np.cumsum(nd) - nd)[tid] + np.where(local == 0, 0, 1 + (local - 1) // CHUNK)
    fchunk = (np.cumsum(nf) - nf)[tid] + local // CHUNK
    dval_w, fval_w = dw[dchunk], fw[fchunk]
    bounds = np.r_[starts, n]
    dslot_w = doc_slots(dval_w, starts, df)
    dbytes = (np.add.reduceat(dslot_w, starts) + 7) >> 3
    fbytes = (np.add.reduceat(fval_w, starts) + 7) >> 3
    dstart = at + nd + nf
    fstart = dstart + dbytes
    if int((fstart + fbytes).max()) > size:
        raise DamagedFile("postings blocks cut short")
    gaps = unpack(words, 0, dval_w, 8 * dstart[tid] + offsets_within(dslot_w, bounds, tid))
    sums = np.cumsum(gaps.astype(np.int64))
    docs = sums - np.repeat(np.r_[0, sums][starts], df) + local
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
    pgaps = unpack(words, 0, pval_w, pbit).astype(np.int64)
    poffsets = np.zeros(n + 1, np.int64)
    np.cumsum(tfi, out=poffsets[1:])
    flat = in_document(pgaps, poffsets)
    return (
        docs.astype(np.uint32),
        freqs.astype(np.float32),
        tfi.astype(np.uint32),
        flat.astype(np.uint32),
    )


def read_many(blocks: list[tuple[Any, int]]) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Documents and frequencies of many blocks (``(bytes, number of postings)`` each),
    read at once (per list a few microseconds, not numpy's fixed cost of a decode): each
    block's ``(docs, freqs, where its frequencies end)``."""
    raw = b"".join(bytes(data) for data, _n in blocks)
    lengths = np.fromiter((len(data) for data, _n in blocks), np.int64, len(blocks))
    counts = np.fromiter((n for _data, n in blocks), np.int64, len(blocks))
    offsets = np.cumsum(lengths) - lengths
    ends: list[int] = []
    docs, freqs, _npos, _positions = decode_blocks(raw, offsets, counts, False, ends)
    cuts = np.cumsum(counts)[:-1]
    return [
        (d, f, end - at)
        for d, f, end, at in zip(
            np.split(docs, cuts), np.split(freqs, cuts), ends, offsets.tolist()
        )
    ]


def _widths(heads: np.ndarray, where: np.ndarray, size: int) -> np.ndarray:
    if len(where) and int(where.max()) >= size:
        raise DamagedFile("postings blocks cut short")
    widths = heads[where].astype(np.int64)
    if len(widths) and int(widths.max()) > 32:
        raise DamagedFile("postings block: a width over 32 bits")
    return widths
