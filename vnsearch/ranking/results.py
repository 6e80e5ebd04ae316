"""What a search gives back: the ranked hits, the total, and explanations of scores."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, overload

from vnsearch.highlight import DEFAULT_LENGTH, Highlighter, Snippet
from vnsearch.ranking.scoring import TermContribution

__all__ = ["Explanation", "Hit", "Results", "TermContribution"]


@dataclass(frozen=True)
class Hit:
    """One ranked document: its id, score and stored fields, and snippets when asked.

    ``hit.snippet("body")`` is the best fragment of the stored ``body`` with the query's
    matches as spans; ``hit.snippets`` maps each stored TEXT field to its snippet (made on
    first access). Both are computed only when read. Hits are ordered by ``clauses`` (how
    many of the query's clauses the document matches; 0 when listing), then ``score``,
    then ``order``: the keys that merge the hits of several shards. ``order`` is where the
    document stands in the order documents were added: its ``docnum`` in an index, its
    place over every shard in a shard of a :class:`~vnsearch.ShardedIndex`.
    """

    id: Any
    score: float
    fields: Mapping[str, Any]
    docnum: int
    highlighter: Highlighter | None = field(default=None, compare=False, repr=False)
    # derived from the query, as the highlighter: not part of equality or repr
    clauses: int = field(default=0, compare=False, repr=False)
    # with ``sort``: the hit's ``(present, value)`` under each key (``sorting.sort_values``)
    sort_values: tuple[tuple[bool, Any], ...] = field(default=(), compare=False, repr=False)
    order: int = field(default=-1, compare=False, repr=False)  # -1: ``docnum``

    def __post_init__(self) -> None:
        if self.order < 0:
            object.__setattr__(self, "order", self.docnum)

    def snippet(
        self,
        name: str,
        length: int = DEFAULT_LENGTH,
        fragments: int = 1,
        text: str | None = None,
    ) -> Snippet:
        """The best fragment(s) of stored TEXT field ``name`` for the query.

        ``text`` stands in for the field's value when it is not stored (the application
        keeps it elsewhere). A field the query did not search gives its start, no spans.
        """
        if text is None:
            value = self.fields.get(name)
            if not isinstance(value, str):
                raise KeyError(f"no stored text in field {name!r} (pass text=...)")
            text = value
        highlighter = self.highlighter or _NO_QUERY
        return highlighter.snippet(name, text, length=length, fragments=fragments)

    @cached_property
    def snippets(self) -> Mapping[str, Snippet]:
        """Snippets of the hit's stored TEXT fields, each made on first access."""
        return _Snippets(self)

    def __getstate__(self) -> dict[str, Any]:
        # a pickled hit keeps its data, not the query's highlighter (it holds the index)
        state = {k: v for k, v in self.__dict__.items() if k != "snippets"}
        state["highlighter"] = None
        return state


class _Snippets(Mapping[str, Snippet]):
    __slots__ = ("_done", "_hit", "_names")

    def __init__(self, hit: Hit) -> None:
        self._hit = hit
        names = hit.highlighter.text_fields if hit.highlighter else ()
        self._names = [n for n in names if isinstance(hit.fields.get(n), str)]
        self._done: dict[str, Snippet] = {}

    def __getitem__(self, name: str) -> Snippet:
        if name not in self._names:
            raise KeyError(name)
        found = self._done.get(name)
        if found is None:
            found = self._done[name] = self._hit.snippet(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


_NO_QUERY = Highlighter({}, ())


class Results(Sequence[Hit]):
    """The top hits of a query, best first, and ``total``: how many documents matched.

    The total is counted when first asked for (ranking the top hits does not need it).
    ``notes`` say, one line each, what of the query was left out to keep it within the
    search's :class:`~vnsearch.QueryLimits` (``truncated``: whether anything was).
    ``corrected`` is the query as vnsearch read it ("did you mean") when that differs from
    what was typed: words typed as raw Telex or VNI keys read as syllables (``vieetj nam``
    -> ``việt nam``), typos read as the word a slip away (``tjành`` -> ``thành``); None
    otherwise (accents restored in a query typed without any are normal use, not a
    correction). ``facets``: per field asked for, its value (or range) counts over all
    matches, most frequent first (ranges in the order given; see
    :mod:`vnsearch.ranking.facets`).
    """

    __slots__ = ("_count", "_total", "corrected", "facets", "hits", "notes")

    def __init__(
        self,
        hits: tuple[Hit, ...],
        total: int | Callable[[], int],
        notes: tuple[str, ...] = (),
        corrected: str | None = None,
        facets: dict[str, dict[Any, int]] | None = None,
    ) -> None:
        self.hits = hits
        self.facets: dict[str, dict[Any, int]] = facets or {}
        self._total = total if isinstance(total, int) else None
        self._count = None if isinstance(total, int) else total
        self.notes = notes
        self.corrected = corrected

    @property
    def truncated(self) -> bool:
        """Whether part of the query was left out (``notes`` say which)."""
        return bool(self.notes)

    @property
    def total(self) -> int:
        if self._total is None:
            self._total = self._count()
            self._count = None
        return self._total

    @overload
    def __getitem__(self, i: int) -> Hit: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Hit, ...]: ...
    def __getitem__(self, i: int | slice) -> Hit | tuple[Hit, ...]:
        return self.hits[i]

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Iterator[Hit]:  # not Sequence's: an index at a time, to IndexError
        return iter(self.hits)

    def __repr__(self) -> str:
        return f"Results(hits={list(self.hits)!r}, total={self.total})"


@dataclass(frozen=True)
class Explanation:
    """Why a document got its score: what each (field, view, term) of the query added.

    ``terms`` are the contributions in the order the query scores them; ``str()`` prints
    one line per term under the score, ``to_dict()`` gives it all as JSON-able data.
    ``notes``: what of the query was left out to keep it within its limits (as
    :attr:`Results.notes`).
    """

    doc_id: Any
    score: float
    matched: bool
    terms: tuple[TermContribution, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def lines(self) -> tuple[str, ...]:
        """One formatted line per term, as ``str()`` prints them."""
        return tuple(f"  {t}" for t in self.terms)

    def __str__(self) -> str:
        head = f"document {self.doc_id!r}: score {self.score:.4f}"
        if not self.matched:
            head += " (does not match the query)"
        return "\n".join([head, *self.lines])

    def to_dict(self) -> dict[str, Any]:
        """The explanation as plain data (``json.dumps`` takes it when ``doc_id`` does)."""
        return {
            "doc_id": self.doc_id,
            "score": self.score,
            "matched": self.matched,
            "terms": [t.to_dict() for t in self.terms],
        }
