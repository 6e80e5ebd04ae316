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
from dataclasses import replace
from functools import lru_cache
from typing import NamedTuple

from vnsearch.analysis import Token, segment, syllables
from vnsearch.analysis.analyzer import fold_term
from vnsearch.analysis.stopwords import question_mask, stopword_mask
from vnsearch.analysis.telex import from_telex, from_vni
from vnsearch.analysis.user_words import WordList
from vnsearch.index.schema import TEXT
from vnsearch.query import Occur, Or, ParsedQuery, Phrase, Term
from vnsearch.ranking.accents import AccentVocabulary, may_respell
from vnsearch.ranking.scoring import DEFAULT_RANKING, Ranking
from vnsearch.ranking.typos import correction

__all__ = ["AnalyzedItem", "AnalyzedQuery", "PlainWords", "analyze_query"]


class AnalyzedItem(NamedTuple):
    """One word or phrase of a query (each alternative of an ``Or`` is one), analyzed.

    ``syllables`` are its terms in the exact view (normalized, lowercase; the parts of a
    compound such as ``205-QĐ/TW`` are left out), ``folded`` the same terms folded (the
    folded view's), ``positions`` where each stands in the item (for phrases). An item in
    a field that is not TEXT (``topic:Thể_thao``) is matched by its value: no syllables.

    A plain word is a ``Term`` with no field that is neither in an ``Or`` nor ``-excluded``.
    Only plain words have ``restored`` (the accented form the index knows, for a word of
    one syllable in a query typed without any accent), ``stop`` (a stop word, alone or with
    the plain words next to it: ``tuy nhiên``; flagged when the ranking drops stop words)
    and ``question`` (``nào``, ``thế nào``; flagged in a grouped query when the ranking
    drops question words).
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
    corrected: bool = False  # a word in it was a typo, read as the word a slip away

    @property
    def accented(self) -> bool:
        """Whether any of its syllables has diacritics (folding changes it)."""
        return self.syllables != self.folded


class PlainWords(NamedTuple):
    """The query's plain words side by side, accents restored: what bonus terms are made of.

    ``syllables`` (lowercase) and ``folded`` are those of every plain word in order (with
    restored accents), so neighbouring ones form bigrams; ``questions`` flags each that is
    a question word there (in a grouped query, when the ranking drops question words).
    ``words`` are pyvi's words of the plain words joined by spaces (lowercase; none for
    fewer than two syllables), and ``word_questions`` flags each that holds a syllable
    flagged in ``questions``.
    """

    syllables: tuple[str, ...] = ()
    folded: tuple[str, ...] = ()
    questions: tuple[bool, ...] = ()
    words: tuple[str, ...] = ()
    word_questions: tuple[bool, ...] = ()
    restored: bool = False  # some plain word's accents were restored


class AnalyzedQuery(NamedTuple):
    """A parsed query analyzed: its items in order, how many clauses it has, whether it is
    grouped (a long query: at least ``ranking.group_from`` plain ``should`` words, matched
    as one group), and its plain words side by side."""

    items: tuple[AnalyzedItem, ...]
    clauses: int
    grouped: bool
    plain: PlainWords
    corrected: str | None = None  # the query as read, when keys or typos were read


class _Text(NamedTuple):
    """What one text of a query (a word, a phrase, a restored form) holds, on its own."""

    tokens: tuple[Token, ...]  # every syllable token, the parts of compounds included
    syllables: tuple[str, ...]  # lowercase, parts left out
    folded: tuple[str, ...]
    positions: tuple[int, ...]
    respellable: bool  # may hold a syllable spelled with i or y either way (``lí``, ``lý``)
    accented: bool  # typed with accents: folding the text changes it


# makes a named tuple from a tuple of its fields without calling its (Python) ``__new__``
_new_tuple = tuple.__new__
_BY_VALUE = _Text((), (), (), (), False, False)  # an item in a field that is not TEXT


def _folds(text: str) -> bool:
    """Whether folding ``text`` changes it (beyond its case): typed with accents."""
    lower = text.lower()
    return fold_term(lower) != lower


def _analyzed(text: str, tokens: Sequence[Token]) -> _Text:
    kept = [t for t in tokens if t.kind != "part"]
    lower = tuple(t.text.lower() for t in kept)
    folded = tuple(map(fold_term, lower))
    positions = tuple(t.position for t in kept)
    return _Text(tuple(tokens), lower, folded, positions, may_respell(text), _folds(text))


def _text(text: str) -> _Text:
    """The analysis of one word (or phrase, or restored form) of a query. Common words
    come back query after query: the 4,096 most recent short ones are kept (process-wide;
    the result is immutable and depends on the text alone)."""
    return _recent_text(text) if len(text) <= 64 else _analyzed(text, syllables(text))


@lru_cache(maxsize=4096)
def _recent_text(text: str) -> _Text:
    return _analyzed(text, syllables(text))


def analyze_query(
    parsed: ParsedQuery,
    schema,
    accents: AccentVocabulary | None = None,
    ranking: Ranking = DEFAULT_RANKING,
) -> AnalyzedQuery:
    """Analyze each item of ``parsed`` once. ``accents`` (the index's vocabulary) respells
    ``i``/``y`` when ``ranking.respell``, and restores the accents of a query typed without
    any when ``ranking.restored_weight``; stop words are flagged when ``ranking.stopwords``,
    question words when ``ranking.question_words`` in a grouped query."""
    clauses = parsed.clauses
    pairs = parsed.items()
    nodes = [node for _i, node in pairs]
    texts = [
        _text(n.text) if n.field is None or isinstance(schema[n.field], TEXT) else _BY_VALUE
        for n in nodes
    ]
    typed = list(nodes)
    fixed: set[int] = set()
    if accents is not None:
        _read_keys(nodes, texts, accents)
        if ranking.typo_weight:
            out = {k for k, (i, _n) in enumerate(pairs) if clauses[i].occur == "must_not"}
            fixed = _correct_typos(nodes, texts, accents, out)
    read = _as_read(parsed, nodes) if any(a is not b for a, b in zip(typed, nodes)) else None
    if ranking.respell and accents is not None:
        _respell(nodes, texts, accents)
    plain, ones, should = _plain(clauses, pairs, texts)
    restored = _restore(nodes, texts, plain, ones, accents, ranking)
    words = [r or o or "" for r, o in zip(restored, ones)]
    grouped = 0 < ranking.group_from <= should
    asked = ranking.question_words and grouped
    n = len(plain)
    at = [pairs[k][0] for k in plain]
    stops = _stop_mask(words, at, schema.stopword_list()) if ranking.stopwords else [False] * n
    asks = question_mask(words) if asked else [False] * n
    items = []
    exact: list[_Text] = []  # the plain words' analyses (of the restored forms)
    joined: list[str] = []  # and their texts (restored)
    j = 0  # the next plain word
    for k, (i, _parsed) in enumerate(pairs):
        node, text = nodes[k], texts[k]
        if j < n and plain[j] == k:
            r = restored[j]
            flags = (True, r, stops[j], asks[j])
            exact.append(text if r is None else _text(r))
            joined.append(node.text if r is None else r)
            j += 1
        else:
            flags = (False, None, False, False)
        row = (i, clauses[i].occur, node, text.syllables, text.folded, text.positions, *flags)
        items.append(_new_tuple(AnalyzedItem, (*row, node.text[:1].isupper(), k in fixed)))
    restored_any = any(r is not None for r in restored)
    plain_words = _plain_words(exact, " ".join(joined), restored_any, asked, schema.word_list())
    return AnalyzedQuery(tuple(items), len(clauses), grouped, plain_words, read)


def _plain(clauses, pairs, texts: list[_Text]) -> tuple[list[int], list[str | None], int]:
    """Which items are plain words (by index), each one's only token (None: it has several,
    or none), and how many of them are ``should`` clauses."""
    plain: list[int] = []
    ones: list[str | None] = []
    should = 0
    for k, (i, node) in enumerate(pairs):
        clause = clauses[i]
        if (
            clause.occur != "must_not"
            and clause.node is node  # not in an Or
            and isinstance(node, Term)
            and node.field is None
        ):
            plain.append(k)
            tokens = texts[k].tokens
            ones.append(tokens[0].text if len(tokens) == 1 else None)
            should += clause.occur == "should"
    return plain, ones, should


@lru_cache(maxsize=4096)
def _keys_reading(word: str) -> str | None:
    """The syllable ``word`` spells as raw Telex or VNI keystrokes, when it differs."""
    reading = from_vni(word) if any(c.isdigit() for c in word) else from_telex(word)
    return reading if reading != word else None


def _read_keys(nodes: list, texts: list[_Text], accents: AccentVocabulary) -> None:
    """Read each syllable typed as raw Telex or VNI keystrokes (``vieetj``, ``Vie65t``) as
    the syllable it spells (``việt``), unless the index holds the word as typed in at
    least as many documents as the syllable (an English word, a name, a code): typed
    with the input method off, the query is then read as if it had been on. Changes
    ``nodes`` and ``texts`` in place."""
    for k, t in enumerate(texts):
        if t is _BY_VALUE:
            continue
        edits = []
        for tok in t.tokens:
            if tok.kind != "syllable" or not tok.text.isascii():
                continue
            reading = _keys_reading(tok.text)
            if reading is not None and _favours(accents, reading.lower(), tok.text.lower()):
                edits.append((tok, reading))
        if edits:
            text = nodes[k].text
            for tok, reading in reversed(edits):
                text = text[: tok.start] + reading + text[tok.end :]
            nodes[k] = replace(nodes[k], text=text)
            texts[k] = _text(text)


def _favours(accents: AccentVocabulary, reading: str, typed: str) -> bool:
    """Whether the index holds ``reading`` in more documents than the word as ``typed``
    (any accents), or holds the typed word nowhere."""
    typed_df = sum(df for _form, df in accents.syllables.get(fold_term(typed), ()))
    if not typed_df:
        return True
    forms = accents.syllables.get(fold_term(reading), ())
    return next((df for form, df in forms if form == reading), 0) > typed_df


def _correct_typos(
    nodes: list, texts: list[_Text], accents: AccentVocabulary, excluded: set[int]
) -> set[int]:
    """Read each syllable the index does not hold (of 4 letters or more, of 2 or 3 by its
    neighbours, or any with ``~1``; none with ``~0``) as the one a slip away that it holds
    (``tjành`` -> ``thành``: :func:`vnsearch.ranking.typos.correction`), after raw keys.
    An ``excluded`` item (``-word``) is read without its neighbours (so never when short:
    a guess must not take documents away). Changes ``nodes`` and ``texts`` in place; the
    indexes of the items changed."""
    fixed: set[int] = set()
    # every syllable of the query in order, lowercase: the neighbours a candidate is read with
    flat = [(k, tok) for k, t in enumerate(texts) if t is not _BY_VALUE for tok in t.tokens]
    flat = [(k, tok) for k, tok in flat if tok.kind == "syllable"]
    lower = [tok.text.lower() for _k, tok in flat]
    found: dict[int, list[tuple[Token, str]]] = {}
    for i, (k, tok) in enumerate(flat):
        asked = getattr(nodes[k], "typos", None)
        if asked == 0:
            continue
        near = (lower[i - 1] if i else None, lower[i + 1] if i + 1 < len(flat) else None)
        near = (None, None) if k in excluded else near
        word = correction(tok.text, accents.syllables, asked is not None, near, accents.bigrams)
        if word is not None:
            found.setdefault(k, []).append((tok, word))
    for k, edits in found.items():
        text = nodes[k].text
        for tok, word in reversed(edits):
            text = text[: tok.start] + word + text[tok.end :]
        nodes[k] = replace(nodes[k], text=text)
        texts[k] = _text(text)
        fixed.add(k)
    return fixed


def _as_read(parsed: ParsedQuery, nodes: list) -> str:
    """``parsed`` with its words and phrases as read (``nodes``, in ``items()`` order)."""
    it = iter(nodes)
    clauses = []
    for c in parsed.clauses:
        if isinstance(c.node, Or):
            node: Term | Phrase | Or = Or(tuple(next(it) for _ in c.node.items))
        else:
            node = next(it)
        clauses.append(replace(c, node=node))
    return str(ParsedQuery(tuple(clauses)))


def _respell(nodes: list, texts: list[_Text], accents: AccentVocabulary) -> None:
    """Spell each syllable of the text items with ``i`` or ``y`` as the index spells it more
    often (``vật lí`` -> ``vật lý`` in an index that writes ``lý``): both spellings are
    correct, and documents use one. Changes ``nodes`` and ``texts`` in place."""
    searched = [k for k, t in enumerate(texts) if t is not _BY_VALUE]
    if not any(texts[k].respellable for k in searched):
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
            texts[k] = _analyzed(text, tokens)


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
    if any(_folds(n.text) if t is _BY_VALUE else t.accented for n, t in zip(nodes, texts)):
        return none  # typed with accents: taken as typed
    folded = [
        texts[k].folded[0] if one is not None else fold_term(nodes[k].text.lower())
        for k, one in zip(plain, ones)
    ]
    out = accents.restore(folded)
    return [r if one is not None and r != f else None for r, one, f in zip(out, ones, folded)]


def _stop_mask(words: list[str], at: list[int], own: WordList) -> list[bool]:
    """Per plain word (one syllable, or ``""``; ``at``: its clause's index): is it a stop
    word, alone or with its neighbours in the query (``tuy nhiên``), or one of the
    schema's ``own`` stop words?"""
    out = [False] * len(words)
    start = 0
    for end in range(1, len(words) + 1):  # runs of neighbouring clauses, each on its own
        if end == len(words) or at[end] != at[end - 1] + 1:
            run = words[start:end]
            out[start:end] = [a or b for a, b in zip(stopword_mask(run), own.mask(run))]
            start = end
    return out


def _plain_words(
    exact: list[_Text], joined: str, restored: bool, asked: bool, own: WordList
) -> PlainWords:
    """The plain words side by side: ``exact`` their analyses (of the restored forms where
    accents were restored), ``joined`` their texts joined by spaces (no syllable spans the
    space between two words); with ``asked``, question words flagged."""
    if len(exact) == 1:
        lower, folded = exact[0].syllables, exact[0].folded
    else:
        lowers: list[str] = []
        foldeds: list[str] = []
        for t in exact:
            lowers += t.syllables
            foldeds += t.folded
        lower, folded = tuple(lowers), tuple(foldeds)
    words = tuple(w.text.lower() for w in segment(joined, own)) if len(lower) > 1 else ()
    if not asked:
        return PlainWords(
            lower, folded, (False,) * len(lower), words, (False,) * len(words), restored
        )
    asks = question_mask(list(lower))
    flagged = {s for s, a in zip(lower, asks) if a}
    word_asks = tuple(bool(flagged.intersection(w.split(" "))) for w in words)
    return PlainWords(lower, folded, tuple(asks), words, word_asks, restored)
