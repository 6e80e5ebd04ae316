"""The public API end to end: the example of the issue that specified it (create, add,
update, delete, search, stored fields, explain).
"""

from __future__ import annotations

import datetime

import pytest

import vnsearch
from tests.helpers import DOCS_BY_ID, hand, news_seeds
from vnsearch import Index

pytestmark = pytest.mark.usefixtures("private_tempdir")


def test_issue_example(tmp_path, schema):
    ix = Index.create(tmp_path / "news.idx", schema)
    with ix.writer() as w:
        for doc in news_seeds():
            w.add(doc)
        w.add(hand("1", "Ban Tổ chức", "Công tác tổ chức xây dựng Đảng", "thoi-su"))
        w.add(hand("2", "Thời tiết", "Trời mưa to ở Hà Nội", "thoi-su"))
        w.add(hand("3", "Sắp xoá", "Tổ chức đảng sắp bị xoá", "thoi-su"))
    with ix.writer() as w:
        w.update(hand("1", "Ban Tổ chức Trung ương", "Hội nghị tổ chức đảng các cấp", "thoi-su"))
        assert w.delete("3") == 1
    assert ix.doc_count == 7

    results = ix.search("tổ chức đảng", limit=10)
    assert isinstance(results, vnsearch.Results)
    assert 0 < len(results) <= 10
    assert results.total >= len(results)
    assert len({h.id for h in results}) == len(results)
    for hit in results:
        assert isinstance(hit.id, str) and hit.id != "3"
        assert isinstance(hit.score, float) and hit.score > 0
        if hit.id.startswith("seed"):
            assert hit.fields["title"] == DOCS_BY_ID[hit.id]["title"]
    hit1 = next(h for h in results if h.id == "1")
    assert hit1.fields["title"] == "Ban Tổ chức Trung ương"
    assert hit1.fields["body"] == "Hội nghị tổ chức đảng các cấp"
    assert hit1.fields["topic"] == "thoi-su"
    assert hit1.fields["published"] == datetime.datetime(2024, 3, 1, 12, 0)
    # the seeds all speak of "tổ chức" and "Đảng": every one of them is found
    assert {f"seed{i}" for i in range(5)} <= {h.id for h in results}

    text = str(ix.explain("tổ chức đảng", "1"))
    for word in ("tổ", "chức", "đảng", "idf"):
        assert word in text
    assert f"{hit1.score:.4f}" in text
    with pytest.raises(KeyError):
        ix.explain("tổ chức đảng", "3")  # deleted
    ix.close()
