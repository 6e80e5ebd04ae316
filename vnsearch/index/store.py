"""The index: a folder (or memory) holding a Whoosh index written with the vnsearch codec.

``vnsearch.json`` beside Whoosh's files holds the schema and the format version.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
import time
import weakref
from functools import partial
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import EmptyIndexError, LockError

from vnsearch.errors import (
    DAMAGE,
    DamagedFile,
    IncompatibleIndex,
    IndexCorrupted,
    IndexLocked,
    IndexNotFound,
    SchemaError,
    VnsearchError,
    corrupted,
)
from vnsearch.index.checksums import AHEAD_SHARE, PageChecks, verify_segment
from vnsearch.index.codec import VnCodec
from vnsearch.index.schema import Schema
from vnsearch.index.writer import MAX_TEXT_MB, FastSegmentWriter, Writer

__all__ = ["Index"]

SCHEMA_FILE = "vnsearch.json"
# File times advance in steps of a few milliseconds: a folder time older than this cannot
# be shared by a later commit.
_SETTLED_NS = 2_000_000_000
INDEX_NAME = "MAIN"
# a schema file is a few hundred bytes; a larger one is not one (or a special file)
_MAX_SCHEMA_BYTES = 1 << 20


# A table of contents is written as ``_MAIN_<generation>.toc.<time>`` and renamed when
# complete; a writer killed in between leaves the temporary file, which Whoosh never removes.
_UNFINISHED_TOC = re.compile(rf"^_{INDEX_NAME}_[0-9]+\.toc\.[0-9.]+$")


def _read_schema(path: Path) -> Schema:
    """The schema saved in ``path`` (``vnsearch.json``); a file that is not one (bad
    bytes, not JSON, not a schema) is :class:`IndexCorrupted`, one of another format
    version :class:`IncompatibleIndex`."""
    where = f"{path.parent}: {path.name}"
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_SCHEMA_BYTES + 1)
    except OSError as exc:
        raise IndexCorrupted(f"{where}: cannot be read ({exc})") from None
    if len(raw) > _MAX_SCHEMA_BYTES:
        raise IndexCorrupted(f"{where}: more than {_MAX_SCHEMA_BYTES:,} bytes, not a schema")
    try:
        return Schema.from_json(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise IndexCorrupted(f"{where}: damaged (not UTF-8 at byte {exc.start})") from None
    except IncompatibleIndex as exc:
        raise IncompatibleIndex(f"{where}: {exc}") from None
    except SchemaError as exc:
        raise IndexCorrupted(f"{where}: damaged ({exc})") from None


def _remove_unfinished_tocs(storage: Any) -> None:
    """Delete the tables of contents that dead writers left half written (only the
    holder of the write lock calls this: no live writer can be writing one)."""
    for name in list(storage):
        if _UNFINISHED_TOC.match(name):
            with contextlib.suppress(OSError):
                storage.delete_file(name)


class _NonBlockingLock:
    """A thread lock whose ``acquire()`` does not block (Whoosh retries it until a timeout)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, blocking: bool = False) -> bool:
        return self._lock.acquire(blocking)

    def release(self) -> None:
        self._lock.release()


class _MemoryStorage(RamStorage):
    """Whoosh's RamStorage with a lock that honours timeouts and private temporary files.

    (Whoosh's own gives every in-memory index the same ``<tmp>/MAIN.tmp`` folder, so two
    in-memory writers, even in two processes, delete each other's files.)
    """

    def lock(self, name: str) -> _NonBlockingLock:
        if name not in self.locks:
            self.locks[name] = _NonBlockingLock()
        return self.locks[name]

    _tmpdir: str | None = None

    def temp_storage(self, name: str | None = None) -> FileStorage:
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="vnsearch-")
            weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
        return FileStorage(os.path.join(self._tmpdir, name or "tmp")).create()


class Index:
    """A searchable collection of documents.

    Threads: ``search``, ``explain``, ``snapshot`` and ``doc_count`` are safe to call from
    many threads at once, also while a writer commits (each call sees one whole commit,
    never an older one than the thread saw before). One writer at a time per index, in
    all threads and processes: :meth:`writer` waits for the lock, then raises
    :class:`IndexLocked`. A :class:`Writer` object belongs to one thread; do not share it.
    Separate ``Index`` objects (the same folder or not, any schemas) are independent. An
    index on disk with checksums starts a daemon thread when it first opens a segment, to
    check ahead the pages searches read most; :meth:`close` stops it.

    >>> import vnsearch
    >>> schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True),
    ...                          title=vnsearch.TEXT(stored=True, boost=2.0))
    >>> ix = vnsearch.Index.in_memory(schema)
    >>> with ix.writer() as w:
    ...     w.add({"id": "1", "title": "Thủy điện Hòa Bình"})
    >>> [hit.id for hit in ix.search("thuy dien hoa binh")]
    ['1']
    """

    def __init__(
        self, schema: Schema, storage: Any, path: Path | None, check_reads: bool = True
    ) -> None:
        self.schema = schema
        self._check_reads = check_reads
        self.path = path
        self._storage = storage
        self._ix = storage.open_index(INDEX_NAME)
        self._lock = threading.Lock()
        self._snapshot: Any = None
        self._seen: tuple[int, int] | None = None  # (folder mtime, generation) last listed
        self._checked: set[str] = set()  # ids of the segments checked on open
        # per segment id: which pages of its file are checked (a snapshot after a commit
        # maps the same files again; their pages need no second sum)
        self._pages_done: dict[str, bytearray] = {}
        self._ahead: list[threading.Thread] = []  # threads checking pages ahead
        self._stop_ahead = threading.Event()

    # -- creating and opening ----------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, schema: Schema) -> Index:
        """Create an empty index in the folder ``path`` (created if needed; must not hold one)."""
        if not isinstance(schema, Schema):
            raise TypeError("schema must be a vnsearch.Schema")
        folder = Path(path)
        if (folder / SCHEMA_FILE).exists():
            raise VnsearchError(f"{folder}: already holds a vnsearch index (open it instead)")
        folder.mkdir(parents=True, exist_ok=True)
        storage = FileStorage(str(folder))
        storage.create_index(schema.whoosh_schema(), indexname=INDEX_NAME)
        (folder / SCHEMA_FILE).write_text(schema.to_json(), encoding="utf-8")
        return cls(schema, storage, folder)

    @classmethod
    def open(
        cls, path: str | Path, schema: Schema | None = None, check_reads: bool = True
    ) -> Index:
        """Open the index in ``path``; if ``schema`` is given it must be the index's.

        Searches check every page of the postings, term dictionaries and spellings they
        read against the segment's checksums the first time they read it (see
        :mod:`vnsearch.index.checksums`); ``check_reads=False`` leaves that to
        :meth:`verify` and merges, for storage that checks itself (a few tenths of a
        millisecond per query on a cold, large index; about 0.05 ms once warm).
        """
        folder = Path(path)
        if not folder.is_dir():
            raise IndexNotFound(f"{folder}: no such index folder")
        schema_file = folder / SCHEMA_FILE
        if not schema_file.exists():
            raise IndexNotFound(f"{folder}: not a vnsearch index (no {SCHEMA_FILE})")
        saved = _read_schema(schema_file)
        if schema is not None and schema != saved:
            raise IncompatibleIndex(
                f"{folder}: the index was created with another schema: {saved!r}"
            )
        storage = FileStorage(str(folder))
        try:
            return cls(saved, storage, folder, check_reads=check_reads)
        except EmptyIndexError:
            raise IndexNotFound(f"{folder}: the index files are missing") from None
        except Exception as exc:  # reading the table of contents (_MAIN_<n>.toc) failed
            if isinstance(exc, (MemoryError, OSError)):
                raise
            raise corrupted(f"{folder}: table of contents", exc) from exc

    @classmethod
    def in_memory(cls, schema: Schema) -> Index:
        """An index that lives in this process's memory only."""
        storage = _MemoryStorage()
        storage.create_index(schema.whoosh_schema(), indexname=INDEX_NAME)
        return cls(schema, storage, None)

    # -- writing -----------------------------------------------------------------------

    def writer(
        self,
        timeout: float = 10.0,
        jobs: int | None = None,
        max_text_mb: float | None = MAX_TEXT_MB,
    ) -> Writer:
        """The index's writer; waits up to ``timeout`` seconds for another writer (in this
        or another process) to finish, then raises :class:`IndexLocked`.

        Texts are analyzed in ``jobs`` processes (default: one per CPU core) once a writer
        has more than a few documents to add; ``jobs=1`` keeps everything in this process.
        The index written is the same either way. A TEXT value of more than
        ``max_text_mb`` megabytes of UTF-8 is refused with a ``ValueError`` (indexing
        holds about 140 bytes of memory per byte of text until the commit); ``None``
        lifts the limit.
        """
        jobs = (os.cpu_count() or 1) if jobs is None else jobs
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        try:
            w = FastSegmentWriter(self._ix, codec=VnCodec(), timeout=timeout)
        except LockError:
            raise IndexLocked(f"{self.path or 'index'}: another writer holds the lock") from None
        _remove_unfinished_tocs(self._storage)
        return Writer(
            self.schema, w, jobs=jobs, max_text_mb=max_text_mb, where=str(self.path or "index")
        )

    def optimize(self, timeout: float = 10.0) -> None:
        """Merge all segments into one (and drop deleted documents for good)."""
        w = self.writer(timeout=timeout, jobs=1)
        w.commit(optimize=True)

    # -- reading -----------------------------------------------------------------------

    def snapshot(self):
        """The searcher state of the last commit (reopened when a newer commit exists)."""
        from vnsearch.index.reader import Snapshot

        current = self._snapshot
        generation = self._generation()
        if current is not None and current.generation == generation:
            return current
        with self._lock:
            current = self._snapshot
            if current is None or current.generation != self._ix.latest_generation():
                # the old snapshot may still serve searches in other threads: it is left
                # to the garbage collector, not closed here
                try:
                    self._check_before_reading()
                    current = Snapshot(self.schema, self._ix)
                    self._check_segments(current)
                    if not self._check_reads:
                        for reader, _ in current.segments:
                            if hasattr(reader._terms, "stop_checking_reads"):
                                reader._terms.stop_checking_reads()
                except Exception as exc:  # no user input here: the files are at fault
                    # (a damaged pickle in a segment's directory can raise anything,
                    # MemoryError included: the checksums tell)
                    where, fault = self._segment_at_fault()
                    if fault is None and isinstance(exc, MemoryError):
                        raise
                    raise corrupted(where, fault or exc) from exc
                self._snapshot = current
            return current

    def _check_before_reading(self) -> None:
        """Check the last commit's new segments before Whoosh parses them (a damaged pickle
        in a segment's directory can raise anything, MemoryError included). A commit may
        delete them meanwhile: those are left to :meth:`_check_segments`."""
        try:
            segments = self._ix._segments()
        except OSError:
            return
        for segment in segments:
            if segment.segid not in self._checked:
                try:
                    verify_segment(self._storage, segment, everything=False)
                except OSError:
                    continue
                self._checked.add(segment.segid)

    def _check_segments(self, snapshot: Any) -> None:
        """What opening checks of each segment (:meth:`PageChecks.check_opened`), once per
        segment for this object (segment files never change), through the snapshot's
        own map of the file (a later commit may have deleted it from the folder)."""
        ahead = []
        done = {}
        for reader, _ in snapshot.segments:
            segid = reader.segment().segid
            pages = _page_checks(reader)
            if segid not in self._checked:
                if pages is not None:
                    pages.check_opened()
                self._checked.add(segid)
            if pages is not None:
                seen = self._pages_done.get(segid)
                if seen is not None and len(seen) == len(pages.done):
                    pages.done = seen
                    reader._terms.trust_checked()
                elif self._check_reads:
                    ahead.append(reader)
                done[segid] = pages.done
        self._pages_done = done  # segments merged away are forgotten
        if ahead:
            self._check_ahead(ahead)

    def _check_ahead(self, readers: list[Any]) -> None:
        """Check what searches read most (the documents and frequencies of frequent terms,
        see :data:`~vnsearch.index.checksums.AHEAD_SHARE`; the term dictionaries and
        spellings), then the rest of the postings, in a background thread, so that
        searches seldom wait for a sum, and once it is done read without checks. A page
        that differs is left for the search that reads it to report; :meth:`close` stops
        the thread."""
        stop = self._stop_ahead

        # every segment's most read parts first, then the rest of each one's postings
        steps = [
            partial(r._terms.check_ahead, int(r.doc_count_all() * AHEAD_SHARE)) for r in readers
        ]
        steps += [r._terms.check_rest for r in readers]

        def run() -> None:
            for step in steps:
                if stop.is_set():
                    return
                try:
                    step(stop)
                except Exception:  # a damaged dictionary: the searches that read it say so
                    continue

        self._ahead = [t for t in self._ahead if t.is_alive()]
        thread = threading.Thread(target=run, name="vnsearch-check-ahead", daemon=True)
        self._ahead.append(thread)
        thread.start()

    def _wait_checked_ahead(self, timeout: float | None = None) -> bool:
        """Wait for the background checks of :meth:`_check_ahead`; False on timeout."""
        for thread in list(self._ahead):
            thread.join(timeout)
            if thread.is_alive():
                return False
        return True

    def verify(self) -> dict[str, int]:
        """Check every byte of the last commit's segments against their checksums (what
        opening checks is only their small parts; see :mod:`vnsearch.index.checksums`).

        Returns ``{"segments": ..., "bytes": ..., "unchecked_segments": ...}`` (segments
        written before vnsearch kept checksums are unchecked); raises
        :class:`IndexCorrupted` naming the file and the bytes that differ.

        >>> import vnsearch
        >>> ix = vnsearch.Index.in_memory(vnsearch.Schema(body=vnsearch.TEXT()))
        >>> with ix.writer() as w:
        ...     w.add({"body": "Hà Nội"})
        >>> ix.verify()["segments"]
        1
        """
        snap = self.snapshot()
        report = {"segments": len(snap.segments), "bytes": 0, "unchecked_segments": 0}
        for reader, _ in snap.segments:
            try:
                try:  # read from the folder in chunks: summing through the map would add
                    # the whole index to this process's resident memory
                    checked = verify_segment(self._storage, reader.segment())
                except OSError:  # a merge deleted it since: the snapshot's map still holds it
                    checked = _check_all(self._storage, reader)
            except DAMAGE as exc:
                raise corrupted(str(self.path or "index"), exc) from exc
            report["bytes"] += checked
            report["unchecked_segments"] += not checked
        return report

    def _segment_at_fault(self) -> tuple[str, DamagedFile | None]:
        """The folder and the first segment that fails its checksums or cannot be read,
        with the checksums' finding if any (error path only)."""
        from whoosh.reading import SegmentReader

        where = str(self.path or "index")
        try:
            segments = self._ix._segments()
        except Exception:  # the table of contents itself
            return where, None
        for segment in segments:
            try:
                verify_segment(self._storage, segment, everything=False)
            except DamagedFile as fault:
                return where, fault
            except Exception:
                return f"{where}: segment {INDEX_NAME}_{segment.segid}", None
            try:
                SegmentReader(self._storage, self._ix.schema, segment).close()
            except Exception:
                return f"{where}: segment {INDEX_NAME}_{segment.segid}", None
        return where, None

    def _generation(self) -> int:
        """The last commit's generation. Listing the folder for it costs more than a search
        of a rare word, so it is listed only when the folder changed: its modification time
        differs from the last listing's, or is too recent to tell two commits apart."""
        if self.path is None:
            return self._ix.latest_generation()
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            return self._ix.latest_generation()
        seen = self._seen
        if seen is not None and seen[0] == mtime and time.time_ns() - mtime > _SETTLED_NS:
            return seen[1]
        generation = self._ix.latest_generation()
        self._seen = (mtime, generation)
        return generation

    @property
    def doc_count(self) -> int:
        """Number of (not deleted) documents in the last commit."""
        return self.snapshot().doc_count

    def search(self, query: str, limit: int = 10, **options: Any):
        """Rank documents for ``query``; see :func:`vnsearch.ranking.search.search`."""
        from vnsearch.ranking.search import search

        snap = self.snapshot()
        try:
            return search(snap, query, limit=limit, **options)
        except Exception as exc:
            damage = self._reading_failed(snap, exc)
            if damage is None:
                raise
            raise damage from exc

    def explain(self, query: str, doc_id: Any, **options: Any):
        """Why the document with unique field ``doc_id`` got its score for ``query``."""
        from vnsearch.ranking.search import explain

        snap = self.snapshot()
        try:
            return explain(snap, query, doc_id, **options)
        except Exception as exc:
            damage = self._reading_failed(snap, exc)
            if damage is None:
                raise
            raise damage from exc

    def _reading_failed(self, snap: Any, exc: Exception) -> IndexCorrupted | None:
        """The error to raise if reading the index failed because of its files: bytes the
        codec saw were bad, or (for the ``IndexError``/``KeyError`` a flipped document
        number or offset gives) a segment fails its full checksums. None: not the files."""
        where = str(self.path or "index")
        if isinstance(exc, DAMAGE):  # a postings block or stored value with bad bytes
            return corrupted(where, exc)
        if isinstance(exc, (IndexError, KeyError)):
            for reader, _ in snap.segments:
                try:
                    _check_all(self._storage, reader)
                except DamagedFile as fault:
                    return corrupted(where, fault)
        return None

    def close(self) -> None:
        self._stop_ahead.set()
        for thread in self._ahead:
            thread.join()
        self._ahead = []
        self._stop_ahead = threading.Event()
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _page_checks(reader: Any) -> PageChecks | None:
    """The page checks of a segment reader's memory-mapped file (None: not mapped, or
    written without checksums)."""
    return getattr(getattr(reader, "_terms", None), "_pages", None)


def _check_all(storage: Any, reader: Any) -> int:
    """Check every page of a reader's segment: through its map, or read from ``storage``
    (an in-memory index). Returns the bytes checked (0: no checksums)."""
    pages = _page_checks(reader)
    if pages is not None:
        return pages.check_all()
    return verify_segment(storage, reader.segment())
