"""Query planning: which postings decide a match and which terms add to scores.

Each clause of an analyzed query (:mod:`vnsearch.ranking.query_text`) becomes a
:class:`ClausePlan`: the postings whose union it matches (folded syllables, so unaccented
words find accented text; phrase positions) and the terms it scores in each TEXT field
(exact and folded syllables, so exact diacritics rank first). Neighbouring plain words add
bonus terms: their bigrams and the words pyvi segments. Planning only reads the analysis:
it tokenizes, folds and segments nothing itself.

:func:`plan_search` is the whole front of a search: parse, analyze, plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from vnsearch.index.schema import KEYWORD, TEXT, view_field
from vnsearch.query import Term, parse
from vnsearch.ranking.accents import AccentVocabulary, vocabulary
from vnsearch.ranking.bm25 import DEFAULT_RANKING, Ranking
from vnsearch.ranking.query_text import AnalyzedItem, AnalyzedQuery, PlainWords, analyze_query

__all__ = [
    "ClausePlan",
    "Plan",
    "ScoredTerm",
    "plan_query",
    "plan_search",
    "plan_text",
    "text_fields",
]


class ScoredTerm(NamedTuple):
    """One term that adds to scores: where it is looked up and with which weight."""

    field: str  # hidden (or plain) Whoosh field
    term: str
    weight: float
    view: str
    text_field: str


@dataclass(frozen=True, slots=True)
class ClausePlan:
    """One clause of the query: which documents it matches and what it adds to scores.

    A document matches the clause when it holds any of the ``any_of`` terms (``(field,
    term)``: the union of their postings) or any of the ``phrases`` (each ``(field, term,
    offset)`` per term: the terms at those relative positions). ``scoring`` are the terms
    the clause adds to a matching document's score. ``occur`` is the clause's, from the
    query: ``should``, ``must`` or ``must_not`` (whose terms never score).
    """

    occur: str
    scoring: tuple[ScoredTerm, ...] = ()
    any_of: tuple[tuple[str, str], ...] = ()
    phrases: tuple[tuple[tuple[str, str, int], ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """A planned query: its clauses, in the query's order (the plain ``should`` words of a
    long query joined into one clause, last), and the bonus terms of its neighbouring plain
    words (bigrams and pyvi words), which add to the score of any matching document."""

    units: tuple[ClausePlan, ...]
    bonus: tuple[ScoredTerm, ...]


def text_fields(schema, only: Iterable[str] | None) -> list[str]:
    """The TEXT fields a query searches: all of them, or those of ``only`` (which must all
    be in ``schema``: ``ValueError`` names the unknown ones)."""
    names = list(schema.text_fields)
    if only is not None:
        wanted = set(only)
        unknown = wanted - set(schema)
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        names = [n for n in names if n in wanted]
    return names


def plan_search(snap, query: str, fields: Iterable[str] | None, ranking: Ranking) -> Plan:
    """Parse, analyze and plan ``query`` for a search of ``snap`` (whose accent vocabulary
    restores and respells words, when ``ranking`` asks for it)."""
    if not isinstance(query, str):
        raise TypeError(f"query must be a str, got {type(query).__name__}")
    accents = vocabulary(snap) if ranking.restored_weight or ranking.respell else None
    return plan_text(query, snap.schema, fields, ranking, accents)


def plan_text(
    query: str, schema, fields: Iterable[str] | None = None,
    ranking: Ranking = DEFAULT_RANKING, accents: AccentVocabulary | None = None,
) -> Plan:  # fmt: skip
    """Parse, analyze and plan ``query`` over ``schema`` (any of its fields may be named in
    the query; ``fields`` limits the TEXT fields plain words search)."""
    names = text_fields(schema, fields)
    parsed = parse(query, list(schema))
    return plan_query(analyze_query(parsed, schema, accents, ranking), schema, names, ranking)


def plan_query(query: AnalyzedQuery, schema, fields: Sequence[str], ranking: Ranking) -> Plan:
    """The clause plans and bonus terms of ``query`` searched in the TEXT ``fields``."""
    plain = [item for item in query.items if item.plain]
    # long queries: plain should clauses matched as one group, their question words dropped
    group = 0 < ranking.group_from <= sum(1 for item in plain if item.occur == "should")
    drop = _stopword_clauses(query, plain, ranking, group)
    units: list[ClausePlan] = []
    grouped: list[ClausePlan] = []
    for i, clause_items in groupby(query.items, key=attrgetter("clause")):
        if i in drop:
            continue
        items = tuple(clause_items)
        unit = _plan_clause(i, items, schema, fields, ranking)
        if unit.any_of or unit.phrases:
            if group and items[0].plain and unit.occur == "should":
                grouped.append(unit)
            else:
                units.append(unit)
    if grouped:
        units.append(
            ClausePlan(
                "should",
                tuple(s for u in grouped for s in u.scoring),
                tuple(t for u in grouped for t in u.any_of),
                tuple(p for u in grouped for p in u.phrases),
            )
        )
    asked = ranking.question_words and group
    return Plan(tuple(units), _bonus(query.plain, schema, fields, ranking, asked))


def _stopword_clauses(
    query: AnalyzedQuery, plain: list[AnalyzedItem], ranking: Ranking, group: bool
) -> set[int]:
    """The plain should clauses that are stop words, when the ranking drops them and the
    query has other words; in a grouped (long) query, also its question words."""
    if not ranking.stopwords:
        return set()
    asks = ranking.question_words and group
    stop = {
        item.clause
        for item in plain
        if item.occur == "should" and (item.stop or (asks and item.question))
    }
    return stop if len(stop) < query.clauses else set()


def _plan_clause(
    i: int, items: Sequence[AnalyzedItem], schema, fields: Sequence[str], ranking: Ranking
) -> ClausePlan:
    """The plan of clause ``i``, from its items (one, or the alternatives of an ``Or``)."""
    scoring: list[ScoredTerm] = []
    any_of: list[tuple[str, str]] = []
    phrases: list[tuple[tuple[str, str, int], ...]] = []
    for item in items:
        n = len(scoring)
        _plan_item(item, scoring, any_of, phrases, schema, fields, ranking)
        if ranking.capitals != 1.0 and i > 0 and item.capitalized:
            # a name (of a person, place, work) in a sentence: what the question is about
            more = ranking.capitals
            scoring[n:] = [s._replace(weight=s.weight * more) for s in scoring[n:]]
    return ClausePlan(items[0].occur, tuple(scoring), tuple(any_of), tuple(phrases))


def _plan_item(
    item: AnalyzedItem, scoring: list, any_of: list, phrases: list, schema,
    fields: Sequence[str], ranking: Ranking,
) -> None:  # fmt: skip
    """Add the scored terms, matched terms and phrases of one item."""
    node = item.node
    if node.field is not None and not isinstance(schema[node.field], TEXT):
        ftype = schema[node.field]
        value = node.text.lower() if isinstance(ftype, KEYWORD) and ftype.lowercase else node.text
        any_of.append((node.field, value))
        return
    scope = [node.field] if node.field is not None else fields
    if not item.syllables:
        return
    if item.restored is not None:  # a word of one syllable
        exact, factor = (item.restored,), ranking.restored_weight
    else:
        exact, factor = item.syllables, 1.0
    scoring += _syllable_scoring(exact, item.folded, scope, schema, ranking, factor)
    if len(item.syllables) == 1 and isinstance(node, Term):
        any_of.extend((view_field(f, "folded"), item.folded[0]) for f in scope)
        return
    view, terms = ("syllables", item.syllables) if item.accented else ("folded", item.folded)
    first = item.positions[0]
    offsets = [p - first for p in item.positions]
    for f in scope:
        name = view_field(f, view)
        phrases.append(tuple((name, t, off) for t, off in zip(terms, offsets)))


def _syllable_scoring(
    exact: Sequence[str], folded: Sequence[str], fields: Sequence[str], schema,
    ranking: Ranking, factor: float = 1.0,
) -> list[ScoredTerm]:  # fmt: skip
    """The exact and folded terms of each syllable in each field (exact first), the exact
    ones' weights multiplied by ``factor`` (accents restored, not typed)."""
    out = []
    for ex, fo in zip(exact, folded):
        for name in fields:
            boost = schema[name].boost
            for view, term, f in (("syllables", ex, factor), ("folded", fo, 1.0)):
                w = ranking.view_weights.get(view, 0.0) * boost * f
                if w and term:
                    out.append(ScoredTerm(view_field(name, view), term, w, view, name))
    return out


def _bonus(
    plain: PlainWords, schema, fields: Sequence[str], ranking: Ranking, no_questions: bool
) -> tuple[ScoredTerm, ...]:
    """Bigram and word terms of the plain words: they reward words found side by side.
    The exact views' terms hold restored accents; with ``no_questions``, none of them
    holds a question word (``năm nào``, ``thế nào``)."""
    syl, fol = plain.syllables, plain.folded
    pairs = [(f"{a} {b}", f"{c} {d}") for a, b, c, d in zip(syl, syl[1:], fol, fol[1:])]
    words = plain.words
    if no_questions:
        asks = plain.questions
        pairs = [p for p, a, b in zip(pairs, asks, asks[1:]) if not (a or b)]
        words = tuple(w for w, asked in zip(words, plain.word_questions) if not asked)
    factor = ranking.restored_weight if plain.restored else 1.0
    out: list[ScoredTerm] = []
    for name in fields:
        boost = schema[name].boost
        wb = ranking.view_weights.get("bigrams", 0.0) * boost * factor
        wfb = ranking.view_weights.get("folded_bigrams", 0.0) * boost
        ww = ranking.view_weights.get("words", 0.0) * boost * factor
        for ex, folded in pairs:
            if wb:
                out.append(ScoredTerm(view_field(name, "bigrams"), ex, wb, "bigrams", name))
            if wfb:
                out.append(
                    ScoredTerm(
                        view_field(name, "folded_bigrams"), folded, wfb, "folded_bigrams", name
                    )
                )
        if ww:
            out.extend(ScoredTerm(view_field(name, "words"), w, ww, "words", name) for w in words)
    return tuple(out)
