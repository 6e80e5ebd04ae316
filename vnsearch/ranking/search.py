"""Ranking: BM25F over the fields and views of each document, vectorized with numpy.

For a query word ``w`` and a document ``d`` the score adds, for every TEXT field ``f`` and
every view ``v`` the word is looked up in (exact syllable, folded syllable; bigrams and
words for neighbouring query words)::

    weight(v) * boost(f) * idf(t) * tf / (tf + k1 * (1 - b + b * len(d) / avglen))

with Lucene's ``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))``, ``tf``/``df``/``len``/
``avglen`` taken in that field's view over live documents. An accented word scores in the
exact view and the folded view, so exact diacritics rank above folded-only matches; an
unaccented word finds accented text through the folded view. Documents that match more of
the query's words rank first (``coord``), then by score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vnsearch.analysis import segment, syllables
from vnsearch.analysis.analyzer import fold_term
from vnsearch.index.schema import DATETIME, ID, KEYWORD, NUMERIC, TEXT, view_field
from vnsearch.query import Or, ParsedQuery, Phrase, Term, parse
from vnsearch.ranking.snapshot import Snapshot, TermPostings

__all__ = ["DEFAULT_RANKING", "Explanation", "Hit", "Ranking", "Results", "explain", "search"]


@dataclass(frozen=True)
class Ranking:
    """BM25F parameters: ``k1``, ``b`` and the weight of each view.

    >>> Ranking().view_weights["syllables"]
    1.0
    """

    k1: float = 1.2
    b: float = 0.75
    view_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "syllables": 1.0,
            "folded": 0.5,
            "bigrams": 0.5,
            "folded_bigrams": 0.25,
            "words": 0.5,
        }
    )


DEFAULT_RANKING = Ranking()


def lucene_idf(df: int, n: int) -> float:
    """Lucene's BM25 idf: ``ln(1 + (n - df + 0.5) / (df + 0.5))``."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class Hit:
    """One ranked document: its id, score and stored fields."""

    id: Any
    score: float
    fields: Mapping[str, Any]
    docnum: int


@dataclass(frozen=True)
class Results(Sequence[Hit]):
    """The top hits of a query, best first, and ``total``: how many documents matched."""

    hits: tuple[Hit, ...]
    total: int

    def __getitem__(self, i):  # type: ignore[override]
        return self.hits[i]

    def __len__(self) -> int:
        return len(self.hits)


@dataclass(frozen=True)
class _Scoring:
    field: str  # hidden (or plain) Whoosh field
    term: str
    weight: float
    view: str
    text_field: str


@dataclass
class _Unit:
    """One clause of the query: which documents it matches and what it adds to scores."""

    occur: str
    scoring: list[_Scoring] = field(default_factory=list)
    any_of: list[tuple[str, str]] = field(default_factory=list)  # match: union of postings
    phrases: list[list[tuple[str, str, int]]] = field(default_factory=list)  # (field, term, offset)


@dataclass
class _Plan:
    units: list[_Unit]
    bonus: list[_Scoring]


def _syllable_scoring(tok: str, fields: Sequence[str], schema, ranking: Ranking) -> list[_Scoring]:
    exact = tok.lower()
    folded = fold_term(exact)
    out = []
    for name in fields:
        boost = schema[name].boost
        for view, term in (("syllables", exact), ("folded", folded)):
            w = ranking.view_weights.get(view, 0.0) * boost
            if w and term:
                out.append(_Scoring(view_field(name, view), term, w, view, name))
    return out


def _text_fields(schema, only: Iterable[str] | None) -> list[str]:
    names = list(schema.text_fields)
    if only is not None:
        wanted = set(only)
        unknown = wanted - set(schema)
        if unknown:
            raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
        names = [n for n in names if n in wanted]
    return names


def _plan_item(item: Term | Phrase, unit: _Unit, schema, fields: list[str], ranking: Ranking):
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


def _plan(query: ParsedQuery, schema, fields: list[str], ranking: Ranking) -> _Plan:
    units = []
    plain: list[str] = []  # consecutive plain words (for bigram and word bonuses)
    for clause in query.clauses:
        unit = _Unit(clause.occur)
        items = clause.node.items if isinstance(clause.node, Or) else (clause.node,)
        for item in items:
            _plan_item(item, unit, schema, fields, ranking)
        if unit.any_of or unit.phrases:
            units.append(unit)
        node = clause.node
        if clause.occur != "must_not" and isinstance(node, Term) and node.field is None:
            plain.append(node.text)
    return _Plan(units, _bonus(" ".join(plain), schema, fields, ranking))


def _bonus(text: str, schema, fields: list[str], ranking: Ranking) -> list[_Scoring]:
    """Bigram and word terms of the plain words: they reward words found side by side."""
    out: list[_Scoring] = []
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
                out.append(_Scoring(view_field(name, "bigrams"), exact, wb, "bigrams", name))
            if wfb:
                out.append(
                    _Scoring(
                        view_field(name, "folded_bigrams"), folded, wfb, "folded_bigrams", name
                    )
                )
        if ww:
            out.extend(_Scoring(view_field(name, "words"), w, ww, "words", name) for w in words)
    return out


class _Executor:
    def __init__(self, snap: Snapshot, ranking: Ranking) -> None:
        self.snap = snap
        self.ranking = ranking
        self._cache: dict[tuple[str, str], TermPostings | None] = {}

    def postings(self, field: str, term: str | bytes) -> TermPostings | None:
        key = (field, term)
        if key not in self._cache:
            self._cache[key] = self.snap.postings(field, term)
        return self._cache[key]

    def contribution(self, s: _Scoring) -> tuple[TermPostings, np.ndarray, float] | None:
        p = self.postings(s.field, s.term)
        if p is None or not p.df:
            return None
        idf = lucene_idf(p.df, self.snap.doc_count)
        norm = self.snap.length_norms(s.field, self.ranking.k1, self.ranking.b)[p.docs]
        values = p.freqs / (p.freqs + norm)
        values *= s.weight * idf
        return p, values, idf

    def add_scores(self, scores: np.ndarray, scoring: Iterable[_Scoring]) -> None:
        for s in scoring:
            c = self.contribution(s)
            if c is not None:
                p, values, _idf = c
                scores[p.docs] += values

    def matches(self, unit: _Unit) -> np.ndarray:
        mask = np.zeros(self.snap.total, dtype=bool)
        for f, term in unit.any_of:
            p = self.postings(f, term)
            if p is not None:
                mask[p.docs] = True
        for phrase in unit.phrases:
            mask[self.phrase_docs(phrase)] = True
        return mask

    def phrase_docs(self, phrase: list[tuple[str, str, int]]) -> np.ndarray:
        """Documents where the phrase's terms stand at their relative positions."""
        lists = [self.postings(f, t) for f, t, _off in phrase]
        if any(p is None for p in lists):
            return np.empty(0, dtype=np.int64)
        docs = lists[0].docs
        for p in lists[1:]:
            docs = np.intersect1d(docs, p.docs, assume_unique=True)
        keys = None
        for p, (_f, _t, off) in zip(lists, phrase):
            if not len(docs):
                break
            k = np.unique(p.position_keys(docs, off))
            keys = k if keys is None else np.intersect1d(keys, k, assume_unique=True)
            docs = np.unique(keys >> 32)
        return docs


def _filter_mask(snap: Snapshot, ex: _Executor, filters: Mapping[str, Any]) -> np.ndarray:
    mask = snap.live.copy()
    for name, value in filters.items():
        ftype = snap.schema.get(name)
        if ftype is None:
            raise ValueError(f"unknown filter field {name!r}")
        values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        keep = np.zeros(snap.total, dtype=bool)
        for v in values:
            if isinstance(ftype, (ID, KEYWORD)):
                term = str(v).lower() if isinstance(ftype, KEYWORD) and ftype.lowercase else str(v)
                p = ex.postings(name, term)
            elif isinstance(ftype, (NUMERIC, DATETIME)):
                p = ex.postings(name, snap.reader.schema[name].to_bytes(v))
            else:
                raise ValueError(f"field {name!r} ({ftype.kind}) cannot filter")
            if p is not None:
                keep[p.docs] = True
        mask &= keep
    return mask


def _run(snap: Snapshot, query: str, fields, filters, ranking: Ranking):
    if not isinstance(query, str):
        raise TypeError(f"query must be a str, got {type(query).__name__}")
    schema = snap.schema
    names = _text_fields(schema, fields)
    plan = _plan(parse(query, list(schema)), schema, names, ranking)
    ex = _Executor(snap, ranking)
    scores = np.zeros(snap.total, dtype=np.float64)
    coord = np.zeros(snap.total, dtype=np.int32)
    required = snap.live.copy()
    has_positive = False
    for unit in plan.units:
        matched = ex.matches(unit)
        if unit.occur == "must_not":
            required &= ~matched
            continue
        has_positive = True
        ex.add_scores(scores, unit.scoring)
        coord += matched
        if unit.occur == "must":
            required &= matched
    if not has_positive:
        return ex, plan, scores, coord, np.zeros(snap.total, dtype=bool)
    ex.add_scores(scores, plan.bonus)
    candidates = required & (coord > 0)
    if filters:
        candidates &= _filter_mask(snap, ex, filters)
    return ex, plan, scores, coord, candidates


def search(
    snap: Snapshot,
    query: str,
    limit: int = 10,
    fields: Iterable[str] | None = None,
    filter: Mapping[str, Any] | None = None,
    ranking: Ranking = DEFAULT_RANKING,
) -> Results:
    """Rank the documents of ``snap`` for ``query``; the top ``limit`` hits and the total."""
    _ex, _plan, scores, coord, candidates = _run(snap, query, fields, filter, ranking)
    cand = np.flatnonzero(candidates)
    total = len(cand)
    if not total or limit <= 0:
        return Results((), total)
    top_scores = scores[cand]
    key = coord[cand] * (float(top_scores.max()) + 1.0) + top_scores
    k = min(limit, total)
    part = np.argpartition(-key, k - 1)[:k] if k < total else np.arange(total)
    order = part[np.lexsort((cand[part], -key[part]))]
    hits = []
    unique = snap.schema.unique_field
    for i in order.tolist():
        doc = int(cand[i])
        stored = snap.stored_fields(doc)
        hit_id = stored.get(unique, doc) if unique else doc
        hits.append(Hit(hit_id, float(top_scores[i]), stored, doc))
    return Results(tuple(hits), total)


@dataclass(frozen=True)
class Explanation:
    """Why a document got its score: one line per (field, view, term) that contributed."""

    doc_id: Any
    score: float
    matched: bool
    lines: tuple[str, ...]

    def __str__(self) -> str:
        head = f"document {self.doc_id!r}: score {self.score:.4f}"
        if not self.matched:
            head += " (does not match the query)"
        return "\n".join([head, *self.lines])


def explain(
    snap: Snapshot,
    query: str,
    doc_id: Any,
    fields: Iterable[str] | None = None,
    ranking: Ranking = DEFAULT_RANKING,
) -> Explanation:
    """Explain the score of the document whose unique field is ``doc_id``."""
    doc = snap.doc_for_id(doc_id)
    if doc is None:
        raise KeyError(f"no document with id {doc_id!r}")
    ex, plan, scores, _coord, candidates = _run(snap, query, fields, None, ranking)
    lines = []
    r = ranking
    for s in [sc for u in plan.units if u.occur != "must_not" for sc in u.scoring] + plan.bonus:
        c = ex.contribution(s)
        if c is None:
            continue
        p, values, idf = c
        i = int(np.searchsorted(p.docs, doc))
        if i < len(p.docs) and p.docs[i] == doc:
            length = snap.lengths[s.field][doc]
            lines.append(
                f"  {values[i]:.4f} = {s.weight:g} (weight of {s.text_field}/{s.view})"
                f" x idf {idf:.3f} (df {p.df}, N {snap.doc_count})"
                f" x tf {p.freqs[i]:g} / (tf + {r.k1:g} x (1 - {r.b:g} + {r.b:g} x len"
                f" {length:g} / avg {snap.avg_length[s.field]:.1f}))   [{s.term!r}]"
            )
    return Explanation(doc_id, float(scores[doc]), bool(candidates[doc]), tuple(lines))
