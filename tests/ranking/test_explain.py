"""Explanations are data: one ``TermContribution`` per term, printed as before, as JSON.

The printed form is pinned here: ``str(explanation)`` must not change when the data behind
it does not.
"""

from __future__ import annotations

import json
import math

import pytest

import vnsearch
from vnsearch.ranking.results import Explanation
from vnsearch.ranking.scoring import DEFAULT_RANKING, Ranking, TermContribution, idf, length_norm


@pytest.fixture(scope="module")
def ix():
    schema = vnsearch.Schema(
        id=vnsearch.ID(stored=True, unique=True),
        title=vnsearch.TEXT(stored=True, boost=2.0),
        body=vnsearch.TEXT(),
    )
    ix = vnsearch.Index.in_memory(schema)
    with ix.writer() as w:
        w.add({"id": "a", "title": "Hà Nội", "body": "Thủ đô Hà Nội mùa thu"})
        w.add({"id": "b", "title": "Huế", "body": "Cố đô Huế và sông Hương"})
        w.add({"id": "c", "title": "Đà Nẵng", "body": "thành phố biển"})
    yield ix
    ix.close()


def test_an_explanation_prints_a_line_per_term_under_the_score(ix):
    e = ix.explain("hà nội", "a", ranking=Ranking())
    lines = str(e).split("\n")
    assert lines[0] == "document 'a': score 6.0852"
    assert lines[1] == (
        "  0.8119 = 2 (weight of title/syllables) x idf 0.981 (df 1, N 3)"
        " x tf 1 / (tf + 1.2 x (1 - 0.9 + 0.9 x len 2 / avg 1.7))   ['hà']"
    )
    assert lines[-1] == (
        "  0.4268 = 1 (weight of body/words) x idf 0.981 (df 1, N 3)"
        " x tf 1 / (tf + 1.2 x (1 - 0.9 + 0.9 x len 4 / avg 3.7))   ['hà nội']"
    )
    assert tuple(lines[1:]) == e.lines == tuple(f"  {t}" for t in e.terms)
    assert len(e.terms) == 14


def test_bm25_plus_prints_delta_inside_the_parenthesis(ix):
    e = ix.explain("hà nội", "a")  # DEFAULT_RANKING: delta 0.1, k1 0.5 for syllables
    assert e.lines[0] == (
        "  1.4299 = 2 (weight of title/syllables) x idf 0.981 (df 1, N 3)"
        " x (tf 1 / (tf + 0.5 x (1 - 0.9 + 0.9 x len 2 / avg 1.7)) + 0.1)   ['hà']"
    )


def test_a_document_that_does_not_match_says_so(ix):
    e = ix.explain("huế", "a")
    assert str(e) == "document 'a': score 0.0000 (does not match the query)"
    assert e.terms == () and e.lines == () and not e.matched


def test_the_terms_hold_the_numbers_of_the_formula(ix):
    for ranking in (Ranking(), DEFAULT_RANKING):
        e = ix.explain("hà nội huế", "a", ranking=ranking)
        assert e.matched and e.terms
        assert math.isclose(sum(t.value for t in e.terms), e.score, rel_tol=1e-12)
        for t in e.terms:
            assert isinstance(t, TermContribution)
            assert t.field == f"{t.text_field}.{t.view}"
            assert (t.k1, t.b) == ranking.params(t.view) and t.delta == ranking.delta
            assert t.idf == idf(t.df, t.n) and t.n == 3
            norm = length_norm(t.k1, t.b, t.length, t.avg_length)
            expected = t.weight * t.idf * (t.tf / (t.tf + norm) + t.delta)
            assert math.isclose(t.value, expected, rel_tol=1e-12)


def test_to_dict_is_json_and_gives_every_number(ix):
    e = ix.explain("hà nội", "a")
    data = json.loads(json.dumps(e.to_dict()))
    assert data["doc_id"] == "a" and data["matched"] is True
    assert data["score"] == e.score
    assert len(data["terms"]) == len(e.terms)
    first = data["terms"][0]
    assert set(first) >= {
        "field", "view", "term", "text_field", "value", "weight", "idf", "df", "n", "tf",
        "length", "avg_length", "k1", "b", "delta",
    }  # fmt: skip
    assert first == e.terms[0].to_dict()
    assert first["term"] == "hà" and first["value"] == e.terms[0].value


def test_an_explanation_is_frozen_data():
    e = Explanation("x", 1.5, True)
    with pytest.raises(AttributeError):
        e.score = 2.0  # type: ignore[misc]
    assert str(e) == "document 'x': score 1.5000"
    assert e == Explanation("x", 1.5, True, ())
