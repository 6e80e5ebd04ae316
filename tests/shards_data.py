"""What the sharded-index exactness tests share: 2,000 VNTC articles, 300 seeded queries
and the check that a ranking is one index's (``test_shards_exact.py`` in one process,
``test_shards_ray.py`` over Ray Serve's HTTP API).

Titles are the first 8 words and bodies the first 1,000 characters, so that an index of
them builds in about 10 s on a 2-core machine. Queries are drawn from the documents' own
words: accented, unaccented, phrases in quotes, questions, single words. ``TEXTS``: the
few short articles of the small sharded-index tests.
"""

from __future__ import annotations

import gzip
import json
import random
from typing import Any

from tests.conftest import VNTC, require_data
from vnsearch import ID, TEXT, Schema, fold

# a few short articles for the small sharded-index tests (test_shards*.py)
TEXTS = [
    "Hà Nội mùa thu có hoa sữa",
    "Thủy điện Hòa Bình trên sông Đà",
    "Thành phố Đà Nẵng có cầu Rồng",
    "Phố cổ Hà Nội về đêm",
    "Sông Hồng chảy qua Hà Nội",
    "Cố đô Huế bên dòng sông Hương",
    "Biển Vũng Tàu đông khách",
    "Món phở bò Hà Nội",
]
N_DOCS = 2000
N_QUERIES = 300
SHARDS = 4
TOL = 1e-9


def exact_schema() -> Schema:
    """``id`` (unique), ``title`` (TEXT, boost 2), ``body`` (TEXT), all stored."""
    return Schema(
        id=ID(stored=True, unique=True), title=TEXT(stored=True, boost=2.0), body=TEXT(stored=True)
    )


def vntc_docs(n: int = N_DOCS) -> list[dict]:
    """``n`` VNTC articles spread over the file's ten topics (every 37th)."""
    step = 37
    docs = []
    with gzip.open(require_data(VNTC), "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % step:
                continue
            text = " ".join(json.loads(line)["text"].split())
            words = text.split(" ")
            docs.append({"id": f"vntc{i}", "title": " ".join(words[:8]), "body": text[:1000]})
            if len(docs) == n:
                break
    return docs


def seeded_queries(docs: list[dict], n: int = N_QUERIES) -> list[str]:
    """``n`` queries drawn with seed 22 from the documents' bodies, six kinds in turn."""
    rng = random.Random(22)
    out = []
    while len(out) < n:
        words = [w.strip(".,;:!?()\"'“”") for w in rng.choice(docs)["body"].split(" ")]
        words = [w for w in words if w and any(c.isalpha() for c in w)]
        if len(words) < 4:
            continue
        at = rng.randrange(len(words) - 3)
        two, three = " ".join(words[at : at + 2]), " ".join(words[at : at + 3])
        kind = len(out) % 6
        out.append(
            [
                two.lower(),  # accented
                fold(three),  # unaccented: accents restored from the spelling tables
                f'"{two}"',  # a phrase
                f"{three} là gì?",  # a question
                fold(two) + " " + words[at + 3],  # unaccented with an accented word
                words[at],  # one word
            ][kind]
        )
    return out


def tie_key(hit: Any) -> tuple:
    """What hits tied in the ranking share: clauses matched and score (to 1e-9)."""
    return (hit.clauses, round(hit.score, 9))


def same_ranking(expected: Any, got: Any, wider: Any) -> bool:
    """Whether ``got`` (top 10) is ``expected``'s ranking: the same clause counts and
    scores (within 1e-9) rank by rank, the same ids where scores differ; among hits tied
    on (clauses, score), any order (``wider``: one index's hits past the cut, for a tie
    group it cuts). Hits are anything with ``id``, ``score`` and ``clauses``."""
    expected, got = list(expected), list(got)
    if len(expected) != len(got):
        return False
    for e, g in zip(expected, got):
        if e.clauses != g.clauses or abs(e.score - g.score) > TOL * max(1.0, abs(e.score)):
            return False
    ties: dict[tuple, set] = {}
    for h in wider:
        ties.setdefault(tie_key(h), set()).add(h.id)
    return all(e.id == g.id or g.id in ties.get(tie_key(e), ()) for e, g in zip(expected, got))
