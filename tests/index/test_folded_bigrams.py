"""Format 5: the ``folded_bigrams`` views store no postings; a folded bigram's are the
union of its variants' in the ``bigrams`` view. Checked against a naive oracle: the
documents' own folded-bigram tokens, counted per live document, through every state an
index goes through (one segment, several, deletions, an update, a merge)."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict

import numpy as np
import pytest

from vnsearch import ID, TEXT, Index, Schema, analyze
from vnsearch.index.terms import terms_reader

TEXTS = [
    "Hà Nội mùa thu, hà nội phố cổ. HÀ NỘI!",
    "ha noi mua thu ha noi pho co",
    "Hạ nội hả nối: hà nội, Hà Nơi và hà nôi.",
    "Thủy điện Hòa Bình và Thuỷ điện Hoà Bình; hoà bình, hòa bình, HOÀ BÌNH.",
    "COVID-19 năm 2020-2021 ở TP.HCM, 3.5 tỷ đồng và 3,5 tỷ đồng.",
    "Phở phở phở phở, phở gà phở bò phở gà.",
    "Email a.b@vn.vn và https://vnexpress.net/x-y hôm nay hôm nay",
    "Đường đường dương Dương đương ĐƯỜNG duong",
    unicodedata.normalize("NFD", "Tiếng Việt có dấu viết ở dạng NFD: tiếng việt"),
    "dòng một\ndòng hai\n\nDòng ba — dòng bốn; dòng-năm",
    "Ông Nguyễn Văn A, ông nguyen van a và ÔNG NGUYỄN VĂN A",
    "oà òa Oà Òa khoẻ khỏe thuý thúy",
    "Chỉ một từ",
    "",
    "Lí do lý do lí lẽ lý lẽ; quy định qui định",
]


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), title=TEXT(stored=True), body=TEXT(stored=True))


def _docs(prefix: str, texts: list[str]) -> list[dict]:
    return [
        {"id": f"{prefix}{i}", "title": texts[(i + 3) % len(texts)], "body": t}
        for i, t in enumerate(texts)
    ]


def _oracle(docs: dict[str, dict], field: str) -> dict[str, dict[str, int]]:
    """folded bigram -> document id -> its number of occurrences, from the analyzer."""
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for doc_id, doc in docs.items():
        for term, n in Counter(analyze(doc[field]).terms("folded_bigrams")).items():
            found[term][doc_id] = n
    return found


def _check(ix: Index, live: dict[str, dict]) -> None:
    snap = ix.snapshot()
    ids = {d: snap.stored_fields(d)["id"] for d in range(snap.total)}
    for field in ("title", "body"):
        hidden = f"{field}.folded_bigrams"
        want = _oracle(live, field)
        assert len(want) > 50
        terms = sorted(want)
        many = snap.postings_many([(hidden, t) for t in terms])
        for term, p in zip(terms, many):
            one = snap.postings(hidden, term)
            for got in (one, p):
                assert got is not None, term
                docs = got.docs.tolist()
                assert docs == sorted(set(docs)), term
                found = {ids[d]: f for d, f in zip(docs, got.freqs.tolist())}
                assert found == want[term], term
        for reader, _base in snap.segments:  # nothing stored; the df of the union kept
            ft = terms_reader(reader).field_terms(hidden)
            counts, _offsets, lengths = ft.columns()
            assert ft.postings_from == f"{field}.bigrams"
            assert not lengths.any()
            for i, key in enumerate(ft.key_list()):  # no term the documents lack
                arrays = terms_reader(reader).arrays(hidden, key)
                assert arrays is not None and len(arrays.docs) == counts[i] > 0


def test_folded_bigram_postings_are_the_union_of_their_variants(tmp_path):
    ix = Index.create(tmp_path / "ix", _schema())
    first, second = _docs("a", TEXTS), _docs("b", TEXTS[::-1] + [TEXTS[0].lower()])
    live: dict[str, dict] = {}
    with ix.writer(jobs=1) as w:
        for d in first:
            w.add(d)
    live.update((d["id"], d) for d in first)
    _check(ix, live)  # one segment, no deletions
    with ix.writer(jobs=1) as w:
        for d in second:
            w.add(d)
        w.update({"id": "a3", "title": "Hòa bình", "body": "hoa binh hòa bình hoà bình"})
        w.delete("a0")
    live.update((d["id"], d) for d in second)
    live["a3"] = {"id": "a3", "title": "Hòa bình", "body": "hoa binh hòa bình hoà bình"}
    del live["a0"]
    assert ix.stats().segments >= 2 and ix.stats().deleted
    _check(ix, live)  # several segments, deleted documents
    ix.optimize()
    assert ix.stats().segments == 1 and not ix.stats().deleted
    _check(ix, live)  # the merged segment derives the same postings
    merged = terms_reader(ix.snapshot().segments[0][0])
    keys, counts, docs, weights, _npos, positions = merged.field_postings("body.folded_bigrams")
    assert positions is None and counts.sum() == len(docs) == len(weights)
    bounds = np.r_[0, np.cumsum(counts)].tolist()
    for k, key in enumerate(keys):  # what the next merge reads: the same postings
        arrays = merged.arrays("body.folded_bigrams", key)
        assert docs[bounds[k] : bounds[k + 1]].tolist() == arrays.docs.tolist()
        assert weights[bounds[k] : bounds[k + 1]].tolist() == arrays.freqs.tolist()
    ix.close()
    with Index.open(tmp_path / "ix") as again:  # as read from the folder
        _check(again, live)


@pytest.mark.parametrize("query", ["ha noi", "hoa binh", "pho ga", "duong duong", "oa oa"])
def test_unaccented_searches_score_as_the_stored_postings_did(tmp_path, query):
    """The folded-bigram scores come from the derived postings: a document holding a pair
    twice (two variants) scores more than one holding it once, in the bigram view's
    frequency sum."""
    ix = Index.in_memory(_schema())
    with ix.writer(jobs=1) as w:
        for d in _docs("a", TEXTS):
            w.add(d)
    snap = ix.snapshot()
    p = snap.postings("body.folded_bigrams", query)
    live = {d["id"]: d for d in _docs("a", TEXTS)}
    want = _oracle(live, "body")[query]
    assert p is not None and len(p.docs) == len(want)
    assert sorted(p.freqs.tolist()) == sorted(float(n) for n in want.values())
