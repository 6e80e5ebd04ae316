"""The writer: add, update and delete by unique id, rollback and cancel, the write lock,
analysis in worker processes.
"""

from __future__ import annotations

import threading
import time

import pytest

import vnsearch
from tests.helpers import HAND, hand, ids, run, small_index
from vnsearch import Index

pytestmark = pytest.mark.usefixtures("private_tempdir")


# -- add, update, delete, rollback -------------------------------------------------------


@pytest.mark.parametrize("on_disk", [False, True])
def test_exception_in_writer_rolls_back(tmp_path, on_disk):
    ix = small_index(tmp_path if on_disk else None)
    before = run(ix)
    count = ix.doc_count
    with pytest.raises(ZeroDivisionError), ix.writer() as w:
        w.add(hand("new", "Mới", "Vũng Tàu Hà Nội", "x"))
        w.update(hand("hanoi", "Đã sửa", "Không còn", "x"))
        w.delete("danang")
        raise ZeroDivisionError("boom")
    assert ix.doc_count == count
    assert run(ix) == before
    assert "new" not in ids(ix.search("vung tau", limit=50))
    # the lock was released: another writer works
    with ix.writer(timeout=0.1) as w:
        w.add(hand("after", "Sau", "Cần Thơ", "x"))
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
    w.add(hand("x", "X", "Cần Thơ", "x"))
    w.cancel()
    w.cancel()  # harmless
    assert ix.doc_count == count
    with pytest.raises(RuntimeError):
        w.add(hand("y", "Y", "Cần Thơ", "x"))
    w = ix.writer(timeout=0.1)
    w.commit()
    with pytest.raises(RuntimeError):
        w.commit()


def test_update_replaces_by_unique_id():
    ix = small_index()
    count = ix.doc_count
    with ix.writer() as w:
        w.update(hand("hanoi", "Mùa đông", "Hà Nội mùa đông lạnh giá", "thoi-su"))
    assert ix.doc_count == count
    r = ix.search("ha noi", limit=50)
    assert ids(r) == ["hanoi"]
    assert r[0].fields["title"] == "Mùa đông"
    assert ix.search('"hoa sữa"').total == 0  # the old text is gone
    assert ix.search("+sữa").total == 0
    # update of an id that does not exist adds it
    with ix.writer() as w:
        w.update(hand("new", "Mới", "Cần Thơ gạo trắng nước trong", "x"))
    assert ix.doc_count == count + 1


def test_update_within_one_batch():
    ix = small_index()
    count = ix.doc_count
    with ix.writer() as w:
        w.add(hand("b", "Một", "Cần Thơ lần một", "x"))
        w.update(hand("b", "Hai", "Cần Thơ lần hai", "x"))
        w.update(hand("b", "Ba", "Cần Thơ lần ba", "x"))
        w.update(hand("hanoi", "Một", "Hà Nội lần một", "x"))
        w.update(hand("hanoi", "Hai", "Hà Nội lần hai", "x"))
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
        w.add(hand("d", "Một", "Cần Thơ lần một", "x"))
        w.add(hand("d", "Hai", "Cần Thơ lần hai", "x"))
        w.update(hand("d", "Ba", "Cần Thơ lần ba", "x"))
    assert [(h.id, h.fields["title"]) for h in ix.search("can tho", limit=50)] == [("d", "Ba")]


def test_delete_counts_and_deleted_never_come_back():
    ix = small_index()
    count = ix.doc_count
    with ix.writer() as w:
        assert w.delete("hanoi") == 1
        assert w.delete("hanoi") == 0
        assert w.delete("no-such-id") == 0
        w.add(hand("p", "P", "Phú Quốc nước mắm", "x"))
        assert w.delete("p") == 1  # added in this batch
        w.update(hand("danang", "Đà Nẵng mới", "Đà Nẵng đáng sống", "x"))
        assert w.delete("danang") == 1  # the updated one; the committed one is gone already
    assert ix.doc_count == count - 2
    for q in ("ha noi", "hà nội", "phu quoc", "da nang", "đà nẵng", '"Hà Nội"', "+hà"):
        assert not {"hanoi", "p", "danang"} & set(ids(ix.search(q, limit=100))), q
    # committed duplicates (add does not check ids) are all deleted
    with ix.writer() as w:
        w.add(hand("dup", "A", "Quy Nhơn", "x"))
    with ix.writer() as w:
        w.add(hand("dup", "B", "Quy Nhơn", "x"))
    assert ix.search("quy nhon").total == 2
    with ix.writer() as w:
        assert w.delete("dup") == 2
    assert ix.search("quy nhon").total == 0
    # later commits do not bring deleted documents back
    with ix.writer() as w:
        w.add(hand("z", "Z", "Hà Nội Đà Nẵng", "x"))
    for _ in range(2):
        for q in ('"ha noi"', '"đà nẵng"', "+hà +nội", "+da +nang"):
            assert ids(ix.search(q, limit=100)) == ["z"], q
        ix.writer().commit(optimize=True)  # nor does a merge


def test_delete_after_duplicate_adds_in_one_batch():
    """``delete`` removes every document with the id, also two added in the same batch."""
    ix = small_index()
    with ix.writer() as w:
        w.add(hand("d", "Một", "Cần Thơ lần một", "x"))
        w.add(hand("d", "Hai", "Cần Thơ lần hai", "x"))
        assert w.delete("d") == 2
    assert ix.search("can tho").total == 0


# -- the write lock ----------------------------------------------------------------------


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
        w2.add(hand("ok", "OK", "Cần Thơ", "x"))
    assert ix.search("can tho").total == 1


def test_two_in_memory_indexes_write_independently(schema):
    """A writer of one in-memory index must not break the writer of another."""
    a = Index.in_memory(schema)
    b = Index.in_memory(schema)
    wa = a.writer()
    wa.add(hand("a", "A", "Hà Nội", "x"))
    with b.writer() as wb:
        wb.add(hand("b", "B", "Đà Nẵng", "x"))
    wa.commit()  # FileNotFoundError: <tempdir>/MAIN.tmp/....ctmp (b's writer deleted it)
    assert ids(a.search("ha noi")) == ["a"]
    assert ids(b.search("da nang")) == ["b"]


# -- analysis in worker processes --------------------------------------------------------


def _segment_files(ix: Index) -> dict[str, bytes]:
    """The postings and term dictionary of each segment, by extension."""
    reader = ix.snapshot().segments[0][0]
    return {
        "postings": bytes(reader._terms._posts),
        "terms": bytes(reader._terms._file._buf),
    }


def test_analysis_in_worker_processes_writes_the_same_index(tmp_path, schema):
    """jobs=2 analyzes in two processes; adds, updates and deletes interleaved with them
    must give byte-identical postings and terms, and the same stored fields, as jobs=1."""
    docs = [
        {"id": str(i), "title": f"Tin {i}: {HAND[i % len(HAND)]['title']}",
         "body": f"{HAND[(i * 7) % len(HAND)]['body']} ({i})"}
        for i in range(150)
    ]  # fmt: skip
    built = []
    for jobs in (1, 2):
        ix = Index.create(tmp_path / f"jobs{jobs}", schema)
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


def test_a_bad_document_raises_at_its_add_with_workers(tmp_path, schema):
    """Documents are checked before they are queued for the workers: the error comes from
    the call that gave the document, and leaving the ``with`` block rolls everything back."""
    ix = Index.create(tmp_path / "ix", schema)
    with pytest.raises(TypeError, match="body"), ix.writer(jobs=2) as w:
        for i in range(100):
            w.add({"id": str(i), "body": f"văn bản {i}"})
        w.add({"id": "x", "body": 42})
    assert ix.doc_count == 0
    with ix.writer(jobs=2) as w:  # the lock was released, and no worker is left behind
        w.add({"id": "1", "body": "Hà Nội"})
    assert [h.id for h in ix.search("ha noi")] == ["1"]
