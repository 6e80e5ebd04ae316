"""How a segment's terms are written: postings blocks, the term dictionary, the variants.

``VnFieldWriter`` is Whoosh's ``FieldWriter`` for vnsearch segments: each field's terms
go into the ``.vnt`` dictionary (:mod:`vnsearch.index.dictionary`), their postings blocks
(:mod:`vnsearch.index.postings`) into the ``.vnp`` file, and at the end which accented
terms fold to each folded term into the ``.vna`` file (:mod:`vnsearch.index.variants`).
The ``folded_bigrams`` views have no postings blocks: their terms' records are of length
0 with their document frequency, their postings derived from their variants'.
:mod:`vnsearch.index.terms` reads them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

import numpy as np
from whoosh.codec import base
from whoosh.formats import Positions

from vnsearch.index.dictionary import DictionaryField, PackedKeys, dictionary_chunks
from vnsearch.index.encode import encode_block, encode_blocks
from vnsearch.index.variants import (
    VARIANTS_EXT,
    positions_source,
    postings_source,
    variant_chunks,
)

__all__ = ["POSTS_EXT", "TERMS_EXT", "VnFieldWriter", "pack_block"]

TERMS_EXT = ".vnt"
POSTS_EXT = ".vnp"
_GROUP = 1 << 17  # postings encoded at once when writing a field (fits the caches)


class VnFieldWriter(base.FieldWriter):
    """Writes postings blocks and the array term dictionary of one segment."""

    def __init__(self, storage, segment) -> None:
        self._storage = storage
        self._segment = segment
        self._postfile = segment.create_file(storage, POSTS_EXT)
        self._fields: list[DictionaryField] = []
        self._field: DictionaryField | None = None
        self._positions = False
        self._btext: bytes | None = None
        self._ids = array("I")
        self._weights = array("f")
        self._values: list[bytes] = []
        self.is_closed = False

    # Whoosh's per-posting interface (used by merges and add_postings)

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        source = positions_source(fieldname)
        self._positions = isinstance(fieldobj.format, Positions) and source is None
        self._field = DictionaryField(fieldname, self._positions)
        if source is not None and isinstance(fieldobj.format, Positions):
            self._field.positions_from = source
        self._field.postings_from = postings_source(fieldname)
        self._fields.append(self._field)

    def start_term(self, btext: bytes) -> None:
        self._btext = btext
        self._ids = array("I")
        self._weights = array("f")
        self._values = []

    def add(self, docnum: int, weight: float, vbytes: bytes, length: int) -> None:
        self._ids.append(docnum)
        self._weights.append(weight)
        self._values.append(vbytes)

    def finish_term(self) -> None:
        assert self._field is not None and self._btext is not None
        data = b""  # derived postings: none written
        if self._field.postings_from is None:
            data = pack_block(self._ids, self._weights, self._values, self._positions)
        offset = self._postfile.tell()
        self._postfile.write(data)
        self._field.add(self._btext, offset, len(data), len(self._ids))

    def finish_field(self) -> None:
        self._field = None

    def add_postings(self, schema, lengths, items) -> None:
        """Whoosh's loop over sorted postings, without a field-length lookup per posting."""
        lastfn = lasttext = None
        ids, weights, values = self._ids, self._weights, self._values
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != lastfn:
                if lasttext is not None:
                    self.finish_term()
                self.start_field(fieldname, schema[fieldname])
                lastfn, lasttext = fieldname, None
            if docnum == -1:  # Whoosh's spelling-graph marker
                continue
            if btext != lasttext:
                if lasttext is not None:
                    self.finish_term()
                self.start_term(btext)
                ids, weights, values = self._ids, self._weights, self._values
                lasttext = btext
            ids.append(docnum)
            weights.append(weight)
            values.append(value or b"")
        if lasttext is not None:
            self.finish_term()

    def add_field_postings(self, fieldname: str, fieldobj: Any, pieces: Iterable[Any]) -> None:
        """Write a whole field from :class:`vnsearch.index.pool.FieldPostings` of
        consecutive ranges of its keys (:meth:`~vnsearch.index.pool.ArrayPool.fields`):
        the terms' blocks encoded a group of terms at a time (what :meth:`add_postings`
        does one posting at a time), each piece freed before the next is read."""
        source = positions_source(fieldname)
        derived = postings_source(fieldname)
        positional = False
        keys = PackedKeys()  # kept until the segment's dictionaries are written
        columns: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for fp in pieces:
            if not len(fp.keys):
                continue
            positional = isinstance(fieldobj.format, Positions) and fp.pos_starts is not None
            positional = positional and source is None
            keys.extend(fp.keys)
            columns.append(self._write_piece(fp, positional, derived is not None))
        if not len(keys):
            return
        offsets, sizes, counts = (np.concatenate(c) for c in zip(*columns))
        field = DictionaryField.from_arrays(
            fieldname, keys, offsets, sizes, counts, positions=positional and derived is None
        )
        field.postings_from = derived
        if derived is None and source is not None and isinstance(fieldobj.format, Positions):
            field.positions_from = source
        self._fields.append(field)

    def _write_piece(self, fp: Any, positional: bool, derived: bool) -> tuple:
        """Write the blocks of one piece's terms; their ``(offsets, sizes, counts)``.
        A derived field has no blocks: records of length 0, the df kept."""
        n = len(fp.keys)
        starts = np.asarray(fp.starts, np.int64)
        if derived:
            return np.full(n, self._postfile.tell()), np.zeros(n, np.int64), np.diff(starts)
        lengths = []
        first = 0
        while first < n:  # groups of about _GROUP postings: bounded memory
            last = int(np.searchsorted(starts, starts[first] + _GROUP, "right")) - 1
            last = min(max(last, first + 1), n)
            a, b = int(starts[first]), int(starts[last])
            positions = None
            if positional:
                positions = fp.positions[int(fp.pos_starts[a]) : int(fp.pos_starts[b])]
            blob, sizes = encode_blocks(
                starts[first : last + 1] - a, fp.docs[a:b], fp.weights[a:b], positions
            )
            self._postfile.write(blob)
            lengths.append(sizes)
            first = last
        size = np.concatenate(lengths)
        offsets = np.cumsum(size) - size + (self._postfile.tell() - int(size.sum()))
        return offsets, size, np.diff(starts)

    def close(self) -> None:
        self._postfile.close()
        f = self._segment.create_file(self._storage, TERMS_EXT)
        for chunk in dictionary_chunks(self._fields):
            f.write(chunk)
        f.close()
        f = self._segment.create_file(self._storage, VARIANTS_EXT)
        for chunk in variant_chunks(self._fields):
            f.write(chunk)
        f.close()
        self.is_closed = True


def pack_block(ids: array, weights: array, values: list[bytes], positions: bool) -> bytes:
    """One postings block from Whoosh's postings one at a time: ``ids`` is ``array("I")``,
    ``weights`` ``array("f")``, ``values`` each posting's :class:`RawPositions` bytes.

    >>> from vnsearch.index.postings import PostingArrays
    >>> from vnsearch.index.schema import RawPositions
    >>> block = pack_block(array("I", [3, 7]), array("f", [2, 1]),
    ...                    [RawPositions().encode([0, 5]), RawPositions().encode([2])], True)
    >>> offsets, flat = PostingArrays(block, 2, True).all_positions()
    >>> offsets.tolist(), flat.tolist()
    ([0, 2, 3], [0, 5, 2])
    """
    flat = np.frombuffer(b"".join(values), "<u4") if positions else None
    return encode_block(np.frombuffer(ids, "<u4"), np.frombuffer(weights, "<f4"), flat)
