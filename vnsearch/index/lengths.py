"""How long each field of each document is, exactly: the ``.vnl`` file of a segment.

Whoosh stores a one-byte approximation of each field's length; BM25 here uses the exact
number of tokens. The per-document writer adds one ``.vnl`` file per segment: a magic,
a JSON header (each field's offset and count) and one ``uint32`` array per field, read
in place as numpy arrays. Merges carry the lengths over exactly (Whoosh passes each
document's length to the new segment's writer).

The per-document writer also writes the stored fields, in vnsearch's own ``.vns`` file
(:mod:`vnsearch.index.stored`; Whoosh's ``_stored`` column of pickled dicts is not
written). The reader is the segment's whole per-document reader: Whoosh's, with stored
fields from the ``.vns`` file and columns read from the map (:mod:`vnsearch.index.files`).
"""

from __future__ import annotations

import json
import struct
from array import array
from collections.abc import Callable
from typing import Any

import numpy as np
from whoosh.codec import whoosh3

from vnsearch.errors import DamagedFile
from vnsearch.index.files import MappedFile, buffer_of, open_mapped
from vnsearch.index.stored import STORED_EXT, StoredFieldsReader, StoredFieldsWriter

__all__ = ["LENGTHS_EXT", "ExactLengthsReader", "ExactLengthsWriter", "per_doc_reader"]

LENGTHS_EXT = ".vnl"
_MAGIC = b"VNL1"


class ExactLengthsWriter(whoosh3.W3PerDocWriter):
    """Whoosh's per-document writer, plus exact field lengths in a ``.vnl`` file, and the
    stored fields in a ``.vns`` file instead of Whoosh's column of pickles."""

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._exact: dict[str, array] = {}
        # Whoosh's stored-fields column is never written (its file would be empty)
        del self._colwriters["_stored"]
        del self._cols._streams["_stored"]
        self._stored = StoredFieldsWriter(segment.create_file(storage, STORED_EXT))

    def finish_doc(self):
        # Whoosh's close() calls finish_doc() again, after the last document was finished
        if self._indoc:
            self._stored.add(self._storedfields)
            self._indoc = False

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
        self.finish_doc()
        doccount = self._doccount
        self._stored.close(doccount)
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
        name = segment.make_filename(LENGTHS_EXT)
        f = open_mapped(storage, name)
        data = buffer_of(f) if isinstance(f, MappedFile) else f.read()
        if len(data) < 8 or bytes(data[:4]) != _MAGIC:
            raise DamagedFile(f"{name}: not a field-length file of this vnsearch version")
        (hlen,) = struct.unpack_from("<I", data, 4)
        base = 8 + hlen
        try:
            header = json.loads(bytes(data[8:base]).decode("utf-8"))
            columns = [(field, at, count) for field, (at, count) in header.items()]
        except (ValueError, TypeError, AttributeError):
            raise DamagedFile(f"{name}: damaged header") from None
        for field, at, count in columns:
            if not (
                type(at) is int
                and count == self._doccount
                and at >= 0
                and base + at + 4 * count <= len(data)
            ):
                raise DamagedFile(f"{name}: damaged header ({field!r})")
        self._exact_lengths = {
            field: np.frombuffer(data, dtype="<u4", count=count, offset=base + at)
            for field, at, count in columns
        }

    def stored_fields(self, docnum: int) -> dict:
        return self.stored_reader()(docnum)

    def stored_reader(self) -> Callable[[int], dict]:
        """The segment's stored fields by document number (a
        :class:`~vnsearch.index.stored.StoredFieldsReader`), safe to call from many
        threads: a mapped file is read in place, any other read whole, once."""
        reader = self.__dict__.get("_stored")
        if reader is None:
            name = self._segment.make_filename(STORED_EXT)
            if not self._storage.file_exists(name):
                raise DamagedFile(f"segment {self._segment.segid}: the stored fields are missing")
            f = open_mapped(self._storage, name)
            try:
                data = buffer_of(f)
                if data is None:
                    data = f.read()
                reader = StoredFieldsReader(data, name, self._doccount)
            except BaseException:
                f.close()
                raise
            self._stored_file = f
            self._stored = reader
        return reader

    def close(self):
        f = self.__dict__.pop("_stored_file", None)
        if f is not None:
            f.close()
        super().close()

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
