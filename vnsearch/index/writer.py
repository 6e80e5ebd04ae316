"""The writer: documents in, one Whoosh segment writer underneath, commit or roll back."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from whoosh.formats import Positions
from whoosh.writing import SegmentWriter

from vnsearch.errors import DocumentError, SchemaError, VnsearchError
from vnsearch.index.checksums import verify_segment, write_checksums
from vnsearch.index.documents import MAX_TEXT_MB, document_fields
from vnsearch.index.durable import write_error
from vnsearch.index.integrity import DAMAGE, corrupted
from vnsearch.index.merges import merge_levels
from vnsearch.index.pieces import field_pieces
from vnsearch.index.pool import ArrayPool
from vnsearch.index.schema import (
    Schema,
)
from vnsearch.index.terms import terms_reader
from vnsearch.index.toc import commit_toc, generations
from vnsearch.index.workers import AnalysisQueue, Analyzed, analyze_texts

__all__ = ["MAX_TEXT_MB", "ArraySegmentWriter", "Writer"]


log = logging.getLogger("vnsearch.index")

# a merge reads a segment's field a piece of terms whose blocks take about this many bytes
# at a time (decoded, ~10-30 times as much in memory)
MERGE_PIECE_BYTES = 4 << 20


class ArraySegmentWriter(SegmentWriter):
    """Whoosh's segment writer with vnsearch's posting pool and a bulk entry point.

    ``add_document`` asks every field to index its value and pushes each posting into
    Whoosh's pool of tuples; vnsearch has the postings of a document ready, so
    :meth:`add_prepared` writes the per-document data and hands the postings to an
    :class:`~vnsearch.index.pool.ArrayPool` in one go, and the segment's postings are
    written field by field from sorted arrays.
    """

    def __init__(self, ix: Any, limitmb: int = 256, **kwargs: Any) -> None:
        try:
            super().__init__(ix, limitmb=limitmb, **kwargs)
        except BaseException:  # e.g. no table of contents: the lock is given back
            lock = getattr(self, "writelock", None)
            if getattr(lock, "fd", None) is not None:
                lock.release()
            raise
        # above every table of contents present, also a damaged one the index passed over
        # (Whoosh's rename would refuse its name; its files are deleted at the commit)
        listed = generations(self.storage, self.indexname)
        self.generation = max(self.generation, listed[0] + 1 if listed else 0)
        # the segments already on the disk (Whoosh appends the new one to its own list)
        self.base_segments = frozenset(s.segid for s in self.segments)
        positional = {
            name: isinstance(field.format, Positions)
            for name, field in self.schema.items()
            if field.format is not None
        }
        self.pool = ArrayPool(self._tempstorage, positional, limitmb=limitmb)

    def add_prepared(
        self, fields: dict[str, Any], postings: list[tuple], view_lengths: dict[str, int]
    ) -> None:
        """Add one document's stored values, field lengths and plain postings: ``fields`` as
        for ``add_document``; ``postings`` the ``(field, term bytes, _, weight, value bytes,
        length)`` tuples of its plain fields, grouped by field; ``view_lengths`` the number
        of tokens of each of its TEXT fields' views (whose postings come in batches,
        :meth:`add_views`)."""
        self._check_state()
        docnum = self.docnum
        schema = self.schema
        pdw = self.perdocwriter
        lengths = dict(view_lengths)
        for item in postings:
            lengths[item[0]] = lengths.get(item[0], 0) + item[5]
        pdw.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            field = schema[name]
            stored = value if field.stored else None
            pdw.add_field(name, field, stored, lengths.get(name, 0) if field.scorable else 0)
            column = field.column_type
            if column and value is not None:
                pdw.add_column_value(name, column, field.to_column_value(value))
        pdw.finish_doc()
        if postings:
            self.pool.add_doc(docnum, postings)
        self._added = True
        self.docnum += 1

    def add_views(self, first: int, views: dict[str, tuple]) -> None:
        """The view tokens of the documents numbered from ``first``, as
        :func:`~vnsearch.index.workers.analyze_texts` packs them."""
        for hidden, (terms, ids, positions, counts) in views.items():
            self.pool.add_tokens(hidden, first, terms, ids, positions, counts)

    def add_postings_to_pool(self, reader: Any, startdoc: int, docmap: Any) -> None:
        """A merged segment's postings, a piece of a field's terms at a time from its
        blocks (Whoosh reads them one posting at a time: minutes for a large segment)."""
        terms = terms_reader(reader)
        if terms is None:
            super().add_postings_to_pool(reader, startdoc, docmap)
            return
        if docmap is None:
            new = None
        else:  # deleted documents map to -1
            new = np.full(reader.doc_count_all(), -1, dtype=np.int64)
            new[np.fromiter(docmap.keys(), np.int64)] = np.fromiter(docmap.values(), np.int64)
        fields = [f for f in sorted(terms.indexed_field_names()) if f in self.schema]
        for field in fields:  # a piece of a field's terms at a time: bounded memory
            for piece in field_pieces(terms, field, MERGE_PIECE_BYTES):
                keys, counts, docs, weights, npos, positions = piece
                docs = docs.astype(np.int64)
                if new is None:
                    docs += startdoc
                else:
                    docs = new[docs]
                    live = docs >= 0
                    if not live.all():
                        keys, counts, docs, weights, npos, positions = _live(
                            live, keys, counts, docs, weights, npos, positions
                        )
                self.pool.add_postings(field, keys, counts, docs, weights, npos, positions)

    def add_reader(self, reader: Any) -> None:
        """Merge a segment in, after checking every byte of it against its checksums (a
        damaged segment must not become a merged one with fresh checksums)."""
        verify_segment(self.storage, reader.segment())
        super().add_reader(reader)

    def _commit_toc(self, segments: list[Any]) -> None:
        commit_toc(self, segments)  # vnsearch's table of contents, not Whoosh's pickles

    def committed(self) -> bool:
        """Whether this writer's table of contents is in place (its commit is the index's)."""
        return self.storage.file_exists(f"_{self.indexname}_{self.generation}.toc")

    def abandon(self) -> None:
        """Give up this writer after a failed commit or a cancel, even when every step
        fails again (a full disk fails the closing of files too): its files closed, its
        new segment's files deleted unless its commit is in place, its temporary folder
        removed, and the write lock given back, whatever happened before."""
        if self.is_closed:
            return
        try:
            with contextlib.suppress(Exception):
                self._close_segment()
            if not self.committed():
                prefix = f"{self.newsegment.segment_id()}."
                for name in list(self.storage):
                    if name.startswith(prefix):
                        with contextlib.suppress(OSError):
                            self.storage.delete_file(name)
            with contextlib.suppress(Exception):
                self._tempstorage.destroy()
        finally:
            self.is_closed = True
            if self.writelock is not None:
                with contextlib.suppress(Exception):
                    self.writelock.release()

    def _merge_segments(self, mergetype: Any, optimize: bool, merge: bool) -> Any:
        """The merge of segments into the new one (vnsearch's policy,
        :func:`~vnsearch.index.merges.merge_levels`, unless Whoosh is told to optimize,
        not to merge, or another policy), logged."""
        optimize = self.optimize if optimize is None else optimize
        merge = self.merge if merge is None else merge
        if mergetype is None and merge and not optimize:
            mergetype = merge_levels
        start = time.perf_counter()
        kept = super()._merge_segments(mergetype, optimize, merge)
        merged = len(self.segments) - len(kept)
        if merged:
            seconds = time.perf_counter() - start
            where = getattr(self.storage, "folder", "index")
            log.info("%s: merged %d segments in %.2f s", where, merged, seconds)
        return kept

    def _assemble_segment(self) -> None:
        super()._assemble_segment()
        if self.compound:
            write_checksums(self.storage, self.get_segment())

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        writer = self.fieldwriter
        for name, pieces in self.pool.fields():  # a range of a field's keys at a time
            writer.add_field_postings(name, self.schema[name], pieces)
        writer.close()


# the former name (the index module still uses it)


def _live(live: np.ndarray, keys, counts, docs, weights, npos, positions) -> tuple:
    """Postings arrays (see ``VnTermsReader.field_postings``) without the dead postings,
    and terms left without any."""
    term_of = np.repeat(np.arange(len(keys)), counts)
    counts = np.bincount(term_of[live], minlength=len(keys))
    if positions is not None:
        positions = positions[np.repeat(live, npos.astype(np.int64))]
    docs, weights, npos = docs[live], weights[live], npos[live]
    has = counts > 0
    keys = [k for k, h in zip(keys, has.tolist()) if h]
    return keys, counts[has], docs, weights, npos, positions


def _quietly(check: Any) -> bool:
    """``check()``, False if it fails."""
    try:
        return bool(check())
    except Exception:
        return False


class Writer:
    """Adds, replaces and deletes documents; commits on ``with`` exit, rolls back on error.

    Only one writer at a time holds an index's lock; readers keep seeing the last commit.
    A writer object belongs to one thread at a time (it is not locked against itself).
    A TEXT value of more than ``max_text_mb`` megabytes (UTF-8) is refused with a
    :class:`~vnsearch.errors.DocumentError` at its ``add``: indexing holds about 140
    bytes of memory per byte of text until the commit. ``None`` lifts the limit.

    >>> import vnsearch
    >>> ix = vnsearch.Index.in_memory(vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True),
    ...                                                 body=vnsearch.TEXT(stored=True)))
    >>> with ix.writer() as w:
    ...     w.add({"id": "1", "body": "Hà Nội"})
    ...     w.update({"id": "1", "body": "Hà Nội mùa thu"})
    >>> ix.doc_count
    1
    """

    def __init__(
        self,
        schema: Schema,
        whoosh_writer: ArraySegmentWriter,
        jobs: int = 1,
        max_text_mb: float | None = MAX_TEXT_MB,
        where: str = "index",
    ) -> None:
        self._schema = schema
        self._where = where  # the index's folder, for error messages
        self._max_bytes = None if max_text_mb is None else int(max_text_mb * 1_000_000)
        self._w = whoosh_writer
        self._open = True
        # unique value -> document number in the segment being written: Whoosh's own
        # update/delete only see committed documents, so this writer's are handled here
        self._pending: dict[str, list[int]] = {}
        # documents checked but not yet analyzed (see vnsearch.index.workers)
        self._queue = AnalysisQueue(jobs, schema.user_words) if jobs > 1 else None

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("this writer was already committed or cancelled")

    def add(self, doc: Mapping[str, Any]) -> None:
        """Add a document (no check for an existing one with the same id: see ``update``).

        With ``jobs`` > 1 the document is checked now and analyzed in a worker process;
        documents are still added in the order given.
        """
        self._check_open()
        self._put(False, document_fields(self._schema, doc, self._max_bytes))

    def update(self, doc: Mapping[str, Any]) -> None:
        """Add ``doc``, replacing any committed document with the same unique field value."""
        self._check_open()
        unique = self._schema.unique_field
        if unique is None:
            raise SchemaError("update needs a unique field: ID(unique=True) in the schema")
        if doc.get(unique) is None:
            raise DocumentError(f"update needs a value for the unique field {unique!r}")
        self._put(True, document_fields(self._schema, doc, self._max_bytes))

    def _put(self, replace: bool, doc: tuple) -> None:
        try:
            if self._queue is None:
                self._apply([(replace, *doc)], analyze_texts([doc[2]], self._schema.user_words))
            else:
                for batch, analyzed in self._queue.put(replace, doc):
                    self._apply(batch, analyzed)
        except OSError as exc:  # writing stored fields or spilled postings: a full disk
            if isinstance(exc, VnsearchError):
                raise
            raise write_error(self._where, exc, "adding a document") from exc

    def _drain(self) -> None:
        if self._queue is not None:
            for batch, analyzed in self._queue.drain():
                self._apply(batch, analyzed)

    def _apply(self, batch: list[tuple], analyzed: Analyzed) -> None:
        """Add a batch of checked documents ``(replace, fields, postings, texts)`` with
        their analysis, in order."""
        lengths, views = analyzed
        first = self._w.docnum
        unique = self._schema.unique_field
        for (replace, fields, postings, _texts), doc_lengths in zip(batch, lengths):
            if replace:
                self._forget(fields[unique])
                self._w.delete_by_term(unique, fields[unique])
            self._remember(fields)
            self._w.add_prepared(fields, postings, doc_lengths)
        self._w.add_views(first, views)

    def _remember(self, fields: Mapping[str, Any]) -> None:
        unique = self._schema.unique_field
        if unique is not None and unique in fields:
            self._pending.setdefault(fields[unique], []).append(self._w.docnum)

    def _forget(self, value: str) -> int:
        docnums = self._pending.pop(value, [])
        for docnum in docnums:
            self._w.newsegment.delete_document(docnum)
        return len(docnums)

    def delete(self, doc_id: Any) -> int:
        """Delete the document(s) whose unique field is ``doc_id``; returns how many."""
        self._check_open()
        unique = self._schema.unique_field
        if unique is None:
            raise SchemaError("delete needs a unique field: ID(unique=True) in the schema")
        self._drain()  # documents given before the delete are added first
        return self._forget(str(doc_id)) + self._w.delete_by_term(unique, str(doc_id))

    def commit(self, optimize: bool = False) -> None:
        """Make the changes visible to new searches (and, with ``optimize``, merge all)."""
        self._check_open()
        try:
            self._drain()
        except BaseException as exc:
            self.cancel()
            if isinstance(exc, OSError) and not isinstance(exc, VnsearchError):
                raise write_error(self._where, exc) from exc
            raise
        if self._queue is not None:
            self._queue.close()
        self._open = False
        start = time.perf_counter()
        try:
            self._w.commit(optimize=optimize)
        except BaseException as exc:
            # nothing is committed until the table of contents is renamed: give the lock
            # back, remove the partial files, and name a damaged segment met while merging
            # or the disk that failed
            committed = _quietly(self._w.committed)
            self._w.abandon()
            if isinstance(exc, DAMAGE):
                raise corrupted(self._where, exc) from exc
            if isinstance(exc, OSError) and not isinstance(exc, VnsearchError):
                if committed:
                    raise write_error(self._where, exc, "syncing the commit", True) from exc
                raise write_error(self._where, exc) from exc
            raise
        seconds = time.perf_counter() - start
        docs = self._w.docnum
        log.info("%s: committed a segment of %d documents in %.2f s", self._where, docs, seconds)

    def cancel(self) -> None:
        """Drop every change made through this writer and release the lock (also when
        closing its files fails, as on a full disk)."""
        if self._open:
            self._open = False
            try:
                if self._queue is not None:
                    self._queue.close(cancel=True)
            finally:
                self._w.abandon()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            if self._open:
                self.commit()
        else:
            self.cancel()
