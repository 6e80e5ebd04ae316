"""How long each field of each document is, exactly: the ``.vnl`` file of a segment.

Whoosh stores a one-byte approximation of each field's length; BM25 here uses the exact
number of tokens. The per-document writer adds one ``.vnl`` file per segment: a magic,
a JSON header (each field's offset and count) and one ``uint32`` array per field, read
in place as numpy arrays. Merges carry the lengths over exactly (Whoosh passes each
document's length to the new segment's writer).

The reader is the segment's whole per-document reader: Whoosh's, with stored fields and
columns read from the map (:mod:`vnsearch.index.files`).
"""

from __future__ import annotations

import json
import pickle
import struct
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
from whoosh.codec import whoosh3

from vnsearch.errors import DamagedFile
from vnsearch.index.files import MappedFile, buffer_of, open_mapped

__all__ = ["LENGTHS_EXT", "ExactLengthsReader", "ExactLengthsWriter", "per_doc_reader"]

LENGTHS_EXT = ".vnl"
_MAGIC = b"VNL1"


class ExactLengthsWriter(whoosh3.W3PerDocWriter):
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
        f = self._segment.create_file(self._storage, LENGTHS_EXT)
        f.write(_MAGIC + struct.pack("<I", len(head)) + head + b"".join(body))
        f.close()
        super().close()


class ExactLengthsReader(whoosh3.W3PerDocReader):
    """Whoosh's per-document reader; field lengths come exact from the ``.vnl`` file."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        f = open_mapped(storage, segment.make_filename(LENGTHS_EXT))
        data = buffer_of(f) if isinstance(f, MappedFile) else f.read()
        if data[:4] != _MAGIC:
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
            # NOT trusted data: a stored-fields record of the index folder, Whoosh's
            # pickled dict (moved here unchanged from codec.py; Whoosh's own reader and
            # table of contents unpickle too). Replacing it needs a stored-field format
            # without pickle: issue 18 (index format 3), not this restructure.
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

    def numeric_keys(self, fieldname: str, column_type: Any) -> np.ndarray:
        """The sortable ``uint64`` keys of a NUMERIC or DATETIME field's column, one per
        document up to the last one with a value (Whoosh's ``NumericColumn``: big-endian,
        the documents after the last value left out); empty when no document has one."""
        if not self.has_column(fieldname):
            return np.empty(0, dtype=">u8")
        col = self.column_reader(fieldname, column_type)
        raw = col._dbfile.get(col._basepos, col._count * 8)  # Whoosh's column, read whole
        return np.frombuffer(raw, dtype=">u8")

    def doc_field_length(self, docnum, fieldname, default=0):
        column = self._exact_lengths.get(fieldname)
        if column is None:
            return default
        return int(column[docnum]) or default


def per_doc_reader(segment_reader: Any) -> ExactLengthsReader:
    """The per-document reader (lengths, columns, stored fields, deletions) of a Whoosh
    ``SegmentReader`` of a vnsearch segment."""
    return segment_reader._perdoc  # where Whoosh keeps it
