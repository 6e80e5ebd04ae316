"""The vnsearch codec: Whoosh's segments, with postings and field lengths numpy can read.

Whoosh's W3 codec pickles each block of 128 postings as Python ints; reading a long posting
list costs milliseconds and scoring then goes one posting at a time. This codec keeps
Whoosh's segments, table of contents, stored fields, deletions, locking and merging, and
changes three things:

* a term's postings are one block of raw little-endian arrays
  (:mod:`vnsearch.index.postings`), read with ``numpy.frombuffer``, no per-posting Python;
* the term dictionary is arrays too (:mod:`vnsearch.index.terms`, whose field writer also
  writes the postings blocks);
* exact field lengths (Whoosh stores a one-byte approximation) go to one ``.vnl`` file per
  segment, read as ``uint32`` arrays; merges carry them over exactly.

Whoosh's own searcher still reads such an index: ``postings_reader`` hands it an ordinary
``ListMatcher`` (tests use Whoosh as an oracle).
"""

from __future__ import annotations

import json
import pickle
import struct
from array import array
from collections.abc import Callable
from shutil import copyfileobj
from typing import Any

import numpy as np
from whoosh.codec import whoosh3
from whoosh.filedb.compound import CompoundStorage
from whoosh.formats import Format
from whoosh.matching import ListMatcher

from vnsearch.errors import DamagedFile
from vnsearch.index.files import MappedFile, buffer_of, open_mapped
from vnsearch.index.postings import RawPositions, postings_arrays

__all__ = ["RawPositions", "VnCodec", "VnSegment"]

_LENGTHS_EXT = ".vnl"
_LENGTHS_MAGIC = b"VNL1"


class _ExactLengthsWriter(whoosh3.W3PerDocWriter):
    """Whoosh's per-document writer, plus exact field lengths in a ``.vnl`` file."""

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._exact: dict[str, array] = {}

    def add_field(self, fieldname, fieldobj, value, length):
        super().add_field(fieldname, fieldobj, value, length)
        if fieldobj.scorable and length:
            column = self._exact.get(fieldname)
            if column is None:
                column = self._exact[fieldname] = array("I")
            if len(column) <= self._docnum:
                column.extend([0] * (self._docnum + 1 - len(column)))
            column[self._docnum] = length

    def close(self):
        doccount = self._doccount
        header: dict[str, list[int]] = {}
        body = []
        at = 0
        for name, column in sorted(self._exact.items()):
            if len(column) < doccount:
                column.extend([0] * (doccount - len(column)))
            raw = column.tobytes()
            header[name] = [at, doccount]
            body.append(raw)
            at += len(raw)
        head = json.dumps(header).encode("utf-8")
        f = self._segment.create_file(self._storage, _LENGTHS_EXT)
        f.write(_LENGTHS_MAGIC + struct.pack("<I", len(head)) + head + b"".join(body))
        f.close()
        super().close()


class _ExactLengthsReader(whoosh3.W3PerDocReader):
    """Whoosh's per-document reader; field lengths come exact from the ``.vnl`` file."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        f = open_mapped(storage, segment.make_filename(_LENGTHS_EXT))
        data = buffer_of(f) if isinstance(f, MappedFile) else f.read()
        if data[:4] != _LENGTHS_MAGIC:
            raise DamagedFile(f"segment {segment.segid}: bad field-length file")
        (hlen,) = struct.unpack_from("<I", data, 4)
        header = json.loads(bytes(data[8 : 8 + hlen]).decode("utf-8"))
        base = 8 + hlen
        self._exact_lengths = {
            name: np.frombuffer(data, dtype="<u4", count=count, offset=base + at)
            for name, (at, count) in header.items()
        }

    def stored_fields(self, docnum: int) -> dict:
        return self._stored_column()[docnum] or {}

    def _stored_column(self) -> Any:
        reader = self._cached_reader("_stored", whoosh3.STORED_COLUMN)
        if reader is None:  # the compound file's directory lost the stored-fields file
            raise DamagedFile(f"segment {self._segment.segid}: the stored fields are missing")
        return reader

    def stored_reader(self) -> Callable[[int], dict] | None:
        """``stored_fields`` without Whoosh's layers of column readers (a document's
        fields are a pickled dict, compressed, at an offset the column's arrays give) and
        safe to call from many threads: the file is mapped, not read through a shared file
        position. None when the file is not mapped."""
        compressed = self._stored_column()._child  # PickleColumn.Reader -> CompressedBytes
        dbfile = compressed._dbfile
        if not isinstance(dbfile, MappedFile):
            return None
        buf, base = buffer_of(dbfile), compressed._basepos
        offsets, lengths = compressed._offsets, compressed._lengths
        decompress = compressed._decompress

        def read(docnum: int) -> dict:
            n = lengths[docnum]
            if not n:
                return {}
            at = base + offsets[docnum]
            return pickle.loads(decompress(buf[at : at + n])) or {}

        return read

    def _get_column_file(self, fieldname: str) -> tuple[Any, int, int]:
        # stored fields are a column too: mapped, not copied (see MappedFile)
        name = whoosh3.W3Codec.column_filename(self._segment, fieldname)
        return open_mapped(self._storage, name), 0, self._storage.file_length(name)

    def exact_lengths(self, fieldname: str) -> np.ndarray:
        """Exact lengths of ``fieldname`` for every document of the segment (0 if absent)."""
        column = self._exact_lengths.get(fieldname)
        if column is None:
            return np.zeros(self._doccount, dtype="<u4")
        return column

    def doc_field_length(self, docnum, fieldname, default=0):
        column = self._exact_lengths.get(fieldname)
        if column is None:
            return default
        return int(column[docnum]) or default


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
        from vnsearch.index.terms import VnFieldWriter

        return VnFieldWriter(storage, segment)

    def terms_reader(self, storage, segment):
        from vnsearch.index.terms import VnTermsReader

        return VnTermsReader(self, storage, segment)

    def postings_reader(self, dbfile, terminfo, format_: Format, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        arrays = postings_arrays(dbfile, terminfo)
        docs = arrays.docs.tolist()
        weights = arrays.freqs.tolist()
        if arrays.has_positions:
            offsets, flat = arrays.all_positions()
            raw = flat.tobytes()
            values = [
                raw[4 * a : 4 * b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())
            ]
        else:
            values = [b""] * len(docs)
        return ListMatcher(
            docs, weights, values, format_, scorer=scorer, term=term, terminfo=terminfo
        )

    def per_document_writer(self, storage, segment):
        return _ExactLengthsWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return _ExactLengthsReader(storage, segment)
