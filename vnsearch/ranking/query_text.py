"""Query analysis: each word and phrase of a parsed query analyzed once, for the planner.

:func:`analyze_query` reads the items of a :class:`~vnsearch.query.ParsedQuery` as the index
reads text: each one's syllables (normalized, lowercase) and their folded forms, after
spelling ``i``/``y`` as the index does (``vật lí`` -> ``vật lý``) and, in a query typed
without any accent, restoring each plain word's accents from the index's vocabulary
(``duong`` -> ``đường``). Plain words (words with no field, outside ``OR`` and ``-``) also
get stop-word and question-word flags, and, side by side, give the syllables and pyvi words
that the bigram and word bonus terms are made of. The result is immutable data that
:func:`vnsearch.ranking.plan.plan_query` only reads: nothing is tokenized, folded or
segmented after this.

>>> from vnsearch.index.schema import TEXT, Schema
>>> from vnsearch.query import parse
>>> q = analyze_query(parse("Thủ tướng của -Đảng"), Schema(body=TEXT()))
>>> [(i.syllables, i.folded, i.plain, i.stop) for i in q.items]  # doctest: +NORMALIZE_WHITESPACE
[(('thủ',), ('thu',), True, False), (('tướng',), ('tuong',), True, False),
 (('của',), ('cua',), True, True), (('đảng',), ('dang',), False, False)]
>>> q.plain.syllables, q.plain.words
(('thủ', 'tướng', 'của'), ('thủ tướng', 'của'))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

from vnsearch.analysis import Token, segment, syllables
from vnsearch.analysis.analyzer import fold_term
from vnsearch.analysis.stopwords import question_mask, stopword_mask
from vnsearch.index.schema import TEXT
from vnsearch.query import Occur, ParsedQuery, Phrase, Term
from vnsearch.ranking.accents import AccentVocabulary, may_respell
from vnsearch.ranking.bm25 import DEFAULT_RANKING, Ranking

__all__ = ["AnalyzedItem", "AnalyzedQuery", "PlainWords", "analyze_query"]


@dataclass(frozen=True, slots=True)
class AnalyzedItem:
    """One word or phrase of a query (each alternative of an ``Or`` is one), analyzed.

    ``syllables`` are its terms in the exact view (normalized, lowercase; the parts of a
    compound such as ``205-QĐ/TW`` are left out), ``folded`` the same terms folded (the
    folded view's), ``positions`` where each stands in the item (for phrases). An item in
    a field that is not TEXT (``topic:Thể_thao``) is matched by its value: no syllables.

    A plain word is a ``Term`` with no field that is neither in an ``Or`` nor ``-excluded``.
    Only plain words have ``restored`` (the accented form the index knows, for a word of
    one syllable in a query typed without any accent), ``stop`` (a stop word, alone or with
    the plain words next to it: ``tuy nhiên``) and ``question`` (``nào``, ``thế nào``).
    """

    clause: int  # the index of its clause in the parsed query
    occur: Occur
    node: Term | Phrase  # as parsed, ``i``/``y`` spelled as the index spells them
    syllables: tuple[str, ...] = ()
    folded: tuple[str, ...] = ()
    positions: tuple[int, ...] = ()
    plain: bool = False
    restored: str | None = None
    stop: bool = False
    question: bool = False
    capitalized: bool = False  # starts with a capital letter: maybe a name

    @property
    def accented(self) -> bool:
        """Whether any of its syllables has diacritics (folding changes it)."""
        return self.syllables != self.folded


@dataclass(frozen=True, slots=True)
class PlainWords:
    """The query's plain words side by side, accents restored: what bonus terms are made of.

    ``syllables`` (lowercase) and ``folded`` are those of every plain word in order (with
    restored accents), so neighbouring ones form bigrams; ``questions`` flags each that is
    a question word there. ``words`` are pyvi's words of the plain words joined by spaces
    (lowercase; none for fewer than two syllables), and ``word_questions`` flags each that
    holds a syllable flagged in ``questions``.
    """

    syllables: tuple[str, ...] = ()
    folded: tuple[str, ...] = ()
    questions: tuple[bool, ...] = ()
    words: tuple[str, ...] = ()
    word_questions: tuple[bool, ...] = ()
    restored: bool = False  # some plain word's accents were restored


@dataclass(frozen=True, slots=True)
class AnalyzedQuery:
    """A parsed query analyzed: its items in order, how many clauses it has, its plain words."""

    items: tuple[AnalyzedItem, ...]
    clauses: int
    plain: PlainWords


class _Text(NamedTuple):
    tokens: tuple[Token, ...]  # every syllable token, the parts of compounds included
    syllables: tuple[str, ...]  # lowercase, parts left out
    folded: tuple[str, ...]
    positions: tuple[int, ...]


def _analyzed(tokens: Sequence[Token]) -> _Text:
    kept = [t for t in tokens if t.kind != "part"]
    lower = tuple(t.text.lower() for t in kept)
    return _Text(
        tuple(tokens), lower, tuple(map(fold_term, lower)), tuple(t.position for t in kept)
    )


def _text(text: str) -> _Text:
    """The syllables of one word (or phrase, or restored form) of a query. Common words
    come back query after query: the 4,096 most recent short ones are kept (process-wide;
    the result is immutable and depends on the text alone)."""
    return _recent_text(text) if len(text) <= 64 else _analyzed(syllables(text))


@lru_cache(maxsize=4096)
def _recent_text(text: str) -> _Text:
    return _analyzed(syllables(text))


def analyze_query(
    parsed: ParsedQuery,
    schema,
    accents: AccentVocabulary | None = None,
    ranking: Ranking = DEFAULT_RANKING,
) -> AnalyzedQuery:
    """Analyze each item of ``parsed`` once. ``accents`` (the index's vocabulary) respells
    ``i``/``y`` when ``ranking.respell``, and restores the accents of a query typed without
    any when ``ranking.restored_weight``."""
    pairs = list(parsed.items())
    nodes = [node for _i, node in pairs]
    is_text = [n.field is None or isinstance(schema[n.field], TEXT) for n in nodes]
    texts = [_text(n.text) if t else _Text((), (), (), ()) for n, t in zip(nodes, is_text)]
    if ranking.respell and accents is not None:
        _respell(nodes, texts, is_text, accents)
    clauses = parsed.clauses
    plain = [
        k
        for k, (i, node) in enumerate(pairs)
        if clauses[i].occur != "must_not"
        and clauses[i].node is node  # not in an Or
        and isinstance(node, Term)
        and node.field is None
    ]
    ones = [texts[k].tokens[0].text if len(texts[k].tokens) == 1 else None for k in plain]
    restored = _restore(nodes, texts, plain, ones, accents, ranking)
    words = [r or o or "" for r, o in zip(restored, ones)]
    stops = _stop_mask(words, [pairs[k][0] for k in plain])
    asks = question_mask(words)
    flags = {k: (r, s, a) for k, r, s, a in zip(plain, restored, stops, asks)}
    items = []
    for k, ((i, _parsed), node, text) in enumerate(zip(pairs, nodes, texts)):
        r, s, a = flags.get(k, (None, False, False))
        items.append(
            AnalyzedItem(
                i, clauses[i].occur, node, text.syllables, text.folded, text.positions,
                k in flags, r, s, a, node.text[:1].isupper(),
            )
        )  # fmt: skip
    exact = [texts[k] if r is None else _text(r) for k, r in zip(plain, restored)]
    joined = " ".join(nodes[k].text if r is None else r for k, r in zip(plain, restored))
    restored_any = any(r is not None for r in restored)
    return AnalyzedQuery(tuple(items), len(clauses), _plain_words(exact, joined, restored_any))


def _respell(nodes: list, texts: list[_Text], is_text: list[bool], accents: AccentVocabulary):
    """Spell each syllable of the text items with ``i`` or ``y`` as the index spells it more
    often (``vật lí`` -> ``vật lý`` in an index that writes ``lý``): both spellings are
    correct, and documents use one. Changes ``nodes`` and ``texts`` in place."""
    searched = [k for k, t in enumerate(is_text) if t]
    if not any(may_respell(nodes[k].text) for k in searched):
        return
    toks = [(k, j, t) for k in searched for j, t in enumerate(texts[k].tokens)]
    toks = [(k, j, t) for k, j, t in toks if t.kind == "syllable"]
    words = [t.text.lower() for _k, _j, t in toks]
    edits: dict[int, list[tuple[int, Token, str]]] = {}
    for (k, j, t), old, word in zip(toks, words, accents.respell(words)):
        if word != old:
            word = word[0].upper() + word[1:] if t.text[0].isupper() else word
            edits.setdefault(k, []).append((j, t, word))
    for k, changes in edits.items():
        text, tokens = nodes[k].text, list(texts[k].tokens)
        for j, t, word in reversed(changes):
            text = text[: t.start] + word + text[t.end :]
            tokens[j] = t._replace(text=word)  # the same letters around: the same tokens
        if text != nodes[k].text:
            nodes[k] = replace(nodes[k], text=text)
            texts[k] = _analyzed(tokens)


def _restore(
    nodes: list, texts: list[_Text], plain: list[int], ones: list[str | None],
    accents: AccentVocabulary | None, ranking: Ranking,
) -> list[str | None]:  # fmt: skip
    """The accented form of each plain word of a query typed without any accent (None
    where a word is not one syllable, or the index knows no accented form). ``ones``: each
    plain word's one syllable, punctuation around it left out (``gì?`` -> ``gì``)."""
    none: list[str | None] = [None] * len(plain)
    if accents is None or not ranking.restored_weight or not plain:
        return none
    if any(fold_term(n.text.lower()) != n.text.lower() for n in nodes):
        return none  # typed with accents: taken as typed
    folded = [
        texts[k].folded[0] if one is not None else fold_term(nodes[k].text.lower())
        for k, one in zip(plain, ones)
    ]
    out = accents.restore(folded)
    return [r if one is not None and r != f else None for r, one, f in zip(out, ones, folded)]


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


def _plain_words(exact: list[_Text], joined: str, restored: bool) -> PlainWords:
    """The plain words side by side: ``exact`` their analyses (of the restored forms where
    accents were restored), ``joined`` their texts joined by spaces (no syllable spans the
    space between two words)."""
    lower = tuple(s for t in exact for s in t.syllables)
    folded = tuple(f for t in exact for f in t.folded)
    asks = question_mask(list(lower))
    words = tuple(w.text.lower() for w in segment(joined)) if len(lower) > 1 else ()
    asked = {s for s, a in zip(lower, asks) if a}
    word_asks = tuple(bool(asked.intersection(w.split(" "))) for w in words)
    return PlainWords(lower, folded, tuple(asks), words, word_asks, restored)
