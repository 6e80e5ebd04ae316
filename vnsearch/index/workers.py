"""Analysis in worker processes: documents in, their views out, in the order given.

Word segmentation dominates the cost of indexing, and it is pure Python, so threads would
not help. A writer with ``jobs`` > 1 checks each document at once (bad input still
raises at the ``add`` that gave it), then sends its texts, in batches, to a pool of
``jobs`` processes and adds the analyzed documents in their original order: the segment
written is the same as with one process.

The workers ignore SIGINT: Ctrl-C at a terminal reaches every process of the foreground
group, and only the writer's process should stop (a ``KeyboardInterrupt`` there cancels
the writer, which ends the workers), not each worker with a traceback of its own.
"""

from __future__ import annotations

import multiprocessing
import signal
from array import array
from collections import deque
from typing import Any

from vnsearch.analysis import VIEWS
from vnsearch.analysis.analyzer import view_columns
from vnsearch.analysis.user_words import word_list
from vnsearch.index.schema import view_field

__all__ = ["BATCH", "AnalysisQueue", "Analyzed", "analyze_texts", "text_views"]

Views = list[tuple[str, list[str], list[int]]]  # (hidden field, terms, positions)
# per document: tokens per hidden field; per hidden field: (terms, ids, positions, counts)
Analyzed = tuple[list[dict[str, int]], dict[str, tuple[list[str], bytes, bytes, list[int]]]]

# Documents sent to a worker at once: large enough that the messages cost little next to
# the analysis, small enough to keep every worker busy.
BATCH = 32


class AnalysisQueue:
    """Documents waiting for their views, as ``(replace, fields, postings, texts)``.

    ``put`` and ``drain`` return ``(batch, analyzed)`` for the batches whose analysis is
    done, oldest first (``analyzed`` as :func:`analyze_texts` packs it). The processes
    start with the first full batch, so a writer that adds a few documents never starts
    any.
    """

    def __init__(self, jobs: int, user_words: tuple[str, ...] = ()) -> None:
        self.jobs = jobs
        self.user_words = user_words  # the schema's, sent with each batch
        self._batch: list[tuple] = []
        self._inflight: deque[tuple[list[tuple], Any]] = deque()
        self._pool: Any = None

    def put(self, replace: bool, doc: tuple) -> list[tuple]:
        self._batch.append((replace, *doc))
        if len(self._batch) < BATCH:
            return []
        self._submit()
        ready: list[tuple] = []
        while len(self._inflight) > 2 * self.jobs or (
            self._inflight and self._inflight[0][1].ready()
        ):
            ready.extend(self._collect())
        return ready

    def drain(self) -> list[tuple]:
        """Every document still waiting, analyzed (in this process if no pool started)."""
        out: list[tuple] = []
        if self._batch and self._pool is None:
            batch, self._batch = self._batch, []
            out = [(batch, analyze_texts([d[3] for d in batch], self.user_words))]
        elif self._batch:
            self._submit()
        while self._inflight:
            out.extend(self._collect())
        return out

    def _submit(self) -> None:
        batch, self._batch = self._batch, []
        if self._pool is None:
            self._pool = _start_pool(self.jobs)
        result = self._pool.apply_async(analyze_texts, ([d[3] for d in batch], self.user_words))
        self._inflight.append((batch, result))

    def _collect(self) -> list[tuple]:
        batch, result = self._inflight.popleft()
        return [(batch, result.get())]

    def close(self, cancel: bool = False) -> None:
        """Stop the processes (at once, dropping waiting documents, if ``cancel``)."""
        pool, self._pool = self._pool, None
        self._batch = []
        self._inflight.clear()
        if pool is not None:
            if cancel:
                pool.terminate()
            else:
                pool.close()
            pool.join()


def _start_pool(jobs: int) -> Any:
    """A pool of ``jobs`` worker processes that ignore SIGINT. SIGINT is blocked in this
    thread while they start, so that none of them can take one before it ignores it (a
    Ctrl-C meanwhile reaches this process when the pool has started)."""
    mask = getattr(signal, "pthread_sigmask", None)
    before = mask(signal.SIG_BLOCK, {signal.SIGINT}) if mask is not None else None
    try:
        return multiprocessing.get_context().Pool(jobs, initializer=_ignore_sigint)
    finally:
        if mask is not None and before is not None:
            mask(signal.SIG_SETMASK, before)


def _ignore_sigint() -> None:
    """A worker's first step: ignore SIGINT (then take signals again, as blocked at
    fork)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def text_views(name: str, text: str, user_words: tuple[str, ...] = ()) -> Views:
    """The views of the TEXT field ``name`` holding ``text``: ``(hidden field, terms,
    positions)``, token by token (what the pool takes); ``user_words``: the schema's."""
    views = view_columns(text, word_list(user_words) if user_words else None)
    return [(view_field(name, view), views[view][0], views[view][3]) for view in VIEWS]


def analyze_texts(batch: list[list[tuple[str, str]]], user_words: tuple[str, ...] = ()) -> Analyzed:
    """The views of a batch of documents' ``(TEXT field, text)`` pairs, packed for the
    pool (run in worker processes: little to send back, little for the writer to unpack).

    Returns ``(lengths, views)``: per document, the number of tokens of each hidden field;
    per hidden field, ``(terms, ids, positions, counts)``: its distinct terms, then for
    every token of the batch (documents in order) the index of its term in ``terms`` and
    its position (``uint32`` bytes), and the number of tokens of each document.
    """
    tokens: dict[str, tuple[list[str], list[int], list[int]]] = {}
    lengths: list[dict[str, int]] = []
    for i, texts in enumerate(batch):
        mine: dict[str, int] = {}
        for name, text in texts:
            for hidden, terms, positions in text_views(name, text, user_words):
                entry = tokens.get(hidden)
                if entry is None:
                    entry = tokens[hidden] = ([], [], [0] * len(batch))
                entry[0].extend(terms)
                entry[1].extend(positions)
                entry[2][i] += len(terms)
                mine[hidden] = mine.get(hidden, 0) + len(terms)
        lengths.append(mine)
    views = {}
    for hidden, (terms, positions, counts) in tokens.items():
        index = {t: i for i, t in enumerate(dict.fromkeys(terms))}
        ids = array("I", map(index.__getitem__, terms))
        views[hidden] = (list(index), ids.tobytes(), array("I", positions).tobytes(), counts)
    return lengths, views
