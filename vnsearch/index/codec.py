"""How a vnsearch segment is put together: Whoosh's W3 codec with array-based pieces.

Whoosh's W3 codec pickles each block of 128 postings as Python ints; reading a long posting
list costs milliseconds and scoring then goes one posting at a time. This codec keeps
Whoosh's segments, deletions, locking and merging, and changes these things:

* a term's postings are one block of raw little-endian arrays
  (:mod:`vnsearch.index.postings`), read with ``numpy.frombuffer``, no per-posting Python;
* the term dictionary is arrays too (:mod:`vnsearch.index.terms`, whose field writer also
  writes the postings blocks);
* exact field lengths (Whoosh stores a one-byte approximation) go to one ``.vnl`` file per
  segment (:mod:`vnsearch.index.lengths`), read as ``uint32`` arrays;
* stored fields are JSON in compressed blocks (:mod:`vnsearch.index.stored`), the compound
  file's directory is JSON (:mod:`vnsearch.index.compound`), and the table of contents is
  vnsearch's (:mod:`vnsearch.index.toc`): nothing in an index folder is a pickle.

Whoosh's own searcher still reads such an index: ``postings_reader`` hands it an ordinary
``ListMatcher`` (tests use Whoosh as an oracle).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh.codec import whoosh3
from whoosh.formats import Format, Positions
from whoosh.matching import ListMatcher

from vnsearch.index.compound import VnCompoundStorage, write_compound
from vnsearch.index.field_writer import VnFieldWriter
from vnsearch.index.lengths import ExactLengthsReader, ExactLengthsWriter
from vnsearch.index.postings import PostingArrays
from vnsearch.index.terms import VnTermsReader

__all__ = ["VnCodec", "VnSegment"]


class VnSegment(whoosh3.W3Segment):
    """Whoosh's W3 segment in vnsearch's compound file (:mod:`vnsearch.index.compound`):
    each component on a 64-byte boundary (mapped, its arrays are aligned in memory as they
    are in their files), the directory JSON, never a pickle.

    numpy reads unaligned arrays through slower paths: ``searchsorted`` copies the whole
    array first, fancy indexing is about 5 times slower.
    """

    def create_compound_file(self, storage):
        names = self.list_files(storage)
        write_compound(self.create_file(storage, self.COMPOUND_EXT), storage, names)
        for name in names:
            storage.delete_file(name)
        self.compound = True

    def open_compound_file(self, storage):
        name = self.make_filename(self.COMPOUND_EXT)
        return VnCompoundStorage(
            storage.open_file(name), name, self.segment_id(), use_mmap=storage.supports_mmap
        )


class VnCodec(whoosh3.W3Codec):
    """Whoosh's W3 codec with numpy-readable postings, an array term dictionary
    (:mod:`vnsearch.index.terms`) and exact field lengths."""

    def new_segment(self, storage, indexname):
        return VnSegment(self, indexname)

    def field_writer(self, storage, segment):
        return VnFieldWriter(storage, segment)

    def terms_reader(self, storage, segment):
        return VnTermsReader(self, storage, segment)

    def postings_reader(self, dbfile, terminfo, format_: Format, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, length = terminfo.extent()
        arrays = PostingArrays(
            dbfile.get(offset, length), terminfo.doc_frequency(), isinstance(format_, Positions)
        )
        return self.matcher_of(arrays, format_, term, terminfo, scorer)

    def matcher_of(self, arrays: PostingArrays, format_: Format, term, terminfo, scorer) -> Any:
        """Whoosh's ``ListMatcher`` over a term's arrays (Whoosh's own searcher, merges of
        Whoosh's writer and the tests' oracle read postings through it)."""
        docs = arrays.docs.tolist()
        weights = arrays.freqs.astype(np.float64).tolist()  # Whoosh's weights: floats
        if arrays.has_positions:
            offsets, flat = arrays.all_positions()
            raw = flat.astype("<u4").tobytes()
            bounds = offsets.tolist()
            values = [raw[4 * a : 4 * b] for a, b in zip(bounds, bounds[1:])]
        else:
            values = [b""] * len(docs)
        return ListMatcher(
            docs, weights, values, format_, scorer=scorer, term=term, terminfo=terminfo
        )

    def per_document_writer(self, storage, segment):
        return ExactLengthsWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return ExactLengthsReader(storage, segment)
