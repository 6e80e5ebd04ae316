"""A query's highlighter: what its plan searches in each TEXT field, weighed by the index.

:class:`~vnsearch.highlight.Highlighter` knows only folded words and phrases per field and
an idf; this module reads them from a plan's clauses (``ClausePlan.any_of`` and ``phrases`` on a
field's folded and exact syllable views) and takes the idf from a snapshot, as ranking does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from vnsearch.analysis.analyzer import fold_term
from vnsearch.highlight import Highlighter
from vnsearch.index.reader import Snapshot
from vnsearch.index.schema import TEXT, Schema, view_field
from vnsearch.ranking.plan import ClausePlan, plan_text
from vnsearch.ranking.scoring import DEFAULT_RANKING, idf

__all__ = ["highlight_terms", "highlighter_for_query", "plan_highlighter", "snapshot_idf"]

HighlightTerms = Mapping[str, tuple[tuple[str, ...], ...]]


def highlight_terms(units: Sequence[ClausePlan], schema: Schema) -> HighlightTerms:
    """Per TEXT field of ``schema``, the folded term sequences the clauses ``units`` (a
    plan's positive ones) search in it, in plan order: each term of the field's folded view
    as ``(term,)``, and each phrase on its folded or exact syllables as its folded words in
    position order. A field's are worked out when first asked for (a snippet of it)."""
    return _HighlightTerms(units, schema.text_fields)


class _HighlightTerms(HighlightTerms):
    __slots__ = ("_done", "_names", "_units")

    def __init__(self, units: Sequence[ClausePlan], names: Iterable[str]) -> None:
        self._units = units
        self._names = tuple(names)
        self._done: dict[str, tuple[tuple[str, ...], ...]] = {}

    def __getitem__(self, name: str) -> tuple[tuple[str, ...], ...]:
        found = self._done.get(name)
        if found is None:
            if name not in self._names:
                raise KeyError(name)
            found = self._done[name] = _field_terms(self._units, name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _field_terms(units: Sequence[ClausePlan], name: str) -> tuple[tuple[str, ...], ...]:
    folded = view_field(name, "folded")
    views = {folded, view_field(name, "syllables")}
    out: list[tuple[str, ...]] = []
    for unit in units:
        for f, term in unit.any_of:
            if f == folded and term:
                out.append((term,))
        for phrase in unit.phrases:
            if phrase and phrase[0][0] in views:
                terms = tuple(fold_term(t) for _f, t, _off in sorted(phrase, key=_offset))
                if all(terms):
                    out.append(terms)
    return tuple(out)


def _offset(item: tuple[str, str, int]) -> int:
    return item[2]


def snapshot_idf(snap: Snapshot, stats: Any = None) -> Callable[[str, str], float]:
    """``idf(text_field, folded_term)``: the term's idf in the field's folded view of
    ``snap`` (or over every shard, with their ``stats``), as ranking computes it."""

    def term_idf(field: str, term: str) -> float:
        name = view_field(field, "folded")
        if stats is not None:
            return idf(stats.doc_freq(name, term), stats.documents)
        postings = snap.postings(name, term)
        return idf(postings.df if postings is not None else 0, snap.doc_count)

    return term_idf


def plan_highlighter(units: Sequence[ClausePlan], snap: Snapshot, stats: Any = None) -> Highlighter:
    """The highlighter of a query over ``snap``, from its plan's positive clauses."""
    schema = snap.schema
    term_idf = snapshot_idf(snap, stats)
    return Highlighter(highlight_terms(units, schema), schema.text_fields, term_idf)


def highlighter_for_query(
    query: str, schema: Schema | None = None, fields: Iterable[str] | None = None
) -> Highlighter:
    """A highlighter for ``query`` without an index (terms weigh 1 each); ``-must_not``
    clauses are not highlighted. ``schema`` defaults to one stored TEXT field ``text``.

    >>> h = highlighter_for_query("ha noi -Huế")
    >>> s = h.snippet("text", "Từ Huế ra Hà Nội, rồi về lại Huế.")
    >>> s.text[s.spans[0][0] : s.spans[0][1]], len(s.spans)
    ('Hà Nội', 1)
    """
    if schema is None:
        schema = Schema(text=TEXT(stored=True))
    plan = plan_text(query, schema, fields, DEFAULT_RANKING)
    units = [u for u in plan.units if u.occur != "must_not"]
    return Highlighter(highlight_terms(units, schema), schema.text_fields)
