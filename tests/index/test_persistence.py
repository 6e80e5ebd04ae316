"""An index on disk and in memory: reopening, folders that are not (or no longer) an
index of this schema and format version, merges and optimize, segment files read
through their memory map.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

import vnsearch
from tests.conftest import news_schema
from tests.helpers import ALL_DOCS, HAND, assert_same, build, hand, ids, run, segmented, small_index
from vnsearch import (
    DATETIME,
    ID,
    KEYWORD,
    TEXT,
    IncompatibleIndex,
    Index,
    IndexCorrupted,
    IndexNotFound,
    Schema,
    VnsearchError,
)

pytestmark = pytest.mark.usefixtures("private_tempdir")


# -- reopen, schema and format version ---------------------------------------------------


def test_reopen_gives_identical_results(tmp_path, schema):
    path = tmp_path / "ix"
    ix = build(Index.create(path, schema))
    before = run(ix)
    count = ix.doc_count
    assert sum(map(len, before)) > 50
    ix.close()
    for given in (None, news_schema()):
        ix2 = Index.open(path, given)
        assert ix2.schema == schema
        assert ix2.doc_count == count
        assert run(ix2) == before
        ix2.close()
    # a reopened index can be written to
    with Index.open(str(path)) as ix3:
        with ix3.writer() as w:
            w.add(hand("late", "Muộn", "Cần Thơ", "x"))
        assert ix3.doc_count == count + 1


def test_two_index_objects_on_one_folder(tmp_path):
    a = small_index(tmp_path)
    b = Index.open(tmp_path / "ix")
    count = b.doc_count
    with a.writer() as w:
        w.add(hand("new", "Mới", "Phú Quốc nước mắm", "x"))
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
        w.add(hand("new", "Mới", "Phú Quốc nước mắm", "x"))
    assert b.doc_count == count + 1
    assert ids(b.search('"phu quoc"')) == ["new"]
    a.close()
    b.close()


def test_in_memory_and_on_disk_agree(tmp_path, corpus, schema):
    mem = build(Index.in_memory(schema))
    disk = build(Index.create(tmp_path / "ix", schema))
    results = run(mem)
    assert run(disk) == results
    assert run(corpus) == results
    assert run(mem, fields=["body"]) == run(disk, fields=["body"])
    disk.close()


def test_open_missing_or_foreign_folder(tmp_path, schema):
    with pytest.raises(IndexNotFound, match="no such"):
        Index.open(tmp_path / "does-not-exist")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexNotFound, match="not a vnsearch index"):
        Index.open(tmp_path / "empty")
    (tmp_path / "file").write_text("x")
    with pytest.raises(IndexNotFound):
        Index.open(tmp_path / "file")
    # a schema file but no Whoosh files
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "vnsearch.json").write_text(schema.to_json(), encoding="utf-8")
    with pytest.raises(IndexNotFound, match="missing"):
        Index.open(tmp_path / "half")
    # a schema file that is not JSON
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "vnsearch.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorrupted):
        Index.open(tmp_path / "junk")


def test_open_with_another_schema(tmp_path, schema):
    small_index(tmp_path).close()
    other = Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))
    with pytest.raises(IncompatibleIndex, match="another schema"):
        Index.open(tmp_path / "ix", other)
    boosted = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True, boost=3.0),
        body=TEXT(stored=True),
        topic=KEYWORD(stored=True),
        published=DATETIME(stored=True),
    )
    with pytest.raises(IncompatibleIndex):
        Index.open(tmp_path / "ix", boosted)
    Index.open(tmp_path / "ix", schema).close()


def test_other_format_version(tmp_path):
    small_index(tmp_path).close()
    schema_file = tmp_path / "ix" / "vnsearch.json"
    data = json.loads(schema_file.read_text(encoding="utf-8"))
    assert data["format"] == vnsearch.index.FORMAT_VERSION
    data["format"] = 99
    schema_file.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IncompatibleIndex, match="99") as info:
        Index.open(tmp_path / "ix")
    assert "version" in str(info.value)


def test_create_over_existing_index(tmp_path, schema):
    ix = small_index(tmp_path)
    count = ix.doc_count
    with pytest.raises(VnsearchError, match="already"):
        Index.create(tmp_path / "ix", schema)
    with pytest.raises(VnsearchError):
        Index.create(str(tmp_path / "ix"), Schema(body=TEXT()))
    ix.close()
    reopened = Index.open(tmp_path / "ix")
    assert reopened.doc_count == count
    reopened.close()


@pytest.mark.parametrize("on_disk", [False, True])
def test_a_new_index_without_commits_is_empty_not_broken(tmp_path, on_disk, schema):
    ix = Index.create(tmp_path / "ix", schema) if on_disk else Index.in_memory(schema)
    assert ix.doc_count == 0
    results = ix.search("hà nội")
    assert list(results) == [] and results.total == 0
    assert list(ix.search("hà nội", sort="-published")) == []


# -- merges and optimize -----------------------------------------------------------------


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "disk"])
def test_optimize_keeps_ids_and_scores(tmp_path, on_disk, schema):
    ix = segmented(Index.create(tmp_path / "ix", schema) if on_disk else Index.in_memory(schema))
    assert len(ix.snapshot().segments) > 1
    count = ix.doc_count
    before = run(ix)
    before_fields = run(ix, fields=["body"])
    w = ix.writer()
    w.commit(optimize=True)
    assert len(ix.snapshot().segments) == 1
    assert ix.doc_count == count
    assert_same(run(ix), before)
    assert_same(run(ix, fields=["body"]), before_fields)
    for doc_id in ("seed2", "pho-only", "hue"):
        assert all(doc_id not in [i for i, _ in r] for r in run(ix)), doc_id
    if on_disk:
        ix.close()
        assert_same(run(Index.open(tmp_path / "ix")), before)


@pytest.mark.parametrize("on_disk", [False, True])
def test_stored_fields_of_every_segment(tmp_path, on_disk, schema):
    """Hits read stored fields from the ``.vns`` file in place (mapped, or in memory):
    the same dicts as Whoosh's reader gives, in every segment."""
    ix = segmented(Index.create(tmp_path / "ix", schema) if on_disk else Index.in_memory(schema))
    snap = ix.snapshot()
    assert len(snap.segments) > 1
    assert all(r._perdoc.stored_reader() is not None for r, _base in snap.segments)
    for doc in range(snap.total):
        assert snap.stored_fields(doc) == snap.reader.stored_fields(doc), doc
    ids = {snap.stored_fields(doc).get("id") for doc in np.flatnonzero(snap.live)}
    assert ids == {d["id"] for d in ALL_DOCS} - {"seed2", "pho-only", "hue"}


def test_optimize_with_deletes_in_the_same_writer(schema):
    plain = segmented(Index.in_memory(schema))
    merged = segmented(Index.in_memory(schema))
    for ix, optimize in ((plain, False), (merged, True)):
        w = ix.writer()
        assert w.delete("seed0") == 1
        assert w.delete("danang") == 1
        w.commit(optimize=optimize)
    assert len(merged.snapshot().segments) == 1
    assert len(plain.snapshot().segments) > 1
    assert merged.doc_count == plain.doc_count
    assert_same(run(merged), run(plain))


def test_merge_does_not_change_explain(schema):
    ix = segmented(Index.in_memory(schema))
    before = str(ix.explain("tổ chức đảng", "1"))
    ix.writer().commit(optimize=True)
    assert str(ix.explain("tổ chức đảng", "1")) == before


def test_merging_small_segments_with_new_documents_equals_one_build(tmp_path, schema):
    """A merge at commit reads the old segments' postings into the pool one by one, while
    the new documents' views came as token streams. Every score, phrase and total must
    equal those of the same documents written in one go."""
    texts = [f"{HAND[i % len(HAND)]['body']} lần {i} tại Hà Nội" for i in range(24)]
    docs = [{"id": str(i), "title": f"Tin số {i}", "body": t} for i, t in enumerate(texts)]
    merged = Index.create(tmp_path / "merged", schema)
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
    single = Index.create(tmp_path / "single", schema)
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


def test_optimize_merges_segments_and_drops_deleted_documents(tmp_path, schema):
    ix = Index.create(tmp_path / "ix", schema)
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


# -- segment files -----------------------------------------------------------------------


def test_an_on_disk_index_is_read_from_its_mapped_file_not_copied(tmp_path, schema):
    """Whoosh's BufferFile copies a segment file into a BytesIO when it is opened (all of
    VNTC's postings: 1.5 GB at every open). Postings, term dictionary, lengths and stored
    fields must be read through the memory map, with no stream made."""
    from vnsearch.index.files import MappedFile

    ix = Index.create(tmp_path / "ix", schema)
    with ix.writer() as w:
        for i, d in enumerate(HAND):
            w.add({**d, "id": str(i)})
    ix.close()
    ix = Index.open(tmp_path / "ix")
    assert [h.id for h in ix.search("hà nội")]  # postings, lengths and stored fields read
    reader = ix.snapshot().segments[0][0]
    files = [reader._terms._file, reader._terms._postfile]
    files += [f for f, _at, _n in reader._perdoc._colfiles.values()]
    files.append(reader._perdoc._stored_file)  # the stored fields (.vns)
    assert len(files) >= 3 and all(isinstance(f, MappedFile) for f in files)
    assert all(f.__dict__.get("_stream") is None for f in files)  # no copy made


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "disk"])
def test_postings_and_dictionary_arrays_are_aligned(tmp_path, on_disk, schema):
    """numpy reads unaligned arrays slowly (``searchsorted`` copies the whole array
    first, fancy indexing is 5x slower): every array read from a segment, new or merged,
    lies on a multiple of its item size in memory, mapped or not."""
    ix = Index.create(tmp_path / "ix", schema) if on_disk else Index.in_memory(schema)
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
            for name, ft in terms._fields.items():
                for a in (ft._prefixes, ft._block_at, ft._bases):
                    arrays.append(np.frombuffer(a, "<u4" if a.format == "I" else "<u8"))
                for key in ft.key_list():  # folded bigrams: their variants' (or union)
                    block = terms.arrays(name, key)
                    arrays += [block.docs, block.freqs]
                    if block.has_positions:
                        arrays += list(block.all_positions())
        assert len(arrays) > 100
        assert all(a.flags.aligned for a in arrays)
