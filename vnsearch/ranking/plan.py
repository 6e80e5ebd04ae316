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
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from vnsearch.index.schema import TEXT, exact_term, view_field
from vnsearch.query import Term, parse
from vnsearch.ranking.accents import AccentVocabulary, vocabulary
from vnsearch.ranking.query_text import AnalyzedItem, AnalyzedQuery, PlainWords, analyze_query
from vnsearch.ranking.scoring import DEFAULT_RANKING, Ranking

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


# makes a named tuple from a tuple of its fields without calling its (Python) ``__new__``:
# a query has tens of scored terms, and this takes a third of the time
_new_tuple = tuple.__new__

# the hidden field of a view of a TEXT field (``body.folded``): every query asks for the
# same few, each many times
_hidden = lru_cache(maxsize=1024)(view_field)


class ClausePlan(NamedTuple):
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


class Plan(NamedTuple):
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
    the query; ``fields`` limits the TEXT fields plain words search).

    >>> from vnsearch.index.schema import TEXT, Schema
    >>> p = plan_text("hà -nội", Schema(body=TEXT()))
    >>> [(u.occur, u.any_of) for u in p.units]
    [('should', (('body.folded', 'ha'),)), ('must_not', (('body.folded', 'noi'),))]
    >>> [(s.field, s.term, s.weight) for s in p.units[0].scoring]
    [('body.syllables', 'hà', 1.0), ('body.folded', 'ha', 0.7)]
    """
    names = text_fields(schema, fields)
    parsed = parse(query, list(schema))
    return plan_query(analyze_query(parsed, schema, accents, ranking), schema, names, ranking)


def plan_query(query: AnalyzedQuery, schema, fields: Sequence[str], ranking: Ranking) -> Plan:
    """The clause plans and bonus terms of ``query`` searched in the TEXT ``fields``."""
    planner = _Planner(schema, fields, ranking)
    drop = _stopword_clauses(query, ranking)
    units: list[ClausePlan] = []
    grouped: list[ClausePlan] = []  # a long query's plain should words: matched as one
    for i, clause_items in groupby(query.items, key=attrgetter("clause")):
        if i in drop:
            continue
        items = tuple(clause_items)
        unit = planner.clause(i, items)
        if unit.any_of or unit.phrases:
            if query.grouped and items[0].plain and unit.occur == "should":
                grouped.append(unit)
            else:
                units.append(unit)
    if grouped:
        units.append(_joined(grouped))
    asked = ranking.question_words and query.grouped
    return Plan(tuple(units), planner.bonus(query.plain, asked))


def _joined(units: list[ClausePlan]) -> ClausePlan:
    """One should clause matching and scoring what any of ``units`` does."""
    scoring: list[ScoredTerm] = []
    any_of: list[tuple[str, str]] = []
    phrases: list[tuple[tuple[str, str, int], ...]] = []
    for u in units:
        scoring += u.scoring
        any_of += u.any_of
        phrases += u.phrases
    return ClausePlan("should", tuple(scoring), tuple(any_of), tuple(phrases))


def _stopword_clauses(query: AnalyzedQuery, ranking: Ranking) -> set[int]:
    """The plain should clauses that are stop words, when the ranking drops them and the
    query has other words; in a grouped (long) query, also its question words."""
    if not ranking.stopwords:
        return set()
    asks = ranking.question_words and query.grouped
    stop = {
        item.clause
        for item in query.items
        if item.plain and item.occur == "should" and (item.stop or (asks and item.question))
    }
    return stop if len(stop) < query.clauses else set()


class _Planner:
    """Plans the items of one query over the TEXT ``fields``. The hidden fields and weights
    of each scope's syllable views are worked out once per query, not once per syllable."""

    def __init__(self, schema, fields: Sequence[str], ranking: Ranking) -> None:
        self.schema = schema
        self.fields = fields
        self.ranking = ranking
        self._views: dict[tuple[str | None, float], list[tuple[str, str, float, str]]] = {}

    def clause(self, i: int, items: Sequence[AnalyzedItem]) -> ClausePlan:
        """The plan of clause ``i``, from its items (one, or the alternatives of an ``Or``)."""
        scoring: list[ScoredTerm] = []
        any_of: list[tuple[str, str]] = []
        phrases: list[tuple[tuple[str, str, int], ...]] = []
        more = self.ranking.capitals
        for item in items:
            n = len(scoring)
            self.item(item, scoring, any_of, phrases)
            if more != 1.0 and i > 0 and item.capitalized:
                # a name (of a person, place, work) in a sentence: what the question is about
                scoring[n:] = [
                    _new_tuple(ScoredTerm, (s.field, s.term, s.weight * more, s.view, s.text_field))
                    for s in scoring[n:]
                ]
        return _new_tuple(
            ClausePlan, (items[0].occur, tuple(scoring), tuple(any_of), tuple(phrases))
        )

    def item(self, item: AnalyzedItem, scoring: list, any_of: list, phrases: list) -> None:
        """Add the scored terms, matched terms and phrases of one item."""
        node = item.node
        if node.field is not None and not isinstance(self.schema[node.field], TEXT):
            any_of.append((node.field, exact_term(self.schema[node.field], node.text)))
            return
        if not item.syllables:
            return
        if item.restored is not None:  # a word of one syllable
            exact, factor = (item.restored,), self.ranking.restored_weight
        else:
            exact, factor = item.syllables, 1.0
        views = self.syllable_views(node.field, factor)
        for terms in zip(exact, item.folded):  # each syllable: its exact and folded terms
            for hidden, view, w, name in views:
                term = terms[view == "folded"]
                if term:
                    scoring.append(_new_tuple(ScoredTerm, (hidden, term, w, view, name)))
        scope = self.fields if node.field is None else (node.field,)
        if len(item.syllables) == 1 and isinstance(node, Term):
            any_of.extend((_hidden(f, "folded"), item.folded[0]) for f in scope)
            return
        view, terms = ("syllables", item.syllables) if item.accented else ("folded", item.folded)
        first = item.positions[0]
        offsets = [p - first for p in item.positions]
        for f in scope:
            name = _hidden(f, view)
            phrases.append(tuple((name, t, off) for t, off in zip(terms, offsets)))

    def syllable_views(self, field: str | None, factor: float) -> list[tuple[str, str, float, str]]:
        """Per TEXT field searched (``field``, or all of them) and view (exact, then folded):
        the hidden field, the view, its weight (the exact view's times ``factor``) and the
        field; views that weigh nothing are left out."""
        views = self._views.get((field, factor))
        if views is None:
            weights = self.ranking.view_weights
            views = []
            for name in self.fields if field is None else (field,):
                boost = self.schema[name].boost
                for view, f in (("syllables", factor), ("folded", 1.0)):
                    w = weights.get(view, 0.0) * boost * f
                    if w:
                        views.append((_hidden(name, view), view, w, name))
            self._views[(field, factor)] = views
        return views

    def bonus(self, plain: PlainWords, no_questions: bool) -> tuple[ScoredTerm, ...]:
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
        factor = self.ranking.restored_weight if plain.restored else 1.0
        weights = self.ranking.view_weights
        out: list[ScoredTerm] = []
        for name in self.fields:
            boost = self.schema[name].boost
            wb = weights.get("bigrams", 0.0) * boost * factor
            wfb = weights.get("folded_bigrams", 0.0) * boost
            ww = weights.get("words", 0.0) * boost * factor
            if pairs and (wb or wfb):
                bigrams = _hidden(name, "bigrams")
                folded_bigrams = _hidden(name, "folded_bigrams")
                for ex, folded in pairs:
                    if wb:
                        out.append(_new_tuple(ScoredTerm, (bigrams, ex, wb, "bigrams", name)))
                    if wfb:
                        row = (folded_bigrams, folded, wfb, "folded_bigrams", name)
                        out.append(_new_tuple(ScoredTerm, row))
            if ww and words:
                hidden = _hidden(name, "words")
                out.extend(_new_tuple(ScoredTerm, (hidden, w, ww, "words", name)) for w in words)
        return tuple(out)
