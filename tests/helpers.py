"""Test data and helpers shared by several test files (fixtures are in ``conftest.py``).

* The news corpus: the seed articles as news documents plus hand-written ones chosen for
  what they test (tone styles, đ/d, titles against bodies...), the queries run on it, and
  how it is built (several commits and a deletion). Writer, persistence, query semantics
  and the Whoosh oracle use it; the ``corpus`` fixture holds it on disk.
* A body-only index: the schema, word and two-segment index of the reliability, checksum
  and bad-input tests.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np

from tests.conftest import news_schema, read_seeds
from vnsearch import ID, TEXT, Index, Schema, analyze

# -- the news corpus -------------------------------------------------------------------------


def news_seeds() -> list[dict]:
    """The five bundled seed documents as news: ids ``seed0``..``seed4``, title and body
    stripped, topic ``to-chuc``, published on consecutive days."""
    docs = [
        {
            "id": f"seed{i}",
            "title": doc["title"].strip(),
            "body": doc["body"].strip(),
            "topic": "to-chuc",
            "published": datetime.datetime(2020, 1, 1 + i, 8, 30),
        }
        for i, doc in enumerate(read_seeds())
    ]
    assert len(docs) == 5
    return docs


def hand(id_: str, title: str, body: str, topic: str) -> dict:
    return {
        "id": id_,
        "title": title,
        "body": body,
        "topic": topic,
        "published": datetime.datetime(2024, 3, 1, 12, 0),
    }


HAND = [
    hand("1", "Ban Tổ chức Trung ương", "Hội nghị về công tác tổ chức xây dựng Đảng.", "thoi-su"),
    hand("hanoi", "Mùa thu", "Mùa thu ở Hà Nội có hoa sữa và cốm làng Vòng.", "thoi-su"),
    hand("danang", "Du lịch biển", "Thành phố Đà Nẵng có cầu Rồng và biển Mỹ Khê.", "du-lich"),
    hand("hb-old", "Thủy điện Hòa Bình", "Nhà máy thủy điện Hòa Bình trên sông Đà.", "kinh-te"),
    hand("hb-new", "Nhà máy điện", "Thuỷ điện Hoà Bình phát điện lên lưới quốc gia.", "kinh-te"),
    hand("duong-exact", "Làng quê", "con đường làng quê yên bình", "doi-song"),
    hand("duong-folded", "Làng quê", "con dương làng quê yên bình", "doi-song"),
    hand("pho-both", "Ẩm thực", "Quán bán phở bò tái chín.", "am-thuc"),
    hand("pho-only", "Ẩm thực", "Phở phở phở, phở gà, phở ngon.", "am-thuc"),
    hand("bo-only", "Ẩm thực", "Món bò kho bánh mì.", "am-thuc"),
    hand("song-title", "Sông Hồng", "Bài viết về du lịch miền Bắc.", "du-lich"),
    hand("song-body", "Du lịch miền Bắc", "Sông Hồng chảy qua Hà Nội.", "du-lich"),
    hand("hue", "Cố đô", "Cố đô Huế bên dòng sông Hương.", "du-lich"),
    hand("vungtau", "Biển", "Biển Vũng Tàu đông khách cuối tuần.", "du-lich"),
]

ALL_DOCS = news_seeds() + HAND
DOCS_BY_ID = {d["id"]: d for d in ALL_DOCS}

QUERIES = [
    "tổ chức đảng",
    "to chuc dang",
    '"Trung ương"',
    '"trung uong"',
    "Hà Nội",
    "ha noi",
    "đà nẵng",
    "thuy dien hoa binh",
    "Thủy điện Hòa Bình",
    "đường",
    "phở bò",
    "sông +hồng",
    "sông -hồng",
    "title:hồng",
    'title:"sông hồng"',
    "huế OR vũng",
    "hội nghị giao ban",
    "Phạm Minh Chính",
    "nhiệm vụ tháng 7",
    "75-KL/TW",
    "2020",
    "xây dựng Đảng -Lạng",
]


def build(ix: Index, docs: list[dict] = ALL_DOCS, batches: int = 3) -> Index:
    """Add ``docs`` in ``batches`` commits, then add and delete a throwaway document."""
    size = -(-len(docs) // batches)
    for start in range(0, len(docs), size):
        with ix.writer() as w:
            for doc in docs[start : start + size]:
                w.add(doc)
    with ix.writer() as w:
        w.add(hand("tmp", "Tạm thời", "Văn bản tạm thời sẽ bị xoá, Hà Nội Đà Nẵng phở bò.", "x"))
    with ix.writer() as w:
        assert w.delete("tmp") == 1
    return ix


def run(ix: Index, queries=QUERIES, **options) -> list[list[tuple[str, float]]]:
    return [[(h.id, h.score) for h in ix.search(q, limit=50, **options)] for q in queries]


def ids(results) -> list[str]:
    return [h.id for h in results]


def folded_terms(text: str) -> set[str]:
    return {t.text for t in analyze(text)["folded"]}


def small_index(tmp_path=None) -> Index:
    schema = news_schema()
    ix = Index.in_memory(schema) if tmp_path is None else Index.create(tmp_path / "ix", schema)
    with ix.writer() as w:
        for doc in HAND[:6]:
            w.add(doc)
    return ix


def segmented(ix: Index) -> Index:
    """Many commits (segments), with deletes and updates along the way."""
    # four segments at most: the merge policy folds a fifth small one and the four into one
    docs = ALL_DOCS
    for start in range(0, len(docs), 7):
        with ix.writer() as w:
            for doc in docs[start : start + 7]:
                w.add(doc)
    with ix.writer() as w:
        assert w.delete("seed2") == 1
        assert w.delete("pho-only") == 1
        w.update(hand("hanoi", "Mùa đông", "Hà Nội mùa đông lạnh, phở bò nóng.", "thoi-su"))
    with ix.writer() as w:
        assert w.delete("hue") == 1
    return ix


def assert_same(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        assert [i for i, _ in ra] == [i for i, _ in rb]
        assert np.allclose([s for _, s in ra], [s for _, s in rb], rtol=1e-9, atol=1e-12)


# -- a body-only index -----------------------------------------------------------------------

WORD = "chung"  # in every document's body


def body_schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))


def all_ids(ix: Index) -> set[str]:
    """Every document's id, through an ordinary search (every body has WORD)."""
    results = ix.search(WORD, limit=1_000_000)
    assert results.total == len(results)
    return {hit.id for hit in results}


def two_segments(tmp_path: Path, repeat: int = 1) -> Path:
    """An index of two segments (two commits) of 20 documents each (WORD ``repeat``
    times in each)."""
    path = tmp_path / "ix"
    with Index.create(path, body_schema()) as ix:
        for b in range(2):
            with ix.writer(jobs=1) as w:
                for j in range(20):
                    body = f"{'Tin chung ' * repeat}đợt {b} số {j} về Hà Nội"
                    w.add({"id": f"{b}-{j}", "body": body})
    return path


def open_and_search(path: Path) -> None:
    with Index.open(path) as ix:
        ix.search("ha noi", limit=100)
        ix.search(WORD, limit=100)
