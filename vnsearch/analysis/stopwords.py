"""An optional list of Vietnamese stop words (function words and fillers), in normal form.

Nothing in the analyzer applies this list: ranking drops stop words from queries when
``Ranking.stopwords`` is on (as in ``DEFAULT_RANKING``), the index keeps every word.

>>> is_stopword("Của"), is_stopword("nhà")
(True, False)

Question words (``nào``, ``gì``, ``bao nhiêu``, ``thế nào``) are a list of their own: they are
in almost every question and in few answers. ``thế`` is one only before ``nào``:

>>> question_mask(["thế", "giới", "như", "thế", "nào"])
[False, False, False, True, True]
"""

from __future__ import annotations

from vnsearch.analysis.normalize import normalize

__all__ = [
    "QUESTION_WORDS",
    "STOPWORDS",
    "is_stopword",
    "question_mask",
    "stopword_mask",
]

_WORDS = """
à ạ ai ấy bao bị bởi cả các cái cần càng chỉ chiếc cho chứ chưa có còn của cùng cũng
đã đang đây để đến đều điều do đó được gì hay hoặc khi không là lại lên lúc mà mỗi một
này nên nếu ngay nhiều như nhưng những nơi nữa ở qua ra rằng rất rồi sau sẽ so sự tại
theo thì trên trong từ từng và vào vẫn về vì việc với vừa
bị_cho_là cho_nên của_mình đến_nỗi do_đó hơn_nữa mặc_dù như_vậy nhưng_mà tuy_nhiên
vì_vậy vì_thế bởi_vì cho_dù thế_nhưng trong_khi trong_đó ngoài_ra
""".split()

STOPWORDS: frozenset[str] = frozenset(normalize(w.replace("_", " ")) for w in _WORDS)


def is_stopword(term: str) -> bool:
    """Is ``term`` (a syllable or a space-separated word, any case) a stop word?"""
    return normalize(term).lower() in STOPWORDS


# the stop words of several syllables, as tuples of syllables, by their first syllable
_SEQUENCES: dict[str, list[tuple[str, ...]]] = {}
for _seq in (tuple(w.split(" ")) for w in STOPWORDS if " " in w):
    _SEQUENCES.setdefault(_seq[0], []).append(_seq)


def stopword_mask(words: list[str]) -> list[bool]:
    """Per syllable of a text (in normal form, as ``syllables`` gives them; any case): is
    it a stop word, alone or as part of one of several syllables (``tuy nhiên``)?

    >>> stopword_mask(["tuy", "nhiên", "nhiên", "liệu", "của", "mình"])
    [True, True, False, False, True, True]
    """
    words = [w.lower() for w in words]
    out = [w in STOPWORDS for w in words]
    for i, word in enumerate(words):
        for seq in _SEQUENCES.get(word, ()):
            n = len(seq)
            if tuple(words[i : i + n]) == seq:
                out[i : i + n] = [True] * n
    return out


QUESTION_WORDS: frozenset[str] = frozenset(
    normalize(w) for w in "nào đâu gì nhiêu sao ai mấy bao".split()
)
# pairs whose syllables are both question words together (``thế`` alone is not one)
QUESTION_PAIRS: frozenset[tuple[str, str]] = frozenset(
    tuple(normalize(p).split(" ")) for p in ("thế nào", "bao giờ", "bao lâu")
)


def question_mask(words: list[str]) -> list[bool]:
    """Per word of a query (one syllable each in normal form, as ``syllables`` gives them;
    any case): is it a question word here?"""
    words = [w.lower() for w in words]
    out = [w in QUESTION_WORDS for w in words]
    for i, pair in enumerate(zip(words, words[1:])):
        if pair in QUESTION_PAIRS:
            out[i] = out[i + 1] = True
    return out
