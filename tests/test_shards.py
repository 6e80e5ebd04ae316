"""ShardedIndex on small data: routing, writes, pages, statistics as data, bad folders.

The exactness over 2,000 VNTC articles is in ``test_shards_exact.py``.
"""

from __future__ import annotations

import json
import shutil
import zlib

import pytest

from tests.shards_data import TEXTS
from vnsearch import (
    ID,
    TEXT,
    DocumentError,
    Index,
    IndexCorrupted,
    IndexNotFound,
    Schema,
    SchemaError,
    ShardedIndex,
    Stats,
)
from vnsearch.shards import MANIFEST, shard_of


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))


@pytest.fixture
def pair(tmp_path):
    one = Index.in_memory(_schema())
    sharded = ShardedIndex.create(tmp_path / "sh", _schema(), shards=3)
    for ix in (one, sharded):
        with ix.writer(jobs=1) as w:
            for i, text in enumerate(TEXTS):
                w.add({"id": f"d{i}", "body": text})
    yield one, sharded
    sharded.close()


def test_routing_is_a_stable_hash_of_the_id():
    # CRC-32, not Python's salted hash: the same shard in every process
    assert shard_of("d1", 3) == zlib.crc32(b"d1") % 3
    assert shard_of(12, 5) == shard_of("12", 5)


def test_documents_live_in_the_shard_of_their_id(pair):
    _one, sharded = pair
    for i in range(len(TEXTS)):
        doc_id = f"d{i}"
        shard = sharded.shards[shard_of(doc_id, 3)]
        assert shard.get(doc_id) == {"id": doc_id, "body": TEXTS[i]}
        assert sharded.get(doc_id)["body"] == TEXTS[i]
    assert sum(ix.doc_count for ix in sharded.shards) == sharded.doc_count == len(TEXTS)


def test_update_and_delete_reach_the_right_shard(pair, tmp_path):
    one, sharded = pair
    for ix in (one, sharded):
        with ix.writer(jobs=1) as w:
            w.update({"id": "d0", "body": "Hà Nội mùa đông lạnh"})
            assert w.delete("d4") == 1
    assert sharded.doc_count == one.doc_count == len(TEXTS) - 1
    assert sharded.get("d0")["body"] == "Hà Nội mùa đông lạnh"
    assert sharded.get("d4") is None
    for q in ("ha noi", "mùa đông", "song"):
        assert [(h.id, round(h.score, 12)) for h in sharded.search(q)] == [
            (h.id, round(h.score, 12)) for h in one.search(q)
        ]
    # reopened from the folder: the same documents and ranking
    again = ShardedIndex.open(sharded.path)
    assert [h.id for h in again.search("ha noi")] == [h.id for h in sharded.search("ha noi")]
    again.close()


def test_a_document_without_its_id_is_refused(pair):
    _one, sharded = pair
    with sharded.writer(jobs=1) as w, pytest.raises(DocumentError, match="unique field 'id'"):
        w.add({"body": "không có mã"})


def test_a_schema_without_a_unique_field_is_refused(tmp_path):
    with pytest.raises(SchemaError):
        ShardedIndex.create(tmp_path / "x", Schema(body=TEXT()), shards=2)


def test_hits_carry_their_clause_count(pair):
    one, sharded = pair
    top = one.search("hà nội sông")
    assert [h.clauses for h in top] == sorted((h.clauses for h in top), reverse=True)
    # three clauses (hà, nội, sông): "Sông Hồng chảy qua Hà Nội" matches them all
    assert (top[0].id, top[0].clauses) == ("d4", 3) and top[len(top) - 1].clauses < 3
    assert [h.clauses for h in sharded.search("hà nội sông")] == [h.clauses for h in top]


def test_pages_count_and_match_all(pair):
    one, sharded = pair
    assert sharded.count("ha noi") == one.count("ha noi") == 4
    pages = [h.id for o in range(0, 8, 2) for h in sharded.search("sông hà", 2, offset=o)]
    assert pages == [h.id for h in sharded.search("sông hà", 8)]
    listed = sharded.search("", 100)
    assert sorted(h.id for h in listed) == sorted(f"d{i}" for i in range(len(TEXTS)))
    assert listed.total == len(TEXTS)


def test_statistics_round_trip_as_json(pair):
    one, sharded = pair
    merged = sharded.ranking_stats()
    data = json.loads(merged.to_json())
    assert data["documents"] == len(TEXTS)
    assert Stats.from_dict(data) == merged
    assert merged.df == one.ranking_stats().df
    with pytest.raises(ValueError, match="not vnsearch statistics"):
        Stats.from_dict({"format": "pickle"})
    with pytest.raises(ValueError, match="bad or missing value"):
        Stats.from_dict({**data, "documents": -1})


def test_a_missing_shard_is_named(pair):
    _one, sharded = pair
    sharded.close()
    shutil.rmtree(sharded.path / "shard-001")
    with pytest.raises(IndexNotFound, match="shard 1 of 3 is missing"):
        ShardedIndex.open(sharded.path)


def test_a_damaged_manifest_is_named(pair):
    _one, sharded = pair
    sharded.close()
    (sharded.path / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorrupted, match=r"shards\.json"):
        ShardedIndex.open(sharded.path)
    (sharded.path / MANIFEST).unlink()
    with pytest.raises(IndexNotFound, match=r"no shards\.json"):
        ShardedIndex.open(sharded.path)


def test_a_damaged_shard_is_named(pair):
    _one, sharded = pair
    sharded.close()
    (sharded.path / "shard-002" / "vnsearch.json").write_text("{", encoding="utf-8")
    with pytest.raises(IndexCorrupted, match="shard-002"):
        ShardedIndex.open(sharded.path)
