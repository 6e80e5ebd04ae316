"""Stored fields: each segment's ``.vns`` file, documents as JSON compressed in blocks.

Whoosh stores each document's fields as a pickled dict (reading one could run code a
folder received from elsewhere put there). Here the documents of a segment are written
in order, as JSON, into blocks of about :data:`BLOCK_BYTES` (at most :data:`BLOCK_DOCS`
documents) each compressed with zlib, as Lucene and tantivy do: a hit's fields cost one
small block decode, and the last blocks decoded are kept. The file::

    b"VSF3" | block | block | ... | index | footer

A block decompressed is the ``uint32`` end offset of each of its documents, then their
JSON (an empty document is empty). The index: per block its first document (``uint32``,
one more entry: the document count), its offset in the file (``uint64``, one more: the
index's own) and its size decompressed (``uint32``). The footer: the index's offset
(``uint64``), the number of blocks and of documents (``uint32``), ``b"VSF3"``.

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
import functools
import json
import struct
import sys
import zlib
from array import array
from bisect import bisect_right
from typing import Any

import numpy as np

from vnsearch.errors import DamagedFile

__all__ = [
    "BLOCK_BYTES",
    "BLOCK_DOCS",
    "STORABLE",
    "STORED_EXT",
    "StoredFieldsReader",
    "StoredFieldsWriter",
    "storable",
]

STORED_EXT = ".vns"
# Small blocks: a search reads the fields of ten hits scattered over the index, each a
# block of its own; decompressing 16 KiB (Lucene's chunks) for each cost ~1 ms a query
BLOCK_BYTES = 1 << 11
BLOCK_DOCS = 8
# decoded blocks kept per segment (a page of hits reads about one block per hit)
CACHED_BLOCKS = 64
# what :func:`storable` takes, for error messages
STORABLE = (
    "a stored value is str, int, float, bool, None, bytes, a datetime or date (naive or "
    "with a fixed offset), or a list, tuple or dict (str keys) of those"
)
_MAGIC = b"VSF3"
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
    Whoosh ``StructFile``, closed by :meth:`close`)."""

    def __init__(self, f: Any) -> None:
        self._f = f
        f.write(_MAGIC)
        self._at = len(_MAGIC)
        self._docs = 0
        self._first = array("I")
        self._offsets = array("Q")
        self._sizes = array("I")
        self._ends = array("I")
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, fields: dict) -> None:
        """The next document's stored fields (Whoosh field name -> value)."""
        raw = _encode_document(fields)
        self._parts.append(raw)
        self._size += len(raw)
        self._ends.append(self._size)
        self._docs += 1
        if self._size >= BLOCK_BYTES or len(self._ends) >= BLOCK_DOCS:
            self._flush()

    def _flush(self) -> None:
        if not self._ends:
            return
        raw = _little(self._ends) + b"".join(self._parts)
        block = zlib.compress(raw, 6)
        self._first.append(self._docs - len(self._ends))
        self._offsets.append(self._at)
        self._sizes.append(len(raw))
        self._f.write(block)
        self._at += len(block)
        self._ends = array("I")
        self._parts = []
        self._size = 0

    def close(self, doccount: int) -> None:
        """Write the last block and the index; ``doccount`` is the segment's."""
        self._flush()
        if doccount != self._docs:
            raise ValueError(f"{self._docs} documents' stored fields for {doccount} documents")
        self._first.append(self._docs)
        self._offsets.append(self._at)
        nblocks = len(self._sizes)
        index = _little(self._first) + _little(self._offsets) + _little(self._sizes)
        self._f.write(index + _FOOTER.pack(self._at, nblocks, self._docs, _MAGIC))
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
        at, nblocks, docs, magic = _FOOTER.unpack_from(data, size - _FOOTER.size)
        if magic != _MAGIC or docs != doccount:
            raise self._damaged(f"{docs} documents in the file, {doccount} in the segment")
        if at + 16 * nblocks + 12 + _FOOTER.size != size:
            raise self._damaged("its index does not fit the file")
        first = np.frombuffer(data, "<u4", nblocks + 1, at)
        offsets = np.frombuffer(data, "<u8", nblocks + 1, at + 4 * (nblocks + 1))
        sizes = np.frombuffer(data, "<u4", nblocks, at + 12 * (nblocks + 1))
        if (
            first[0] != 0
            or first[-1] != docs
            or (nblocks and not (np.diff(first) > 0).all())
            or offsets[0] != len(_MAGIC)
            or offsets[-1] != at
            or not (np.diff(offsets.astype(np.int64)) > 0).all()
        ):
            raise self._damaged("damaged index")
        self._first = first.tolist()
        self._offsets = offsets.tolist()
        self._sizes = sizes.tolist()
        self._block = functools.lru_cache(maxsize=CACHED_BLOCKS)(self._read_block)

    def _damaged(self, what: str) -> DamagedFile:
        return DamagedFile(f"{self._name}: {what}")

    def _read_block(self, i: int) -> tuple[bytes, list[int]]:
        """Block ``i`` decompressed: its bytes and each document's end offset in them."""
        n = self._first[i + 1] - self._first[i]
        size = self._sizes[i]
        d = zlib.decompressobj()
        raw = d.decompress(self._data[self._offsets[i] : self._offsets[i + 1]], size + 1)
        if len(raw) != size or not d.eof or d.unused_data or 4 * n > size:
            raise self._damaged(f"damaged block {i}")
        offsets = array("I")
        offsets.frombytes(raw[: 4 * n])
        if sys.byteorder != "little":
            offsets.byteswap()
        ends = [4 * n + end for end in offsets]
        if any(a > b for a, b in zip([4 * n, *ends], ends)) or ends[-1] != size:
            raise self._damaged(f"damaged block {i}")
        return raw, ends

    def document(self, docnum: int) -> dict:
        """The stored fields of document ``docnum`` of the segment."""
        if not 0 <= docnum < self._first[-1]:
            raise IndexError(f"document {docnum} of {self._first[-1]}")
        i = bisect_right(self._first, docnum) - 1
        raw, ends = self._block(i)
        k = docnum - self._first[i]
        start = ends[k - 1] if k else 4 * len(ends)
        if start == ends[k]:
            return {}
        text = raw[start : ends[k]]
        try:  # a tag is an object whose one key starts with "$": none, no hook needed
            hook = _tagged if b'{"$' in text else None
            fields = json.loads(text.decode("utf-8", "surrogatepass"), object_hook=hook)
        except (ValueError, TypeError, RecursionError) as exc:  # JSON, UTF-8, base64, date
            raise self._damaged(f"document {docnum}: {type(exc).__name__}") from None
        if not isinstance(fields, dict):
            raise self._damaged(f"document {docnum}: not a mapping")
        return fields

    __call__ = document
