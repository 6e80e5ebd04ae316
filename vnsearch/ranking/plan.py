"""Query planning: which postings decide a match and which terms add to scores.

Each clause of a parsed query becomes a ``Unit``: the postings whose union it matches
(folded syllables, so unaccented words find accented text; phrase positions) and the terms
it scores in each TEXT field (exact and folded syllables, so exact diacritics rank first).
Neighbouring plain words add bonus terms: their bigrams and the words pyvi segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from vnsearch.analysis import segment, syllables
from vnsearch.analysis.analyzer import fold_term
from vnsearch.index.schema import KEYWORD, TEXT, view_field
from vnsearch.query import Or, ParsedQuery, Phrase, Term
from vnsearch.ranking.bm25 import Ranking

__all__ = ["Plan", "Scoring", "Unit", "plan_query", "text_fields"]


class Scoring(NamedTuple):
    """One term that adds to scores: where it is looked up and with which weight."""

    field: str  # hidden (or plain) Whoosh field
    term: str
    weight: float
    view: str
    text_field: str


@dataclass
class Unit:
    """One clause of the query: which documents it matches and what it adds to scores."""

    occur: str
    scoring: list[Scoring] = field(default_factory=list)
    any_of: list[tuple[str, str]] = field(default_factory=list)  # match: union of postings
    phrases: list[list[tuple[str, str, int]]] = field(default_factory=list)  # (field, term, offset)


@dataclass
class Plan:
    units: list[Unit]
    bonus: list[Scoring]


def _syllable_scoring(tok: str, fields: Sequence[str], schema, ranking: Ranking) -> list[Scoring]:
    exact = tok.lower()
    folded = fold_term(exact)
    out = []
    for name in fields:
        boost = schema[name].boost
        for view, term in (("syllables", exact), ("folded", folded)):
            w = ranking.view_weights.get(view, 0.0) * boost
            if w and term:
                out.append(Scoring(view_field(name, view), term, w, view, name))
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


def _plan_item(item: Term | Phrase, unit: Unit, schema, fields: list[str], ranking: Ranking):
    if item.field is not None and not isinstance(schema[item.field], TEXT):
        ftype = schema[item.field]
        value = item.text.lower() if isinstance(ftype, KEYWORD) and ftype.lowercase else item.text
        unit.any_of.append((item.field, value))
        return
    scope = [item.field] if item.field is not None else fields
    toks = [t for t in syllables(item.text) if t.kind != "part"]
    if not toks:
        return
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


def plan_query(query: ParsedQuery, schema, fields: list[str], ranking: Ranking) -> Plan:
    units = []
    plain: list[str] = []  # consecutive plain words (for bigram and word bonuses)
    for clause in query.clauses:
        unit = Unit(clause.occur)
        items = clause.node.items if isinstance(clause.node, Or) else (clause.node,)
        for item in items:
            _plan_item(item, unit, schema, fields, ranking)
        if unit.any_of or unit.phrases:
            units.append(unit)
        node = clause.node
        if clause.occur != "must_not" and isinstance(node, Term) and node.field is None:
            plain.append(node.text)
    return Plan(units, _bonus(" ".join(plain), schema, fields, ranking))


def _bonus(text: str, schema, fields: list[str], ranking: Ranking) -> list[Scoring]:
    """Bigram and word terms of the plain words: they reward words found side by side."""
    out: list[Scoring] = []
    toks = [t.text.lower() for t in syllables(text) if t.kind != "part"]
    pairs = [(f"{a} {b}", f"{fold_term(a)} {fold_term(b)}") for a, b in zip(toks, toks[1:])]
    words = [w.text.lower() for w in segment(text)] if len(toks) > 1 else []
    for name in fields:
        boost = schema[name].boost
        wb = ranking.view_weights.get("bigrams", 0.0) * boost
        wfb = ranking.view_weights.get("folded_bigrams", 0.0) * boost
        ww = ranking.view_weights.get("words", 0.0) * boost
        for exact, folded in pairs:
            if wb:
                out.append(Scoring(view_field(name, "bigrams"), exact, wb, "bigrams", name))
            if wfb:
                out.append(
                    Scoring(view_field(name, "folded_bigrams"), folded, wfb, "folded_bigrams", name)
                )
        if ww:
            out.extend(Scoring(view_field(name, "words"), w, ww, "words", name) for w in words)
    return out
