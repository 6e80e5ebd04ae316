"""vnsearch: full-text search for Vietnamese, with or without diacritics.

The analyzer is imported with the package; the index and ranking (and Whoosh) load on
first use of one of their names, so ``import vnsearch`` stays light.

>>> import vnsearch
>>> vnsearch.fold("Đà Nẵng")
'da nang'
>>> vnsearch.from_telex("vieetj"), vnsearch.from_vni("d9u7o7ng2")
('việt', 'đường')
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

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
from vnsearch.errors import (
    DocumentError,
    IncompatibleIndex,
    IndexCorrupted,
    IndexError_,  # noqa: F401  (deprecated alias of VnsearchError, kept for 0.1 users)
    IndexLocked,
    IndexNotFound,
    IndexWriteError,
    ModelError,
    QueryTooLarge,
    SchemaError,
    SynonymsError,
    VnsearchError,
)

__version__ = "0.1.0"

# silent unless the application configures logging (commits, merges, recovery, damage)
logging.getLogger("vnsearch").addHandler(logging.NullHandler())

if TYPE_CHECKING:  # what type checkers see of the names loaded on first use (_LAZY)
    from vnsearch.analysis.telex import from_telex, from_vni
    from vnsearch.demo import seed_documents
    from vnsearch.highlight import Snippet
    from vnsearch.index import (
        DATETIME,
        ID,
        KEYWORD,
        NUMERIC,
        STORED,
        TEXT,
        FieldType,
        Index,
        IndexStats,
        Schema,
        Suggestion,
        Writer,
    )
    from vnsearch.query import (
        ABBREVIATIONS,
        ALL,
        QueryLimits,
        Synonyms,
    )
    from vnsearch.ranking import (
        DEFAULT_RANKING,
        Explanation,
        Hit,
        Range,
        Ranking,
        Results,
        TermContribution,
    )
    from vnsearch.ranking.global_stats import Stats
    from vnsearch.shards import ShardedIndex

_LAZY = {
    "ALL": "vnsearch.query",
    "DATETIME": "vnsearch.index",
    "ID": "vnsearch.index",
    "KEYWORD": "vnsearch.index",
    "NUMERIC": "vnsearch.index",
    "STORED": "vnsearch.index",
    "TEXT": "vnsearch.index",
    "FieldType": "vnsearch.index",
    "Index": "vnsearch.index",
    "IndexStats": "vnsearch.index",
    "ABBREVIATIONS": "vnsearch.query",
    "QueryLimits": "vnsearch.query",
    "Synonyms": "vnsearch.query",
    "Schema": "vnsearch.index",
    "ShardedIndex": "vnsearch.shards",
    "Stats": "vnsearch.ranking.global_stats",
    "Suggestion": "vnsearch.index",
    "Writer": "vnsearch.index",
    "DEFAULT_RANKING": "vnsearch.ranking",
    "Explanation": "vnsearch.ranking",
    "Hit": "vnsearch.ranking",
    "Range": "vnsearch.ranking",
    "Ranking": "vnsearch.ranking",
    "Results": "vnsearch.ranking",
    "Snippet": "vnsearch.highlight",
    "TermContribution": "vnsearch.ranking",
    "from_telex": "vnsearch.analysis.telex",
    "from_vni": "vnsearch.analysis.telex",
    "seed_documents": "vnsearch.demo",
}

# spelled out, _LAZY's names too: type checkers read it to know what is exported
__all__ = [
    "ABBREVIATIONS",
    "ALL",
    "DATETIME",
    "DEFAULT_RANKING",
    "ID",
    "KEYWORD",
    "NUMERIC",
    "STOPWORDS",
    "STORED",
    "TEXT",
    "VIEWS",
    "Analysis",
    "DocumentError",
    "Explanation",
    "FieldType",
    "Hit",
    "IncompatibleIndex",
    "Index",
    "IndexCorrupted",
    "IndexLocked",
    "IndexNotFound",
    "IndexStats",
    "IndexWriteError",
    "ModelError",
    "QueryLimits",
    "QueryTooLarge",
    "Range",
    "Ranking",
    "Results",
    "Schema",
    "SchemaError",
    "ShardedIndex",
    "Snippet",
    "Stats",
    "Suggestion",
    "Synonyms",
    "SynonymsError",
    "TermContribution",
    "Token",
    "VnsearchError",
    "Writer",
    "__version__",
    "analyze",
    "fold",
    "from_telex",
    "from_vni",
    "is_stopword",
    "normalize",
    "seed_documents",
    "segment",
    "syllables",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vnsearch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
