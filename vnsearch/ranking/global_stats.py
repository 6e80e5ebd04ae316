"""Statistics over several indexes (shards), so that each ranks as one index would.

A score depends on more than the document: BM25's idf on the number of documents ``N``
and the term's document frequency ``df``, its length norm on the field's average length,
and an unaccented query on the spelling tables that restore its accents
(:mod:`vnsearch.ranking.accents`). Searched with its own statistics, each shard of a
collection ranks its documents as if it were the whole collection: scores do not compare
across shards, and the merged hits are not one index's. Searched with the statistics of
them all (``search(..., stats=...)``), every shard scores as one index over every document
would, and their hits merge by (clauses matched, score).

Two kinds of statistics answer the same four questions (``documents``,
``doc_freq(field, term)``, ``avg_length(field)``, ``vocabulary()``):

- :class:`Stats`: plain data (JSON, never a pickle), exported from an index with
  :func:`snapshot_stats` (``Index.ranking_stats()``) and summed with :meth:`Stats.merge`:
  what crosses machines.
- :class:`SummedStats`: the same sums read on demand from the shards' snapshots in one
  process (only the terms a query needs, as Elasticsearch's DFS phase collects them).

>>> a = Stats(2, {"body.syllables": 6.0}, {"body.syllables": {"hà": 1}}, {}, {})
>>> b = Stats(1, {"body.syllables": 3.0}, {"body.syllables": {"hà": 1, "nội": 1}}, {}, {})
>>> s = Stats.merge([a, b])
>>> s.documents, s.avg_length("body.syllables"), s.doc_freq("body.syllables", "hà")
(3, 3.0, 2)
>>> Stats.from_json(s.to_json()) == s
True
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from vnsearch.analysis import VIEWS
from vnsearch.index.reader import Snapshot
from vnsearch.index.schema import TEXT, view_field
from vnsearch.index.spellings import TOP_FORMS, MergedSpellings, accent_tables, dictionary_tables
from vnsearch.index.terms import terms_reader
from vnsearch.ranking.accents import AccentVocabulary

__all__ = ["STATS_FORMAT", "Stats", "SummedStats", "snapshot_stats"]

STATS_FORMAT = "vnsearch-stats/1"  # the ``format`` of :meth:`Stats.to_dict`

Forms = tuple[tuple[str, int], ...]  # accented forms and their document frequencies


def _best_first(counts: Mapping[str, int]) -> Forms:
    """Forms by document frequency, most first (ties in code point order), as
    :mod:`vnsearch.index.spellings` orders them."""
    return tuple(sorted(counts.items(), key=lambda f: (-f[1], f[0])))


class _Top:
    """A table of every form of each folded term, read as the index's tables are: the
    best :data:`~vnsearch.index.spellings.TOP_FORMS` of each."""

    __slots__ = ("_all",)

    def __init__(self, all_forms: Callable[[str], Forms]) -> None:
        self._all = all_forms

    def get(self, folded: str, default: Any = ()) -> Forms:
        forms = self._all(folded)
        return forms[:TOP_FORMS] if forms else default


@dataclass(frozen=True)
class Stats:
    """What ranking needs from every shard of a collection, as plain data: the live
    documents, the total length of each hidden field over them, the document frequency
    of each (hidden field, term), and every accented form of each folded bigram and
    syllable with its document frequency (the spelling tables, not cut to the best).

    A term missing from ``df`` is in no document. ``Stats.merge`` sums several;
    ``to_json``/``from_json`` carry them between processes.
    """

    documents: int
    lengths: Mapping[str, float]
    df: Mapping[str, Mapping[str, int]]
    bigrams: Mapping[str, Forms] = field(default_factory=dict)
    syllables: Mapping[str, Forms] = field(default_factory=dict)

    def doc_freq(self, field: str, term: str | bytes) -> int:
        """How many documents hold ``term`` in hidden field ``field``."""
        if isinstance(term, bytes):
            term = term.decode("utf-8")
        return int(self.df.get(field, {}).get(term, 0))

    def avg_length(self, field: str) -> float:
        """The average length of hidden field ``field`` over the live documents."""
        total = float(self.lengths.get(field, 0.0))
        return total / self.documents if self.documents else 0.0

    @cached_property
    def _vocabulary(self) -> AccentVocabulary:
        return AccentVocabulary(
            _Top(lambda k: self.bigrams.get(k, ())),  # type: ignore[arg-type]
            _Top(lambda k: self.syllables.get(k, ())),  # type: ignore[arg-type]
        )

    def vocabulary(self) -> AccentVocabulary:
        """The accent vocabulary of all the shards: each folded term's best forms."""
        return self._vocabulary

    @staticmethod
    def merge(parts: Iterable[Stats]) -> Stats:
        """The statistics of the shards ``parts`` together: every count summed."""
        documents = 0
        lengths: dict[str, float] = {}
        df: dict[str, dict[str, int]] = {}
        tables: tuple[dict[str, dict[str, int]], ...] = ({}, {})
        for part in parts:
            documents += part.documents
            for name, total in part.lengths.items():
                lengths[name] = lengths.get(name, 0.0) + float(total)
            for name, terms in part.df.items():
                into = df.setdefault(name, {})
                for term, n in terms.items():
                    into[term] = into.get(term, 0) + n
            for table, into_table in zip((part.bigrams, part.syllables), tables):
                for key, forms in table.items():
                    counts = into_table.setdefault(key, {})
                    for form, n in forms:
                        counts[form] = counts.get(form, 0) + n
        bigrams, syllables = ({k: _best_first(c) for k, c in t.items()} for t in tables)
        return Stats(documents, lengths, df, bigrams, syllables)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: ``{"format", "documents", "lengths", "df", "bigrams",
        "syllables"}`` (forms as ``[form, df]`` pairs)."""
        return {
            "format": STATS_FORMAT,
            "documents": self.documents,
            "lengths": dict(self.lengths),
            "df": {name: dict(terms) for name, terms in self.df.items()},
            "bigrams": {k: [list(f) for f in v] for k, v in self.bigrams.items()},
            "syllables": {k: [list(f) for f in v] for k, v in self.syllables.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> Stats:
        """The statistics :meth:`to_dict` wrote; a ``ValueError`` naming what is wrong."""
        if not isinstance(data, dict) or data.get("format") != STATS_FORMAT:
            raise ValueError(f"not vnsearch statistics (format {STATS_FORMAT!r} expected)")
        try:
            documents = _count(data["documents"])
            lengths = {str(k): float(v) for k, v in data["lengths"].items()}
            df = {
                str(name): {str(t): _count(n) for t, n in terms.items()}
                for name, terms in data["df"].items()
            }
            tables = [
                {str(k): tuple((str(f), _count(n)) for f, n in forms) for k, forms in t.items()}
                for t in (data["bigrams"], data["syllables"])
            ]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"vnsearch statistics: bad or missing value ({exc})") from None
        return cls(documents, lengths, df, *tables)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Stats:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"vnsearch statistics: not JSON ({exc})") from None
        return cls.from_dict(data)


def _count(value: Any) -> int:
    """A count read from JSON: an ``int`` of 0 or more (a ``ValueError`` if not)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"count {value!r}")
    return value


def _hidden_text_fields(snap: Snapshot) -> list[str]:
    return [
        view_field(name, view)
        for name, ftype in snap.schema.items()
        if isinstance(ftype, TEXT)
        for view in VIEWS
    ]


def _live_total(snap: Snapshot, name: str) -> float:
    """The total length of hidden field ``name`` over the live documents of ``snap`` (the
    sum its average length is made of)."""
    lengths = snap.lengths.get(name)
    return float(lengths[snap.live].sum()) if lengths is not None and snap.total else 0.0


def _full_tables(snap: Snapshot) -> tuple[Callable[[str], Forms], Callable[[str], Forms]]:
    """Every accented form of a folded bigram and of a folded syllable in ``snap``."""
    readers = [terms_reader(reader) for reader, _base in snap.segments]
    bigrams, syllables = accent_tables(readers, snap.schema)
    if isinstance(bigrams, MergedSpellings) and isinstance(syllables, MergedSpellings):
        return bigrams.all_forms, syllables.all_forms
    full_b, full_s = dictionary_tables(readers, snap.schema, top=None)
    return (lambda k: full_b.get(k, ())), (lambda k: full_s.get(k, ()))


def snapshot_stats(snap: Snapshot) -> Stats:
    """The :class:`Stats` of one index (its last commit ``snap``): every term of every
    hidden TEXT field with its live document frequency, and its full spelling tables."""
    readers = [(terms_reader(reader), base) for reader, base in snap.segments]
    df: dict[str, dict[str, int]] = {}
    deletions = snap.doc_count < snap.total
    for name in _hidden_text_fields(snap):
        counts: dict[str, int] = {}
        for reader, _base in readers:
            ft = reader.field_terms(name)
            if ft is None or not ft.n:
                continue
            keys = [k.decode("utf-8") for k in ft.key_list()]
            for term, n in zip(keys, ft.counts().tolist()):
                counts[term] = counts.get(term, 0) + n
        if deletions:  # the dictionaries count deleted documents: the live ones, read
            found = snap.postings_many([(name, t) for t in counts])
            counts = {t: p.df for t, p in zip(counts, found) if p is not None and p.df}
        if counts:
            df[name] = counts
    lengths = {name: _live_total(snap, name) for name in _hidden_text_fields(snap)}
    bigrams, syllables = dictionary_tables([r for r, _b in readers], snap.schema, top=None)
    return Stats(snap.doc_count, lengths, df, bigrams, syllables)


class SummedStats:
    """:class:`Stats` of several snapshots (the shards' last commits) in one process,
    summed when asked: document frequencies of the terms queries score, spellings of the
    folded terms they read. Made once per set of snapshots; safe to share between
    threads."""

    def __init__(self, snaps: Sequence[Snapshot]) -> None:
        self.snaps = tuple(snaps)
        self.documents = sum(s.doc_count for s in self.snaps)
        names = _hidden_text_fields(self.snaps[0]) if self.snaps else []
        self.lengths = {n: sum(_live_total(s, n) for s in self.snaps) for n in names}
        self._df: dict[tuple[str, str | bytes], int] = {}
        self._lock = threading.Lock()
        self._vocabulary: AccentVocabulary | None = None

    def doc_freq(self, field: str, term: str | bytes) -> int:
        """How many live documents of all the snapshots hold ``term`` in ``field``."""
        key = (field, term)
        n = self._df.get(key)
        if n is None:
            found = (s.postings(field, term) for s in self.snaps)
            n = self._df[key] = sum(p.df for p in found if p is not None)
        return n

    def avg_length(self, field: str) -> float:
        total = self.lengths.get(field, 0.0)
        return total / self.documents if self.documents else 0.0

    def vocabulary(self) -> AccentVocabulary:
        """The accent vocabulary of all the snapshots: forms summed, then the best kept."""
        with self._lock:
            if self._vocabulary is None:
                tables = [_full_tables(s) for s in self.snaps]
                self._vocabulary = AccentVocabulary(
                    _Top(_summed([b for b, _s in tables])),  # type: ignore[arg-type]
                    _Top(_summed([s for _b, s in tables])),  # type: ignore[arg-type]
                )
            return self._vocabulary


def _summed(tables: list[Callable[[str], Forms]]) -> Callable[[str], Forms]:
    """A lookup of every form of a folded term, summed over ``tables``."""

    def forms(folded: str) -> Forms:
        counts: dict[str, int] = {}
        for table in tables:
            for form, n in table(folded):
                counts[form] = counts.get(form, 0) + n
        return _best_first(counts)

    return forms
