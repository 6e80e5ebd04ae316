"""scoring.py, the one home of BM25: its parameters are checked, and every caller's value
(a search's vectors, ``explain``'s one term, the MaxScore bound) is the same formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnsearch.ranking.scoring import (
    DEFAULT_RANKING,
    Ranking,
    bm25,
    bm25_many,
    explain_term,
    idf,
    length_norm,
    max_contribution,
)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"k1": -0.1}, "Ranking: k1 must be >= 0"),
        ({"k1": math.nan}, "Ranking: k1 must be >= 0"),
        ({"b": -0.5}, "Ranking: b must be between 0 and 1"),
        ({"b": 1.01}, "Ranking: b must be between 0 and 1"),
        ({"view_params": {"words": (1.2, 2.0)}}, r"view_params\['words'\]: b must be"),
        ({"view_params": {"folded": (-1, 0.5)}}, r"view_params\['folded'\]: k1 must be"),
    ],
)
def test_a_ranking_refuses_k1_and_b_out_of_range(params, message):
    with pytest.raises(ValueError, match=message):
        Ranking(**params)


def test_the_limits_of_k1_and_b_are_allowed():
    Ranking(k1=0.0, b=0.0)
    Ranking(k1=100.0, b=1.0, view_params={"words": (0, 1), "syllables": (0.5, 0)})
    assert DEFAULT_RANKING.params("folded") == (0.6, 0.9)


def test_lucene_idf():
    assert idf(0, 10) == math.log(1.0 + 10.5 / 0.5)
    assert idf(10, 10) == math.log(1.0 + 0.5 / 10.5) > 0  # a term in every document
    assert idf(1, 100) > idf(2, 100) > idf(50, 100)


def test_length_norm_of_an_empty_field_counts_its_average_as_one():
    assert length_norm(1.2, 0.75, 0.0, 0.0) == 1.2 * (1.0 - 0.75)
    lengths = np.array([0.0, 5.0, 10.0])
    assert length_norm(1.0, 0.5, lengths, 5.0).tolist() == [0.5, 1.0, 1.5]


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    tf=st.integers(1, 500),
    length=st.integers(1, 5000),
    avg=st.floats(0.5, 3000.0) | st.just(0.0),  # an average length; 0: nobody has it
    df=st.integers(1, 10_000),
    extra=st.integers(0, 10_000),
    weight=st.floats(0.01, 5.0),
    k1=st.floats(0.0, 3.0),
    b=st.floats(0.0, 1.0),
    delta=st.sampled_from([0.0, 0.1, 1.0]),
)
def test_explain_term_is_the_value_a_search_computes_bit_for_bit(
    tf, length, avg, df, extra, weight, k1, b, delta
):
    n = df + extra
    term = explain_term(
        "body.syllables", "syllables", "hà", "body", weight,
        tf=float(tf), df=df, n=n, length=float(length), avg_length=avg, k1=k1, b=b,
        delta=delta,
    )  # fmt: skip
    # as a search computes it: the norm of each distinct length, float32 frequencies
    norms = length_norm(k1, b, np.array([length, length + 1], dtype=np.float64), avg)
    values = bm25_many(
        [np.array([tf, tf], dtype=np.float32)], [norms[[0, 0]]], [weight * idf(df, n)], [2],
        delta,
    )  # fmt: skip
    assert term.value == values[0] == values[1]
    single = bm25(np.array([tf], dtype=np.float32), norms[:1].copy(), weight * idf(df, n), delta)
    assert term.value == single[0]
    assert term.idf == idf(df, n)
    # the MaxScore bound: no value passes it (k1 = 0 saturates at once and reaches it)
    assert term.value <= max_contribution([(weight, idf(df, n))], delta)


def test_bm25_many_scales_each_term_by_its_own_factor():
    tfs = [np.array([1.0, 2.0], dtype=np.float32), np.array([3.0], dtype=np.float32)]
    norms = [np.array([1.0, 1.0]), np.array([1.0])]
    values = bm25_many(tfs, norms, [2.0, 10.0], [2, 1], 0.0)
    assert values.tolist() == [1.0, 2.0 * 2.0 / 3.0, 7.5]


def test_max_contribution_sums_then_scales_by_one_plus_delta():
    pairs = [(0.7, 1.3), (0.5, 2.9), (1.0, 0.01)]
    assert max_contribution(pairs, 0.1) == sum(w * i for w, i in pairs) * 1.1
    assert max_contribution([], 0.1) == 0.0
