"""The query language: parse what a user typed into a small, immutable AST (see ``parser``)."""

from vnsearch.query.parser import QUOTES, Clause, Occur, Or, ParsedQuery, Phrase, Term, parse

__all__ = ["QUOTES", "Clause", "Occur", "Or", "ParsedQuery", "Phrase", "Term", "parse"]
