"""The query language: parse what a user typed into a small, immutable AST (see ``parser``),
and the limits that bound a query's size (see ``limits``)."""

from vnsearch.query.limits import DEFAULT_LIMITS, QueryLimits, cut_clauses, cut_text
from vnsearch.query.match_all import ALL, MatchAll, is_match_all
from vnsearch.query.parser import QUOTES, Clause, Occur, Or, ParsedQuery, Phrase, Term, parse

__all__ = [
    "ALL",
    "DEFAULT_LIMITS",
    "QUOTES",
    "Clause",
    "MatchAll",
    "Occur",
    "Or",
    "ParsedQuery",
    "Phrase",
    "QueryLimits",
    "Term",
    "cut_clauses",
    "cut_text",
    "is_match_all",
    "parse",
]
