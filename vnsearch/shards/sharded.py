"""``ShardedIndex``: S vnsearch indexes searched as one, in one process (threads).

Each shard is an ordinary :class:`~vnsearch.Index` in a subfolder; a document lives in the
shard of its unique id (:func:`~vnsearch.shards.manifest.shard_of`). A search takes the
shards' last commits, sums their statistics (:class:`~vnsearch.ranking.global_stats.SummedStats`:
live documents, field lengths, the document frequencies of the query's terms, the spelling
tables that restore accents), asks every shard for its best ``offset + limit`` hits with
those statistics, and merges them by (clauses matched, score), then the order documents
were added (:attr:`~vnsearch.Hit.order`), then the shard. With those statistics a shard
scores each document exactly as one index holding every document would, so the merged
hits are that index's hits, in its order: one index orders hits tied on clauses and score
by document number, which is the order documents were added; the shards' writer numbers
each document it adds in the hidden field ``shard.order`` (:meth:`Schema.with_order`) for the
same order. (After a merge of segments has reordered one index's documents, ties stand in
that index's own document order: neither is the order of any other index.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vnsearch.errors import DocumentError, IndexNotFound, SchemaError
from vnsearch.index import Index, Schema
from vnsearch.index.recent import cache_bytes
from vnsearch.index.schema import ORDER_FIELD
from vnsearch.index.storage import check_new_folder
from vnsearch.query import MatchAll, QueryLimits
from vnsearch.ranking.facets import FacetSpec, facet_specs
from vnsearch.ranking.global_stats import Stats, SummedStats
from vnsearch.ranking.results import Explanation, Results
from vnsearch.ranking.scoring import Ranking
from vnsearch.ranking.sorting import sort_keys
from vnsearch.shards.manifest import (
    MANIFEST,
    check_shards,
    read_manifest,
    shard_folder,
    shard_of,
    write_manifest,
)
from vnsearch.shards.merge import merge_facets, merge_hits, shard_facets

__all__ = ["ShardedIndex", "ShardedWriter"]


class ShardedIndex:
    """A collection split over several vnsearch indexes (shards) that search as one.

    >>> import vnsearch
    >>> schema = vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True),
    ...                          body=vnsearch.TEXT(stored=True))
    >>> ix = vnsearch.ShardedIndex.in_memory(schema, shards=3)
    >>> with ix.writer() as w:
    ...     for i, text in enumerate(["Hà Nội mùa thu", "Sông Hồng", "Hà Nội, phố cổ Hà Nội"]):
    ...         w.add({"id": str(i), "body": text})
    >>> [hit.id for hit in ix.search("ha noi")], ix.doc_count
    (['2', '0'], 3)
    """

    def __init__(self, schema: Schema, shards: list[Index], path: Path | None) -> None:
        if schema.unique_field is None:
            raise SchemaError("a sharded index needs a unique field: ID(unique=True)")
        self.schema = schema
        self.shards = shards
        self.path = path
        self._lock = threading.Lock()
        self._stats: SummedStats | None = None
        self._pool: ThreadPoolExecutor | None = None

    # -- creating and opening ------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, schema: Schema, shards: int = 4) -> ShardedIndex:
        """Create ``shards`` empty shard indexes and the manifest in the folder ``path``
        (a new or empty folder; ``schema`` needs a unique field)."""
        shards = check_shards(shards)
        if not isinstance(schema, Schema) or schema.unique_field is None:
            raise SchemaError("a sharded index needs a Schema with ID(unique=True)")
        folder = Path(path)
        check_new_folder(folder)
        folder.mkdir(parents=True, exist_ok=True)
        each = schema.with_order()
        indexes = [Index.create(shard_folder(folder, i), each) for i in range(shards)]
        write_manifest(folder, shards, schema)  # last: a folder without it is no index
        return cls(schema, indexes, folder)

    @classmethod
    def open(
        cls, path: str | Path, check_reads: bool = True, synonyms: Any = None,
        cache_mb: float | None = None,
    ) -> ShardedIndex:  # fmt: skip
        """Open the sharded index in ``path``. A shard missing is :class:`IndexNotFound`,
        a damaged one :class:`~vnsearch.IndexCorrupted`, each naming the shard.
        ``cache_mb``: the decoded postings the shards keep together, split evenly (by
        default each keeps up to :meth:`Index.open`'s 512 MB)."""
        cache_bytes(cache_mb)  # checked before any file is read
        folder = Path(path)
        count, schema = read_manifest(folder)
        each_mb = None if cache_mb is None else cache_mb / count
        indexes = []
        for i in range(count):
            where = shard_folder(folder, i)
            if not where.is_dir():
                raise IndexNotFound(f"{folder}: shard {i} of {count} is missing ({where})")
            each = schema.with_order()
            indexes.append(
                Index.open(where, each, check_reads, synonyms=synonyms, cache_mb=each_mb)
            )
        return cls(schema, indexes, folder)

    @classmethod
    def in_memory(cls, schema: Schema, shards: int = 4, synonyms: Any = None) -> ShardedIndex:
        """A sharded index in this process's memory only."""
        shards = check_shards(shards)
        each = schema.with_order()
        return cls(schema, [Index.in_memory(each, synonyms) for _ in range(shards)], None)

    @classmethod
    def exists(cls, path: str | Path) -> bool:
        """Whether the folder ``path`` holds a sharded index (its manifest)."""
        return (Path(path) / MANIFEST).is_file()

    # -- writing ---------------------------------------------------------------------------

    def shard_of(self, doc_id: Any) -> int:
        """The number of the shard that holds (or would hold) document ``doc_id``."""
        return shard_of(doc_id, len(self.shards))

    def writer(self, timeout: float = 10.0, jobs: int = 1) -> ShardedWriter:
        """A writer over every shard (each shard's lock taken in turn; ``jobs`` analysis
        processes per shard). It numbers the documents it adds from one more than the
        largest number of the shards' last commits."""
        writers: list[Any] = []
        try:
            for ix in self.shards:
                writers.append(ix.writer(timeout=timeout, jobs=jobs))
            order = _next_order(self.shards)  # a damaged shard: its locks given back too
        except BaseException:
            for w in writers:
                w.cancel()
            raise
        return ShardedWriter(self, writers, order)

    # -- reading ---------------------------------------------------------------------------

    @property
    def doc_count(self) -> int:
        """Live documents over every shard, as of their last commits."""
        return sum(ix.doc_count for ix in self.shards)

    def global_stats(self) -> SummedStats:
        """The statistics of every shard's last commit, summed (remade after a commit)."""
        snaps = [ix.snapshot() for ix in self.shards]
        with self._lock:
            known = self._stats
            if known is None or any(a is not b for a, b in zip(known.snaps, snaps)):
                known = self._stats = SummedStats(snaps)
            return known

    def ranking_stats(self) -> Stats:
        """Every shard's :meth:`~vnsearch.Index.ranking_stats`, merged: plain data."""
        return Stats.merge(self._each(lambda ix: ix.ranking_stats()))

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
        synonyms: Any = None,
        facets: FacetSpec | None = None,
    ) -> Results:
        """The hits ``offset`` to ``offset + limit`` over every shard, as
        :meth:`vnsearch.Index.search` orders them in one index: each shard searched with
        the statistics of all (:meth:`global_stats`), the hits merged by clauses matched
        and score (or by the ``sort`` keys, then score), then document number in the shard,
        then shard (:mod:`vnsearch.shards.merge`). ``total`` and ``facets`` sum the
        shards'."""
        for name, value in (("offset", offset), ("limit", limit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int of 0 or more, got {value!r}")
        stats = self.global_stats()
        specs = None if facets is None else facet_specs(facets)
        options = {
            "fields": fields, "filter": filter, "ranking": ranking, "limits": limits,
            "sort": sort, "facets": None if specs is None else shard_facets(specs),
        }  # fmt: skip
        found = self._each(
            lambda ix: ix.search(query, offset + limit, synonyms=synonyms, stats=stats, **options)
        )
        keys = sort_keys(self.shards[0].snapshot(), sort)
        hits = merge_hits([r.hits for r in found], keys, offset, limit)
        counted = None if specs is None else merge_facets([r.facets for r in found], specs)
        first = found[0]
        total = lambda: sum(r.total for r in found)  # noqa: E731
        return Results(hits, total, first.notes, first.corrected, facets=counted)

    def count(self, query: str | MatchAll, **options: Any) -> int:
        """How many documents :meth:`search` finds, over every shard (``options`` as for
        :meth:`vnsearch.Index.count`)."""
        stats = self.global_stats()
        return sum(self._each(lambda ix: ix.count(query, stats=stats, **options)))

    def get(self, doc_id: Any) -> dict[str, Any] | None:
        """The stored fields of document ``doc_id``, from its shard (None if none)."""
        return self.shards[self.shard_of(doc_id)].get(doc_id)

    def explain(self, query: str, doc_id: Any, **options: Any) -> Explanation:
        """Why document ``doc_id`` got its score for ``query`` over every shard (``options``
        as for :meth:`vnsearch.Index.explain`), from the shard that holds it."""
        shard = self.shards[self.shard_of(doc_id)]
        return shard.explain(query, doc_id, stats=self.global_stats(), **options)

    def _each(self, call: Any) -> list[Any]:
        """``call(shard)`` for every shard, in threads; a shard's error names the shard."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(len(self.shards), "vnsearch-shard")
            pool = self._pool
        futures = [pool.submit(call, ix) for ix in self.shards]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Close every shard and stop the search threads."""
        with self._lock:
            pool, self._pool, self._stats = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True)
        for ix in self.shards:
            ix.close()

    def __enter__(self) -> ShardedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ShardedWriter:
    """Adds, updates and deletes routed to the shard of each document's unique id; commits
    every shard (one after another: not atomic across shards), or cancels them all."""

    def __init__(self, index: ShardedIndex, writers: list[Any], order: int) -> None:
        self._index = index
        self._writers = writers
        self._unique = index.schema.unique_field
        self._order = order  # the number of the next document added

    def _routed(self, doc: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The writer of ``doc``'s shard and ``doc`` numbered for it."""
        value = doc.get(self._unique) if isinstance(doc, Mapping) else None
        if value is None:
            raise DocumentError(
                f"a sharded index routes documents by their unique field {self._unique!r}:"
                " the document has none"
            )
        return self._writers[self._index.shard_of(value)], {**doc, ORDER_FIELD: self._order}

    def add(self, doc: Mapping[str, Any]) -> None:
        """Add ``doc`` to its shard (no check for an existing one: see :meth:`update`)."""
        writer, numbered = self._routed(doc)
        writer.add(numbered)
        self._order += 1

    def update(self, doc: Mapping[str, Any]) -> None:
        """Add ``doc`` to its shard, replacing the document with the same unique id (it
        then stands where one index puts a replaced document: last)."""
        writer, numbered = self._routed(doc)
        writer.update(numbered)
        self._order += 1

    def delete(self, doc_id: Any) -> int:
        """Delete document ``doc_id`` from its shard; returns how many were deleted."""
        return int(self._writers[self._index.shard_of(doc_id)].delete(doc_id))

    def commit(self) -> None:
        """Commit every shard, in order; if one fails, those after it are cancelled."""
        for i, w in enumerate(self._writers):
            try:
                w.commit()  # its errors name the shard's folder
            except BaseException:
                for rest in self._writers[i + 1 :]:
                    rest.cancel()
                raise

    def cancel(self) -> None:
        """Drop the changes of every shard and release their locks."""
        for w in self._writers:
            w.cancel()

    def __enter__(self) -> ShardedWriter:
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.cancel()


def _next_order(shards: Sequence[Index]) -> int:
    """One more than the largest :data:`~vnsearch.index.schema.ORDER_FIELD` of the shards'
    last commits (0 when empty)."""
    last = -1
    for ix in shards:
        values, present = ix.snapshot().field_values(ORDER_FIELD)
        if present.any():
            last = max(last, int(values[present].max()))
    return last + 1
