"""Query planning: which postings decide a match and which terms add to scores.

Each clause of a parsed query becomes a ``ClausePlan``: the postings whose union it matches
(folded syllables, so unaccented words find accented text; phrase positions) and the terms
it scores in each TEXT field (exact and folded syllables, so exact diacritics rank first).
Neighbouring plain words add bonus terms: their bigrams and the words pyvi segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from vnsearch.analysis import Token, segment, syllables
from vnsearch.analysis.analyzer import fold_term
from vnsearch.analysis.stopwords import question_mask, stopword_mask
from vnsearch.index.schema import KEYWORD, TEXT, view_field
from vnsearch.query import Clause, Or, ParsedQuery, Phrase, Term
from vnsearch.ranking.accents import AccentVocabulary, may_respell
from vnsearch.ranking.bm25 import Ranking

__all__ = ["ClausePlan", "Plan", "ScoredTerm", "plan_query", "text_fields"]


class ScoredTerm(NamedTuple):
    """One term that adds to scores: where it is looked up and with which weight."""

    field: str  # hidden (or plain) Whoosh field
    term: str
    weight: float
    view: str
    text_field: str


@dataclass
class ClausePlan:
    """One clause of the query: which documents it matches and what it adds to scores.

    A document matches the clause when it holds any of the ``any_of`` terms (``(field,
    term)``: the union of their postings) or any of the ``phrases`` (each ``(field, term,
    offset)`` per term: the terms at those relative positions). ``scoring`` are the terms
    the clause adds to a matching document's score. ``occur`` is the clause's, from the
    query: ``should``, ``must`` or ``must_not`` (whose terms never score).
    """

    occur: str
    scoring: list[ScoredTerm] = field(default_factory=list)
    any_of: list[tuple[str, str]] = field(default_factory=list)  # match: union of postings
    phrases: list[list[tuple[str, str, int]]] = field(default_factory=list)  # (field, term, offset)


@dataclass
class Plan:
    """A planned query: its clauses, in the query's order (the plain ``should`` words of a
    long query joined into one clause, last), and the bonus terms of its neighbouring plain
    words (bigrams and pyvi words), which add to the score of any matching document."""

    units: list[ClausePlan]
    bonus: list[ScoredTerm]


def _word_syllables(text: str) -> Sequence[Token]:
    """The syllables of one word (or phrase) of a query. Common words come back query after
    query: the 4,096 most recent short ones are kept (process-wide; the tokens are
    immutable and depend on the text alone)."""
    return _recent_word_syllables(text) if len(text) <= 64 else syllables(text)


@lru_cache(maxsize=4096)
def _recent_word_syllables(text: str) -> tuple[Token, ...]:
    return tuple(syllables(text))


def _syllable_scoring(
    tok: str, fields: Sequence[str], schema, ranking: Ranking, exact: str | None = None,
    factor: float = 1.0,
) -> list[ScoredTerm]:  # fmt: skip
    """The exact and folded syllable terms of ``tok``; ``exact`` replaces the exact term
    (an accent restored), whose weight is then multiplied by ``factor``."""
    folded = fold_term(tok.lower())
    if exact is None:
        exact, factor = tok.lower(), 1.0
    out = []
    for name in fields:
        boost = schema[name].boost
        for view, term, f in (("syllables", exact, factor), ("folded", folded, 1.0)):
            w = ranking.view_weights.get(view, 0.0) * boost * f
            if w and term:
                out.append(ScoredTerm(view_field(name, view), term, w, view, name))
    return out


def text_fields(schema, only: Iterable[str] | None) -> list[str]:
    names = list(schema.text_fields)
    if only is not None:
        wanted = set(only)
        unknown = wanted - set(schema)
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        names = [n for n in names if n in wanted]
    return names


def _plan_item(
    item: Term | Phrase, unit: ClausePlan, schema, fields: list[str], ranking: Ranking,
    restored: str | None = None,
):  # fmt: skip
    if item.field is not None and not isinstance(schema[item.field], TEXT):
        ftype = schema[item.field]
        value = item.text.lower() if isinstance(ftype, KEYWORD) and ftype.lowercase else item.text
        unit.any_of.append((item.field, value))
        return
    scope = [item.field] if item.field is not None else fields
    toks = [t for t in _word_syllables(item.text) if t.kind != "part"]
    if not toks:
        return
    if restored is not None and len(toks) == 1:
        factor = ranking.restored_weight
        unit.scoring.extend(
            _syllable_scoring(toks[0].text, scope, schema, ranking, restored, factor)
        )
    else:
        for t in toks:
            unit.scoring.extend(_syllable_scoring(t.text, scope, schema, ranking))
    if len(toks) == 1 and isinstance(item, Term):
        folded = fold_term(toks[0].text.lower())
        unit.any_of.extend((view_field(f, "folded"), folded) for f in scope)
        return
    accented = any(fold_term(t.text.lower()) != t.text.lower() for t in toks)
    view = "syllables" if accented else "folded"
    first = toks[0].position
    for f in scope:
        terms = []
        for t in toks:
            term = t.text.lower() if accented else fold_term(t.text.lower())
            terms.append((view_field(f, view), term, t.position - first))
        unit.phrases.append(terms)


def plan_query(
    query: ParsedQuery, schema, fields: list[str], ranking: Ranking,
    accents: AccentVocabulary | None = None,
) -> Plan:  # fmt: skip
    """The query's units and bonus terms. ``accents`` (the index's vocabulary) restores the
    accents of a query typed without any, for the exact views."""
    if ranking.respell and accents is not None:
        query = _respelled(query, schema, accents)
    clauses = query.clauses
    plain = [
        i
        for i, c in enumerate(clauses)
        if c.occur != "must_not" and isinstance(c.node, Term) and c.node.field is None
    ]
    restored = _restore(query, [clauses[i].node.text for i in plain], accents, ranking)
    restored_at = dict(zip(plain, restored))
    units = []
    grouped: list[ClausePlan] = []  # plain should clauses matched as one group (long queries)
    group = 0 < ranking.group_from <= sum(1 for i in plain if clauses[i].occur == "should")
    drop = _stopword_clauses(clauses, plain, restored_at, ranking, group)
    for i, clause in enumerate(clauses):
        if i in drop:
            continue
        unit = ClausePlan(clause.occur)
        items = clause.node.items if isinstance(clause.node, Or) else (clause.node,)
        for item in items:
            n = len(unit.scoring)
            _plan_item(item, unit, schema, fields, ranking, restored_at.get(i))
            if ranking.capitals != 1.0 and i > 0 and item.text[:1].isupper():
                # a name (of a person, place, work) in a sentence: what the question is about
                more = ranking.capitals
                unit.scoring[n:] = [s._replace(weight=s.weight * more) for s in unit.scoring[n:]]
        if unit.any_of or unit.phrases:
            if group and i in restored_at and clause.occur == "should":
                grouped.append(unit)
            else:
                units.append(unit)
    if grouped:
        one = ClausePlan("should")
        for u in grouped:
            one.scoring += u.scoring
            one.any_of += u.any_of
            one.phrases += u.phrases
        units.append(one)
    words = [clauses[i].node.text for i in plain]
    exact = [r if r is not None else w for r, w in zip(restored, words)]
    restored_any = any(r is not None for r in restored)
    asked = ranking.question_words and group
    return Plan(units, _bonus(words, exact, schema, fields, ranking, restored_any, asked))


def _respelled(query: ParsedQuery, schema, accents: AccentVocabulary) -> ParsedQuery:
    """The query with each syllable spelled with ``i`` or ``y`` as the index spells it more
    often (``vật lí`` -> ``vật lý`` in an index that writes ``lý``): both spellings are
    correct, and documents use one."""
    items = [
        item
        for c in query.clauses
        for item in (c.node.items if isinstance(c.node, Or) else (c.node,))
        if item.field is None or isinstance(schema[item.field], TEXT)
    ]
    if not any(may_respell(item.text) for item in items):
        return query
    toks = [(item, t) for item in items for t in _word_syllables(item.text) if t.kind == "syllable"]
    words = [t.text.lower() for _item, t in toks]
    new = accents.respell(words)
    edits: dict[int, list] = {}
    for (item, t), old, word in zip(toks, words, new):
        if word != old:
            word = word[0].upper() + word[1:] if t.text[0].isupper() else word
            edits.setdefault(id(item), []).append((t.start, t.end, word))
    if not edits:
        return query

    def respelled(item):
        text = item.text
        for start, end, word in reversed(edits.get(id(item), ())):
            text = text[:start] + word + text[end:]
        return replace(item, text=text) if text != item.text else item

    clauses = []
    for c in query.clauses:
        if isinstance(c.node, Or):
            node = Or(tuple(respelled(item) for item in c.node.items))
        else:
            node = respelled(c.node)
        clauses.append(Clause(node, c.occur))
    return ParsedQuery(tuple(clauses))


def _restore(
    query: ParsedQuery, words: list[str], accents: AccentVocabulary | None, ranking: Ranking,
) -> list[str | None]:  # fmt: skip
    """The accented form of each plain word of a query typed without any accent (None
    where a word is not one syllable, or the index knows no accented form)."""
    none: list[str | None] = [None] * len(words)
    if accents is None or not ranking.restored_weight or not words:
        return none
    texts = [
        item.text
        for c in query.clauses
        for item in (c.node.items if isinstance(c.node, Or) else (c.node,))
    ]
    if any(fold_term(t.lower()) != t.lower() for t in texts):
        return none  # typed with accents: taken as typed
    one = [_syllable(w) for w in words]
    single = [o is not None for o in one]
    folded = [fold_term((o or w).lower()) for o, w in zip(one, words)]
    out = accents.restore(folded)
    return [r if ok and r != f else None for r, ok, f in zip(out, single, folded)]


def _syllable(word: str) -> str | None:
    """The one syllable of a plain word, punctuation around it left out (``gì?`` -> ``gì``);
    None when the word is not one syllable."""
    toks = _word_syllables(word)
    return toks[0].text if len(toks) == 1 else None


def _stopword_clauses(
    clauses, plain, restored_at, ranking: Ranking, group: bool,
) -> set[int]:  # fmt: skip
    """The plain should clauses that are stop words, when the ranking drops them and the
    query has other words; in a grouped (long) query, also its question words."""
    if not ranking.stopwords:
        return set()
    stop = set()
    words = [restored_at.get(i) or _syllable(clauses[i].node.text) or "" for i in plain]
    asks = question_mask(words) if ranking.question_words and group else [False] * len(words)
    stops = _stop_mask(words, plain)
    for i, stopword, ask in zip(plain, stops, asks):
        if clauses[i].occur == "should" and (stopword or ask):
            stop.add(i)
    return stop if len(stop) < len(clauses) else set()


def _stop_mask(words: list[str], at: list[int]) -> list[bool]:
    """Per plain word (one syllable, or ``""``; ``at``: its clause's index): is it a stop
    word, alone or with its neighbours in the query (``tuy nhiên``)?"""
    out = [False] * len(words)
    start = 0
    for end in range(1, len(words) + 1):  # runs of neighbouring clauses, each on its own
        if end == len(words) or at[end] != at[end - 1] + 1:
            out[start:end] = stopword_mask(words[start:end])
            start = end
    return out


def _bonus(
    words: list[str], exact: list[str], schema, fields: list[str], ranking: Ranking,
    restored: bool = False, no_questions: bool = False,
) -> list[ScoredTerm]:  # fmt: skip
    """Bigram and word terms of the plain words: they reward words found side by side.
    ``exact`` are the words with restored accents (the exact views' terms); with
    ``no_questions``, none of them holds a question word (``năm nào``, ``thế nào``)."""
    out: list[ScoredTerm] = []
    # the syllables of the words joined (no syllable spans the space between two words)
    toks = [t.text.lower() for w in exact for t in _word_syllables(w) if t.kind != "part"]
    pairs = [(f"{a} {b}", f"{fold_term(a)} {fold_term(b)}") for a, b in zip(toks, toks[1:])]
    text = " ".join(exact)
    words_ = [w.text.lower() for w in segment(text)] if len(toks) > 1 else []
    if no_questions:
        asks = question_mask(toks)
        pairs = [p for p, a, b in zip(pairs, asks, asks[1:]) if not (a or b)]
        asked = {t for t, a in zip(toks, asks) if a}
        words_ = [w for w in words_ if not asked.intersection(w.split(" "))]
    factor = ranking.restored_weight if restored else 1.0
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
            out.extend(ScoredTerm(view_field(name, "words"), w, ww, "words", name) for w in words_)
    return out
