"""BM25 as vnsearch ranks with it: the parameters, and the one home of the formula.

For a term ``t`` of a document ``d`` in a hidden field (one view of a TEXT field)::

    weight * idf(t) * (tf / (tf + k1 * (1 - b + b * len(d) / avglen)) + delta)

with Lucene's ``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))`` (:func:`idf`), the length
norm ``k1 * (1 - b + b * len(d) / avglen)`` (:func:`length_norm`), and BM25+'s ``delta``
(0 in plain BM25) wherever the term occurs (:func:`bm25`). ``weight`` is the view's weight
times the field's boost; ``tf``, ``df``, ``len`` and ``avglen`` are taken in that hidden
field over live documents. As the saturated ``tf`` is at most 1 (below 1 unless ``k1`` is
0), a term adds at most ``weight * idf * (1 + delta)`` to a score (:func:`max_contribution`,
the MaxScore bound).
:func:`explain_term` gives the same value with every number that went into it.

The executor, ``explain`` and the highlighter's term weights all call these; the arrays
are computed in place and in a fixed order, so a score is the same float whichever way the
executor reaches it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from vnsearch.index.reader import Snapshot

__all__ = [
    "DEFAULT_RANKING",
    "Ranking",
    "TermContribution",
    "bm25",
    "bm25_many",
    "explain_term",
    "idf",
    "length_norm",
    "length_norms",
    "max_contribution",
]


def _check_params(where: str, k1: float, b: float) -> None:
    # ``not >=``: NaN fails too
    if not k1 >= 0:
        raise ValueError(f"{where}: k1 must be >= 0, got {k1!r}")
    if not 0 <= b <= 1:
        raise ValueError(f"{where}: b must be between 0 and 1, got {b!r}")


@dataclass(frozen=True)
class Ranking:
    """BM25F parameters: ``k1``, ``b``, the weight of each view, and how queries are read.

    ``Ranking()`` is plain BM25F over the views (every query word counts for ``coord``);
    ``DEFAULT_RANKING``, what searches use unless told otherwise, also groups long queries,
    drops stop words and question words, restores accents, respells ``lí``/``lý`` as the
    index does, weighs capitalized words more, adds BM25+'s ``delta``, and has its own
    ``k1`` for single syllables. Both were tuned on the UIT-ViQuAD train questions
    (``benchmarks/eval_quality.py --split train``).

    >>> Ranking().view_weights["syllables"]
    1.0
    >>> Ranking().params("words"), DEFAULT_RANKING.params("syllables")
    ((1.2, 0.9), (0.5, 0.9))
    >>> (Ranking().delta, Ranking().capitals), (DEFAULT_RANKING.delta, DEFAULT_RANKING.capitals)
    ((0.0, 1.0), (0.1, 2.0))

    ``k1`` must be at least 0 and ``b`` between 0 and 1, as in ``view_params``:

    >>> Ranking(b=1.5)
    Traceback (most recent call last):
    ...
    ValueError: Ranking: b must be between 0 and 1, got 1.5
    >>> Ranking(view_params={"words": (-1.0, 0.5)})
    Traceback (most recent call last):
    ...
    ValueError: Ranking.view_params['words']: k1 must be >= 0, got -1.0
    """

    k1: float = 1.2
    b: float = 0.9
    view_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "syllables": 1.0,
            "folded": 0.5,
            "bigrams": 0.5,
            "folded_bigrams": 0.5,
            "words": 1.0,
        }
    )
    # queries of at least this many plain words (natural questions) match as one OR
    # group: ranked by score alone, not first by how many of their words a document has
    group_from: int = 0
    # plain words that are stop words neither match nor score on their own (they still
    # form bigrams and words with their neighbours)
    stopwords: bool = False
    # in grouped queries, question words (``nào``, ``gì``, ``bao nhiêu``, ``thế nào``: in
    # almost every question, in few passages) neither match nor score, nor form bigrams
    # and words
    question_words: bool = False
    # weight (times the view's) of the exact-view terms of accents restored from the
    # index's vocabulary in a query typed without accents; 0 turns restoring off
    restored_weight: float = 0.0
    # (k1, b) of the views that do not use the common ones
    view_params: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    # BM25+: added to a term's saturated tf (``tf / (tf + norm)``) where it occurs
    delta: float = 0.0
    # weight (times the views') of the syllables of a query word written with a capital,
    # other than the query's first: names, which questions are about
    capitals: float = 1.0
    # spell each syllable ending in a lone i/y (``lí``/``lý``) as the index does more often
    respell: bool = False
    # weight (times the views') of a query word the index lacks read as the one a slip
    # away that it holds (``tjành`` -> ``thành``: ``ranking/typos.py``); 0 turns it off
    typo_weight: float = 0.0

    def __post_init__(self) -> None:
        # Lucene's BM25Similarity checks the same: a negative k1 or a b outside [0, 1]
        # makes a longer document or a repeated term score less than nothing
        _check_params("Ranking", self.k1, self.b)
        for view, (k1, b) in self.view_params.items():
            _check_params(f"Ranking.view_params[{view!r}]", k1, b)

    def params(self, view: str) -> tuple[float, float]:
        """BM25's ``(k1, b)`` for the terms of ``view``."""
        return self.view_params.get(view, (self.k1, self.b))


DEFAULT_RANKING = Ranking(
    view_weights={
        "syllables": 1.0,
        "folded": 0.7,
        "bigrams": 0.5,
        "folded_bigrams": 0.5,
        "words": 1.0,
    },
    # single syllables saturate sooner: a word said twice in a passage is not twice as
    # relevant, whereas a bigram or a word repeated is
    view_params={"syllables": (0.5, 0.9), "folded": (0.6, 0.9)},
    group_from=4,
    stopwords=True,
    question_words=True,
    restored_weight=0.5,
    # the names a question is about (capitalized words) weigh twice as much
    capitals=2.0,
    # BM25+: a matched term adds a little however long the passage is
    delta=0.1,
    respell=True,
    typo_weight=0.8,
)


def idf(df: int, n: int) -> float:
    """Lucene's BM25 idf of a term in ``df`` of ``n`` documents:
    ``ln(1 + (n - df + 0.5) / (df + 0.5))``, positive even for a term in every document.

    >>> round(idf(1, 1000), 4), round(idf(1000, 1000), 4)
    (6.5033, 0.0005)
    """
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def length_norm(k1: float, b: float, lengths: Any, avg: float) -> Any:
    """BM25's length norm ``k1 * (1 - b + b * len / avg)`` of each of ``lengths`` (an
    array or a number); an ``avg`` of 0 (no document has the field) counts as 1.

    >>> float(length_norm(1.2, 0.75, 20.0, 10.0))
    2.1
    """
    return k1 * (1.0 - b + b * lengths / (avg or 1.0))


def _norm_table(
    snap: Snapshot, field: str, k1: float, b: float, avg: float
) -> tuple[Any, np.ndarray]:
    codes, distinct = snap.length_codes(field)
    return codes, length_norm(k1, b, distinct, avg)


def length_norms(
    snap: Snapshot, field: str, k1: float, b: float, docs: np.ndarray, avg: float | None = None
) -> np.ndarray:
    """:func:`length_norm` of each of the documents ``docs`` in hidden field ``field``.

    Read through small arrays: a search gathers norms at thousands of scattered documents,
    and one ``float64`` per document of every field it scores does not stay in the CPU's
    caches. The snapshot keeps each document's length as the number of its value among
    the field's distinct lengths (:meth:`Snapshot.length_codes`); the norm is computed
    once per distinct length (kept by the snapshot per ``(field, k1, b, avg)``): the same
    values as computing it per document. ``avg`` replaces the snapshot's average length
    (the average over several indexes: :mod:`vnsearch.ranking.global_stats`)."""
    if avg is None:
        avg = snap.avg_length[field]
    key = ("length_norms", field, k1, b, avg)
    codes, norms = snap.memo(key, _norm_table, snap, field, k1, b, avg)
    return norms.take(docs) if codes is None else norms.take(codes.take(docs))


def bm25(tf: np.ndarray, norm: np.ndarray, scale: float, delta: float = 0.0) -> np.ndarray:
    """``scale * (tf / (tf + norm) + delta)``, computed in ``norm``'s memory (fresh arrays
    are costly: the allocator hands large ones back to the system and page-faults them in
    again). ``scale`` is the term's ``weight * idf``; ``norm`` its :func:`length_norms`.

    >>> bm25(np.array([1.0, 3.0]), np.array([1.0, 1.0]), 2.0).tolist()
    [1.0, 1.5]
    """
    norm += tf
    np.divide(tf, norm, out=norm)
    if delta:
        norm += delta
    if scale != 1.0:
        norm *= scale
    return norm


def bm25_many(
    tfs: list[np.ndarray], norms: list[np.ndarray], scales: list[float], counts: list[int],
    delta: float,
) -> np.ndarray:  # fmt: skip
    """:func:`bm25` of several terms' postings at once: term ``i`` has ``counts[i]`` of the
    concatenated frequencies and norms, and its values are multiplied by ``scales[i]``."""
    # the frequencies (narrow unsigned integers) widened as they are joined: ``float64``
    # arithmetic on a mix of types casts in buffered chunks (the same values, more slowly)
    tf = np.concatenate(tfs, dtype=np.float64)
    values = bm25(tf, np.concatenate(norms), 1.0, delta)
    # ``array.repeat``: numpy's ``np.repeat`` of a list costs a caught exception first
    values *= np.array(scales).repeat(counts)
    return values


def max_contribution(terms: Iterable[tuple[float, float]], delta: float) -> float:
    """The most the terms of ``(weight, idf)`` can add to a score together:
    ``sum(weight * idf) * (1 + delta)``, as each term's saturated tf is at most 1 (the
    MaxScore bound). Summed first, then scaled: the executor's pruning decisions depend
    on this exact float.

    >>> max_contribution([(1.0, 2.0), (0.5, 1.0)], 0.1)
    2.75
    """
    return sum(weight * i for weight, i in terms) * (1.0 + delta)


@dataclass(frozen=True)
class TermContribution:
    """What one term of a hidden field added to a document's score, and why.

    ``str()`` is the formula with these numbers in it.
    """

    field: str  # hidden (or plain) field, e.g. ``body.syllables``
    view: str
    term: str
    text_field: str
    value: float
    weight: float
    idf: float
    df: int
    n: int  # live documents
    tf: float
    length: float
    avg_length: float
    k1: float
    b: float
    delta: float

    def __str__(self) -> str:
        opened = "(" if self.delta else ""
        return (
            f"{self.value:.4f} = {self.weight:g} (weight of {self.text_field}/{self.view})"
            f" x idf {self.idf:.3f} (df {self.df}, N {self.n})"
            f" x {opened}tf {self.tf:g} / (tf + {self.k1:g} x (1 - {self.b:g} + {self.b:g}"
            f" x len {self.length:g} / avg {self.avg_length:.1f}))"
            + (f" + {self.delta:g})" if self.delta else "")
            + f"   [{self.term!r}]"
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain ``str``/``int``/``float`` values (JSON-able)."""
        return asdict(self)


def explain_term(
    field: str, view: str, term: str, text_field: str, weight: float, *,
    tf: float, df: int, n: int, length: float, avg_length: float, k1: float, b: float,
    delta: float,
) -> TermContribution:  # fmt: skip
    """The contribution of a term found ``tf`` times in a document of ``length`` (the term
    in ``df`` of ``n`` documents): the value :func:`bm25` gives it in a search, bit for bit.
    """
    term_idf = idf(df, n)
    norm = length_norm(k1, b, np.array([length], dtype=np.float64), avg_length)
    value = bm25(np.array([tf], dtype=np.float64), norm, weight * term_idf, delta)[0]
    return TermContribution(
        field, view, term, text_field, float(value), weight, term_idf, int(df), int(n),
        float(tf), float(length), float(avg_length), k1, b, delta,
    )  # fmt: skip
