"""Vietnamese text analysis: normalization, syllables, words, folding and index views."""

from vnsearch.analysis.analyzer import VIEWS, Analysis, analyze
from vnsearch.analysis.fold import fold
from vnsearch.analysis.normalize import OffsetMap, normalize, normalize_with_map
from vnsearch.analysis.segment import Segmenter, segment
from vnsearch.analysis.stopwords import STOPWORDS, is_stopword
from vnsearch.analysis.syllables import syllables
from vnsearch.analysis.token import Token

__all__ = [
    "STOPWORDS",
    "VIEWS",
    "Analysis",
    "OffsetMap",
    "Segmenter",
    "Token",
    "analyze",
    "fold",
    "is_stopword",
    "normalize",
    "normalize_with_map",
    "segment",
    "syllables",
]
