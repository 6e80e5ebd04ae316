"""Checksums of segment files: a flipped or lost byte is found and named, not searched.

Whoosh keeps no checksums: a damaged postings block, term dictionary or length array is
read as if it were right and gives other results, silently. The writer therefore stores,
beside each compound segment file ``MAIN_<id>.seg``, a ``MAIN_<id>.sum``: the file's
length and the CRC-32 of every 16 KiB page of it. The file is written before the table
of contents that lists the segment, and Whoosh deletes it with the segment.

What is checked, and when:

* opening a snapshot: the segment's length, its head and directory (before they are
  parsed), and every component file of at most :data:`OPEN_CHECK_BYTES` (field
  lengths, columns, stored fields; everything in a small segment);
* searching: the pages of the postings, term dictionary entries and spellings a search
  reads, the first time they are read (:class:`PageChecks`; ``Index.open(...,
  check_reads=False)`` turns this off). A background thread, started when an ``Index``
  first opens the segment, sums ahead of the searches (:meth:`PageChecks.check_ahead`)
  the documents and frequencies of the terms in more than
  :data:`~vnsearch.index.reader.FREQUENT_SHARE` of the
  segment's documents (which searches read whole), then the term dictionary and the
  spellings (which every search reads), then the rest of the postings (on all of VNTC:
  1.77 of the file's 1.84 GB, ~0.9 s on the other core); reads of a dictionary or of
  postings whose every page matched are not checked one by one (and the map's pages
  are already in memory: first reads take no page faults either);
* merging (automatic merges, ``optimize``): every page of every segment merged, so a
  damaged segment is never copied into a new one with fresh checksums;
* :meth:`vnsearch.Index.verify` and ``vnsearch verify``: every page of every segment.

Every compound segment has a ``.sum``: one that is missing (deleted, a link to nothing)
is :class:`~vnsearch.errors.DamagedFile`, never a segment read unchecked. Lengths read
from a ``.sum`` are checked against the file's size before anything of that size is read.
"""

from __future__ import annotations

import errno
import mmap
import os
import struct
import threading
import zlib
from array import array
from collections.abc import Iterable
from typing import Any

import numpy as np

from vnsearch.errors import DamagedFile
from vnsearch.index.compound import HEAD, read_directory
from vnsearch.index.folder_files import open_regular

__all__ = [
    "CHECKSUMS_EXT",
    "OPEN_CHECK_BYTES",
    "PAGE",
    "PageChecks",
    "check_whole",
    "page_checks",
    "verify_segment",
    "write_checksums",
]

CHECKSUMS_EXT = ".sum"
# 16 KiB: on all of VNTC, 1,000 fresh queries cost least with 16 and 64 KiB pages (4 KiB:
# more sums per large postings list; 1 KiB: worse still)
PAGE = 1 << 14
# Components up to this size are checked whenever a snapshot opens a segment.
OPEN_CHECK_BYTES = 16 << 20
_HEAD = struct.Struct("<4sIQ")  # magic, page size, length of the segment file
_MAGIC = b"VNS1"


def _whole_file(storage: Any, name: str) -> tuple[memoryview, Any]:
    """The bytes of ``name`` and something to close (a map of a file on disk)."""
    files = getattr(storage, "files", None)  # Whoosh's RamStorage
    if files is not None:
        return memoryview(files[name]), None
    with os.fdopen(open_regular(storage.folder, name), "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return memoryview(b""), None
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return memoryview(mapped), mapped


def _streamed_sums(storage: Any, name: str, page: int) -> tuple[int, np.ndarray]:
    """``(length, page sums)`` of the file ``name``, read in chunks: summing a 1.8 GB
    segment through a map would add it all to the process's resident memory."""
    files = getattr(storage, "files", None)  # Whoosh's RamStorage
    if files is not None:
        data = memoryview(files[name])
        sums = [zlib.crc32(data[i : i + page]) for i in range(0, len(data), page)]
        return len(data), np.array(sums, dtype="<u4")
    chunk = bytearray(page * 256)
    view = memoryview(chunk)
    sums = array("I")
    length = 0
    with os.fdopen(open_regular(storage.folder, name), "rb", buffering=0) as f:
        while n := f.readinto(chunk):
            sums.extend(zlib.crc32(view[i : min(n, i + page)]) for i in range(0, n, page))
            length += n
            if n % page:  # only the last read may end inside a page
                break
    view.release()
    return length, np.frombuffer(sums, dtype="<u4")


def write_checksums(storage: Any, segment: Any) -> None:
    """Write ``segment``'s ``.sum`` file (after its compound file was assembled)."""
    length, sums = _streamed_sums(storage, segment.make_filename(segment.COMPOUND_EXT), PAGE)
    f = segment.create_file(storage, CHECKSUMS_EXT)
    f.write(_HEAD.pack(_MAGIC, PAGE, length) + sums.tobytes())
    f.close()


def check_whole(storage: Any, segment: Any) -> None:
    """Raise :class:`DamagedFile` unless ``segment``'s compound file and its ``.sum`` are
    there with the sizes the ``.sum`` records: what a table of contents needs of each of
    its segments to be the commit opened (a power cut can leave them empty or short).
    Costs two ``stat`` calls and a read of 16 bytes; the bytes themselves are checked
    when read. A document count larger than the file (a forged table of contents: arrays
    of that many entries would be allocated) is damage too."""
    if not getattr(segment, "compound", False):
        return
    name = segment.make_filename(segment.COMPOUND_EXT)
    try:
        size = storage.file_length(name)
    except FileNotFoundError:
        raise DamagedFile(f"{name}: missing") from None
    # every document takes bytes of the segment (its stored fields' block index at least):
    # a count beyond that is not one to allocate arrays for
    docs = segment.doc_count_all()
    if docs > size:
        raise DamagedFile(f"{name}: {docs:,} documents in a file of {size:,} bytes")
    sums = segment.make_filename(CHECKSUMS_EXT)
    f = _open_sums(storage, segment)
    try:
        page, length = _sums_head(f, sums)
    finally:
        f.close()
    _check_length(sums, storage.file_length(sums), _HEAD.size + 4 * -(-length // page))
    _check_length(name, size, length)


def _open_sums(storage: Any, segment: Any) -> Any:
    """The segment's ``.sum`` opened; a missing one is :class:`DamagedFile`
    (``FileNotFoundError`` if the segment file is gone too: a merge removed the segment
    meanwhile)."""
    name = segment.make_filename(CHECKSUMS_EXT)
    try:
        return storage.open_file(name)
    except (FileNotFoundError, NameError):  # NameError: Whoosh's RamStorage
        seg = segment.make_filename(segment.COMPOUND_EXT)
        if not storage.file_exists(seg):
            raise FileNotFoundError(errno.ENOENT, "segment removed", seg) from None
        raise DamagedFile(f"{name}: missing (the checksums of {seg})") from None


def _sums_head(f: Any, name: str) -> tuple[int, int]:
    """``(page size, length of the segment file)`` from the head of the ``.sum`` ``f``."""
    head = f.read(_HEAD.size)
    if len(head) < _HEAD.size:
        raise DamagedFile(f"{name}: truncated checksums file")
    magic, page, length = _HEAD.unpack(head)
    if magic != _MAGIC or page < 1 or page & (page - 1):
        raise DamagedFile(f"{name}: not a checksums file of this vnsearch version")
    return page, length


def _read_sums(storage: Any, segment: Any) -> tuple[int, int, np.ndarray]:
    """``(page size, length of the segment file, page sums)``; a missing ``.sum`` is
    :class:`DamagedFile` (see :func:`_open_sums`)."""
    name = segment.make_filename(CHECKSUMS_EXT)
    f = _open_sums(storage, segment)
    try:
        page, length = _sums_head(f, name)
        f.seek(0, 2)
        size = f.tell() - _HEAD.size
        if size != 4 * -(-length // page):  # checked before reading that much
            raise DamagedFile(f"{name}: not a checksums file of this vnsearch version")
        f.seek(_HEAD.size)
        raw = f.read(size)
    finally:
        f.close()
    if len(raw) != size:
        raise DamagedFile(f"{name}: truncated checksums file")
    return page, length, np.frombuffer(raw, dtype="<u4")


class PageChecks:
    """Checks the pages of one segment file, each the first time it is read.

    Searches read a term's postings straight from the memory map; :meth:`check` sums the
    pages of a byte range not seen yet, so a damaged postings block is an error, not
    results. Threads may check the same page twice; that is harmless.
    """

    __slots__ = ("_data", "_name", "_sums", "done", "shift")

    def __init__(self, data: memoryview, page: int, sums: np.ndarray, name: str) -> None:
        self._data = data
        self._sums = memoryview(sums).cast("B").cast("I")  # a Python int per read
        self._name = name
        # page p is checked when done[p]; byte offset o is in page o >> shift. Readers of
        # a few bytes test done[] inline (a method call costs ten times more).
        self.done = bytearray(len(sums))
        self.shift = page.bit_length() - 1

    def check(self, start: int, end: int) -> int:
        """Raise :class:`DamagedFile` if a page of bytes ``start:end`` differs; returns the
        number of bytes summed."""
        shift = self.shift
        first, last = start >> shift, (max(start + 1, end) - 1) >> shift
        done = self.done
        if done.find(0, first, last + 1) < 0:
            return 0
        data, sums = self._data, self._sums
        summed = 0
        for p in range(first, last + 1):
            if not done[p]:
                # no name for the slice: no view of the map is left behind
                if zlib.crc32(data[p << shift : (p + 1) << shift]) != sums[p]:
                    begin, end = p << shift, min(len(data), (p + 1) << shift)
                    where = _component_at(data, self._name, begin, end)
                    raise DamagedFile(
                        f"{self._name}: checksum mismatch in bytes {begin}-{end}"
                        + (f" ({where})" if where else "")
                    )
                done[p] = 1
                summed += min(len(data), (p + 1) << shift) - (p << shift)
        return summed

    def check_ahead(self, ranges: Iterable[tuple[int, int]], stop: threading.Event) -> int:
        """Sum the pages of byte ``ranges`` not checked yet, ahead of the searches that will
        read them (from a background thread: ``zlib.crc32`` lets searching threads run
        meanwhile). A page that matches is marked checked; one that differs is left for
        the search that reads it to report. Stops when ``stop`` is set (seen every 64
        pages of a range); returns the number of bytes summed."""
        shift, done, data, sums = self.shift, self.done, self._data, self._sums
        summed = 0
        for start, end in ranges:
            if stop.is_set():
                break
            for p in range(start >> shift, ((max(start + 1, end) - 1) >> shift) + 1):
                if not p & 63 and stop.is_set():
                    return summed
                if not done[p]:
                    page = data[p << shift : (p + 1) << shift]
                    if zlib.crc32(page) == sums[p]:
                        done[p] = 1
                    summed += len(page)
        return summed

    def all_checked(self, start: int, end: int) -> bool:
        """Whether every page of bytes ``start:end`` is checked."""
        shift = self.shift
        return self.done.find(0, start >> shift, ((max(start + 1, end) - 1) >> shift) + 1) < 0

    def check_all(self) -> int:
        """Check every page not checked yet; returns the file's length."""
        self.check(0, len(self._data))
        return len(self._data)

    def check_opened(self) -> int:
        """What opening a segment checks: the header, then the directory it points to
        (each before it is parsed), then every component of at most
        :data:`OPEN_CHECK_BYTES`. Returns the number of bytes summed."""
        data = self._data
        if len(self._sums) <= 1:
            return self.check(0, len(data))
        summed = self.check(0, HEAD.size + 4)
        diroffset = HEAD.unpack_from(data)[0]
        if not HEAD.size < diroffset < len(data):
            raise DamagedFile(f"{self._name}: the compound file's head points outside the file")
        summed += self.check(diroffset, len(data))
        for offset, length in _directory(data, self._name).values():
            if length <= OPEN_CHECK_BYTES:
                summed += self.check(offset, offset + length)
        return summed


def _check_length(name: str, size: int, length: int) -> None:
    if size != length:
        raise DamagedFile(f"{name}: {size} bytes, {length} were written (truncated?)")


def page_checks(storage: Any, segment: Any, source: Any) -> PageChecks | None:
    """The :class:`PageChecks` of ``segment``, whose compound file is mapped as
    ``source`` (a missing ``.sum`` is :class:`DamagedFile`); None only when a merge
    removed the segment from the folder since it was mapped (the snapshot holding it is
    already an old one)."""
    try:
        page, length, sums = _read_sums(storage, segment)
    except FileNotFoundError:
        return None
    name = segment.make_filename(segment.COMPOUND_EXT)
    _check_length(name, len(source), length)
    return PageChecks(memoryview(source), page, sums, name)


def verify_segment(storage: Any, segment: Any, everything: bool = True) -> int:
    """Check ``segment``'s compound file, read from ``storage``, against its ``.sum``:
    every page, or (``everything=False``) what :meth:`PageChecks.check_opened` checks.
    Returns the number of bytes checked (0: no checksums); raises
    :class:`~vnsearch.errors.DamagedFile` naming the file, the bytes and the
    component that differ."""
    if not getattr(segment, "compound", False):
        return 0
    page, length, sums = _read_sums(storage, segment)
    name = segment.make_filename(segment.COMPOUND_EXT)
    if everything:  # read in chunks (see _streamed_sums); the map only to name a fault
        size, found = _streamed_sums(storage, name, page)
        if size == length and np.array_equal(found, sums):
            return length
    data, mapped = _whole_file(storage, name)
    try:
        _check_length(name, len(data), length)
        checks = PageChecks(data, page, sums, name)
        return checks.check_all() if everything else checks.check_opened()
    finally:
        data.release()
        if mapped is not None:
            mapped.close()


def _directory(data: memoryview, name: str) -> dict[str, tuple[int, int]]:
    """The compound file's directory: each component's ``(offset, length)``."""
    return read_directory(data, name, name.rsplit(".", 1)[0])


def _component_at(data: memoryview, name: str, start: int, end: int) -> str:
    """The component files holding bytes ``start`` to ``end`` (error path only)."""
    try:
        diroffset = HEAD.unpack_from(data)[0]
        names = [
            component.split(".", 1)[-1]  # MAIN_<id>.vnp -> vnp
            for component, (at, length) in sorted(
                _directory(data, name).items(), key=lambda item: item[1]
            )
            if at < end and start < at + length
        ]
    except Exception:  # the damage is in the directory itself
        return "the compound file's header or directory"
    if start < HEAD.size + 4 or end > diroffset:
        names.append("the compound file's header or directory")
    if len(names) > 4:
        return f"{len(names)} component files: {', '.join(names[:3])}..."
    return ", ".join(names)
