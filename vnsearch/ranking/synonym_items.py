"""Synonyms in a query: the other forms a clause is also searched as, analyzed for the planner.

A word, a run of words side by side, or a whole phrase that reads as a form of a synonym
table (:class:`~vnsearch.query.Synonyms`: ``UBND``, ``thành phố Hồ Chí Minh``) gets the
other forms of its group as alternatives of its clause: a document that holds any of them
matches it, as if the user had typed ``UBND OR "ủy ban nhân dân"``. A form of several
syllables is matched as a phrase. What was typed is analyzed, planned and scored as
before; the alternatives add their terms, each form weighing ``SYNONYM_WEIGHT`` spread
over its syllables (and, for a run of several words, over the run's clauses, each of which
it matches). Only words with no field or a TEXT field, outside ``OR``, are read; the words
of a run share their field and occur.

>>> from vnsearch.index.schema import TEXT, Schema
>>> from vnsearch.query import ABBREVIATIONS, parse
>>> alts = synonym_alternatives(parse("UBND Hà Nội"), Schema(body=TEXT()), ABBREVIATIONS)
>>> [(i, a.item.node.text, round(a.scale, 3)) for i, more in alts.items() for a in more]
[(0, 'uỷ ban nhân dân', 0.25), (1, 'hn', 0.5), (2, 'hn', 0.5)]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from vnsearch.index.schema import TEXT
from vnsearch.query import Clause, Or, ParsedQuery, Phrase, Synonyms, Term
from vnsearch.ranking.query_text import AnalyzedItem, analyze_query

__all__ = ["SYNONYM_WEIGHT", "Alternative", "synonym_alternatives"]

SYNONYM_WEIGHT = 1.0
"""What a form found through a synonym weighs, against a word of the query as typed."""


class Alternative(NamedTuple):
    """One other form of a clause: its analysis, and the factor of its terms' weights."""

    item: AnalyzedItem
    scale: float


def synonym_alternatives(
    parsed: ParsedQuery, schema, synonyms: Synonyms, read: Sequence[AnalyzedItem] = (),
    weight: float = SYNONYM_WEIGHT,
) -> dict[int, tuple[Alternative, ...]]:  # fmt: skip
    """Per clause of ``parsed`` (by index) that reads as a form of ``synonyms`` (alone, or
    with its neighbours), the other forms to search as well: as typed, or else as ``read``
    (the query's analyzed items: ``Vieejt Nam`` is ``Việt Nam``)."""
    if not synonyms:
        return {}
    clauses = parsed.clauses
    out = _alternatives(clauses, schema, synonyms, weight)
    as_read = list(clauses)
    for item in read:
        clause = clauses[item.clause]
        if item.node is not clause.node and type(clause.node) is not Or:
            as_read[item.clause] = Clause(item.node, clause.occur)
    if as_read != list(clauses):
        for i, more in _alternatives(as_read, schema, synonyms, weight).items():
            out.setdefault(i, more)
    return out


def _alternatives(
    clauses: Sequence[Clause], schema, synonyms: Synonyms, weight: float
) -> dict[int, tuple[Alternative, ...]]:
    out: dict[int, tuple[Alternative, ...]] = {}
    run: list[int] = []  # neighbouring word clauses of one field and occur

    def flush() -> None:
        words = [clauses[i].node.text for i in run]
        for m in synonyms.matches(words):
            _add(out, run[m.start : m.end], clauses, m.alternatives, schema, weight)
        run.clear()

    for i, clause in enumerate(clauses):
        node = clause.node
        kind = type(node)
        searched = kind is not Or and (node.field is None or isinstance(schema[node.field], TEXT))
        if kind is Term and searched:
            if run:
                last = clauses[run[-1]]
                if last.occur != clause.occur or last.node.field != node.field:
                    flush()
            run.append(i)
            continue
        if run:
            flush()
        if searched:  # a phrase: read whole
            found = synonyms.matches([node.text])
            if found:
                _add(out, [i], clauses, found[0].alternatives, schema, weight)
    if run:
        flush()
    return out


def _add(out: dict, at: list[int], clauses, alternatives: tuple[str, ...], schema, weight: float):
    """Give each clause of ``at`` the ``alternatives``, their weight spread over them."""
    field = clauses[at[0]].node.field
    for i in at:
        occur = clauses[i].occur
        out[i] = tuple(
            Alternative(item._replace(clause=i, occur=occur), weight / len(at) / len(item.folded))
            for item in _items(alternatives, field, schema)
        )


@lru_cache(maxsize=1024)
def _items(alternatives: tuple[str, ...], field: str | None, schema) -> tuple[AnalyzedItem, ...]:
    """The forms analyzed as the query's words are: a word of one syllable as a word, one
    of several as a phrase (never plain words: no restored accents, no bonus terms)."""
    parsed = ParsedQuery(tuple(Clause(Phrase(a, field)) for a in alternatives))
    items = analyze_query(parsed, schema).items
    return tuple(
        it._replace(node=Term(it.node.text, field), capitalized=False)
        if len(it.syllables) == 1
        else it._replace(capitalized=False)
        for it in items
        if it.syllables
    )
