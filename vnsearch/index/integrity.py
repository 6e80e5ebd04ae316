"""Is what the index reads what the writer wrote? Checks on open, ahead of searches, and in full.

A :class:`ReadChecks` belongs to one :class:`~vnsearch.index.index.Index` and remembers,
per segment id, which pages of the segment's file were checked against its ``.sum``
(:mod:`vnsearch.index.checksums`): a snapshot after a commit maps the same files again, and
their pages need no second sum. It checks a segment's small parts when a snapshot first
opens it, then checks ahead in a background thread what searches read most, and tells a
damaged file from a bug when reading fails.
"""

from __future__ import annotations

import json
import logging
import struct
import threading
import zlib
from functools import partial
from typing import Any

from whoosh.reading import SegmentReader

from vnsearch.errors import DamagedFile, IndexCorrupted
from vnsearch.index.checksums import PageChecks, verify_segment
from vnsearch.index.reader import FREQUENT_SHARE
from vnsearch.index.terms import terms_reader

log = logging.getLogger("vnsearch.index")

__all__ = ["DAMAGE", "INDEX_NAME", "ReadChecks", "check_all", "corrupted", "page_checks_of"]

INDEX_NAME = "MAIN"

# What a truncated or overwritten index file raises as Whoosh and the codec read it.
DAMAGE: tuple[type[BaseException], ...] = (
    EOFError,
    struct.error,
    zlib.error,
    UnicodeDecodeError,
    json.JSONDecodeError,
    DamagedFile,
)


def corrupted(where: str, exc: BaseException) -> IndexCorrupted:
    """The :class:`IndexCorrupted` to raise for ``exc``, met reading the index at ``where``.

    >>> print(corrupted("news.idx", DamagedFile("MAIN_x.seg: bytes 0-16383 differ")))
    ... # doctest: +NORMALIZE_WHITESPACE
    news.idx: damaged or truncated index file (MAIN_x.seg: bytes 0-16383 differ);
    restore the folder from a backup or rebuild the index
    """
    # a checksum's message names the file, the bytes and the parts; others name the error
    what = str(exc) if isinstance(exc, DamagedFile) else f"{type(exc).__name__}: {exc}"
    log.warning("%s: damaged or truncated index file (%s)", where, what)
    return IndexCorrupted(
        f"{where}: damaged or truncated index file ({what}); "
        "restore the folder from a backup or rebuild the index"
    )


def page_checks_of(reader: Any) -> PageChecks | None:
    """The page checks of a segment reader's memory-mapped file (None: not mapped, or
    written without checksums)."""
    terms = terms_reader(reader)
    return None if terms is None else terms.page_checks


def check_all(storage: Any, reader: Any) -> int:
    """Check every page of a reader's segment: through its map, or read from ``storage``
    (an in-memory index). Returns the bytes checked (0: no checksums)."""
    pages = page_checks_of(reader)
    if pages is not None:
        return pages.check_all()
    return verify_segment(storage, reader.segment())


class ReadChecks:
    """What one index has checked of its segments, and the thread checking ahead.

    ``check_reads=False``: searches read without per-read checks (left to
    :meth:`verify` and merges), for storage that checks itself.
    """

    def __init__(self, storage: Any, where: str, check_reads: bool = True) -> None:
        self.storage = storage
        self.where = where
        self.check_reads = check_reads
        self._checked: set[str] = set()  # ids of the segments checked on open
        # per segment id: which pages of its file are checked
        self._pages_done: dict[str, bytearray] = {}
        self.threads: list[threading.Thread] = []  # the threads checking pages ahead
        self._stop_ahead = threading.Event()

    def before_reading(self, whoosh_index: Any) -> None:
        """Check the last commit's new segments before they are parsed (their files were
        checked by none of this index's snapshots yet). A commit may delete them
        meanwhile: those are left to :meth:`opened`."""
        try:
            segments = whoosh_index._segments()
        except OSError:
            return
        for segment in segments:
            if segment.segid not in self._checked:
                try:
                    verify_segment(self.storage, segment, everything=False)
                except OSError:
                    continue
                self._checked.add(segment.segid)

    def opened(self, snapshot: Any) -> None:
        """What opening checks of each segment of ``snapshot``
        (:meth:`PageChecks.check_opened`), once per segment (segment files never change),
        through the snapshot's own map of the file (a later commit may have deleted it from
        the folder); then the checks ahead of the segments not yet checked."""
        ahead = []
        done = {}
        for reader, _ in snapshot.segments:
            segid = reader.segment().segid
            pages = page_checks_of(reader)
            if segid not in self._checked:
                if pages is not None:
                    pages.check_opened()
                self._checked.add(segid)
            if pages is not None:
                seen = self._pages_done.get(segid)
                if seen is not None and len(seen) == len(pages.done):
                    pages.done = seen
                    terms_reader(reader).trust_checked()
                elif self.check_reads:
                    ahead.append(reader)
                done[segid] = pages.done
        self._pages_done = done  # segments merged away are forgotten
        if not self.check_reads:
            for reader, _ in snapshot.segments:
                terms = terms_reader(reader)
                if hasattr(terms, "stop_checking_reads"):
                    terms.stop_checking_reads()
        if ahead:
            self._check_ahead(ahead)

    def _check_ahead(self, readers: list[Any]) -> None:
        """Check what searches read most (the documents and frequencies of frequent terms,
        see :data:`~vnsearch.index.reader.FREQUENT_SHARE`; the term dictionaries and
        spellings), then the rest of the postings, in a background thread, so that
        searches seldom wait for a sum, and once it is done read without checks. A page
        that differs is left for the search that reads it to report; :meth:`stop` stops
        the thread."""
        stop = self._stop_ahead
        # every segment's most read parts first, then the rest of each one's postings
        steps = [
            partial(terms_reader(r).check_ahead, int(r.doc_count_all() * FREQUENT_SHARE))
            for r in readers
        ]
        steps += [terms_reader(r).check_rest for r in readers]

        def run() -> None:
            for step in steps:
                if stop.is_set():
                    return
                try:
                    step(stop)
                except Exception:  # a damaged dictionary: the searches that read it say so
                    continue

        self.threads = [t for t in self.threads if t.is_alive()]
        thread = threading.Thread(target=run, name="vnsearch-check-ahead", daemon=True)
        self.threads.append(thread)
        thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the checks ahead; False on timeout."""
        for thread in list(self.threads):
            thread.join(timeout)
            if thread.is_alive():
                return False
        return True

    def stop(self) -> None:
        """Stop the checks ahead and wait for their thread."""
        self._stop_ahead.set()
        for thread in self.threads:
            thread.join()
        self.threads = []
        self._stop_ahead = threading.Event()

    def verify(self, snapshot: Any) -> dict[str, int]:
        """Check every byte of the snapshot's segments (see :meth:`Index.verify`)."""
        report = {"segments": len(snapshot.segments), "bytes": 0, "unchecked_segments": 0}
        for reader, _ in snapshot.segments:
            try:
                try:  # read from the folder in chunks: summing through the map would add
                    # the whole index to this process's resident memory
                    checked = verify_segment(self.storage, reader.segment())
                except OSError:  # a merge deleted it since: the snapshot's map still holds it
                    checked = check_all(self.storage, reader)
            except DAMAGE as exc:
                raise corrupted(self.where, exc) from exc
            report["bytes"] += checked
            report["unchecked_segments"] += not checked
        return report

    def at_fault(self, whoosh_index: Any) -> tuple[str, DamagedFile | None]:
        """Where, and the first segment that fails its checksums or cannot be read, with
        the checksums' finding if any (error path only)."""
        where = self.where
        try:
            segments = whoosh_index._segments()
        except Exception:  # the table of contents itself
            return where, None
        for segment in segments:
            try:
                verify_segment(self.storage, segment, everything=False)
            except DamagedFile as fault:
                return where, fault
            except Exception:
                return f"{where}: segment {INDEX_NAME}_{segment.segid}", None
            try:
                SegmentReader(self.storage, whoosh_index.schema, segment).close()
            except Exception:
                return f"{where}: segment {INDEX_NAME}_{segment.segid}", None
        return where, None

    def reading_failed(self, snapshot: Any, exc: Exception) -> IndexCorrupted | None:
        """The error to raise if reading the index failed because of its files: bytes the
        codec saw were bad, or (for the ``IndexError``/``KeyError`` a flipped document
        number or offset gives) a segment fails its full checksums. None: not the files."""
        if isinstance(exc, DAMAGE):  # a postings block or stored value with bad bytes
            return corrupted(self.where, exc)
        if isinstance(exc, (IndexError, KeyError)):
            for reader, _ in snapshot.segments:
                try:
                    check_all(self.storage, reader)
                except DamagedFile as fault:
                    return corrupted(self.where, fault)
        return None
