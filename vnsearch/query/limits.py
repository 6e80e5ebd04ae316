"""How large a query may be: :class:`QueryLimits`, and the cuts made before any analysis.

A search box takes any text, and a query's cost grows with its words: without limits a
pasted megabyte of text held gigabytes of memory for a minute. Three limits bound it, as
Elasticsearch's ``max_clause_count`` does:

- ``max_chars``: the query text is cut to its first ``max_chars`` characters (at a space
  when one is near, never inside a character's combining marks or a surrogate pair)
  *before* it is parsed, normalized or segmented (:func:`cut_text`);
- ``max_clauses``: the words the query searches, counted once however often they are
  repeated: each word, each word of a phrase, each alternative of an ``OR``
  (:func:`cut_clauses`);
- ``max_terms``: the term lookups the plan makes (each word's exact and folded terms in
  each TEXT field, phrase terms, the bigram and word bonus terms), checked by the planner
  (:func:`vnsearch.ranking.plan.plan_query`).

Past a limit, the excess is dropped and the results say so in ``results.notes`` (the
default, ``on_excess="truncate"``: a search box should not fail on a long paste, whose
first part says what it is about), or the search raises
:class:`~vnsearch.errors.QueryTooLarge` (``on_excess="error"``).

>>> limits = QueryLimits(max_chars=12)
>>> cut_text("tổ chức đảng ở Hà Nội", limits)
('tổ chức đảng', 'the query was cut to its first 12 of 21 characters (max_chars=12)')
>>> QueryLimits(max_chars=12, on_excess="error").excess("too long", "cut")
Traceback (most recent call last):
...
vnsearch.errors.QueryTooLarge: too long
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from vnsearch.errors import QueryTooLarge
from vnsearch.query.parser import Clause, Or, ParsedQuery, Phrase, Term

__all__ = ["DEFAULT_LIMITS", "OnExcess", "QueryLimits", "cut_clauses", "cut_text"]

OnExcess = Literal["truncate", "error"]

# how far back from the limit a space is looked for to cut at (else: at the limit)
_SPACE_WINDOW = 200
# how many combining marks (or a surrogate) are stepped over back from the limit at most
_MARKS_WINDOW = 32


@dataclass(frozen=True)
class QueryLimits:
    """The most a query may hold, and what to do with the excess.

    The defaults are far above what people type (a pasted paragraph of about 130 words
    is searched whole) and keep any query, even megabytes of text, to a few tenths of a
    second and its memory to what opening the index already takes (measured on all of
    VNTC in ``benchmarks/README.md``).

    >>> QueryLimits().max_clauses
    1024
    >>> QueryLimits(max_terms=0)
    Traceback (most recent call last):
    ...
    ValueError: QueryLimits.max_terms must be an int of at least 1, got 0
    """

    max_chars: int = 4_000
    max_clauses: int = 1024
    max_terms: int = 1024
    on_excess: OnExcess = "truncate"

    def __post_init__(self) -> None:
        for name in ("max_chars", "max_clauses", "max_terms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"QueryLimits.{name} must be an int of at least 1, got {value!r}")
        if self.on_excess not in ("truncate", "error"):
            raise ValueError(
                f"QueryLimits.on_excess must be 'truncate' or 'error', got {self.on_excess!r}"
            )

    def excess(self, error: str, note: str) -> str:
        """``note`` when the excess is truncated; raises ``QueryTooLarge(error)`` when
        it is refused."""
        if self.on_excess == "error":
            raise QueryTooLarge(error)
        return note


DEFAULT_LIMITS = QueryLimits()


def cut_text(text: str, limits: QueryLimits) -> tuple[str, str | None]:
    """``text`` cut to ``limits.max_chars`` characters, and a note when it was cut.

    The cut falls at the last white space in the last 200 characters when there is one,
    else at the limit moved back before any combining marks (and a surrogate pair's first
    half) that start there, so no letter loses its accents.

    >>> len(cut_text("Hoa\\u0300 bi\\u0300nh", QueryLimits(max_chars=5))[0])  # "Hoà"
    4
    >>> len(cut_text("ab" + "e\\u0301" * 3, QueryLimits(max_chars=5))[0])  # "abé"
    4
    """
    limit = limits.max_chars
    if len(text) <= limit:
        return text, None
    note = limits.excess(
        f"the query is {len(text):,} characters, more than max_chars={limit:,}",
        f"the query was cut to its first {limit:,} of {len(text):,} characters "
        f"(max_chars={limit:,})",
    )
    return text[: _cut_point(text, limit)].rstrip(), note


def _cut_point(text: str, limit: int) -> int:
    """Where to cut ``text`` (longer than ``limit``) at or before ``limit``."""
    start = max(0, limit - _SPACE_WINDOW)
    for i in range(limit, start - 1, -1):  # text[limit] exists: a space there cuts cleanly
        if text[i].isspace():
            return i
    cut = limit
    while (
        cut > 0
        and limit - cut < _MARKS_WINDOW
        and (
            unicodedata.category(text[cut]) in ("Mn", "Mc", "Me")
            or "\ud800" <= text[cut - 1] <= "\udbff"
        )
    ):
        cut -= 1
    return cut


def _words(node: Term | Phrase) -> int:
    """How many words ``node`` searches: a phrase's words, or one."""
    return node.text.count(" ") + 1 if isinstance(node, Phrase) else 1


def _size(clause: Clause) -> int:
    node = clause.node
    return sum(map(_words, node.items)) if isinstance(node, Or) else _words(node)


def cut_clauses(parsed: ParsedQuery, limits: QueryLimits) -> tuple[ParsedQuery, str | None]:
    """``parsed`` with no more than ``limits.max_clauses`` words (each word of a phrase
    and each alternative of an ``OR`` counts; a clause repeated as typed counts once),
    the first ones kept, and a note when some were dropped. The clause that crosses the
    limit keeps the words (of a phrase) or alternatives (of an ``OR``) that fit.

    >>> from vnsearch.query import parse
    >>> q, note = cut_clauses(parse('hà hà nội "a b c" x'), QueryLimits(max_clauses=4))
    >>> str(q), note
    ('hà hà nội "a b"', 'the query has 6 words; the first 4 were searched (max_clauses=4)')
    """
    limit = limits.max_clauses
    seen: set[Clause] = set()
    sizes = []
    for clause in parsed.clauses:
        if clause in seen:
            sizes.append(0)
        else:
            seen.add(clause)
            sizes.append(_size(clause))
    total = sum(sizes)
    if total <= limit:
        return parsed, None
    note = limits.excess(
        f"the query has {total:,} words, more than max_clauses={limit:,}",
        f"the query has {total:,} words; the first {limit:,} were searched (max_clauses={limit:,})",
    )
    kept: list[Clause] = []
    used = 0
    for clause, size in zip(parsed.clauses, sizes):
        if used + size > limit:
            part = _part(clause, limit - used)
            if part is not None:
                kept.append(part)
            break
        kept.append(clause)
        used += size
    return ParsedQuery(tuple(kept)), note


def _part(clause: Clause, room: int) -> Clause | None:
    """The first ``room`` words of ``clause``: of its phrase, or its first alternatives."""
    node = clause.node
    if room < 1:
        return None
    if isinstance(node, Phrase):
        words = node.text.split(" ")[:room]
        return Clause(Phrase(" ".join(words), node.field), clause.occur)
    if isinstance(node, Or):
        items: list[Term | Phrase] = []
        for item in node.items:
            if _words(item) > room:
                break
            items.append(item)
            room -= _words(item)
        if not items:
            return None
        return Clause(items[0] if len(items) == 1 else Or(tuple(items)), clause.occur)
    return None
