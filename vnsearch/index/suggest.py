"""Completions of what someone is typing, from the index's own vocabulary.

``suggest(snap, "thu tu")`` completes the last word of a prefix with the terms the index
holds, most frequent first: ``thủ tướng``, ``thủ tục``… With an earlier word, the pair is
completed in the ``bigrams`` views (the completion fits the word before it); a single word
in the ``syllables`` views. A prefix typed without accents is looked up in the folded
views (``folded``, ``folded_bigrams``) and each completion spelled as most often in
the segment and field that hold it most (its variants there,
:mod:`vnsearch.index.variants`: one key decoded, not every spelling in every field); a
prefix with accents (or ``đ``) completes only the terms that start with it as typed.

The keys starting with a prefix are a range of the sorted term dictionary
(:meth:`FieldTerms.prefix_range`); their counts are read as one array
(:meth:`FieldTerms.counts_range`), and only the best few keys are decoded. Counts are
document frequencies from the dictionaries, summed over segments and TEXT fields: they
include deleted documents until the next merge drops them. A word of one or two letters
matches thousands of keys and every user types it: its best completions are kept for the
snapshot's life (``Snapshot.memo``; a few thousand such words at most).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from vnsearch.analysis.analyzer import fold_term
from vnsearch.analysis.normalize import normalize
from vnsearch.index.schema import view_field
from vnsearch.index.terms import terms_reader

__all__ = ["Suggestion", "suggest"]

# A range of at most this many keys is read whole (a few blocks of 16 keys): cheaper than
# looking up in it each key other fields or segments bring.
_ALL = 64
# The completions kept per snapshot for a word of one or two letters (see ``_short``)
_KEPT = 20


class Suggestion(NamedTuple):
    """A completion: ``text`` (the completed last word, or the last two words when the
    word before was used), ``count`` (its document frequency, summed over segments and
    TEXT fields) and ``query`` (the whole prefix completed)."""

    text: str
    count: int
    query: str


class _Source(NamedTuple):
    """One TEXT field's view in one segment: the keys starting with the prefix."""

    terms: Any  # the FieldTerms
    start: int
    counts: np.ndarray  # of keys start, start + 1, ...
    spellings: Any  # the segment's SegmentSpellings (for a folded view), or None
    field: str  # the hidden field


def _words(prefix: str) -> tuple[list[str], bool]:
    """The words of ``prefix`` normalized as queries are (NFC, tone style, lower case),
    each stripped of punctuation at its ends; and whether it ends with a space."""
    text = normalize(prefix).lower()
    words = [w.strip("".join({c for c in w if not c.isalnum()})) for w in text.split()]
    return [w for w in words if w], text[-1:].isspace()


def _sources(snap: Any, fields: list[str], view: str, key: bytes) -> list[_Source]:
    out = []
    for reader, _base in snap.segments:
        terms = terms_reader(reader)
        if terms is None:
            continue
        for name in fields:
            field = view_field(name, view)
            ft = terms.field_terms(field)
            if ft is None:
                continue
            start, end = ft.prefix_range(key)
            if end > start:
                spellings = terms.spellings if view.startswith("folded") else None
                counts = ft.counts_range(start, end)
                out.append(_Source(ft, start, counts, spellings, field))
    return out


def _top(sources: list[_Source], limit: int) -> list[tuple[bytes, int, int, int]]:
    """The ``limit`` keys with the largest counts summed over ``sources`` (ties: in byte
    order), as (key, total, the source of its largest count, its number there). Exact: each
    source's best ``k`` keys are read, ``k`` growing until no key left unread in every
    source can reach the last one kept."""
    k = limit
    while True:
        # key -> [its total, the sources that read it, its largest count, source, number]
        seen: dict[bytes, list[Any]] = {}
        bounds = []  # per source, the most a key not read there has
        for s, src in enumerate(sources):
            counts = src.counts
            if len(counts) <= max(k, _ALL):  # a short range: every key read
                best = np.arange(len(counts))
                bounds.append(0)
            else:
                top = np.argpartition(-counts, k)[: k + 1]
                top = top[np.lexsort((top, -counts[top]))]
                best = top[:k]
                bounds.append(int(counts[top[k]]))
            rows = best + src.start
            numbers = rows.tolist()
            for key, c, n in zip(src.terms.key_list(rows), counts[best].tolist(), numbers):
                got = seen.get(key)
                if got is None:
                    seen[key] = [c, {s}, c, s, n]
                else:
                    got[0] += c
                    got[1].add(s)
                    if c > got[2]:
                        got[2:] = [c, s, n]
        ranked = _exact(sources, seen, bounds, limit)
        if sum(bounds) == 0 or (len(ranked) == limit and ranked[-1][1] > sum(bounds)):
            return ranked
        k *= 4


def _exact(
    sources: list[_Source], seen: dict, bounds: list[int], limit: int
) -> list[tuple[bytes, int, int, int]]:
    """The best ``limit`` of the keys ``seen``, their counts in the sources where they
    were not read looked up, for those that can still be among the best."""
    if any(bounds) and len(sources) > 1:
        lows = sorted((got[0] for got in seen.values()), reverse=True)
        floor = lows[limit - 1] if len(lows) >= limit else 0
        for key, got in seen.items():
            missing = [s for s, b in enumerate(bounds) if b and s not in got[1]]
            if not missing or got[0] + sum(bounds[s] for s in missing) < floor:
                continue
            for s in missing:
                src = sources[s]
                i = src.terms.find(key)
                if i >= 0:
                    c = int(src.counts[i - src.start])
                    got[0] += c
                    if c > got[2] or (c == got[2] and s < got[3]):
                        got[2:] = [c, s, i]
    ranked = sorted(seen.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return [(key, got[0], got[3], got[4]) for key, got in ranked]


def _spelling(src: _Source, number: int, folded: str) -> str:
    """The most frequent spelling (ties: the first in code point order) of folded term
    ``number`` of ``src`` among its variants there, or ``folded`` itself."""
    if src.spellings is None:
        return folded
    accented, found = src.spellings.variants(src.field, number)
    if not found:
        return folded
    best = found[0] if len(found) == 1 else max(found, key=lambda i: (accented.count(i), -i))
    return accented.key(best).decode("utf-8")


def suggest(
    snap: Any, prefix: str, limit: int = 10, fields: Iterable[str] | None = None
) -> list[Suggestion]:
    """Completions of the last word of ``prefix`` in the snapshot ``snap`` (see
    :meth:`vnsearch.Index.suggest`)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    names = list(snap.schema.text_fields)
    if fields is not None:
        wanted = [fields] if isinstance(fields, str) else list(fields)
        unknown = set(wanted) - set(names)
        if unknown:
            raise ValueError(f"unknown TEXT field(s): {', '.join(sorted(unknown))}")
        names = [n for n in names if n in wanted]
    words, after_space = _words(prefix)
    if not words or not snap.segments:
        return []
    tries = []
    if after_space:  # the word after the last one
        tries.append((words[:-1], [words[-1], ""]))
    else:
        if len(words) > 1:
            tries.append((words[:-2], words[-2:]))
        tries.append((words[:-1], words[-1:]))
    for before, typed in tries:
        if len(typed) == 1 and fields is None and limit <= _KEPT and _short(typed[0]):
            # a word of one or two letters: many keys, and every user types it
            found = snap.memo(("suggest", typed[0]), _complete, snap, names, typed, _KEPT)
            found = found[:limit]
        else:
            found = _complete(snap, names, typed, limit)
        if found:
            return [Suggestion(text, n, " ".join([*before, text])) for text, n in found]
    return []


def _short(word: str) -> bool:
    """Whether the completions of ``word`` are kept for the snapshot's life: a letter
    (with or without accents) or a digit, or two of them typed without accents (a few
    thousand such words at most)."""
    if len(word) == 1:
        return fold_term(word).isascii() and fold_term(word).isalnum()
    return len(word) == 2 and word.isascii() and word.isalnum()


def _complete(snap: Any, names: list[str], typed: list[str], limit: int) -> list[tuple[str, int]]:
    """The best completions of one word, or of a pair (the word before, then the one
    typed), with their counts."""
    text = " ".join(typed)
    accented = any(fold_term(w) != w for w in typed)
    pair = len(typed) == 2
    if accented:
        view = "bigrams" if pair else "syllables"
        key = text
    else:
        view = "folded_bigrams" if pair else "folded"
        key = " ".join(fold_term(w) for w in typed) if pair else fold_term(text)
    sources = _sources(snap, names, view, key.encode("utf-8"))
    if not sources:
        return []
    out = []
    for raw, total, s, number in _top(sources, limit):
        term = raw.decode("utf-8")
        out.append((term if accented else _spelling(sources[s], number, term), total))
    return out
