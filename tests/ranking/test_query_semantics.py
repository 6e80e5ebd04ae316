"""What a query means, on the news corpus: must and must-not, OR, fields and field
restrictions, filters, boosts, accents and tone styles, and explain against search.
"""

from __future__ import annotations

import datetime
import unicodedata

import numpy as np
import pytest

from tests.helpers import ALL_DOCS, folded_terms, ids, run

pytestmark = pytest.mark.usefixtures("private_tempdir")


# -- explain -----------------------------------------------------------------------------


def test_explain_score_matches_search(corpus):
    for q in ("tổ chức đảng", "ha noi", "phở bò"):
        for hit in corpus.search(q, limit=5):
            e = corpus.explain(q, hit.id)
            assert e.matched
            assert np.isclose(e.score, hit.score)
            parts = [float(line.split("=")[0]) for line in e.lines]
            assert np.isclose(sum(parts), hit.score, rtol=0, atol=1e-4 * len(parts))


# -- operators, fields and filters -------------------------------------------------------


@pytest.mark.parametrize("q", ["-hà", "-hà -nội", '-"hà nội"', "-ha OR noi", "-"])
def test_only_must_not_is_empty(corpus, q):
    results = corpus.search(q)
    assert len(results) == 0 and results.total == 0


def test_must_and_must_not(corpus):
    must = corpus.search("sông +hồng", limit=100)
    assert {"song-title", "song-body"} <= set(ids(must))
    for hit in must:
        assert "hong" in folded_terms(hit.fields["title"] + " " + hit.fields["body"])
    assert not {"hb-old", "hue"} & set(ids(must))

    must_not = corpus.search("sông -hồng", limit=100)
    assert {"hb-old", "hue"} <= set(ids(must_not))
    for hit in must_not:
        assert "hong" not in folded_terms(hit.fields["title"] + " " + hit.fields["body"])


def test_field_restriction(corpus):
    r = corpus.search("title:hồng", limit=100)
    assert "song-title" in ids(r) and "song-body" not in ids(r)
    for hit in r:
        assert "hong" in folded_terms(hit.fields["title"])

    r = corpus.search('title:"sông hồng"', limit=100)
    assert ids(r) == ["song-title"]
    r = corpus.search('"sông hồng"', limit=100)
    assert set(ids(r)) == {"song-title", "song-body"}
    r = corpus.search('body:"sông hồng"', limit=100)
    assert ids(r) == ["song-body"]

    r = corpus.search("sông hồng", fields=["title"], limit=100)
    assert "song-title" in ids(r) and "song-body" not in ids(r)
    for hit in r:
        assert folded_terms(hit.fields["title"]) & {"song", "hong"}


def test_or_matches_either(corpus):
    r = corpus.search("huế OR vũng", limit=100)
    expected = {
        d["id"] for d in ALL_DOCS if folded_terms(d["title"] + "\n" + d["body"]) & {"hue", "vung"}
    }
    assert {"hue", "vungtau"} <= expected
    assert set(ids(r)) == expected
    assert r.total == len(expected)


def test_all_words_rank_above_some(corpus):
    r = ids(corpus.search("phở bò", limit=100))
    assert r[0] == "pho-both"
    assert r.index("pho-both") < r.index("pho-only")
    assert r.index("pho-both") < r.index("bo-only")
    r = ids(corpus.search("pho bo", limit=100))
    assert r[0] == "pho-both"


def test_topic_filter(corpus):
    r = corpus.search("hà nội", filter={"topic": "thoi-su"}, limit=100)
    assert "hanoi" in ids(r)
    assert "song-body" not in ids(r)
    assert all(h.fields["topic"] == "thoi-su" for h in r)
    r = corpus.search("hà nội", filter={"topic": ["thoi-su", "du-lich"]}, limit=100)
    assert {"hanoi", "song-body"} <= set(ids(r))
    assert corpus.search("hà nội", filter={"topic": "no-such-topic"}).total == 0
    when = datetime.datetime(2020, 1, 2, 8, 30)
    assert ids(corpus.search("tổ chức", filter={"published": when}, limit=100)) == ["seed1"]
    assert corpus.search("hà nội", filter={"topic": "THOI-SU"}).total == len(
        corpus.search("hà nội", filter={"topic": "thoi-su"}, limit=100)
    )


def test_fields_title_only(corpus):
    r = corpus.search("hà nội", fields=["title"], limit=100)
    assert "hanoi" not in ids(r) and "song-body" not in ids(r)
    for hit in r:
        assert folded_terms(hit.fields["title"]) & {"ha", "noi"}
    r = corpus.search("mùa thu", fields=["title"], limit=100)
    assert "hanoi" in ids(r)


def test_title_boost(corpus):
    """The same words in the title (boost 2) score higher than in the body."""
    scores = {h.id: h.score for h in corpus.search('"sông hồng"', limit=100)}
    assert scores["song-title"] > scores["song-body"]


# -- Vietnamese: accents, tone styles, Unicode forms -------------------------------------


def test_unaccented_finds_accented(corpus):
    assert "hanoi" in ids(corpus.search("ha noi", limit=3))
    assert "danang" in ids(corpus.search("da nang", limit=3))
    assert ids(corpus.search("da nang", limit=1)) == ["danang"]
    found = ids(corpus.search("thuy dien hoa binh", limit=2))
    assert set(found) == {"hb-old", "hb-new"}


def test_tone_mark_styles_are_equivalent(corpus):
    assert run(corpus, ["hòa"]) == run(corpus, ["hoà"])
    assert run(corpus, ["Thủy điện Hòa Bình"]) == run(corpus, ["Thuỷ điện Hoà Bình"])
    assert {"hb-old", "hb-new"} == set(ids(corpus.search("Thủy điện Hòa Bình", limit=2)))
    hb = ids(corpus.search('"hòa bình"', limit=50))
    assert {"hb-old", "hb-new"} <= set(hb)


def test_nfd_query_equals_nfc(corpus):
    for q in ("Hà Nội", "Đà Nẵng", "tổ chức đảng", '"Trung ương"', "Thủy điện Hòa Bình"):
        nfd = unicodedata.normalize("NFD", q)
        assert nfd != q
        assert run(corpus, [nfd]) == run(corpus, [q]), q


def test_exact_diacritics_rank_first(corpus):
    r = ids(corpus.search("đường", limit=100))
    assert "duong-exact" in r and "duong-folded" in r
    assert r.index("duong-exact") < r.index("duong-folded")
    # without diacritics the two are tied: same length, same folded text
    scores = {h.id: h.score for h in corpus.search("duong", limit=100)}
    assert np.isclose(scores["duong-exact"], scores["duong-folded"])
