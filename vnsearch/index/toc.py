"""The table of contents of a commit: which segments, how many documents, which deleted.

Whoosh's ``_MAIN_<generation>.toc`` is a pickled schema and a pickled list of segment
objects: opening a folder received from elsewhere could run whatever those pickles say.
vnsearch keeps the name, the generation numbering (the highest generation is the last
commit) and the atomic write (a temporary ``_MAIN_<generation>.toc.<time>`` renamed when
complete), and writes its own content: a magic, the CRC-32 and length of a JSON body::

    b"VNT3" | crc32 (uint32 LE) | length (uint32 LE) | {"generation": 2, "segments": [...]}

Each segment is ``{"id": "<[a-z0-9]+>", "docs": n, "deleted": [sorted numbers],
"compound": true, "lengths": {hidden field: total tokens}}``. The Whoosh schema is not
saved: it is the one ``vnsearch.json`` describes (:meth:`Schema.whoosh_schema`). A file
that is not exactly this is :class:`~vnsearch.errors.DamagedFile` naming it.

:class:`VnFileIndex` is Whoosh's ``FileIndex`` reading these; the writer writes them
with :func:`write_toc` (:mod:`vnsearch.index.writer`).
"""

from __future__ import annotations

import json
import re
import struct
import time
import zlib
from typing import Any

from whoosh.index import TOC, EmptyIndexError, FileIndex, clean_files

from vnsearch.errors import DamagedFile
from vnsearch.index.codec import VnCodec, VnSegment

__all__ = ["VnFileIndex", "commit_toc", "read_toc", "write_toc"]

_MAGIC = b"VNT3"
_HEAD = struct.Struct("<4sII")  # magic, CRC-32 of the body, its length
_SEGMENT_ID = re.compile(r"^[a-z0-9]{1,64}$")
_MAX_TOC_BYTES = 1 << 30
_KEYS = {"id", "docs", "deleted", "compound", "lengths"}


def _segment_json(segment: Any) -> dict[str, Any]:
    return {
        "id": segment.segid,
        "docs": segment.doc_count_all(),
        "deleted": sorted(segment.deleted_docs()),
        "compound": bool(segment.is_compound()),
        "lengths": dict(sorted(getattr(segment, "_fieldlengths", {}).items())),
    }


def write_toc(storage: Any, indexname: str, generation: int, segments: list[Any]) -> None:
    """Write the table of contents of ``generation`` listing ``segments``: to a
    temporary name, renamed when complete (as Whoosh does)."""
    body = json.dumps(
        {"generation": generation, "segments": [_segment_json(s) for s in segments]},
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")
    name = TOC._filename(indexname, generation)
    temp = f"{name}.{time.time()}"
    f = storage.create_file(temp)
    f.write(_HEAD.pack(_MAGIC, zlib.crc32(body), len(body)) + body)
    f.close()
    storage.rename_file(temp, name, safe=True)


def _bad(name: str, what: str) -> DamagedFile:
    return DamagedFile(f"{name}: {what}")


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _segment(name: str, indexname: str, spec: Any) -> VnSegment:
    """A segment object from its entry in the table of contents ``name``, checked."""
    if not isinstance(spec, dict) or set(spec) != _KEYS:
        raise _bad(name, "damaged (a segment entry)")
    segid, docs, deleted, lengths = spec["id"], spec["docs"], spec["deleted"], spec["lengths"]
    if not isinstance(segid, str) or not _SEGMENT_ID.match(segid):
        raise _bad(name, "damaged (a segment id)")
    if not _count(docs) or type(spec["compound"]) is not bool:
        raise _bad(name, f"damaged (segment {segid})")
    if not isinstance(deleted, list) or not all(_count(d) and d < docs for d in deleted):
        raise _bad(name, f"damaged (segment {segid}: deleted documents)")
    if any(a >= b for a, b in zip(deleted, deleted[1:])):
        raise _bad(name, f"damaged (segment {segid}: deleted documents)")
    if not isinstance(lengths, dict) or not all(_count(n) for n in lengths.values()):
        raise _bad(name, f"damaged (segment {segid}: field lengths)")
    segment = VnSegment(VnCodec(), indexname, docs, segid, set(deleted) if deleted else None)
    segment.compound = spec["compound"]
    segment._fieldlengths = dict(lengths)  # where Whoosh's per-document writer puts them
    return segment


def read_toc(storage: Any, indexname: str, schema: Any, gen: int | None = None) -> TOC:
    """The table of contents of generation ``gen`` (default: the last), as Whoosh's
    ``TOC`` object with ``schema`` (the Whoosh schema). No generation at all is Whoosh's
    ``EmptyIndexError``; a damaged file is :class:`DamagedFile` naming it."""
    if gen is None:
        gen = TOC._latest_generation(storage, indexname)
        if gen < 0:
            raise EmptyIndexError(f"index {indexname!r} does not exist in {storage!r}")
    name = TOC._filename(indexname, gen)
    f = storage.open_file(name)  # a regular file (FolderStorage), never a FIFO or device
    try:
        f.seek(0, 2)
        size = f.tell()
        f.seek(0)
        raw = f.read(_HEAD.size)
        if len(raw) < _HEAD.size or raw[:4] != _MAGIC:
            raise _bad(name, "not a table of contents of this vnsearch version")
        _, crc, length = _HEAD.unpack_from(raw)
        if size != _HEAD.size + length or length > _MAX_TOC_BYTES:  # before reading it
            raise _bad(name, f"{size} bytes, {_HEAD.size + length} were written (truncated?)")
        body = f.read(length)
    finally:
        f.close()
    if len(body) != length:
        raise _bad(name, f"{_HEAD.size + len(body)} bytes, {_HEAD.size + length} were written")
    if zlib.crc32(body) != crc:
        raise _bad(name, "checksum mismatch")
    try:
        data = json.loads(body.decode("ascii"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError too
        raise _bad(name, f"damaged ({type(exc).__name__})") from None
    if not isinstance(data, dict) or set(data) != {"generation", "segments"}:
        raise _bad(name, "damaged (not a table of contents)")
    if data["generation"] != gen or type(data["generation"]) is not int:
        raise _bad(name, f"damaged (generation {data['generation']!r} in the file)")
    specs = data["segments"]
    if not isinstance(specs, list):
        raise _bad(name, "damaged (segments)")
    segments = [_segment(name, indexname, spec) for spec in specs]
    if len({s.segid for s in segments}) != len(segments):
        raise _bad(name, "damaged (a segment listed twice)")
    return TOC(schema, segments, gen)


class VnFileIndex(FileIndex):
    """Whoosh's ``FileIndex`` whose tables of contents are vnsearch's (:func:`read_toc`),
    with the Whoosh schema given, never read from the folder."""

    def __init__(self, storage: Any, schema: Any, indexname: str) -> None:
        super(FileIndex, self).__init__()
        self.storage = storage
        self._schema = schema
        self.indexname = indexname
        self._read_toc()  # as Whoosh's: fails now if there is no readable one

    @classmethod
    def create(cls, storage: Any, schema: Any, indexname: str) -> VnFileIndex:
        """A new, empty index (generation 0) in ``storage``; files of another index of
        that name are deleted first, as Whoosh does."""
        prefix = f"_{indexname}_"
        for filename in list(storage):
            if filename.startswith(prefix):
                storage.delete_file(filename)
        write_toc(storage, indexname, 0, [])
        return cls(storage, schema, indexname)

    def _read_toc(self) -> TOC:
        return read_toc(self.storage, self.indexname, self._schema)

    def writer(self, **kwargs: Any) -> Any:
        raise NotImplementedError("vnsearch.Index.writer() makes vnsearch's writer")


def commit_toc(writer: Any, segments: list[Any]) -> None:
    """A Whoosh ``SegmentWriter``'s last step of a commit with vnsearch's table of
    contents: write it, then delete the files no commit needs any more (as Whoosh's)."""
    write_toc(writer.storage, writer.indexname, writer.generation, segments)
    clean_files(writer.storage, writer.indexname, writer.generation, segments)
