"""Snippets: which fragment of a stored text to show for a query, and where its matches are.

A :class:`Highlighter` is made once per query from the folded words and phrases to find in
each TEXT field (the ranking gives them from the query's plan) and shared by the hits; a hit
asks it for a :class:`Snippet` of one of its stored TEXT fields only when the caller wants
one. No CRF runs, and nothing but the analysis layer is used:

* :mod:`~vnsearch.highlight.folding`: a text folded to one ASCII byte per character, so
  offsets in the folded bytes are offsets in the text (or mapped back when not);
* :mod:`~vnsearch.highlight.highlighter`: the query's words and phrases found in it;
* :mod:`~vnsearch.highlight.snippet`: the :class:`Snippet` data, and the window of text
  whose distinct query terms weigh most.
"""

from vnsearch.highlight.highlighter import Highlighter
from vnsearch.highlight.snippet import DEFAULT_LENGTH, ELLIPSIS, Snippet

__all__ = ["DEFAULT_LENGTH", "ELLIPSIS", "Highlighter", "Snippet"]
