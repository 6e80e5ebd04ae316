"""Stored fields: each segment's ``.vns`` file, each document as JSON deflated on its own.

Whoosh stores each document's fields as a pickled dict (reading one could run code a
folder received from elsewhere put there). Here each document of a segment is written
as JSON, compressed alone with raw deflate against a dictionary of the segment's first
documents (up to :data:`DICTIONARY_BYTES` of them, what the next ones most likely
repeat: field names, common words). A hit's fields cost one small inflate: ~2.5 us for a
VNTC title, where a zlib block of 8 documents took 12-14 us. On all of VNTC (titles and
ids) the file is 8.1 MB against 7.4 for blocks of 8: the records are as small as the
blocks, the index of 16 bytes a document is the difference. The file::

    b"VSF4" | dictionary (deflated) | document | document | ... | index | footer

The index: per document its offset in the file (``uint64``, one more: the index's own),
the CRC-32 of its JSON and the JSON's length (``uint32`` each); an empty document is no
bytes. The footer: the index's offset (``uint64``), the deflated dictionary's length and
the number of documents (``uint32``), ``b"VSF4"``.

Values come back with their Python types: ``str``, ``int``, ``float``, ``bool``, ``None``
and lists as JSON; ``datetime``/``date`` (naive, or with a fixed offset), tuples, dicts
with ``str`` keys and ``bytes`` as a one-key object ``{"$datetime": ...}``, ``{"$date":
...}``, ``{"$tuple": [...]}``, ``{"$dict": [[key, value], ...]}``, ``{"$bytes": base64}``
(no other object appears in the file, so no value is mistaken for a tag). Anything else
is refused when the document is added (:func:`storable`).

>>> import datetime
>>> from whoosh.filedb.filestore import RamStorage
>>> st = RamStorage()
>>> w = StoredFieldsWriter(st.create_file("MAIN_x.vns"))
>>> w.add({"title": "Hà Nội", "when": datetime.datetime(2020, 1, 3, 8, 30)})
>>> w.add({})
>>> w.close(2)
>>> r = StoredFieldsReader(st.files["MAIN_x.vns"], "MAIN_x.vns", 2)
>>> r.document(0)
{'title': 'Hà Nội', 'when': datetime.datetime(2020, 1, 3, 8, 30)}
>>> r.document(1)
{}
"""

from __future__ import annotations

import base64
import datetime
import json
import struct
import sys
import zlib
from array import array
from typing import Any

import numpy as np

from vnsearch.errors import DamagedFile

__all__ = [
    "DICTIONARY_BYTES",
    "STORABLE",
    "STORED_EXT",
    "StoredFieldsReader",
    "StoredFieldsWriter",
    "storable",
]

STORED_EXT = ".vns"
# the segment's first documents, joined, up to deflate's window: the dictionary
DICTIONARY_BYTES = 1 << 15
_LEVEL = 6
# what :func:`storable` takes, for error messages
STORABLE = (
    "a stored value is str, int, float, bool, None, bytes, a datetime or date (naive or "
    "with a fixed offset), or a list, tuple or dict (str keys) of those"
)
_MAGIC = b"VSF4"
_FOOTER = struct.Struct("<QII4s")
_PLAIN = (str, int, float, bool, type(None))
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _encode(value: Any) -> Any:
    """``value`` as plain JSON data (tags for the types JSON lacks); TypeError if none."""
    t = type(value)
    if t in _PLAIN:
        return value
    if t is list:
        return [_encode(v) for v in value]
    if t is tuple:
        return {"$tuple": [_encode(v) for v in value]}
    if t is dict:
        if not all(type(k) is str for k in value):
            raise TypeError("a stored dict's keys must be str")
        return {"$dict": [[k, _encode(v)] for k, v in value.items()]}
    if t is datetime.datetime:
        if value.tzinfo is not None and type(value.tzinfo) is not datetime.timezone:
            raise TypeError("a stored datetime is naive or has a fixed offset (timezone)")
        return {"$datetime": value.isoformat()}
    if t is datetime.date:
        return {"$date": value.isoformat()}
    if t is bytes:
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    raise TypeError(f"a {t.__name__} cannot be stored")


def storable(value: Any) -> None:
    """Raise TypeError naming the problem when ``value`` cannot be stored.

    >>> storable({"a": [1, 2.5, None, (True, b"x")]})
    >>> storable({1, 2})
    Traceback (most recent call last):
    TypeError: a set cannot be stored
    """
    _encode(value)


_TAGS = {
    "$tuple": tuple,
    "$dict": dict,
    "$datetime": datetime.datetime.fromisoformat,
    "$date": datetime.date.fromisoformat,
    "$bytes": lambda s: base64.b64decode(s, validate=True),
}


def _tagged(obj: dict) -> Any:
    if len(obj) == 1:
        ((tag, value),) = obj.items()
        decode = _TAGS.get(tag)
        if decode is not None:
            return decode(value)
    return obj  # a document: field names are identifiers


def _encode_document(fields: dict) -> bytes:
    if not fields:
        return b""
    if not all(type(v) in _PLAIN for v in fields.values()):
        fields = {k: _encode(v) for k, v in fields.items()}
    return _JSON.encode(fields).encode("utf-8", "surrogatepass")


def _little(numbers: array) -> bytes:
    """An array's bytes, little-endian whatever the machine."""
    if sys.byteorder == "big":
        numbers = array(numbers.typecode, numbers)
        numbers.byteswap()
    return numbers.tobytes()


class StoredFieldsWriter:
    """Writes a segment's stored fields, one document after the other, to ``f`` (a
    Whoosh ``StructFile``, closed by :meth:`close`). The first documents wait in memory
    (at most :data:`DICTIONARY_BYTES` of JSON) until they make the dictionary."""

    def __init__(self, f: Any) -> None:
        self._f = f
        self._waiting: list[bytes] | None = []  # None once the dictionary is written
        self._waiting_bytes = 0
        self._deflate: Any = None  # a compressor primed with the dictionary, copied per doc
        self._at = 0
        self._offsets = array("Q")
        self._crcs = array("I")
        self._sizes = array("I")
        self._dictionary = b""
        self._packed = 0  # the dictionary's bytes, deflated

    def add(self, fields: dict) -> None:
        """The next document's stored fields (Whoosh field name -> value)."""
        raw = _encode_document(fields)
        waiting = self._waiting
        if waiting is None:
            self._write(raw)
            return
        waiting.append(raw)
        self._waiting_bytes += len(raw)
        if self._waiting_bytes >= DICTIONARY_BYTES:
            self._start()

    def _start(self) -> None:
        """Write the dictionary (the waiting documents, joined) and the waiting ones."""
        waiting, self._waiting = self._waiting or [], None
        self._dictionary = b"".join(waiting)[:DICTIONARY_BYTES]
        # deflated itself: in a small segment it is most of the documents' bytes
        packed = zlib.compress(self._dictionary, 9) if self._dictionary else b""
        self._f.write(_MAGIC + packed)
        self._packed = len(packed)
        self._at = len(_MAGIC) + len(packed)
        self._deflate = zlib.compressobj(
            _LEVEL, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, self._dictionary
        )
        for raw in waiting:
            self._write(raw)

    def _write(self, raw: bytes) -> None:
        self._offsets.append(self._at)
        self._crcs.append(zlib.crc32(raw))
        self._sizes.append(len(raw))
        if raw:
            d = self._deflate.copy()
            data = d.compress(raw) + d.flush()
            self._f.write(data)
            self._at += len(data)

    def close(self, doccount: int) -> None:
        """Write the documents still waiting and the index; ``doccount`` is the segment's."""
        if self._waiting is not None:
            self._start()
        if doccount != len(self._crcs):
            raise ValueError(f"{len(self._crcs)} documents' stored fields for {doccount} documents")
        self._offsets.append(self._at)
        index = _little(self._offsets) + _little(self._crcs) + _little(self._sizes)
        self._f.write(index + _FOOTER.pack(self._at, self._packed, doccount, _MAGIC))
        self._f.close()


class StoredFieldsReader:
    """The stored fields of a segment's documents, from the bytes ``data`` of its
    ``.vns`` file ``name`` (checked against the segment's ``doccount``). Safe to call from
    many threads; a file that is not as written is :class:`DamagedFile` naming it."""

    def __init__(self, data: Any, name: str, doccount: int) -> None:
        self._data = data
        self._name = name
        size = len(data)
        if size < len(_MAGIC) + _FOOTER.size or bytes(data[:4]) != _MAGIC:
            raise self._damaged("not a stored-fields file of this vnsearch version")
        at, dict_len, docs, magic = _FOOTER.unpack_from(data, size - _FOOTER.size)
        if magic != _MAGIC or docs != doccount:
            raise self._damaged(f"{docs} documents in the file, {doccount} in the segment")
        start = len(_MAGIC) + dict_len
        if at < start or at + 16 * docs + 8 + _FOOTER.size != size:
            raise self._damaged("its index does not fit the file")
        offsets = np.frombuffer(data, "<u8", docs + 1, at)
        if docs and (
            offsets[0] != start
            or offsets[-1] != at
            or (np.diff(offsets.astype(np.int64)) < 0).any()
        ):
            raise self._damaged("damaged index")
        self._offsets = offsets.tolist()
        self._crcs = np.frombuffer(data, "<u4", docs, at + 8 * (docs + 1)).tolist()
        self._sizes = np.frombuffer(data, "<u4", docs, at + 12 * docs + 8).tolist()
        self._dictionary = b""
        if dict_len:  # at most a window: a planted one cannot inflate without bound
            d = zlib.decompressobj()
            try:
                self._dictionary = d.decompress(data[len(_MAGIC) : start], DICTIONARY_BYTES + 1)
            except zlib.error:
                raise self._damaged("damaged dictionary") from None
            if not d.eof or d.unused_data or len(self._dictionary) > DICTIONARY_BYTES:
                raise self._damaged("damaged dictionary")

    def _damaged(self, what: str) -> DamagedFile:
        return DamagedFile(f"{self._name}: {what}")

    def document(self, docnum: int) -> dict:
        """The stored fields of document ``docnum`` of the segment."""
        if not 0 <= docnum < len(self._crcs):
            raise IndexError(f"document {docnum} of {len(self._crcs)}")
        start, end = self._offsets[docnum], self._offsets[docnum + 1]
        size = self._sizes[docnum]
        if start == end:
            text = b""
        else:  # at most the length written: a damaged record cannot inflate without bound
            d = zlib.decompressobj(-15, zdict=self._dictionary)
            try:
                text = d.decompress(self._data[start:end], size + 1)
            except zlib.error:
                raise self._damaged(f"document {docnum}: not deflated") from None
            if not d.eof or d.unused_data or len(text) != size:
                raise self._damaged(f"document {docnum}: not the length written")
        if zlib.crc32(text) != self._crcs[docnum]:
            raise self._damaged(f"document {docnum}: checksum mismatch")
        if not text:
            return {}
        try:  # a tag is an object whose one key starts with "$": none, no hook needed
            hook = _tagged if b'{"$' in text else None
            fields = json.loads(text.decode("utf-8", "surrogatepass"), object_hook=hook)
        except (ValueError, TypeError, RecursionError) as exc:  # JSON, UTF-8, base64, date
            raise self._damaged(f"document {docnum}: {type(exc).__name__}") from None
        if not isinstance(fields, dict):
            raise self._damaged(f"document {docnum}: not a mapping")
        return fields

    __call__ = document
