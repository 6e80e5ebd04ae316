"""The query language: parse what a user typed into a small, immutable AST (see ``parser``),
the limits that bound a query's size (see ``limits``), and the synonym tables whose forms
a query also searches (see ``synonyms``)."""

from vnsearch.query.limits import DEFAULT_LIMITS, QueryLimits, cut_clauses, cut_text
from vnsearch.query.match_all import ALL, MatchAll, is_match_all
from vnsearch.query.parser import QUOTES, Clause, Occur, Or, ParsedQuery, Phrase, Term, parse
from vnsearch.query.synonyms import ABBREVIATIONS, Synonyms, as_synonyms

__all__ = [
    "ABBREVIATIONS",
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
    "Synonyms",
    "Term",
    "as_synonyms",
    "cut_clauses",
    "cut_text",
    "is_match_all",
    "parse",
]
