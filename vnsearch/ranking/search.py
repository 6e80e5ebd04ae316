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
from collections.abc import Callable, Iterable, Mapping, Sequence
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


class Results(Sequence[Hit]):
    """The top hits of a query, best first, and ``total``: how many documents matched.

    The total is counted when first asked for (ranking the top hits does not need it).
    """

    __slots__ = ("_count", "_total", "hits")

    def __init__(self, hits: tuple[Hit, ...], total: int | Callable[[], int]) -> None:
        self.hits = hits
        self._total = total if isinstance(total, int) else None
        self._count = None if isinstance(total, int) else total

    @property
    def total(self) -> int:
        if self._total is None:
            self._total = self._count()
            self._count = None
        return self._total

    def __getitem__(self, i):  # type: ignore[override]
        return self.hits[i]

    def __len__(self) -> int:
        return len(self.hits)

    def __repr__(self) -> str:
        return f"Results(hits={list(self.hits)!r}, total={self.total})"


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
        self._cache: dict[tuple[str, str | bytes], TermPostings | None] = {}

    def postings(self, field: str, term: str | bytes) -> TermPostings | None:
        key = (field, term)
        if key not in self._cache:
            self._cache[key] = self.snap.postings(field, term)
        return self._cache[key]

    def contribution(self, s: _Scoring) -> tuple[TermPostings, np.ndarray, float] | None:
        """The term's postings, its BM25 value in each of them, and its idf."""
        p = self.postings(s.field, s.term)
        if p is None or not p.df:
            return None
        idf = lucene_idf(p.df, self.snap.doc_count)
        norm = self.snap.length_norms(s.field, self.ranking.k1, self.ranking.b)[p.docs]
        values = p.freqs / (p.freqs + norm)
        values *= s.weight * idf
        return p, values, idf

    def values_at(self, s: _Scoring, p: TermPostings, idf: float, docs: np.ndarray) -> np.ndarray:
        """The term's BM25 value in each of ``docs`` (sorted; 0 where it does not occur)."""
        out = np.zeros(len(docs), dtype=np.float64)
        found, i = p.find(docs)
        tf = p.freqs[i[found]]
        norm = self.snap.length_norms(s.field, self.ranking.k1, self.ranking.b)[docs[found]]
        out[found] = tf / (tf + norm) * (s.weight * idf)
        return out

    def matches(self, unit: _Unit) -> np.ndarray:
        mask = np.zeros(self.snap.total, dtype=bool)
        for f, term in unit.any_of:
            p = self.postings(f, term)
            if p is not None:
                mask[p.docs] = True
        for phrase in unit.phrases:
            mask[self.phrase_docs(phrase)] = True
        return mask

    def unit_size(self, unit: _Unit) -> int:
        """At least as many documents as ``unit`` matches (cheap: document frequencies)."""
        size = 0
        for f, term in unit.any_of:
            p = self.postings(f, term)
            size += p.df if p is not None else 0
        for phrase in unit.phrases:
            lists = [self.postings(f, t) for f, t, _off in phrase]
            size += min(p.df if p is not None else 0 for p in lists)
        return size

    def unit_docs(self, unit: _Unit) -> np.ndarray:
        """The sorted documents ``unit`` matches."""
        parts = [p.docs for f, t in unit.any_of if (p := self.postings(f, t)) is not None]
        parts += [self.phrase_docs(phrase) for phrase in unit.phrases]
        if not parts:
            return np.empty(0, dtype=np.int64)
        return parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))

    def unit_contains(self, unit: _Unit, docs: np.ndarray) -> np.ndarray:
        """Whether ``unit`` matches each of the sorted documents ``docs``."""
        found = np.zeros(len(docs), dtype=bool)
        for f, term in unit.any_of:
            p = self.postings(f, term)
            if p is not None:
                found |= p.find(docs)[0]
        for phrase in unit.phrases:
            found |= _member(self.phrase_docs(phrase), docs)
        return found

    def phrase_docs(self, phrase: list[tuple[str, str, int]]) -> np.ndarray:
        """Documents where the phrase's terms stand at their relative positions."""
        lists = [self.postings(f, t) for f, t, _off in phrase]
        if any(p is None for p in lists):
            return np.empty(0, dtype=np.int64)
        rarest, *rest = sorted(lists, key=lambda p: p.df)
        docs = rarest.sorted_docs
        for p in rest:
            docs = docs[p.find(docs)[0]]
        keys = None
        for p, (_f, _t, off) in zip(lists, phrase):
            if not len(docs):
                break
            k = np.unique(p.position_keys(docs, off))
            keys = k if keys is None else np.intersect1d(keys, k, assume_unique=True)
            docs = np.unique(keys >> 32)
        return docs


def _member(sorted_docs: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Whether each of ``docs`` is in ``sorted_docs``."""
    if not len(sorted_docs):
        return np.zeros(len(docs), dtype=bool)
    i = np.searchsorted(sorted_docs, docs)
    i[i == len(sorted_docs)] = 0
    return sorted_docs[i] == docs


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


class _Query:
    """A planned query over one snapshot: its clauses, scoring terms and filters."""

    def __init__(self, snap: Snapshot, query: str, fields, filters, ranking: Ranking) -> None:
        if not isinstance(query, str):
            raise TypeError(f"query must be a str, got {type(query).__name__}")
        schema = snap.schema
        plan = _plan(parse(query, list(schema)), schema, _text_fields(schema, fields), ranking)
        self.ex = _Executor(snap, ranking)
        self.positive = [u for u in plan.units if u.occur != "must_not"]
        self.negative = [u for u in plan.units if u.occur == "must_not"]
        # every term that adds to scores: the positive clauses', then the bonuses
        self.scoring = [s for u in self.positive for s in u.scoring]
        if self.positive:
            self.scoring += plan.bonus
        self.filters = filters
        self._filter_mask: np.ndarray | None = None

    def filter_mask(self) -> np.ndarray:
        if self._filter_mask is None:
            self._filter_mask = _filter_mask(self.ex.snap, self.ex, self.filters)
        return self._filter_mask

    def match_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Per document: how many positive clauses it matches, and whether it is a result."""
        snap, ex = self.ex.snap, self.ex
        coord = np.zeros(snap.total, dtype=np.int32)
        if not self.positive:
            return coord, np.zeros(snap.total, dtype=bool)
        required = snap.live.copy()
        for unit in self.negative:
            required &= ~ex.matches(unit)
        for unit in self.positive:
            matched = ex.matches(unit)
            coord += matched
            if unit.occur == "must":
                required &= matched
        candidates = required & (coord > 0)
        if self.filters:
            candidates &= self.filter_mask()
        return coord, candidates

    def count(self) -> int:
        return int(np.count_nonzero(self.match_all()[1]))

    def match_every(self, limit: int) -> np.ndarray | None:
        """The sorted results that match every positive clause, if there are at least
        ``limit`` of them (they are then the best tier); None when that would not pay or
        they are too few. Starts from the rarest clause and looks the rest up."""
        ex = self.ex
        if not self.positive:
            return None
        sizes = [ex.unit_size(u) for u in self.positive]
        if min(sizes) > _DEFER_SHARE * ex.snap.total:
            return None
        order = np.argsort(sizes, kind="stable").tolist()
        docs = ex.unit_docs(self.positive[order[0]])
        for i in order[1:]:
            if len(docs) < limit:
                return None
            docs = docs[ex.unit_contains(self.positive[i], docs)]
        for unit in self.negative:
            docs = docs[~ex.unit_contains(unit, docs)]
        if self.filters:
            docs = docs[self.filter_mask()[docs]]
        return docs if len(docs) >= limit else None


# A term whose postings cover more than this share of the documents is scored, when it can
# be, only for the documents that may still reach the top hits (see ``_top``).
_DEFER_SHARE = 1 / 8
# Looking a document up in postings (a binary search) costs about this many postings read
# in full; below that ratio the whole postings are read instead.
_LOOKUP_COST = 12


def _top(
    q: _Query, cand: np.ndarray, coord: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The best ``limit`` of the documents ``cand`` (sorted) and their scores, best first.

    Ordered by (clauses matched, score, document number). Exact, but lazy in two ways:
    only documents in the highest tiers of matched clauses that hold ``limit`` documents
    can be returned, and frequent terms (which add little to any score) are scored only for
    the documents whose partial score plus the most those terms could add still reaches
    the ``limit``-th best partial score (the MaxScore bound; a BM25 term adds less than
    ``weight * idf``).
    """
    snap = q.ex.snap
    k = min(limit, len(cand))
    at_least = np.cumsum(np.bincount(coord)[::-1])[::-1]  # documents with >= c clauses
    tier = int(np.flatnonzero(at_least >= k)[-1])
    if tier > 1:
        keep = coord >= tier
        cand, coord = cand[keep], coord[keep]
    terms = _terms(q)
    light = [t for t in terms if t[1].df <= _DEFER_SHARE * snap.total]
    heavy = [t for t in terms if t[1].df > _DEFER_SHARE * snap.total]
    if not light or len(cand) <= k:
        light, heavy = terms, []
    scores = _score(q.ex, light, cand)
    if heavy:
        bound = sum(s.weight * idf for s, _p, idf in heavy)
        step = float(scores.max()) + bound + 1.0  # one tier of clauses outweighs any score
        key = coord * step + scores
        kth = np.partition(key, len(key) - k)[len(key) - k]
        alive = np.flatnonzero(key + bound >= kth - 1e-9 * abs(kth))
        cand, coord, scores = cand[alive], coord[alive], scores[alive]
        scores += _score(q.ex, heavy, cand)
    step = float(scores.max()) + 1.0
    key = coord * step + scores
    part = np.argpartition(-key, k - 1)[:k] if k < len(key) else np.arange(len(key))
    order = part[np.lexsort((cand[part], -scores[part], -coord[part]))]
    return cand[order], scores[order]


def _terms(q: _Query) -> list[tuple[_Scoring, TermPostings, float]]:
    """(scoring term, its postings, its idf) of every scoring term found in the index."""
    out = []
    for s in q.scoring:
        p = q.ex.postings(s.field, s.term)
        if p is not None and p.df:
            out.append((s, p, lucene_idf(p.df, q.ex.snap.doc_count)))
    return out


def _score(ex: _Executor, terms: list, docs: np.ndarray) -> np.ndarray:
    """Summed BM25 values of ``terms`` for the sorted documents ``docs``."""
    out = np.zeros(len(docs), dtype=np.float64)
    dense = None
    for s, p, idf in terms:
        if p.df > _LOOKUP_COST * len(docs):
            out += ex.values_at(s, p, idf, docs)
            continue
        if dense is None:
            dense = np.zeros(ex.snap.total, dtype=np.float64)
        _p, values, _idf = ex.contribution(s)
        dense[p.docs] += values
    if dense is not None:
        out += dense[docs]
    return out


def search(
    snap: Snapshot,
    query: str,
    limit: int = 10,
    fields: Iterable[str] | None = None,
    filter: Mapping[str, Any] | None = None,
    ranking: Ranking = DEFAULT_RANKING,
) -> Results:
    """Rank the documents of ``snap`` for ``query``; the top ``limit`` hits and the total."""
    q = _Query(snap, query, fields, filter, ranking)
    cand = q.match_every(limit) if limit > 0 else None
    if cand is not None:
        coord = np.full(len(cand), len(q.positive), dtype=np.int32)
        total: int | Callable[[], int] = q.count
    else:
        coord, candidates = q.match_all()
        cand = np.flatnonzero(candidates)
        coord = coord[cand]
        total = len(cand)
    if not len(cand) or limit <= 0:
        return Results((), total)
    docs, scores = _top(q, cand, coord, limit)
    hits = []
    unique = snap.schema.unique_field
    for doc, score in zip(docs.tolist(), scores.tolist()):
        stored = snap.stored_fields(doc)
        hit_id = stored.get(unique, doc) if unique else doc
        hits.append(Hit(hit_id, score, stored, doc))
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
    q = _Query(snap, query, fields, None, ranking)
    ex = q.ex
    lines = []
    r = ranking
    for s in q.scoring:
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
    score = float(_score(ex, _terms(q), np.array([doc], dtype=np.int64))[0])
    return Explanation(doc_id, score, bool(q.match_all()[1][doc]), tuple(lines))
