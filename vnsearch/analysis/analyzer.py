"""The analyzer: one text in, the token views the index stores for a text field out.

Views (each a tuple of :class:`Token`, offsets into the original text):

``syllables``
    exact syllables, lowercased, with positions; compounds and their parts included.
``folded``
    the same tokens folded (``đường`` -> ``duong``): what unaccented queries match.
``bigrams`` / ``folded_bigrams``
    pairs of neighbouring syllables (``tổ chức``) not separated by punctuation or a line
    break; nearly as good as words for ranking and they survive unaccented queries.
``words``
    pyvi's words, lowercased (``trung ương``).

Which views a search uses, and with what weight, is the ranking's choice
(:class:`vnsearch.Ranking`), not the analyzer's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, repeat

from vnsearch.analysis.fold import fold
from vnsearch.analysis.normalize import normalize_with_map
from vnsearch.analysis.segment import as_word_list, segment_normalized
from vnsearch.analysis.syllables import Columns, tokenize_columns
from vnsearch.analysis.token import Token
from vnsearch.analysis.user_words import WordList

__all__ = ["VIEWS", "Analysis", "analyze", "fold_term", "view_columns"]

VIEWS = ("syllables", "folded", "bigrams", "folded_bigrams", "words")

# What may stand between the two syllables of a bigram: spaces, not punctuation or a newline.
_GAP = " \t\u00a0\u2009\u202f\u200b\u200c\u200d\u2060\ufeff"


@dataclass(frozen=True)
class Analysis(Mapping[str, tuple[Token, ...]]):
    """The views of one text, as data: ``analysis["words"]`` is a tuple of tokens.

    >>> a = analyze("Thuỷ điện Hòa Bình")
    >>> [t.text for t in a["folded"]]
    ['thuy', 'dien', 'hoa', 'binh']
    >>> [t.text for t in a["words"]]
    ['thuỷ điện', 'hoà bình']
    """

    text: str
    views: Mapping[str, tuple[Token, ...]]

    def __getitem__(self, view: str) -> tuple[Token, ...]:
        return self.views[view]

    def __iter__(self) -> Iterator[str]:
        return iter(self.views)

    def __len__(self) -> int:
        return len(self.views)

    def terms(self, view: str) -> list[str]:
        """The terms of one view, in order."""
        return [t.text for t in self.views[view]]

    def __str__(self) -> str:
        width = max(map(len, self.views), default=0)
        lines = []
        for name, tokens in self.views.items():
            cells = " ".join(f"{t.text}@{t.position}[{t.start}:{t.end}]" for t in tokens)
            lines.append(f"{name:<{width}}  {cells}")
        return "\n".join(lines)


_new_tuple = tuple.__new__


def _retexted(tokens, texts) -> tuple[Token, ...]:
    """``tokens`` with new texts (offsets, positions and kinds kept); empty texts dropped."""
    return tuple(
        _new_tuple(Token, (text, t[1], t[2], t[3], t[4])) for t, text in zip(tokens, texts) if text
    )


@lru_cache(maxsize=200_000)
def fold_term(term: str) -> str:
    """A term's folded form as one term: ``fold`` without the spaces unidecode may add."""
    return fold(term).replace(" ", "")


def _bigram_columns(text: str, texts, starts, ends, positions, kinds) -> Columns:
    """Bigrams of neighbouring primary tokens, as columns (parts of compounds are
    skipped); ``text`` is the original string, used to see what separates them."""
    if "part" in kinds:  # parts of compounds do not pair
        keep = [k != "part" for k in kinds]
        texts, starts, ends, positions = (
            list(compress(col, keep)) for col in (texts, starts, ends, positions)
        )
    # what separates two neighbours: spaces only, not punctuation or a line break
    ok = [not text[e:s].strip(_GAP) for e, s in zip(ends, starts[1:])]
    terms = [f"{a} {b}" for a, b, k in zip(texts, texts[1:], ok) if k]
    return (
        terms,
        list(compress(starts, ok)),
        list(compress(ends[1:], ok)),
        list(compress(positions, ok)),
        ["bigram"] * len(terms),
    )


def _kept(columns: Columns, texts: list[str]) -> Columns:
    """``columns`` with new texts; rows whose new text is empty dropped."""
    if all(texts):
        return (texts, *columns[1:])  # type: ignore[return-value]
    keep = [i for i, t in enumerate(texts) if t]
    return tuple([col[i] for i in keep] for col in (texts, *columns[1:]))  # type: ignore[return-value]


def view_columns(text: str, user_words: WordList | None = None) -> dict[str, Columns]:
    """The views of ``text`` as token columns (texts, starts, ends, positions, kinds):
    :func:`analyze` without a ``Token`` per term, which is how the index takes them."""
    norm, offsets = normalize_with_map(text)
    syl = tokenize_columns(norm, offsets)
    syl = _kept(syl, [t.lower() for t in syl[0]])
    fsyl = _kept(syl, [fold_term(t) for t in syl[0]])
    words = segment_normalized(norm, offsets, user_words)
    wcols: Columns = tuple(map(list, zip(*words))) if words else ([], [], [], [], [])  # type: ignore[assignment]
    wcols = _kept(wcols, [t.lower() for t in wcols[0]])
    return {
        "syllables": syl,
        "folded": fsyl,
        "bigrams": _bigram_columns(text, *syl),
        "folded_bigrams": _bigram_columns(text, *fsyl),
        "words": wcols,
    }


def analyze(text: str, *, user_words: Iterable[str] | WordList | None = None) -> Analysis:
    """Analyze ``text`` into the views of :data:`VIEWS`; ``user_words`` (a schema's own
    words, such as product names) are one word each in the ``words`` view.

    >>> print(analyze("Ở Hà Nội"))
    syllables       ở@0[0:1] hà@1[2:4] nội@2[5:8]
    folded          o@0[0:1] ha@1[2:4] noi@2[5:8]
    bigrams         ở hà@0[0:4] hà nội@1[2:8]
    folded_bigrams  o ha@0[0:4] ha noi@1[2:8]
    words           ở@0[0:1] hà nội@1[2:8]
    """
    views = view_columns(text, as_word_list(user_words))
    return Analysis(
        text=text,
        views={view: tuple(map(_new_tuple, repeat(Token), zip(*views[view]))) for view in VIEWS},
    )
