"""The index: a folder (or memory) holding Whoosh segments written with the vnsearch codec.

``Index`` is the public facade: it creates and opens indexes, hands out writers, keeps the
snapshot of the last commit, and is the one place that joins the index layer to ranking
(:meth:`Index.search` and :meth:`Index.explain` call :mod:`vnsearch.ranking.search`, as
Whoosh's ``Index.searcher()`` imports its searcher when asked).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh.index import EmptyIndexError, LockError
from whoosh.util.filelock import try_for

from vnsearch.errors import IncompatibleIndex, IndexLocked, IndexNotFound, SchemaError
from vnsearch.index.codec import VnCodec
from vnsearch.index.integrity import INDEX_NAME, ReadChecks, corrupted
from vnsearch.index.reader import Snapshot
from vnsearch.index.recent import cache_bytes
from vnsearch.index.schema import Schema
from vnsearch.index.stats import IndexStats, index_stats
from vnsearch.index.storage import (
    SCHEMA_FILE,
    FolderStorage,
    MemoryStorage,
    check_new_folder,
    read_schema,
    remove_unfinished_tocs,
)
from vnsearch.index.suggest import Suggestion, suggest
from vnsearch.index.toc import FolderGeneration, VnFileIndex
from vnsearch.index.writer import MAX_TEXT_MB, ArraySegmentWriter, Writer
from vnsearch.query import ABBREVIATIONS, DEFAULT_LIMITS, MatchAll, QueryLimits, Synonyms
from vnsearch.query.synonyms import SynonymsOption, as_synonyms

if TYPE_CHECKING:  # the facade's return types; ranking is imported when first searched
    from vnsearch.ranking.facets import FacetSpec
    from vnsearch.ranking.global_stats import Stats
    from vnsearch.ranking.results import Explanation, Results
    from vnsearch.ranking.scoring import Ranking

__all__ = ["Index", "IndexStats"]


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

    query_limits: QueryLimits = DEFAULT_LIMITS
    """How large this index's queries may be, unless a search passes its own ``limits``:
    set it on an index (``ix.query_limits = QueryLimits(max_chars=2000)``)."""

    synonyms: Synonyms = ABBREVIATIONS
    """The forms query words are also searched as (unless a search passes ``synonyms``):
    the built-in abbreviations (``UBND`` finds ``ủy ban nhân dân``, and the other way), or
    as set by :meth:`open`. Read at query time: changing it needs no reindexing."""

    def __init__(
        self, schema: Schema, storage: Any, path: Path | None, check_reads: bool = True,
        cache_mb: float | None = None,
    ) -> None:  # fmt: skip
        self.schema = schema
        self._cache_bytes = cache_bytes(cache_mb)
        self.path = path
        self._storage = storage
        self._ix = VnFileIndex(storage, schema.whoosh_schema_cached(), INDEX_NAME)
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._generation = FolderGeneration(self._ix, path)  # the last commit's
        self._checks = ReadChecks(storage, str(path or "index"), check_reads)

    # -- creating and opening ----------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, schema: Schema) -> Index:
        """Create an empty index in the folder ``path``: a new folder, or an empty one (a
        folder holding anything else, an index or a user's files, is refused)."""
        if not isinstance(schema, Schema):
            raise TypeError("schema must be a vnsearch.Schema")
        folder = Path(path)
        check_new_folder(folder)
        folder.mkdir(parents=True, exist_ok=True)
        storage = FolderStorage(str(folder))
        # under the write lock: two processes creating one index do it one after the other
        lock = storage.lock(f"{INDEX_NAME}_WRITELOCK")
        if not try_for(lock.acquire, timeout=10.0):
            raise IndexLocked(f"{folder}: another process holds the lock")
        try:
            check_new_folder(folder)
            VnFileIndex.create(storage, schema.whoosh_schema_cached(), INDEX_NAME)
            (folder / SCHEMA_FILE).write_text(schema.to_json(), encoding="utf-8")
            storage.sync([SCHEMA_FILE])  # a new index survives a power cut too
        finally:
            lock.release()
        return cls(schema, storage, folder)

    @classmethod
    def open(
        cls, path: str | Path, schema: Schema | None = None, check_reads: bool = True,
        synonyms: SynonymsOption = None, cache_mb: float | None = None,
    ) -> Index:  # fmt: skip
        """Open the index in ``path``; if ``schema`` is given it must be the index's.

        Searches check every page of the postings, term dictionaries and spellings they
        read against the segment's checksums the first time they read it (see
        :mod:`vnsearch.index.checksums`); ``check_reads=False`` leaves that to
        :meth:`verify` and merges, for storage that checks itself (a few tenths of a
        millisecond per query on a cold, large index; about 0.05 ms once warm).
        ``synonyms`` sets :attr:`synonyms`: a synonym file's path or a mapping (added to
        the built-in abbreviations), a :class:`~vnsearch.Synonyms`, or ``False`` (none).
        ``cache_mb``: the megabytes of decoded postings kept for the next searches (512
        by default; 1,200 queries read 266 MB of an index of 84k news articles): more
        spares a larger index's searches decoding the same terms again.
        """
        cache_bytes(cache_mb)  # checked before any file is read
        folder = Path(path)
        if not folder.is_dir():
            raise IndexNotFound(f"{folder}: no such index folder")
        schema_file = folder / SCHEMA_FILE
        if not schema_file.exists():
            raise IndexNotFound(f"{folder}: not a vnsearch index (no {SCHEMA_FILE})")
        saved = read_schema(schema_file)
        if schema is not None and schema != saved:
            raise IncompatibleIndex(
                f"{folder}: the index was created with another schema: {saved!r}"
            )
        storage = FolderStorage(str(folder))
        try:
            ix = cls(saved, storage, folder, check_reads=check_reads, cache_mb=cache_mb)
        except EmptyIndexError:
            raise IndexNotFound(f"{folder}: the index files are missing") from None
        except Exception as exc:  # reading the table of contents (_MAIN_<n>.toc) failed
            if isinstance(exc, (MemoryError, OSError)):
                raise
            raise corrupted(f"{folder}: table of contents", exc) from exc
        if synonyms is not None:
            ix.synonyms = as_synonyms(synonyms)
        return ix

    @classmethod
    def in_memory(cls, schema: Schema, synonyms: SynonymsOption = None) -> Index:
        """An index in this process's memory only (``synonyms`` as for :meth:`open`)."""
        storage = MemoryStorage()
        VnFileIndex.create(storage, schema.whoosh_schema_cached(), INDEX_NAME)
        ix = cls(schema, storage, None)
        if synonyms is not None:
            ix.synonyms = as_synonyms(synonyms)
        return ix

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
            w = ArraySegmentWriter(self._ix, codec=VnCodec(), timeout=timeout)
        except LockError:
            raise IndexLocked(f"{self.path or 'index'}: another writer holds the lock") from None
        except EmptyIndexError:  # removed while this waited for its lock
            raise IndexNotFound(f"{self.path}: the index files were removed") from None
        remove_unfinished_tocs(self._storage)
        return Writer(
            self.schema, w, jobs=jobs, max_text_mb=max_text_mb, where=str(self.path or "index")
        )

    def optimize(self, timeout: float = 10.0) -> None:
        """Merge all segments into one (and drop deleted documents for good)."""
        w = self.writer(timeout=timeout, jobs=1)
        w.commit(optimize=True)

    # -- reading -----------------------------------------------------------------------

    @classmethod
    def exists(cls, path: str | Path) -> bool:
        """Whether the folder ``path`` holds a vnsearch index (its schema file).

        >>> Index.exists("/nonexistent/folder")
        False
        """
        return (Path(path) / SCHEMA_FILE).is_file()

    def snapshot(self) -> Snapshot:
        """The searcher state of the last commit (reopened when a newer commit exists)."""
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
                    self._checks.before_reading(self._ix)
                    current = Snapshot(self.schema, self._ix, self._cache_bytes)
                    self._checks.opened(current)
                except Exception as exc:  # no user input here: the files are at fault
                    # (damaged bytes can raise anything, MemoryError included: the
                    # checksums tell)
                    where, fault = self._checks.at_fault(self._ix)
                    if fault is None and isinstance(exc, MemoryError):
                        raise
                    raise corrupted(where, fault or exc) from exc
                self._snapshot = current
            return current

    def _wait_checked_ahead(self, timeout: float | None = None) -> bool:
        """Wait for the background checks ahead; False on timeout (for tests)."""
        return self._checks.wait(timeout)

    def verify(self) -> dict[str, int]:
        """Check every byte of the last commit's segments against their checksums (what
        opening checks is only their small parts; see :mod:`vnsearch.index.checksums`).

        Returns ``{"segments": ..., "bytes": ..., "unchecked_segments": ...}`` (segments
        written before vnsearch kept checksums are unchecked); raises
        :class:`~vnsearch.errors.IndexCorrupted` naming the file and the bytes that differ.

        >>> import vnsearch
        >>> ix = vnsearch.Index.in_memory(vnsearch.Schema(body=vnsearch.TEXT()))
        >>> with ix.writer() as w:
        ...     w.add({"body": "Hà Nội"})
        >>> ix.verify()["segments"]
        1
        """
        return self._checks.verify(self.snapshot())

    @property
    def doc_count(self) -> int:
        """Number of (not deleted) documents in the last commit."""
        return self.snapshot().doc_count

    def stats(self) -> IndexStats:
        """What the index holds as of its last commit (:class:`IndexStats`).

        >>> import vnsearch
        >>> ix = vnsearch.Index.in_memory(vnsearch.Schema(body=vnsearch.TEXT()))
        >>> with ix.writer() as w:
        ...     w.add({"body": "Hà Nội"})
        >>> ix.stats().documents, ix.stats().segments
        (1, 1)
        """
        return index_stats(self.snapshot(), self.path)

    def ranking_stats(self) -> Stats:
        """What ranking reads of this index (:class:`vnsearch.Stats`: documents, lengths,
        document frequencies, spellings): sum those of the shards of a collection with
        ``Stats.merge`` and search each with ``stats=``, to rank as one index would."""
        from vnsearch.ranking.global_stats import snapshot_stats

        return self._read(snapshot_stats)  # type: ignore[no-any-return]

    def search(
        self,
        query: str | MatchAll,
        limit: int = 10,
        *,
        offset: int = 0,
        fields: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        sort: str | Sequence[str] | None = None,
        ranking: Ranking | None = None,
        limits: QueryLimits | None = None,
        synonyms: SynonymsOption = None,
        facets: FacetSpec | None = None,
        stats: Stats | None = None,
    ) -> Results:
        """Rank documents for ``query``: the ``limit`` hits after the first ``offset`` (a
        page of one order: equal keys by document number) and the total.

        :data:`vnsearch.ALL` or ``""`` lists the documents that pass ``filter``, by ``sort``
        or by document number (scores 0). ``fields`` limits the TEXT fields searched;
        ``filter`` maps fields to a value, a list of values (any of them) or, for NUMERIC
        and DATETIME fields, a :class:`~vnsearch.Range`; ``sort="field"`` (``"-field"``:
        descending; or a list: ``["-published", "title"]``) orders the matches by those
        fields, then score; ``facets=["topic"]`` counts values over all matches into
        ``results.facets``; ``ranking`` replaces :data:`~vnsearch.DEFAULT_RANKING`.
        See :func:`vnsearch.ranking.search.search` and :mod:`vnsearch.ranking.facets`.

        ``limits`` (default :attr:`query_limits`) bound what any query costs: characters,
        words, term lookups (:class:`~vnsearch.QueryLimits`). By default the excess is
        left out and ``results.notes`` say so: a search box should answer a long paste
        from its first part rather than fail; ``on_excess="error"`` refuses it with
        :class:`~vnsearch.QueryTooLarge` instead. ``synonyms`` (default :attr:`synonyms`;
        see :meth:`open`) are the forms a query word is also searched as. ``stats`` (the
        merged :meth:`ranking_stats` of every shard) replaces this index's own in scores.

        >>> import vnsearch
        >>> ix = vnsearch.Index.in_memory(vnsearch.Schema(body=vnsearch.TEXT()))
        >>> with ix.writer() as w:
        ...     w.add({"body": "Hà Nội"})
        >>> r = ix.search("hà " * 5000 + "nội", limits=vnsearch.QueryLimits(max_chars=100))
        >>> len(r), r.notes
        (1, ('the query was cut to its first 100 of 15,003 characters (max_chars=100)',))
        >>> ix.search(vnsearch.ALL, offset=1).total, len(ix.search("", offset=1))
        (1, 0)
        """
        from vnsearch.ranking.search import search

        pages = {"limit": limit, "offset": offset, "sort": sort, "facets": facets}
        options = self._options(ranking, limits, synonyms, stats)
        return self._read(search, query, fields=fields, filter=filter, **pages, **options)

    def count(
        self,
        query: str | MatchAll,
        *,
        fields: Iterable[str] | None = None,
        filter: Mapping[str, Any] | None = None,
        ranking: Ranking | None = None,
        limits: QueryLimits | None = None,
        synonyms: SynonymsOption = None,
        stats: Stats | None = None,
    ) -> int:
        """How many documents :meth:`search` finds (its ``total``), without ranking them or
        reading one: ``ix.count("hà nội", filter={"topic": "du-lich"})``."""
        from vnsearch.ranking.search import count

        options = self._options(ranking, limits, synonyms, stats)
        return self._read(count, query, fields=fields, filter=filter, **options)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The stored fields of the live document whose unique field is ``doc_id``; None
        if there is none (a schema without a unique field is a ``SchemaError``).

        >>> import vnsearch
        >>> ix = vnsearch.Index.in_memory(vnsearch.Schema(id=vnsearch.ID(stored=True,
        ...     unique=True), body=vnsearch.TEXT(stored=True)))
        >>> with ix.writer() as w:
        ...     w.add({"id": "hn", "body": "Hà Nội"})
        >>> ix.get("hn"), ix.get("hcm"), ix.count("ha noi"), ix.doc_count
        ({'body': 'Hà Nội', 'id': 'hn'}, None, 1, 1)
        """
        if self.schema.unique_field is None:
            raise SchemaError(f"{self.path or 'index'}: get needs a unique field in the schema")
        return self._read(Snapshot.document, doc_id)

    def explain(
        self,
        query: str,
        doc_id: str,
        *,
        fields: Iterable[str] | None = None,
        ranking: Ranking | None = None,
        limits: QueryLimits | None = None,
        synonyms: SynonymsOption = None,
        stats: Stats | None = None,
    ) -> Explanation:
        """Why the document with unique field ``doc_id`` got its score for ``query``
        (``limits``, ``synonyms`` and ``stats`` as for :meth:`search`)."""
        from vnsearch.ranking.search import explain

        options = self._options(ranking, limits, synonyms, stats)
        return self._read(explain, query, doc_id, fields=fields, **options)

    def suggest(
        self, prefix: str, limit: int = 10, *, fields: Iterable[str] | None = None
    ) -> list[Suggestion]:
        """Completions of the last word of ``prefix`` (or of the pair it ends, with the
        word before) from the index's vocabulary, most documents first (ties in byte
        order); without accents typed, each spelled as the index spells it most. Counts
        are summed over segments and TEXT fields and include deleted documents until a
        merge. See :mod:`vnsearch.index.suggest`.

        >>> import vnsearch
        >>> ix = vnsearch.Index.in_memory(vnsearch.Schema(body=vnsearch.TEXT()))
        >>> with ix.writer() as w:
        ...     w.add({"body": "Thủ tướng ký thủ tục"})
        ...     w.add({"body": "Thủ tướng phát biểu"})
        >>> [(s.text, s.count) for s in ix.suggest("thu tu")]
        [('thủ tướng', 2), ('thủ tục', 1)]
        """
        return self._read(suggest, prefix, limit, fields)

    def _options(self, ranking: Any, limits: Any, synonyms: Any, stats: Any) -> dict[str, Any]:
        """A search's ``ranking``, ``limits`` and ``synonyms`` (this index's defaults for
        None) and ``stats``."""
        from vnsearch.ranking.search import DEFAULT_RANKING

        table = self.synonyms if synonyms is None else as_synonyms(synonyms)
        limits, ranking = limits or self.query_limits, ranking or DEFAULT_RANKING
        return {"ranking": ranking, "limits": limits, "synonyms": table, "stats": stats}

    def _read(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``read(snapshot, *args, **kwargs)`` on the last commit's snapshot, an error that
        damaged files caused turned into :class:`~vnsearch.errors.IndexCorrupted` (other
        errors pass unchanged). A plain call, not a ``with`` block: it runs per query."""
        snap = self.snapshot()
        try:
            return read(snap, *args, **kwargs)
        except Exception as exc:
            damage = self._checks.reading_failed(snap, exc)
            if damage is None:
                raise
            raise damage from exc

    def close(self) -> None:
        """Stop the background checks and release the snapshot's files."""
        self._checks.stop()
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
