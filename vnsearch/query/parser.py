"""The vnsearch query language: a small, forgiving parser.

:func:`parse` turns what a user typed into a :class:`ParsedQuery`, a flat, immutable list of
:class:`Clause`. It only finds the structure of the query; it does not analyze text (no
normalization, no syllables, no folding): a later planner does that, so every :class:`Term`
keeps the user's raw word. The parser never raises on any string: anything it cannot read
is taken as plain words, and anything left empty is dropped.

The language:

==========================  ==========================================================
``tổ chức``                 words (split at any Unicode whitespace): ``should`` clauses,
                            ranked; documents that match every word come first
``"Trung ương"``            a phrase (``Phrase``); curly quotes ``“…”`` work too; an
                            unbalanced quote runs to the end of the query; ``""`` is
                            dropped
``+Nội``  ``+"Hà Nội"``     ``must``: the document has to match
``-Hà``   ``-"Hà Nội"``     ``must_not``: the document must not match
``COVID-19``  ``a-b``       plain words: ``+``/``-`` are operators only at the start of a
                            word; ``++x``, ``+-x``: the last operator wins; a word that is
                            only operators (``+``, ``-``, ``+-``) is dropped
``title:"Hội nghị"``        a field clause, when ``title`` is one of the ``fields`` given
``body:đảng``               to :func:`parse` (compared case-insensitively); otherwise
``10:30``  ``http://x.vn``  ``a:b`` is a plain word; ``title:`` alone is dropped
``tjành~0``  ``ab~1``       a word's typo tolerance: ``~0`` reads it as typed, ``~1``
                            (or ``~2``: one slip is all vnsearch corrects) lets a word
                            the index lacks be read as one a slip away, even a short one
                            (``Term.typos``; a word of 4 letters or more gets it anyway)
``a OR b OR "c d"``         one clause matching any of its items (``Or``); an operator
                            on the first item applies to the whole clause, operators on
                            later items are ignored; ``OR`` must be uppercase (``or`` is
                            a word); a leading, trailing or doubled ``OR`` is ignored
==========================  ==========================================================

A quote also ends a word, as whitespace does: ``abc"d e"-f`` reads as ``abc "d e" -f``, and
``author:"d e"`` with an unknown field ``author`` as the word ``author:`` and a phrase. ``+OR``
and ``-OR`` are the word ``OR``, not the keyword.

>>> print(parse('tổ chức "Trung ương" -Hà +Nội'))
tổ chức "Trung ương" -Hà +Nội
>>> [(c.node.text, c.occur) for c in parse('"Trung ương" -Hà +Nội').clauses]
[('Trung ương', 'should'), ('Hà', 'must_not'), ('Nội', 'must')]
>>> parse('title:"Hội nghị" body:đảng', fields=["title", "body"]).clauses[0]
Clause(node=Phrase(text='Hội nghị', field='title'), occur='should')
>>> print(parse('thuy dien OR “hoà   bình'))
thuy dien OR "hoà bình"
>>> print(parse('++a -- +- COVID-19 OR OR b or 10:30 TITLE: "" x:y', fields=["title"]))
+a COVID-19 OR b or 10:30 x:y

``str(query)`` is a canonical query string that parses back to the same query (given the
same ``fields``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["QUOTES", "Clause", "Occur", "Or", "ParsedQuery", "Phrase", "Term", "parse"]

Occur = Literal["should", "must", "must_not"]

QUOTES = '"\u201c\u201d'
"""The characters that open and close a phrase: ``"``, ``“`` and ``”`` (either one does both)."""

# Disjoint, greedy character classes matched at a position: the match never backtracks, so
# the scan is linear in the length of the query. (\s is exactly str.isspace() for a str
# pattern.) One step reads the whitespace before a word, its operators and its plain text.
_STEP = re.compile(r'\s*([+-]*)([^\s"\u201c\u201d]*)')
_QUOTE = re.compile(r'["\u201c\u201d]')

_PREFIX: dict[str, str] = {"should": "", "must": "+", "must_not": "-"}
_OCCUR: dict[str, Occur] = {"+": "must", "-": "must_not"}


@dataclass(frozen=True, slots=True)
class Term:
    """One word as the user typed it, optionally in a field.

    >>> parse("205-QĐ/TW").clauses[0].node
    Term(text='205-QĐ/TW', field=None)
    >>> parse("Title:thuy", fields=["title"]).clauses[0].node
    Term(text='thuy', field='title')

    ``typos`` is the ``N`` of ``word~N`` (None when not given):

    >>> [c.node for c in parse("tjành~0 ab~2 x~").clauses]  # doctest: +NORMALIZE_WHITESPACE
    [Term(text='tjành', field=None, typos=0), Term(text='ab', field=None, typos=2),
     Term(text='x~', field=None)]
    """

    text: str
    field: str | None = None
    typos: int | None = None

    def __repr__(self) -> str:
        more = "" if self.typos is None else f", typos={self.typos}"
        return f"Term(text={self.text!r}, field={self.field!r}{more})"


@dataclass(frozen=True, slots=True)
class Phrase:
    """The text between quotes, whitespace collapsed to single spaces; optionally in a field.

    >>> parse('"  Hội   nghị "').clauses[0].node
    Phrase(text='Hội nghị', field=None)
    >>> parse('title:"Hội nghị', fields=["title"]).clauses[0].node
    Phrase(text='Hội nghị', field='title')
    """

    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Or:
    """Two or more alternatives (``a OR b OR "c d"``); each item keeps its own field.

    >>> parse('a OR title:b', fields=["title"]).clauses[0].node
    Or(items=(Term(text='a', field=None), Term(text='b', field='title')))
    """

    items: tuple[Term | Phrase, ...]


@dataclass(frozen=True, slots=True)
class Clause:
    """A node and how it must occur in a matching document: should, must or must_not.

    >>> parse("+a OR b").clauses
    (Clause(node=Or(items=(Term(text='a', field=None), Term(text='b', field=None))), occur='must'),)
    >>> parse("-COVID-19").clauses
    (Clause(node=Term(text='COVID-19', field=None), occur='must_not'),)
    """

    node: Term | Phrase | Or
    occur: Occur = "should"


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A parsed query: its clauses, in the order the user typed them.

    ``str()`` gives a canonical query string that parses back to the same query:

    >>> q = parse('  +"Hà   Nội"  -- a  OR  OR  “b c”  ')
    >>> str(q)
    '+"Hà Nội" a OR "b c"'
    >>> parse(str(q)) == q
    True
    >>> parse("  + - ")
    ParsedQuery(clauses=())
    """

    clauses: tuple[Clause, ...]

    def items(self) -> list[tuple[int, Term | Phrase]]:
        """Every word and phrase of the query, in order, each with the index of its clause:
        the alternatives of an ``Or`` one by one, with the same index.

        >>> parse('a OR "b c" -d').items()  # doctest: +NORMALIZE_WHITESPACE
        [(0, Term(text='a', field=None)), (0, Phrase(text='b c', field=None)),
         (1, Term(text='d', field=None))]
        """
        return [
            (i, item)
            for i, clause in enumerate(self.clauses)
            for item in (clause.node.items if isinstance(clause.node, Or) else (clause.node,))
        ]

    def __str__(self) -> str:
        return " ".join(_format_clause(clause) for clause in self.clauses)


_Token = tuple[Term | Phrase, Occur] | None  # None stands for the OR keyword


def parse(text: str, fields: Iterable[str] = ()) -> ParsedQuery:
    """Parse the query ``text``; ``fields`` names the fields a ``field:`` prefix may select.

    Never raises on any ``str``; raises ``TypeError`` when ``text`` is not a ``str`` (or a
    field name is not a ``str``). A single ``str`` as ``fields`` is one field name. Field
    names are matched case-insensitively and returned as given (the first one given, if two
    differ only in case); an empty name is never matched. Runs in linear time.

    >>> parse("thuy dien OR hoà", fields=["title"])  # doctest: +NORMALIZE_WHITESPACE
    ParsedQuery(clauses=(Clause(node=Term(text='thuy', field=None), occur='should'),
        Clause(node=Or(items=(Term(text='dien', field=None), Term(text='hoà', field=None))),
               occur='should')))
    >>> parse("")
    ParsedQuery(clauses=())
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() expects the query as a str, not {type(text).__name__}")
    known = _field_map(fields)
    return ParsedQuery(_group(_scan(text, known)))


def _field_map(fields: Iterable[str]) -> dict[str, str]:
    """Casefolded field name -> the name as given (the first one given wins)."""
    if isinstance(fields, str):
        fields = (fields,)
    known: dict[str, str] = {}
    for name in fields:
        if not isinstance(name, str):
            raise TypeError(f"field names must be str, not {type(name).__name__}")
        if name:
            known.setdefault(name.casefold(), name)
    return known


def _scan(text: str, known: dict[str, str]) -> list[_Token]:
    """Split ``text`` into items (a node and its operator) and OR keywords, dropping the rest."""
    tokens: list[_Token] = []
    n = len(text)
    pos = 0
    while True:
        # One word: after the start, whitespace or a quote; operators, then plain text.
        m = _STEP.match(text, pos)
        pos = m.end()
        operators, word = m.groups()
        if not word and pos >= n:
            return tokens
        occur: Occur = _OCCUR[operators[-1]] if operators else "should"
        field: str | None = None
        if word:
            if word == "OR" and not operators:
                tokens.append(None)
                continue
            typos = None
            if len(word) > 2 and word[-2] == "~" and word[-1] in "0123456789":
                typos, word = int(word[-1]), word[:-2]
            colon = word.find(":")
            if colon > 0 and known:
                field = known.get(word[:colon].casefold())
            if field is None:
                tokens.append((Term(word, None, typos), occur))
                continue
            rest = word[colon + 1 :]
            if rest:
                tokens.append((Term(rest, field, typos), occur))
                continue
            # A bare ``field:`` is dropped, unless a quote follows: ``field:"a phrase"``.
        if pos < n and text[pos] in QUOTES:
            m = _QUOTE.search(text, pos + 1)
            end = m.start() if m is not None else n
            phrase = " ".join(text[pos + 1 : end].split())
            pos = end + 1
            if phrase:
                tokens.append((Phrase(phrase, field), occur))
        # Otherwise the word was only operators (or a bare ``field:``): dropped.


def _group(tokens: list[_Token]) -> tuple[Clause, ...]:
    """Join items around OR keywords into Or clauses; ignore stray ORs."""
    clauses: list[Clause] = []
    group: list[Term | Phrase] = []
    group_occur: Occur = "should"
    pending_or = False
    for token in tokens:
        if token is None:
            pending_or = bool(group)  # an OR with nothing before it is ignored
            continue
        node, occur = token
        if pending_or:
            group.append(node)  # operators on later items of an Or are ignored
            pending_or = False
            continue
        if group:
            clauses.append(_clause(group, group_occur))
        group = [node]
        group_occur = occur
    if group:
        clauses.append(_clause(group, group_occur))  # a trailing OR is ignored
    return tuple(clauses)


def _clause(group: list[Term | Phrase], occur: Occur) -> Clause:
    return Clause(group[0] if len(group) == 1 else Or(tuple(group)), occur)


def _format_clause(clause: Clause) -> str:
    node = clause.node
    if isinstance(node, Or):
        first, *later = node.items
        body = " OR ".join([_format_item(first), *(_format_item(i, later=True) for i in later)])
    else:
        body = _format_item(node)
    return _PREFIX.get(clause.occur, "") + body


def _format_item(node: Term | Phrase, later: bool = False) -> str:
    if isinstance(node, Phrase):
        body = f'"{node.text}"'
    else:
        body = node.text if node.typos is None else f"{node.text}~{node.typos}"
    if node.field is not None:
        return f"{node.field}:{body}"
    if later and body == "OR":
        # The word OR can only come from ``+OR``/``-OR``; on a later item of an Or, the
        # operator is ignored, so ``+OR`` reads back as this item and not as the keyword.
        return "+OR"
    return body
