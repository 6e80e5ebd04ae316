"""The search engine end to end: index, writer, persistence, merges, ranking, concurrency.

Whoosh's own searcher serves as an oracle for which documents a term or phrase matches.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq
from whoosh.searching import Searcher

import vnsearch
from vnsearch import DATETIME, ID, KEYWORD, TEXT, Index, Schema, SchemaError, analyze, fold
from vnsearch.index import IndexError_

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True, boost=2.0),
        body=TEXT(stored=True),
        topic=KEYWORD(stored=True),
        published=DATETIME(stored=True),
    )


def seed_docs() -> list[dict]:
    """The five bundled seed documents: first line the title, the rest the body."""
    docs = []
    for i, path in enumerate(sorted(SEEDS.glob("*.txt"))):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        docs.append(
            {
                "id": f"seed{i}",
                "title": title.strip(),
                "body": body.strip(),
                "topic": "to-chuc",
                "published": datetime.datetime(2020, 1, 1 + i, 8, 30),
            }
        )
    assert len(docs) == 5
    return docs


def _hand(id_: str, title: str, body: str, topic: str) -> dict:
    return {
        "id": id_,
        "title": title,
        "body": body,
        "topic": topic,
        "published": datetime.datetime(2024, 3, 1, 12, 0),
    }


HAND = [
    _hand("1", "Ban Tổ chức Trung ương", "Hội nghị về công tác tổ chức xây dựng Đảng.", "thoi-su"),
    _hand("hanoi", "Mùa thu", "Mùa thu ở Hà Nội có hoa sữa và cốm làng Vòng.", "thoi-su"),
    _hand("danang", "Du lịch biển", "Thành phố Đà Nẵng có cầu Rồng và biển Mỹ Khê.", "du-lich"),
    _hand("hb-old", "Thủy điện Hòa Bình", "Nhà máy thủy điện Hòa Bình trên sông Đà.", "kinh-te"),
    _hand("hb-new", "Nhà máy điện", "Thuỷ điện Hoà Bình phát điện lên lưới quốc gia.", "kinh-te"),
    _hand("duong-exact", "Làng quê", "con đường làng quê yên bình", "doi-song"),
    _hand("duong-folded", "Làng quê", "con dương làng quê yên bình", "doi-song"),
    _hand("pho-both", "Ẩm thực", "Quán bán phở bò tái chín.", "am-thuc"),
    _hand("pho-only", "Ẩm thực", "Phở phở phở, phở gà, phở ngon.", "am-thuc"),
    _hand("bo-only", "Ẩm thực", "Món bò kho bánh mì.", "am-thuc"),
    _hand("song-title", "Sông Hồng", "Bài viết về du lịch miền Bắc.", "du-lich"),
    _hand("song-body", "Du lịch miền Bắc", "Sông Hồng chảy qua Hà Nội.", "du-lich"),
    _hand("hue", "Cố đô", "Cố đô Huế bên dòng sông Hương.", "du-lich"),
    _hand("vungtau", "Biển", "Biển Vũng Tàu đông khách cuối tuần.", "du-lich"),
]

ALL_DOCS = seed_docs() + HAND
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
        w.add(_hand("tmp", "Tạm thời", "Văn bản tạm thời sẽ bị xoá, Hà Nội Đà Nẵng phở bò.", "x"))
    with ix.writer() as w:
        assert w.delete("tmp") == 1
    return ix


def run(ix: Index, queries=QUERIES, **options) -> list[list[tuple[str, float]]]:
    return [[(h.id, h.score) for h in ix.search(q, limit=50, **options)] for q in queries]


def ids(results) -> list[str]:
    return [h.id for h in results]


def folded_terms(text: str) -> set[str]:
    return {t.text for t in analyze(text)["folded"]}


@pytest.fixture(autouse=True)
def private_tempdir(tmp_path_factory, monkeypatch):
    """Whoosh's RamStorage writes its temporary files to ``<tempdir>/MAIN.tmp``, one folder
    shared by every in-memory index (see ``test_two_in_memory_indexes_write_independently``):
    a private tempdir keeps other processes' in-memory writers out of this test's way."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tempdir")))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Index:
    """Seeds plus hand-written documents, on disk, over several commits, with a deletion."""
    ix = build(Index.create(tmp_path_factory.mktemp("corpus") / "ix", make_schema()))
    assert ix.doc_count == len(ALL_DOCS)
    yield ix
    ix.close()


# -- 1. API basics ---------------------------------------------------------------------------


def test_issue_example(tmp_path):
    ix = Index.create(tmp_path / "news.idx", make_schema())
    with ix.writer() as w:
        for doc in seed_docs():
            w.add(doc)
        w.add(_hand("1", "Ban Tổ chức", "Công tác tổ chức xây dựng Đảng", "thoi-su"))
        w.add(_hand("2", "Thời tiết", "Trời mưa to ở Hà Nội", "thoi-su"))
        w.add(_hand("3", "Sắp xoá", "Tổ chức đảng sắp bị xoá", "thoi-su"))
    with ix.writer() as w:
        w.update(_hand("1", "Ban Tổ chức Trung ương", "Hội nghị tổ chức đảng các cấp", "thoi-su"))
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


def test_explain_score_matches_search(corpus):
    for q in ("tổ chức đảng", "ha noi", "phở bò"):
        for hit in corpus.search(q, limit=5):
            e = corpus.explain(q, hit.id)
            assert e.matched
            assert np.isclose(e.score, hit.score)
            parts = [float(line.split("=")[0]) for line in e.lines]
            assert np.isclose(sum(parts), hit.score, rtol=0, atol=1e-4 * len(parts))


# -- 2. Writer semantics ---------------------------------------------------------------------


def small_index(tmp_path=None) -> Index:
    schema = make_schema()
    ix = Index.in_memory(schema) if tmp_path is None else Index.create(tmp_path / "ix", schema)
    with ix.writer() as w:
        for doc in HAND[:6]:
            w.add(doc)
    return ix


@pytest.mark.parametrize("on_disk", [False, True])
def test_exception_in_writer_rolls_back(tmp_path, on_disk):
    ix = small_index(tmp_path if on_disk else None)
    before = run(ix)
    count = ix.doc_count
    with pytest.raises(ZeroDivisionError), ix.writer() as w:
        w.add(_hand("new", "Mới", "Vũng Tàu Hà Nội", "x"))
        w.update(_hand("hanoi", "Đã sửa", "Không còn", "x"))
        w.delete("danang")
        raise ZeroDivisionError("boom")
    assert ix.doc_count == count
    assert run(ix) == before
    assert "new" not in ids(ix.search("vung tau", limit=50))
    # the lock was released: another writer works
    with ix.writer(timeout=0.1) as w:
        w.add(_hand("after", "Sau", "Cần Thơ", "x"))
    assert ids(ix.search("can tho")) == ["after"]
    if on_disk:
        ix.close()
        ix2 = Index.open(tmp_path / "ix")
        assert ix2.doc_count == count + 1
        assert ids(ix2.search("can tho")) == ["after"]
        ix2.close()


def test_cancel_and_closed_writer():
    ix = small_index()
    count = ix.doc_count
    w = ix.writer()
    w.add(_hand("x", "X", "Cần Thơ", "x"))
    w.cancel()
    w.cancel()  # harmless
    assert ix.doc_count == count
    with pytest.raises(RuntimeError):
        w.add(_hand("y", "Y", "Cần Thơ", "x"))
    w = ix.writer(timeout=0.1)
    w.commit()
    with pytest.raises(RuntimeError):
        w.commit()


def test_update_replaces_by_unique_id():
    ix = small_index()
    count = ix.doc_count
    with ix.writer() as w:
        w.update(_hand("hanoi", "Mùa đông", "Hà Nội mùa đông lạnh giá", "thoi-su"))
    assert ix.doc_count == count
    r = ix.search("ha noi", limit=50)
    assert ids(r) == ["hanoi"]
    assert r[0].fields["title"] == "Mùa đông"
    assert ix.search('"hoa sữa"').total == 0  # the old text is gone
    assert ix.search("+sữa").total == 0
    # update of an id that does not exist adds it
    with ix.writer() as w:
        w.update(_hand("new", "Mới", "Cần Thơ gạo trắng nước trong", "x"))
    assert ix.doc_count == count + 1


def test_update_within_one_batch():
    ix = small_index()
    count = ix.doc_count
    with ix.writer() as w:
        w.add(_hand("b", "Một", "Cần Thơ lần một", "x"))
        w.update(_hand("b", "Hai", "Cần Thơ lần hai", "x"))
        w.update(_hand("b", "Ba", "Cần Thơ lần ba", "x"))
        w.update(_hand("hanoi", "Một", "Hà Nội lần một", "x"))
        w.update(_hand("hanoi", "Hai", "Hà Nội lần hai", "x"))
    assert ix.doc_count == count + 1
    r = ix.search("can tho", limit=50)
    assert [(h.id, h.fields["title"]) for h in r] == [("b", "Ba")]
    r = ix.search("ha noi", limit=50)
    assert [(h.id, h.fields["title"]) for h in r] == [("hanoi", "Hai")]
    assert ix.search("mot").total == 0


def test_update_after_duplicate_adds_in_one_batch():
    """``update`` replaces every document with the id, also two added in the same batch."""
    ix = small_index()
    with ix.writer() as w:
        w.add(_hand("d", "Một", "Cần Thơ lần một", "x"))
        w.add(_hand("d", "Hai", "Cần Thơ lần hai", "x"))
        w.update(_hand("d", "Ba", "Cần Thơ lần ba", "x"))
    assert [(h.id, h.fields["title"]) for h in ix.search("can tho", limit=50)] == [("d", "Ba")]


def test_delete_counts_and_deleted_never_come_back():
    ix = small_index()
    count = ix.doc_count
    with ix.writer() as w:
        assert w.delete("hanoi") == 1
        assert w.delete("hanoi") == 0
        assert w.delete("no-such-id") == 0
        w.add(_hand("p", "P", "Phú Quốc nước mắm", "x"))
        assert w.delete("p") == 1  # added in this batch
        w.update(_hand("danang", "Đà Nẵng mới", "Đà Nẵng đáng sống", "x"))
        assert w.delete("danang") == 1  # the updated one; the committed one is gone already
    assert ix.doc_count == count - 2
    for q in ("ha noi", "hà nội", "phu quoc", "da nang", "đà nẵng", '"Hà Nội"', "+hà"):
        assert not {"hanoi", "p", "danang"} & set(ids(ix.search(q, limit=100))), q
    # committed duplicates (add does not check ids) are all deleted
    with ix.writer() as w:
        w.add(_hand("dup", "A", "Quy Nhơn", "x"))
    with ix.writer() as w:
        w.add(_hand("dup", "B", "Quy Nhơn", "x"))
    assert ix.search("quy nhon").total == 2
    with ix.writer() as w:
        assert w.delete("dup") == 2
    assert ix.search("quy nhon").total == 0
    # later commits do not bring deleted documents back
    with ix.writer() as w:
        w.add(_hand("z", "Z", "Hà Nội Đà Nẵng", "x"))
    for _ in range(2):
        for q in ('"ha noi"', '"đà nẵng"', "+hà +nội", "+da +nang"):
            assert ids(ix.search(q, limit=100)) == ["z"], q
        ix.writer().commit(optimize=True)  # nor does a merge


def test_delete_after_duplicate_adds_in_one_batch():
    """``delete`` removes every document with the id, also two added in the same batch."""
    ix = small_index()
    with ix.writer() as w:
        w.add(_hand("d", "Một", "Cần Thơ lần một", "x"))
        w.add(_hand("d", "Hai", "Cần Thơ lần hai", "x"))
        assert w.delete("d") == 2
    assert ix.search("can tho").total == 0


def _try_second_writer(ix: Index) -> tuple[list, threading.Thread]:
    """Try a second writer in another thread (so a hang fails the test instead of blocking).

    Returns what happened (the exception or "acquired", then the seconds it took; empty if
    the attempt still hangs after 5 s) and the thread, to be joined once the lock is free.
    """
    out: list = []

    def attempt():
        start = time.monotonic()
        try:
            ix.writer(timeout=0.1).cancel()
            out.append("acquired")
        except Exception as exc:
            out.append(exc)
        out.append(time.monotonic() - start)

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(5.0)
    return out, t


@pytest.mark.parametrize("on_disk", [True, False], ids=["disk", "memory"])
def test_second_writer_raises_index_locked(tmp_path, on_disk):
    ix = small_index(tmp_path if on_disk else None)
    w = ix.writer()
    threads = []
    try:
        if on_disk:  # in the same thread too: on disk the lock is a file lock
            with pytest.raises(vnsearch.IndexLocked):
                ix.writer(timeout=0.1)
        outcome, t = _try_second_writer(ix)
        threads.append(t)
        assert outcome, "ix.writer(timeout=0.1) still blocks after 5 s while another is open"
        assert isinstance(outcome[0], vnsearch.IndexLocked)
        assert outcome[1] < 2.0
    finally:
        w.cancel()
        for t in threads:
            t.join(5.0)  # a hung attempt gets the lock now, and cancels
    with ix.writer(timeout=0.1) as w2:
        w2.add(_hand("ok", "OK", "Cần Thơ", "x"))
    assert ix.search("can tho").total == 1


def test_two_in_memory_indexes_write_independently():
    """A writer of one in-memory index must not break the writer of another."""
    a = Index.in_memory(make_schema())
    b = Index.in_memory(make_schema())
    wa = a.writer()
    wa.add(_hand("a", "A", "Hà Nội", "x"))
    with b.writer() as wb:
        wb.add(_hand("b", "B", "Đà Nẵng", "x"))
    wa.commit()  # FileNotFoundError: <tempdir>/MAIN.tmp/....ctmp (b's writer deleted it)
    assert ids(a.search("ha noi")) == ["a"]
    assert ids(b.search("da nang")) == ["b"]


def test_unknown_field_and_wrong_types():
    ix = small_index()
    count = ix.doc_count
    w = ix.writer()
    with pytest.raises(SchemaError, match="author"):
        w.add({"id": "x", "author": "Nguyễn Du"})
    with pytest.raises(SchemaError, match="author"):
        w.update({"id": "x", "author": "Nguyễn Du"})
    with pytest.raises(TypeError, match="body"):
        w.add({"id": "x", "body": 5})
    with pytest.raises(TypeError, match="title"):
        w.add({"id": "x", "title": b"bytes"})
    with pytest.raises(TypeError, match="published"):
        w.add({"id": "x", "published": "2024-01-01"})
    with pytest.raises(TypeError):
        w.add(["not", "a", "mapping"])
    w.add(_hand("fine", "Tốt", "Cần Thơ", "x"))
    w.commit()
    assert ix.doc_count == count + 1
    assert ids(ix.search("can tho")) == ["fine"]


# -- 3. Persistence ----------------------------------------------------------------------------


def test_reopen_gives_identical_results(tmp_path):
    path = tmp_path / "ix"
    ix = build(Index.create(path, make_schema()))
    before = run(ix)
    count = ix.doc_count
    assert sum(map(len, before)) > 50
    ix.close()
    for schema in (None, make_schema()):
        ix2 = Index.open(path, schema)
        assert ix2.schema == make_schema()
        assert ix2.doc_count == count
        assert run(ix2) == before
        ix2.close()
    # a reopened index can be written to
    with Index.open(str(path)) as ix3:
        with ix3.writer() as w:
            w.add(_hand("late", "Muộn", "Cần Thơ", "x"))
        assert ix3.doc_count == count + 1


def test_two_index_objects_on_one_folder(tmp_path):
    a = small_index(tmp_path)
    b = Index.open(tmp_path / "ix")
    count = b.doc_count
    with a.writer() as w:
        w.add(_hand("new", "Mới", "Phú Quốc nước mắm", "x"))
    assert b.doc_count == count + 1
    assert ids(b.search('"phu quoc"')) == ["new"]
    w = a.writer()
    try:
        with pytest.raises(vnsearch.IndexLocked):
            b.writer(timeout=0.1)
    finally:
        w.cancel()
    a.close()
    b.close()


def test_commits_of_another_index_object_are_seen_after_a_quiet_spell(tmp_path):
    """The folder is listed for new commits only when it changed: a commit made after a
    long quiet spell (an old folder time) must still be seen at once."""
    a = small_index(tmp_path)
    b = Index.open(tmp_path / "ix")
    count = b.doc_count
    old = time.time() - 3600
    os.utime(tmp_path / "ix", (old, old))
    assert b.doc_count == count  # remembers the folder's (old) time
    with a.writer() as w:
        w.add(_hand("new", "Mới", "Phú Quốc nước mắm", "x"))
    assert b.doc_count == count + 1
    assert ids(b.search('"phu quoc"')) == ["new"]
    a.close()
    b.close()


def test_in_memory_and_on_disk_agree(tmp_path, corpus):
    mem = build(Index.in_memory(make_schema()))
    disk = build(Index.create(tmp_path / "ix", make_schema()))
    results = run(mem)
    assert run(disk) == results
    assert run(corpus) == results
    assert run(mem, fields=["body"]) == run(disk, fields=["body"])
    disk.close()


def test_open_missing_or_foreign_folder(tmp_path):
    with pytest.raises(IndexError_, match="no such"):
        Index.open(tmp_path / "does-not-exist")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexError_, match="not a vnsearch index"):
        Index.open(tmp_path / "empty")
    (tmp_path / "file").write_text("x")
    with pytest.raises(IndexError_):
        Index.open(tmp_path / "file")
    # a schema file but no Whoosh files
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "vnsearch.json").write_text(make_schema().to_json(), encoding="utf-8")
    with pytest.raises(IndexError_, match="missing"):
        Index.open(tmp_path / "half")
    # a schema file that is not JSON
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "vnsearch.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexError_):
        Index.open(tmp_path / "junk")


def test_open_with_another_schema(tmp_path):
    small_index(tmp_path).close()
    other = Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))
    with pytest.raises(SchemaError, match="another schema"):
        Index.open(tmp_path / "ix", other)
    boosted = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True, boost=3.0),
        body=TEXT(stored=True),
        topic=KEYWORD(stored=True),
        published=DATETIME(stored=True),
    )
    with pytest.raises(SchemaError):
        Index.open(tmp_path / "ix", boosted)
    Index.open(tmp_path / "ix", make_schema()).close()


def test_other_format_version(tmp_path):
    small_index(tmp_path).close()
    schema_file = tmp_path / "ix" / "vnsearch.json"
    data = json.loads(schema_file.read_text(encoding="utf-8"))
    assert data["format"] == vnsearch.index.FORMAT_VERSION
    data["format"] = 99
    schema_file.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexError_, match="99") as info:
        Index.open(tmp_path / "ix")
    assert "version" in str(info.value)


def test_create_over_existing_index(tmp_path):
    ix = small_index(tmp_path)
    count = ix.doc_count
    with pytest.raises(IndexError_, match="already"):
        Index.create(tmp_path / "ix", make_schema())
    with pytest.raises(IndexError_):
        Index.create(str(tmp_path / "ix"), Schema(body=TEXT()))
    ix.close()
    reopened = Index.open(tmp_path / "ix")
    assert reopened.doc_count == count
    reopened.close()


# -- 4. Merges -----------------------------------------------------------------------------------


def _segmented(ix: Index) -> Index:
    """Many commits (segments), with deletes and updates along the way."""
    # four segments at most: Whoosh's default merge policy folds five small ones into one
    docs = ALL_DOCS
    for start in range(0, len(docs), 7):
        with ix.writer() as w:
            for doc in docs[start : start + 7]:
                w.add(doc)
    with ix.writer() as w:
        assert w.delete("seed2") == 1
        assert w.delete("pho-only") == 1
        w.update(_hand("hanoi", "Mùa đông", "Hà Nội mùa đông lạnh, phở bò nóng.", "thoi-su"))
    with ix.writer() as w:
        assert w.delete("hue") == 1
    return ix


def _assert_same(a, b):
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        assert [i for i, _ in ra] == [i for i, _ in rb]
        assert np.allclose([s for _, s in ra], [s for _, s in rb], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "disk"])
def test_optimize_keeps_ids_and_scores(tmp_path, on_disk):
    ix = _segmented(
        Index.create(tmp_path / "ix", make_schema()) if on_disk else Index.in_memory(make_schema())
    )
    assert len(ix.snapshot().segments) > 1
    count = ix.doc_count
    before = run(ix)
    before_fields = run(ix, fields=["body"])
    w = ix.writer()
    w.commit(optimize=True)
    assert len(ix.snapshot().segments) == 1
    assert ix.doc_count == count
    _assert_same(run(ix), before)
    _assert_same(run(ix, fields=["body"]), before_fields)
    for doc_id in ("seed2", "pho-only", "hue"):
        assert all(doc_id not in [i for i, _ in r] for r in run(ix)), doc_id
    if on_disk:
        ix.close()
        _assert_same(run(Index.open(tmp_path / "ix")), before)


@pytest.mark.parametrize("on_disk", [False, True])
def test_stored_fields_of_every_segment(tmp_path, on_disk):
    """Hits read stored fields from the mapped file without Whoosh's column layers (or
    through Whoosh in memory): the same dicts as Whoosh's reader, in every segment."""
    ix = _segmented(
        Index.create(tmp_path / "ix", make_schema()) if on_disk else Index.in_memory(make_schema())
    )
    snap = ix.snapshot()
    assert len(snap.segments) > 1
    mapped = [r._perdoc.stored_reader() is not None for r, _base in snap.segments]
    assert all(mapped) if on_disk else not any(mapped)
    for doc in range(snap.total):
        assert snap.stored_fields(doc) == snap.reader.stored_fields(doc), doc
    ids = {snap.stored_fields(doc).get("id") for doc in np.flatnonzero(snap.live)}
    assert ids == {d["id"] for d in ALL_DOCS} - {"seed2", "pho-only", "hue"}


def test_optimize_with_deletes_in_the_same_writer():
    plain = _segmented(Index.in_memory(make_schema()))
    merged = _segmented(Index.in_memory(make_schema()))
    for ix, optimize in ((plain, False), (merged, True)):
        w = ix.writer()
        assert w.delete("seed0") == 1
        assert w.delete("danang") == 1
        w.commit(optimize=optimize)
    assert len(merged.snapshot().segments) == 1
    assert len(plain.snapshot().segments) > 1
    assert merged.doc_count == plain.doc_count
    _assert_same(run(merged), run(plain))


def test_merge_does_not_change_explain():
    ix = _segmented(Index.in_memory(make_schema()))
    before = str(ix.explain("tổ chức đảng", "1"))
    ix.writer().commit(optimize=True)
    assert str(ix.explain("tổ chức đảng", "1")) == before


# -- 5. Whoosh as an oracle ----------------------------------------------------------------------


def _oracle_terms() -> list[str]:
    """About 30 syllables of the seed bodies, from frequent to rare, accented and not."""
    counts: Counter[str] = Counter()
    for doc in seed_docs():
        counts.update(t.text for t in analyze(doc["body"])["syllables"] if t.kind == "syllable")
    ranked = sorted(counts, key=lambda term: (-counts[term], term))
    step = max(1, len(ranked) // 28)
    terms = ranked[::step][:28]
    return sorted(set(terms) | {"ha", "đảng", "nghị"})


ORACLE_TERMS = _oracle_terms()


@pytest.fixture(scope="module")
def whoosh_searcher(corpus):
    s = Searcher(corpus.snapshot().reader, closereader=False)
    yield s


def _whoosh_ids(searcher, q) -> set[str]:
    return {hit["id"] for hit in searcher.search(q, limit=None)}


def test_oracle_terms_are_varied():
    assert len(ORACLE_TERMS) >= 28
    assert any(fold(t) != t for t in ORACLE_TERMS)
    assert any(fold(t) == t for t in ORACLE_TERMS)


@pytest.mark.parametrize("term", ORACLE_TERMS)
def test_single_term_matches_whoosh(corpus, whoosh_searcher, term):
    expected = _whoosh_ids(whoosh_searcher, wq.Term("body.folded", fold(term)))
    results = corpus.search(term, fields=["body"], limit=1000)
    assert results.total == len(results)
    assert set(ids(results)) == expected
    assert expected  # the term is in the seeds
    # the same for the title field
    expected_title = _whoosh_ids(whoosh_searcher, wq.Term("title.folded", fold(term)))
    assert set(ids(corpus.search(term, fields=["title"], limit=1000))) == expected_title


def test_single_term_exact_view_matches_whoosh(corpus, whoosh_searcher):
    """Accented documents rank by the exact view too: it scores the Whoosh-exact set higher."""
    exact = _whoosh_ids(whoosh_searcher, wq.Term("body.syllables", "đường"))
    assert "duong-exact" in exact and "duong-folded" not in exact
    assert exact < set(ids(corpus.search("đường", fields=["body"], limit=1000)))


@pytest.mark.parametrize(
    ("phrase", "view", "words"),
    [
        ('"tổ chức"', "syllables", ["tổ", "chức"]),
        ('"Trung ương Đảng"', "syllables", ["trung", "ương", "đảng"]),
        ('"Hà Nội"', "syllables", ["hà", "nội"]),
        ('"xay dung dang"', "folded", ["xay", "dung", "dang"]),
        ('"hoi nghi"', "folded", ["hoi", "nghi"]),
    ],
)
def test_phrase_matches_whoosh(corpus, whoosh_searcher, phrase, view, words):
    expected = _whoosh_ids(whoosh_searcher, wq.Phrase(f"body.{view}", words))
    assert expected
    results = corpus.search(phrase, fields=["body"], limit=1000)
    assert set(ids(results)) == expected
    assert results.total == len(expected)


def test_whoosh_reads_the_merged_index():
    ix = _segmented(Index.in_memory(make_schema()))
    ix.writer().commit(optimize=True)
    s = Searcher(ix.snapshot().reader, closereader=False)
    for term in ("to", "chuc", "dang", "ha", "noi", "pho"):
        assert _whoosh_ids(s, wq.Term("body.folded", term)) == set(
            ids(ix.search(term, fields=["body"], limit=1000))
        )
    assert _whoosh_ids(s, wq.Phrase("body.syllables", ["tổ", "chức"])) == set(
        ids(ix.search('"tổ chức"', fields=["body"], limit=1000))
    )


@pytest.mark.parametrize("deleted_share", [0.05, 0.6], ids=["few-deleted", "many-deleted"])
def test_segments_with_deletions_match_whoosh(deleted_share):
    """Postings of a segment with deleted documents drop them (looked up in the postings
    when they are few, read per posting when many): terms, phrases (whose positions are
    read for the kept postings only) and document frequencies agree with Whoosh's own
    searcher, which skips deleted documents itself; scores are those of an index that
    never had the deleted documents."""

    def body(i: int) -> str:  # every third document holds the phrases, all hold the words
        if i % 3:
            return "Nội dung tổ chức ở Hà Tây, phố cổ và đảng " * (1 + i % 4)
        return "Hội nghị tổ chức đảng ở Hà Nội, phố cổ " * (1 + i % 4)

    gone = {f"d{i}" for i in range(120) if (i * 7919) % 100 < deleted_share * 100}
    ix = Index.in_memory(make_schema())
    with ix.writer() as w:  # one segment ...
        for i in range(120):
            w.add(_hand(f"d{i}", "Tin", body(i), "thoi-su"))
    with ix.writer() as w:  # ... and a second: global numbers differ from local ones
        for i in range(120, 130):
            w.add(_hand(f"d{i}", "Tin", body(i), "thoi-su"))
    with ix.writer() as w:
        for doc_id in gone:
            w.delete(doc_id)
    fresh = Index.in_memory(make_schema())  # the same documents, never deleted
    with fresh.writer() as w:
        for i in range(130):
            if f"d{i}" not in gone:
                w.add(_hand(f"d{i}", "Tin", body(i), "thoi-su"))
    snap = ix.snapshot()
    assert len(snap.segments) == 2 and snap._deleted  # the first keeps its deletions
    s = Searcher(snap.reader, closereader=False)
    with_phrase = {f"d{i}" for i in range(0, 130, 3)} - gone
    for query, whoosh_query, expected in [
        ('"Hà Nội"', wq.Phrase("body.syllables", ["hà", "nội"]), with_phrase),
        ('"tổ chức đảng"', wq.Phrase("body.syllables", ["tổ", "chức", "đảng"]), with_phrase),
        ("phố", wq.Term("body.folded", "pho"), {f"d{i}" for i in range(130)} - gone),
    ]:
        assert _whoosh_ids(s, whoosh_query) == expected
        results = ix.search(query, fields=["body"], limit=1000)
        assert set(ids(results)) == expected and results.total == len(expected)
    assert snap.postings("body.syllables", "phố").df == 130 - len(gone)
    for query in ('"Hà Nội"', "phố cổ", "to chuc dang", "nội"):
        a = [(h.id, h.score) for h in ix.search(query, limit=200)]
        _assert_same([a], [[(h.id, h.score) for h in fresh.search(query, limit=200)]])


# -- 6. Query language and Vietnamese behaviour --------------------------------------------------

EDGE_QUERIES = [
    "",
    " ",
    "\t\n",
    '"',
    '""',
    '"""',
    '"' * 1000,
    '"ha noi',
    'ha noi"',
    "“hà nội",
    "+",
    "-",
    "+-",
    "++--",
    "OR",
    "OR OR OR",
    "ha OR",
    "OR ha",
    "!!!",
    "...,;:?",
    "()[]{}*~^",
    ":",
    "title:",
    'title:""',
    "title:-",
    "nope:x",
    "topic:thoi-su",
    "topic:",
    "id:hanoi",
    "published:2024",
    "-hà",
    "-hà -nội",
    '-"hà nội"',
    "-ha OR noi",
    "+-ha",
    "\x00\x01",
    "\u200b\u200d",
    "🙂 🙂",
    "a" * 5000,
    "hà " * 300,
    "\u0301\u0300",
    "ĐĐĐ",
    "75-KL/TW/",
    "http://",
]


@pytest.mark.parametrize("q", EDGE_QUERIES)
def test_edge_queries_never_raise(corpus, q):
    for options in ({}, {"fields": ["title"]}, {"filter": {"topic": "thoi-su"}}):
        results = corpus.search(q, limit=10, **options)
        assert isinstance(results, vnsearch.Results)
        assert 0 <= len(results) <= 10
        assert results.total >= len(results)
    assert isinstance(corpus.search(q, limit=0), vnsearch.Results)


@pytest.mark.parametrize("q", ["-hà", "-hà -nội", '-"hà nội"', "-ha OR noi", "-"])
def test_only_must_not_is_empty(corpus, q):
    results = corpus.search(q)
    assert len(results) == 0 and results.total == 0


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


# -- 7. Concurrency ------------------------------------------------------------------------------


def test_a_snapshot_keeps_its_recent_terms_bounded_and_a_commit_starts_afresh(
    tmp_path, monkeypatch
):
    from vnsearch.ranking import snapshot

    monkeypatch.setattr(snapshot, "RECENT_TERMS", 4)
    ix = Index.create(tmp_path / "ix", make_schema())
    with ix.writer() as w:
        w.add(_hand("a", "Tin", "Tin chung về Hà Nội", "x"))
    snap = ix.snapshot()
    first = snap.postings("body.syllables", "chung")
    # one segment: the postings themselves are kept and shared, not re-read
    assert snap._one is not None and snap.postings("body.syllables", "chung") is first
    for term in ("tin", "về", "hà", "nội", "không có"):
        snap.postings("body.syllables", term)
    assert snap._one.cache_info().currsize == 4  # the least recently used went
    assert snap.postings("body.syllables", "chung").freqs is not first.freqs
    with ix.writer() as w:
        w.add(_hand("b", "Tin", "Tin chung", "x"))
    assert ix.snapshot() is not snap
    assert ix.search("chung").total == 2 and snap.postings("body.syllables", "chung").df == 1
    # two segments: each segment's arrays are kept, the postings joined per lookup
    two = ix.snapshot()
    assert len(two.segments) == 2 and two._one is None
    hits = two._arrays.cache_info().hits
    joined = two.postings("body.syllables", "chung")
    assert joined.df == 2 and two._arrays.cache_info().hits == hits + 1
    assert two.postings("body.syllables", "chung").freqs is not joined.freqs
    ix.close()


def test_search_while_writing(tmp_path):
    ix = Index.create(tmp_path / "ix", make_schema())
    word = "chung"
    with ix.writer() as w:
        for i in range(5):
            w.add(_hand(f"base{i}", "Tin", f"Tin chung số {i} về Hà Nội", "x"))
    n0 = ix.doc_count
    batches, batch_size = 5, 4
    final = n0 + batches * batch_size
    valid = {n0 + k * batch_size for k in range(batches + 1)}

    stop = threading.Event()
    done_writing = threading.Event()
    errors: list[BaseException] = []
    totals: list[list[int]] = [[] for _ in range(4)]
    after: list[int | None] = [None] * 4

    def reader(k: int) -> None:
        try:
            deadline = time.monotonic() + 10.0
            while not stop.is_set() and time.monotonic() < deadline:
                r = ix.search(word, limit=5)
                totals[k].append(r.total)
                assert len(r) == min(5, r.total)
                assert all(h.fields["body"] for h in r)
            assert done_writing.wait(10.0)
            after[k] = ix.search(word, limit=5).total
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    start = time.monotonic()
    try:
        for b in range(batches):
            with ix.writer() as w:
                for j in range(batch_size):
                    w.add(_hand(f"b{b}-{j}", "Tin mới", f"Tin chung đợt {b} số {j}", "x"))
            time.sleep(0.05)
        done_writing.set()
        time.sleep(max(0.0, 1.5 - (time.monotonic() - start)))
    finally:
        done_writing.set()
        stop.set()
        for t in threads:
            t.join(20.0)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    assert ix.doc_count == final
    for seen in totals:
        assert seen
        assert all(n0 <= n <= final for n in seen)
        assert set(seen) <= valid  # a commit is seen whole or not at all
        assert seen == sorted(seen)  # a thread never goes back to an older commit
    assert after == [final] * 4
    ix.close()


def test_a_build_spilling_many_runs_equals_one_in_memory(tmp_path):
    """A big build spills sorted runs of postings to disk and merges them at commit (one
    field at a time). One run per document here (150 runs): the same index as in memory."""

    texts = [f"{HAND[i % len(HAND)]['body']} số {i} ngày {i % 7}" for i in range(150)]
    built = []
    for name, limit in (("spilled", 1), ("memory", 10**9)):
        ix = Index.create(tmp_path / name, make_schema())
        with ix.writer(jobs=1) as w:
            w._w.pool.limit = limit
            for i, text in enumerate(texts):
                w.add({"id": str(i), "title": f"Tin {i}", "body": text})
            runs = len(w._w.pool.runs)
        built.append((ix, runs))
    (spilled, runs), (memory, none) = built
    assert runs >= 150 and none == 0
    for q in ("tổ chức", "so 7", '"ngày 3"', "hà nội", "tin 140"):
        a, b = spilled.search(q, limit=20), memory.search(q, limit=20)
        assert [(h.id, h.score) for h in a] == [(h.id, h.score) for h in b] and a.total == b.total


def test_merging_small_segments_with_new_documents_equals_one_build(tmp_path):
    """A merge at commit reads the old segments' postings into the pool one by one, while
    the new documents' views came as token streams. Every score, phrase and total must
    equal those of the same documents written in one go."""
    texts = [f"{HAND[i % len(HAND)]['body']} lần {i} tại Hà Nội" for i in range(24)]
    docs = [{"id": str(i), "title": f"Tin số {i}", "body": t} for i, t in enumerate(texts)]
    merged = Index.create(tmp_path / "merged", make_schema())
    for chunk in (docs[:5], docs[5:9], docs[9:12]):  # three small segments
        with merged.writer() as w:
            for d in chunk:
                w.add(d)
    w = merged.writer()
    w.delete("3")
    for d in docs[12:]:
        w.add(d)
    w.commit(optimize=True)
    assert len(merged.snapshot().segments) == 1
    single = Index.create(tmp_path / "single", make_schema())
    with single.writer() as w:
        for d in docs:
            if d["id"] != "3":
                w.add(d)
    for q in ("hà nội", '"tại hà nội"', "ha noi", "tin so 7", "lần 20", "tổ chức"):
        a, b = merged.search(q, limit=30), single.search(q, limit=30)
        assert sorted((h.id, round(h.score, 9)) for h in a) == sorted(
            (h.id, round(h.score, 9)) for h in b
        ), q
        assert a.total == b.total


def test_an_on_disk_index_is_read_from_its_mapped_file_not_copied(tmp_path):
    """Whoosh's BufferFile copies a segment file into a BytesIO when it is opened (all of
    VNTC's postings: 1.5 GB at every open). Postings, term dictionary, lengths and stored
    fields must be read through the memory map, with no stream made."""
    from vnsearch.index.files import MappedFile

    ix = Index.create(tmp_path / "ix", make_schema())
    with ix.writer() as w:
        for i, d in enumerate(HAND):
            w.add({**d, "id": str(i)})
    ix.close()
    ix = Index.open(tmp_path / "ix")
    assert [h.id for h in ix.search("hà nội")]  # postings, lengths and stored fields read
    reader = ix.snapshot().segments[0][0]
    files = [reader._terms._file, reader._terms._postfile]
    files += [f for f, _at, _n in reader._perdoc._colfiles.values()]
    assert len(files) >= 3 and all(isinstance(f, MappedFile) for f in files)
    assert all(f.__dict__.get("_stream") is None for f in files)  # no copy made


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "disk"])
def test_postings_and_dictionary_arrays_are_aligned(tmp_path, on_disk):
    """numpy reads unaligned arrays slowly (``searchsorted`` copies the whole array
    first, fancy indexing is 5x slower): every array read from a segment, new or merged,
    lies on a multiple of its item size in memory, mapped or not."""
    ix = Index.create(tmp_path / "ix", make_schema()) if on_disk else Index.in_memory(make_schema())
    for start in (0, 3):  # two segments, then one merged from them
        with ix.writer() as w:
            for i, d in enumerate(HAND[start : start + 3], start):
                w.add({**d, "id": str(i)})
    for optimize in (False, True):
        if optimize:
            ix.writer().commit(optimize=True)
        snap = ix.snapshot()
        assert len(snap.segments) == (1 if optimize else 2)
        arrays = []
        for reader, _base in snap.segments:
            terms = reader._terms
            for ft in terms._fields.values():
                arrays += [ft.key_offsets, ft.infos, ft.bucket_starts, ft.bucket_terms]
                for i in range(ft.n):
                    block = terms.postings(*ft.extent(i))
                    arrays += [block.docs, block.freqs]
                    if block.has_positions:
                        arrays += list(block.all_positions())
        assert len(arrays) > 100
        assert all(a.flags.aligned for a in arrays)


@pytest.mark.parametrize("on_disk", [False, True])
def test_a_new_index_without_commits_is_empty_not_broken(tmp_path, on_disk):
    ix = Index.create(tmp_path / "ix", make_schema()) if on_disk else Index.in_memory(make_schema())
    assert ix.doc_count == 0
    results = ix.search("hà nội")
    assert list(results) == [] and results.total == 0
    assert list(ix.search("hà nội", sort="-published")) == []


def _segment_files(ix: Index) -> dict[str, bytes]:
    """The postings and term dictionary of each segment, by extension."""
    reader = ix.snapshot().segments[0][0]
    return {
        "postings": bytes(reader._terms._posts),
        "terms": bytes(reader._terms._file._buf),
    }


def test_analysis_in_worker_processes_writes_the_same_index(tmp_path):
    """jobs=2 analyzes in two processes; adds, updates and deletes interleaved with them
    must give byte-identical postings and terms, and the same stored fields, as jobs=1."""
    docs = [
        {"id": str(i), "title": f"Tin {i}: {HAND[i % len(HAND)]['title']}",
         "body": f"{HAND[(i * 7) % len(HAND)]['body']} ({i})"}
        for i in range(150)
    ]  # fmt: skip
    built = []
    for jobs in (1, 2):
        ix = Index.create(tmp_path / f"jobs{jobs}", make_schema())
        with ix.writer(jobs=jobs) as w:
            for i, d in enumerate(docs):
                (w.update if i % 5 == 0 else w.add)(d)
                if i == 70:
                    assert w.delete("3") == 1  # pending documents before it count
                if i % 40 == 39:
                    w.update({**docs[i - 30], "body": "Đà Nẵng mùa mưa bão"})
        built.append(ix)
    one, two = built
    assert one.doc_count == two.doc_count == 149
    assert _segment_files(one) == _segment_files(two)
    for q in ("hà nội", "da nang mua bao", '"tổ chức"'):
        a, b = one.search(q, limit=200), two.search(q, limit=200)
        assert [(h.id, h.score, h.fields) for h in a] == [(h.id, h.score, h.fields) for h in b]


def test_a_bad_document_raises_at_its_add_with_workers(tmp_path):
    """Documents are checked before they are queued for the workers: the error comes from
    the call that gave the document, and leaving the ``with`` block rolls everything back."""
    ix = Index.create(tmp_path / "ix", make_schema())
    with pytest.raises(TypeError, match="body"), ix.writer(jobs=2) as w:
        for i in range(100):
            w.add({"id": str(i), "body": f"văn bản {i}"})
        w.add({"id": "x", "body": 42})
    assert ix.doc_count == 0
    with ix.writer(jobs=2) as w:  # the lock was released, and no worker is left behind
        w.add({"id": "1", "body": "Hà Nội"})
    assert [h.id for h in ix.search("ha noi")] == ["1"]


def test_optimize_merges_segments_and_drops_deleted_documents(tmp_path):
    ix = Index.create(tmp_path / "ix", make_schema())
    for i in range(3):
        with ix.writer(jobs=1) as w:
            w.add({"id": str(i), "title": f"Tin {i}", "body": HAND[i]["body"]})
    with ix.writer(jobs=1) as w:
        w.delete("1")
    before = [(h.id, h.score) for h in ix.search("tin", limit=10)]
    snap = ix.snapshot()
    assert len(snap.segments) > 1 or snap.total > snap.doc_count
    ix.optimize()
    snap = ix.snapshot()
    assert len(snap.segments) == 1 and snap.total == snap.doc_count == 2
    assert [(h.id, h.score) for h in ix.search("tin", limit=10)] == before


def test_positions_are_gathered_in_chunks_as_in_one_go(monkeypatch):
    """Sorting a field's postings moves each posting's positions with it; the gather runs
    in chunks (to bound memory on big builds): any chunk size gives the same arrays."""
    from vnsearch.index import pool

    rng = np.random.default_rng(5)
    npos = rng.integers(0, 5, size=50).astype(np.uint32)
    positions = rng.integers(0, 1000, size=int(npos.sum())).astype(np.uint32)
    order = rng.permutation(50)
    bounds = np.concatenate([[0], np.cumsum(npos, dtype=np.int64)])
    expected = np.concatenate([positions[bounds[j] : bounds[j + 1]] for j in order])
    for chunk in (1, 3, 7, 1 << 20):
        monkeypatch.setattr(pool, "_GATHER_CHUNK", chunk)
        starts, flat = pool._gather_positions(order, npos, positions)
        assert flat.tolist() == expected.tolist()
        assert np.diff(starts).tolist() == npos[order].tolist()
