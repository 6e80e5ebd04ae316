"""A segment's fields read a piece of terms at a time: what a merge holds in memory.

Decoding a field's blocks takes tens of bytes of temporaries a posting, so a merge that
read each segment's fields whole held ~2 GB for segments of 21k articles, and would need
several times that for larger ones. :func:`field_pieces` gives a field's postings in
pieces of consecutive terms whose blocks take about a given number of bytes; a derived
field (``folded_bigrams``, no blocks of its own) in pieces of terms whose variants'
blocks do (:func:`derived_pieces`).

>>> import vnsearch
>>> from vnsearch.index.terms import terms_reader
>>> ix = vnsearch.Index.in_memory(vnsearch.Schema(body=vnsearch.TEXT()))
>>> with ix.writer() as w:
...     w.add({"body": "Hà Nội mùa thu"})
...     w.add({"body": "Hà nội, hạ nội"})
>>> terms = terms_reader(ix.snapshot().reader.leaf_readers()[0][0])
>>> [[k.decode() for k in keys] for keys, *_ in field_pieces(terms, "body.syllables", 1)]
[['hà'], ['hạ'], ['mùa'], ['nội'], ['thu']]
>>> [(keys[0].decode(), docs.tolist())
...  for keys, _, docs, *_ in field_pieces(terms, "body.folded_bigrams", 1)]
[('ha noi', [0, 1]), ('mua thu', [0]), ('noi mua', [0])]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from vnsearch.errors import DamagedFile
from vnsearch.index.batch import decode_blocks
from vnsearch.index.variants import Variants, summed_by

__all__ = ["derived_pieces", "field_pieces"]


def field_pieces(terms: Any, fieldname: str, piece_bytes: int | None = None) -> Iterator[tuple]:
    """The postings of ``fieldname`` in the segment of ``terms`` (a ``VnTermsReader``) as
    its ``field_postings`` gives them, ``(keys, counts, docs, weights, npos,
    positions)``, in pieces of consecutive terms whose blocks (a derived field's: its
    variants') take about ``piece_bytes`` (None: one piece)."""
    ft = terms.field_terms(fieldname)
    if ft is None:
        raise KeyError(fieldname)
    if ft.postings_from is not None:
        yield from _derived(terms, fieldname, ft, piece_bytes)
        return
    counts, offsets, lengths = ft.columns()
    for a, b in _ranges(np.cumsum(lengths), piece_bytes):
        keys = ft.key_list(np.arange(a, b)) if piece_bytes else ft.key_list()
        lo, hi = int(offsets[a]), int(offsets[b - 1] + lengths[b - 1])
        raw = terms.block(lo, hi - lo)
        blocks = decode_blocks(raw, offsets[a:b] - lo, counts[a:b], ft.positions)
        yield keys, counts[a:b], *blocks


def _ranges(ends: np.ndarray, piece_bytes: int | None) -> Iterator[tuple[int, int]]:
    """Ranges ``[a, b)`` of consecutive terms, none empty, covering all of them, each
    ending where the bytes held so far (``ends``: through each term) pass the next
    multiple of ``piece_bytes`` (None: one range)."""
    cuts: list[int] = []
    if piece_bytes is not None and len(ends):
        at = np.arange(piece_bytes, int(ends[-1]), piece_bytes)
        cuts = np.searchsorted(ends, at, "right").tolist()
    for a, b in zip([0, *cuts], [*cuts, len(ends)]):
        if a < b:
            yield a, b


def _derived(terms: Any, fieldname: str, ft: Any, piece_bytes: int | None) -> Iterator[tuple]:
    """:func:`field_pieces` of a derived field, from its accented field's blocks."""
    source = terms.field_terms(ft.postings_from)
    if source is None or terms.spellings is None:
        raise DamagedFile(f"postings of {fieldname} cannot be derived")
    counts, offsets, lengths = source.columns()
    lo = int(offsets[0])
    raw = np.frombuffer(terms.block(lo, int(offsets[-1] + lengths[-1]) - lo), np.uint8)

    def read(rows: np.ndarray) -> tuple:  # these terms' blocks, joined
        size = lengths[rows]
        starts = np.cumsum(size) - size
        at = np.repeat(offsets[rows] - lo - starts, size) + np.arange(int(size.sum()))
        return decode_blocks(raw[at], starts, counts[rows], source.positions)

    table = terms.spellings.table(fieldname)
    pieces = derived_pieces(table, ft.columns()[0], (counts, lengths), read, piece_bytes)
    for a, b, got, docs, weights in pieces:
        keys = ft.key_list(np.arange(a, b)) if piece_bytes else ft.key_list()
        yield keys, got, docs, weights, np.zeros(len(docs), np.uint32), None


def derived_pieces(
    table: Variants, dfs: np.ndarray, source: tuple, read: Any, piece_bytes: int | None
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
    """The postings of a derived field (``folded_bigrams``) from its accented field's, in
    pieces of consecutive terms whose accented blocks take about ``piece_bytes`` (None:
    one piece): ``(a, b, counts, docs, weights)`` of derived terms ``a:b``. ``dfs`` are
    the derived field's document frequencies, ``source`` the accented field's ``(counts,
    lengths)`` of blocks, ``read(rows)`` the accented terms ``rows``' ``(docs, weights,
    ...)`` joined. Document frequencies other than the stored ones are damage."""
    counts, lengths = source
    starts, order = table.arrays()
    if len(dfs) != table.n:
        raise DamagedFile("derived postings disagree with the document frequencies")
    held = np.zeros(len(order) + 1, np.int64)  # the variants' bytes before each of them
    np.cumsum(np.asarray(lengths, np.int64)[order], out=held[1:])
    for a, b in _ranges(held[starts[1:]], piece_bytes):
        rows = order[starts[a] : starts[b]]
        fold = np.repeat(np.arange(b - a, dtype=np.int64), np.diff(starts[a : b + 1]))
        by_row = np.argsort(rows, kind="stable")  # read in the file's order
        rows, fold = rows[by_row], fold[by_row]
        docs, weights, *_rest = read(rows)
        folded = np.repeat(fold, np.asarray(counts, np.int64)[rows])
        key, w = summed_by((folded << 32) | np.asarray(docs, np.int64), np.asarray(weights))
        got = np.bincount(key >> 32, minlength=b - a)
        if len(got) != b - a or not np.array_equal(got, dfs[a:b]):
            raise DamagedFile("derived postings disagree with the document frequencies")
        yield a, b, got, (key & 0xFFFFFFFF).astype(np.uint32), w
