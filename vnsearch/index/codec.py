"""How a vnsearch segment is put together: Whoosh's W3 codec with array-based pieces.

Whoosh's W3 codec pickles each block of 128 postings as Python ints; reading a long posting
list costs milliseconds and scoring then goes one posting at a time. This codec keeps
Whoosh's segments, table of contents, stored fields, deletions, locking and merging, and
changes three things:

* a term's postings are one block of raw little-endian arrays
  (:mod:`vnsearch.index.postings`), read with ``numpy.frombuffer``, no per-posting Python;
* the term dictionary is arrays too (:mod:`vnsearch.index.terms`, whose field writer also
  writes the postings blocks);
* exact field lengths (Whoosh stores a one-byte approximation) go to one ``.vnl`` file per
  segment (:mod:`vnsearch.index.lengths`), read as ``uint32`` arrays.

Whoosh's own searcher still reads such an index: ``postings_reader`` hands it an ordinary
``ListMatcher`` (tests use Whoosh as an oracle).

Whoosh pickles ``VnCodec``, ``VnSegment`` and the fields' ``RawPositions`` into the
table of contents: they keep these names in this module.
"""

from __future__ import annotations

from shutil import copyfileobj
from typing import Any

from whoosh.codec import whoosh3
from whoosh.filedb.compound import CompoundStorage
from whoosh.formats import Format, Positions
from whoosh.matching import ListMatcher

from vnsearch.index.lengths import ExactLengthsReader, ExactLengthsWriter
from vnsearch.index.postings import PostingArrays, RawPositions
from vnsearch.index.terms import VnFieldWriter, VnTermsReader

__all__ = ["RawPositions", "VnCodec", "VnSegment"]


class VnSegment(whoosh3.W3Segment):
    """Whoosh's W3 segment, whose compound file starts each component on a 64-byte
    boundary: mapped, its arrays are aligned in memory as they are in their files.

    numpy reads unaligned arrays through slower paths: ``searchsorted`` copies the whole
    array first, fancy indexing is about 5 times slower.
    """

    def create_compound_file(self, storage):
        names = self.list_files(storage)
        cfile = self.create_file(storage, self.COMPOUND_EXT)
        directory = {}
        base = cfile.tell()
        cfile.write_long(0)  # the directory's offset and length, written last
        cfile.write_int(0)
        for name in names:
            cfile.write(b"\0" * (-cfile.tell() % _COMPONENT_ALIGN))
            directory[name] = {
                "offset": cfile.tell(),
                "length": storage.file_length(name),
                "modified": storage.file_modified(name),
            }
            f = storage.open_file(name)
            try:
                copyfileobj(f, cfile)
            finally:
                f.close()
        CompoundStorage.write_dir(cfile, base, directory)
        for name in names:
            storage.delete_file(name)
        self.compound = True


_COMPONENT_ALIGN = 64


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
        weights = arrays.freqs.tolist()
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
