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
from vnsearch.index import (
    DATETIME,
    ID,
    KEYWORD,
    NUMERIC,
    STORED,
    TEXT,
    Index,
    IndexLocked,
    Schema,
    SchemaError,
    Writer,
)
from vnsearch.ranking import Explanation, Hit, Ranking, Results

__version__ = "0.1.0"

__all__ = [
    "DATETIME",
    "ID",
    "KEYWORD",
    "NUMERIC",
    "STOPWORDS",
    "STORED",
    "TEXT",
    "VIEWS",
    "Analysis",
    "Explanation",
    "Hit",
    "Index",
    "IndexLocked",
    "Ranking",
    "Results",
    "Schema",
    "SchemaError",
    "Token",
    "Writer",
    "__version__",
    "analyze",
    "fold",
    "is_stopword",
    "normalize",
    "segment",
    "syllables",
]
