"""vnsearch: full-text search for Vietnamese, with or without diacritics.

>>> import vnsearch
>>> vnsearch.fold("Đà Nẵng")
'da nang'
"""

from vnsearch.analysis import (
    STOPWORDS,
    VIEWS,
    Analysis,
    Token,
    analyze,
    fold,
    is_stopword,
    normalize,
    segment,
    syllables,
)

__version__ = "0.1.0"

__all__ = [
    "STOPWORDS",
    "VIEWS",
    "Analysis",
    "Token",
    "__version__",
    "analyze",
    "fold",
    "is_stopword",
    "normalize",
    "segment",
    "syllables",
]
