"""Query planning: which postings decide a match and which terms add to scores.

Each clause of an analyzed query (:mod:`vnsearch.ranking.query_text`) becomes a
:class:`ClausePlan`: the postings whose union it matches (folded syllables, so unaccented
words find accented text; phrase positions) and the terms it scores in each TEXT field
(exact and folded syllables, so exact diacritics rank first). Neighbouring plain words add
bonus terms: their bigrams and the words pyvi segments. Planning only reads the analysis:
it tokenizes, folds and segments nothing itself.

A word typed again (the same clause plan) is one clause that counts as many times as it
was typed (its terms' weights and its share of matched clauses multiplied): what repeating
it always gave, at the cost of one. Bonus terms found twice are scored once, their weights
summed. A plan makes at most ``QueryLimits.max_terms`` term lookups: past that, the last
clauses and bonus terms are dropped (with a note in ``Plan.notes``) or the query refused.

:func:`plan_search` is the whole front of a search: cut to the limits, parse, analyze,
plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from vnsearch.index.schema import TEXT, exact_term, view_field
from vnsearch.query import (
    ABBREVIATIONS,
    DEFAULT_LIMITS,
    QueryLimits,
    Synonyms,
    Term,
    cut_clauses,
    cut_text,
    parse,
)
from vnsearch.ranking.accents import AccentVocabulary, vocabulary
from vnsearch.ranking.query_text import AnalyzedItem, AnalyzedQuery, PlainWords, analyze_query
from vnsearch.ranking.scoring import DEFAULT_RANKING, Ranking
from vnsearch.ranking.synonym_items import Alternative, synonym_alternatives

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
    query: ``should``, ``must`` or ``must_not`` (whose terms never score). ``times``: how
    many times the query repeats the clause (its ``scoring`` weights are already
    multiplied by it; a document matching it counts as matching ``times`` clauses).
    """

    occur: str
    scoring: tuple[ScoredTerm, ...] = ()
    any_of: tuple[tuple[str, str], ...] = ()
    phrases: tuple[tuple[tuple[str, str, int], ...], ...] = ()
    times: int = 1

    @property
    def lookups(self) -> int:
        """How many term lookups the clause makes (what ``QueryLimits.max_terms`` counts)."""
        return len(self.scoring) + len(self.any_of) + sum(map(len, self.phrases))


class Plan(NamedTuple):
    """A planned query: its clauses, in the query's order (the plain ``should`` words of a
    long query joined into one clause, last), and the bonus terms of its neighbouring plain
    words (bigrams and pyvi words), which add to the score of any matching document;
    ``notes`` say what of the query was dropped to keep it within its limits."""

    units: tuple[ClausePlan, ...]
    bonus: tuple[ScoredTerm, ...]
    notes: tuple[str, ...] = ()
    corrected: str | None = None  # the query as read, when raw keys or typos were read


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


def plan_search(
    snap, query: str, fields: Iterable[str] | None, ranking: Ranking,
    limits: QueryLimits = DEFAULT_LIMITS, synonyms: Synonyms = ABBREVIATIONS, stats=None,
) -> Plan:  # fmt: skip
    """Parse, analyze and plan ``query`` for a search of ``snap`` (whose accent vocabulary,
    or that of ``stats`` over all shards, restores and respells words, when ``ranking``
    asks for it), within ``limits``, each form of ``synonyms`` also searched as the others."""
    if not isinstance(query, str):
        raise TypeError(f"query must be a str, got {type(query).__name__}")
    accents = None
    if ranking.restored_weight or ranking.respell or ranking.typo_weight:
        accents = vocabulary(snap) if stats is None else stats.vocabulary()
    return plan_text(query, snap.schema, fields, ranking, accents, limits, synonyms)


def plan_text(
    query: str, schema, fields: Iterable[str] | None = None,
    ranking: Ranking = DEFAULT_RANKING, accents: AccentVocabulary | None = None,
    limits: QueryLimits = DEFAULT_LIMITS, synonyms: Synonyms = ABBREVIATIONS,
) -> Plan:  # fmt: skip
    """Parse, analyze and plan ``query`` over ``schema`` (any of its fields may be named in
    the query; ``fields`` limits the TEXT fields plain words search), within ``limits``:
    the text is cut to ``max_chars`` before it is parsed, the parsed query to
    ``max_clauses`` words before it is analyzed, the plan to ``max_terms`` lookups. A
    clause that reads as a form of ``synonyms`` also matches the others
    (:mod:`~vnsearch.ranking.synonym_items`).

    >>> from vnsearch.index.schema import TEXT, Schema
    >>> p = plan_text("hà -nội", Schema(body=TEXT()))
    >>> [(u.occur, u.any_of) for u in p.units]
    [('should', (('body.folded', 'ha'),)), ('must_not', (('body.folded', 'noi'),))]
    >>> [(s.field, s.term, s.weight) for s in p.units[0].scoring]
    [('body.syllables', 'hà', 1.0), ('body.folded', 'ha', 0.7)]
    """
    names = text_fields(schema, fields)
    text, cut = cut_text(query, limits)
    parsed, dropped = cut_clauses(parse(text, list(schema)), limits)
    analyzed = analyze_query(parsed, schema, accents, ranking)
    alternatives = synonym_alternatives(parsed, schema, synonyms, analyzed.items)
    plan = plan_query(analyzed, schema, names, ranking, limits, alternatives)
    if analyzed.corrected is not None:
        plan = plan._replace(corrected=analyzed.corrected)
    notes = tuple(n for n in (cut, dropped) if n is not None)
    return plan._replace(notes=notes + plan.notes) if notes else plan


class _Planned(NamedTuple):
    """One distinct clause while planning: its plan, whether it joins a long query's
    group, its items, and how many times the query has it."""

    unit: ClausePlan
    joins: bool
    items: tuple[AnalyzedItem, ...]
    times: int


def plan_query(
    query: AnalyzedQuery, schema, fields: Sequence[str], ranking: Ranking,
    limits: QueryLimits | None = None,
    alternatives: dict[int, tuple[Alternative, ...]] | None = None,
) -> Plan:  # fmt: skip
    """The clause plans and bonus terms of ``query`` searched in the TEXT ``fields``; with
    ``limits``, at most ``limits.max_terms`` term lookups; ``alternatives``: per clause,
    the other forms it also matches (synonyms)."""
    planner = _Planner(schema, fields, ranking)
    drop = _stopword_clauses(query, ranking)
    planned: list[_Planned] = []
    seen: dict[tuple[ClausePlan, bool], int] = {}  # a clause typed again: where it is
    for i, clause_items in groupby(query.items, key=attrgetter("clause")):
        if i in drop:
            continue
        items = tuple(clause_items)
        unit = planner.clause(i, items)
        if alternatives and i in alternatives:
            unit = _with_alternatives(planner, unit, alternatives[i])
        if unit.any_of or unit.phrases:
            joins = query.grouped and items[0].plain and unit.occur == "should"
            at = seen.setdefault((unit, joins), len(planned))
            if at == len(planned):
                planned.append(_Planned(unit, joins, items, 1))
            else:
                planned[at] = planned[at]._replace(times=planned[at].times + 1)
    asked = ranking.question_words and query.grouped
    bonus = planner.bonus(query.plain, asked)
    notes: tuple[str, ...] = ()
    lookups = sum(p.unit.lookups for p in planned) + len(bonus)
    if limits is not None and lookups > limits.max_terms:
        most = limits.max_terms
        notes = (
            limits.excess(
                f"the query makes {lookups:,} term lookups, more than max_terms={most:,}",
                f"the query makes {lookups:,} term lookups; the first {most:,} were made "
                f"(max_terms={most:,})",
            ),
        )
        planned, bonus = _fit(planner, planned, bonus, most)
    units = [_repeated(p.unit, p.times) for p in planned if not p.joins]
    grouped = [_repeated(p.unit, p.times) for p in planned if p.joins]
    if grouped:  # a long query's plain should words: matched as one clause
        units.append(_joined(grouped))
    return Plan(tuple(units), bonus, notes)


def _with_alternatives(
    planner: _Planner, unit: ClausePlan, alternatives: tuple[Alternative, ...]
) -> ClausePlan:
    """``unit`` matching the ``alternatives`` too, their terms scored times their scale."""
    scoring, any_of, phrases = list(unit.scoring), list(unit.any_of), list(unit.phrases)
    for item, scale in alternatives:
        more = planner.clause(item.clause, (item,))
        for s in more.scoring:
            scoring.append(_new_tuple(ScoredTerm, (*s[:2], s.weight * scale, *s[3:])))
        any_of += more.any_of
        phrases += more.phrases
    return unit._replace(scoring=tuple(scoring), any_of=tuple(any_of), phrases=tuple(phrases))


def _repeated(unit: ClausePlan, times: int) -> ClausePlan:
    """``unit`` standing for ``times`` copies of itself: weights multiplied."""
    if times == 1:
        return unit
    scoring = tuple(
        _new_tuple(ScoredTerm, (s.field, s.term, s.weight * times, s.view, s.text_field))
        for s in unit.scoring
    )
    return unit._replace(scoring=scoring, times=times)


def _fit(
    planner: _Planner, planned: list[_Planned], bonus: tuple[ScoredTerm, ...], most: int
) -> tuple[list[_Planned], tuple[ScoredTerm, ...]]:
    """The first clauses and bonus terms that make at most ``most`` lookups together, each
    kind its share: the clause that crosses the limit keeps the syllables (of a phrase or
    a compound) or the alternatives (of an ``OR``) that fit, and each field the first of
    its bonus terms (the query's first words') that fit."""
    clauses = sum(p.unit.lookups for p in planned)
    room = most * clauses // (clauses + len(bonus))
    kept: list[_Planned] = []
    for p in planned:
        if p.unit.lookups > room:
            part = _part(planner, p, room)
            if part is not None:
                kept.append(part)
                room -= part.unit.lookups
            break
        kept.append(p)
        room -= p.unit.lookups
    room = most - sum(p.unit.lookups for p in kept)
    by_field: dict[str, list[ScoredTerm]] = {}
    for s in bonus:
        by_field.setdefault(s.text_field, []).append(s)
    each = room // max(1, len(by_field))
    return kept, tuple(s for terms in by_field.values() for s in terms[:each])


def _part(planner: _Planner, p: _Planned, room: int) -> _Planned | None:
    """``p`` planned with fewer alternatives, or fewer syllables of its one item, to make
    at most ``room`` lookups (None: not even one fits)."""
    items = p.items
    size = len(items) if len(items) > 1 else len(items[0].syllables)
    n = min(size - 1, room * size // max(1, p.unit.lookups))
    while n >= 1:
        if len(items) > 1:
            part = items[:n]
        else:
            one = items[0]
            cut = (one.syllables[:n], one.folded[:n], one.positions[:n])
            part = (one._replace(syllables=cut[0], folded=cut[1], positions=cut[2]),)
        unit = planner.clause(part[0].clause, part)
        if unit.lookups <= room and (unit.any_of or unit.phrases):
            return _Planned(unit, p.joins, part, p.times)
        n -= 1
    return None


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
        capitals = self.ranking.capitals
        for item in items:
            n = len(scoring)
            self.item(item, scoring, any_of, phrases)
            # a name (of a person, place, work) in a sentence: what the question is about
            more = capitals if i > 0 and item.capitalized else 1.0
            if item.corrected:  # a typo read as the word a slip away: a guess
                more *= self.ranking.typo_weight
            if more != 1.0:
                scoring[n:] = [
                    _new_tuple(ScoredTerm, (s.field, s.term, s.weight * more, s.view, s.text_field))
                    for s in scoring[n:]
                ]
        return _new_tuple(
            ClausePlan, (items[0].occur, tuple(scoring), tuple(any_of), tuple(phrases), 1)
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
        return _merged(out)


def _merged(terms: list[ScoredTerm]) -> tuple[ScoredTerm, ...]:
    """``terms`` with each one found twice (the same field, term and view) scored once,
    where it first stands, its weights summed (``hà hà hà``: one bigram ``hà hà``)."""
    at: dict[tuple[str, str, str], int] = {}
    out: list[ScoredTerm] = []
    for s in terms:
        k = at.setdefault((s.field, s.term, s.view), len(out))
        if k == len(out):
            out.append(s)
        else:
            old = out[k]
            row = (old.field, old.term, old.weight + s.weight, old.view, old.text_field)
            out[k] = _new_tuple(ScoredTerm, row)
    return tuple(out)
