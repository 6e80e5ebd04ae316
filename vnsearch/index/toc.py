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

Durable commits (:mod:`vnsearch.index.durable`): :func:`commit_toc` syncs the new
segments' files, :func:`write_toc` the new table of contents before its rename and the
folder after it, and only then are the previous commit's files deleted. Opening reads
the newest table of contents that is whole and whose segments' files are whole
(:func:`read_whole_toc`): one that a power cut or a disk left damaged (written by a
vnsearch that did not sync, or on storage that ignores syncs) is passed over, with a
warning on the ``vnsearch`` logger, for the commit before it when that one is still there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import struct
import time
import zlib
from typing import Any

from whoosh.index import TOC, EmptyIndexError, FileIndex, clean_files

from vnsearch.errors import DamagedFile
from vnsearch.index.checksums import check_whole
from vnsearch.index.codec import VnCodec, VnSegment

__all__ = [
    "VnFileIndex",
    "commit_toc",
    "generations",
    "read_toc",
    "read_whole_toc",
    "write_toc",
]

log = logging.getLogger("vnsearch")

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


def _sync(storage: Any, names: list[str], folder: bool = True) -> None:
    """Sync files of a folder's storage to the disk (memory needs nothing)."""
    sync = getattr(storage, "sync", None)
    if sync is not None:
        sync(names, folder=folder)


def write_toc(storage: Any, indexname: str, generation: int, segments: list[Any]) -> None:
    """Write the table of contents of ``generation`` listing ``segments``: to a
    temporary name, synced to the disk, renamed when complete (as Whoosh does), then the
    folder synced. If writing it fails, the temporary file is removed."""
    body = json.dumps(
        {"generation": generation, "segments": [_segment_json(s) for s in segments]},
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode("ascii")
    name = TOC._filename(indexname, generation)
    temp = f"{name}.{time.time()}"
    try:
        f = storage.create_file(temp)
        try:
            f.write(_HEAD.pack(_MAGIC, zlib.crc32(body), len(body)) + body)
        finally:
            f.close()
        _sync(storage, [temp])
        storage.rename_file(temp, name, safe=True)
    except BaseException:
        with contextlib.suppress(OSError):
            storage.delete_file(temp)
        raise
    _sync(storage, [])


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


def generations(storage: Any, indexname: str) -> list[int]:
    """The generations of the tables of contents in ``storage``, newest first."""
    pattern = TOC._pattern(indexname)
    found = (pattern.match(name) for name in storage)
    return sorted((int(m.group(1)) for m in found if m), reverse=True)


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


def read_whole_toc(storage: Any, indexname: str, schema: Any, broken: set[int]) -> TOC:
    """The newest table of contents that is whole and whose segments' files are whole
    (:func:`~vnsearch.index.checksums.check_whole`). One that is not is passed over with a
    warning on the ``vnsearch`` logger (once: its generation is added to ``broken``) and
    the one before it read; none whole is the newest one's :class:`DamagedFile`, none at
    all Whoosh's ``EmptyIndexError``. A commit made meanwhile (which deletes the files of
    the one being read) makes it start again from the new one."""
    for _ in range(100):  # a new commit at every try: 100 of them during one open
        listed = generations(storage, indexname)
        if not listed:
            raise EmptyIndexError(f"index {indexname!r} does not exist in {storage!r}")
        first: BaseException | None = None
        for gen in listed:
            try:
                toc = read_toc(storage, indexname, schema, gen)
                for segment in toc.segments:
                    check_whole(storage, segment)
            except (DamagedFile, OSError) as exc:
                now = generations(storage, indexname)
                if now[:1] != listed[:1] or gen not in now:
                    break  # a commit came, or took this one away: list again
                first = first or exc
                if gen not in broken:
                    broken.add(gen)
                    log.warning(
                        "%s: %s is not a whole commit (%s): passed over for an older one",
                        getattr(storage, "folder", "index"),
                        TOC._filename(indexname, gen),
                        exc,
                    )
                continue
            return toc
        else:
            assert first is not None
            raise first
    raise DamagedFile(f"{TOC._filename(indexname, listed[0])}: changed at every read")


class VnFileIndex(FileIndex):
    """Whoosh's ``FileIndex`` whose tables of contents are vnsearch's (:func:`read_toc`),
    with the Whoosh schema given, never read from the folder. It reads the last whole
    commit (:func:`read_whole_toc`) and remembers the generations that are not whole."""

    def __init__(self, storage: Any, schema: Any, indexname: str) -> None:
        super(FileIndex, self).__init__()
        self.storage = storage
        self._schema = schema
        self.indexname = indexname
        self._broken: set[int] = set()  # generations found not whole
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
        return read_whole_toc(self.storage, self.indexname, self._schema, self._broken)

    def latest_generation(self) -> int:
        """The newest generation not known to be damaged (-1: none)."""
        return next(
            (g for g in generations(self.storage, self.indexname) if g not in self._broken), -1
        )

    def writer(self, **kwargs: Any) -> Any:
        raise NotImplementedError("vnsearch.Index.writer() makes vnsearch's writer")


def commit_toc(writer: Any, segments: list[Any]) -> None:
    """A Whoosh ``SegmentWriter``'s last step of a commit with vnsearch's table of
    contents: the new segments' files synced to the disk, the table of contents written
    (:func:`write_toc`: synced, renamed, the folder synced), and only then the files no
    commit needs any more deleted (as Whoosh's ``clean_files``)."""
    storage = writer.storage
    old = writer.base_segments  # the segments of the commit the writer started from
    new = [name for s in segments if s.segid not in old for name in s.list_files(storage)]
    _sync(storage, sorted(new), folder=False)
    write_toc(storage, writer.indexname, writer.generation, segments)
    clean_files(storage, writer.indexname, writer.generation, segments)


# File times advance in steps of a few milliseconds: a folder time older than this cannot
# be shared by a later commit.
_SETTLED_NS = 2_000_000_000


class FolderGeneration:
    """Called: the last commit's generation of the index ``ix`` in folder ``path``
    (None: in memory). Listing the folder for it costs more than a search of a rare word,
    so it is listed only when the folder changed: its modification time differs from the
    last listing's, or is too recent to tell two commits apart."""

    def __init__(self, ix: Any, path: Any) -> None:
        self._ix = ix
        self._path = path
        self._seen: tuple[int, int] | None = None  # (folder mtime, generation) last listed

    def __call__(self) -> int:
        if self._path is None:
            return int(self._ix.latest_generation())
        try:
            mtime = os.stat(self._path).st_mtime_ns
        except OSError:
            return int(self._ix.latest_generation())
        seen = self._seen
        if seen is not None and seen[0] == mtime and time.time_ns() - mtime > _SETTLED_NS:
            return seen[1]
        generation = int(self._ix.latest_generation())
        self._seen = (mtime, generation)
        return generation
