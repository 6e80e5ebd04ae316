"""Hits tied on clauses and score stand in one index's order over shards too (issue 22).

One index orders them by document number, the order documents were added; the shards'
writer (and ``vnsearch shards build``) numbers each document in the hidden field
``shard.order``, and the merge orders ties by it. Identical documents tie exactly, and
their ids hash to every shard.
"""

from __future__ import annotations

import json

import pytest

from vnsearch import ID, NUMERIC, TEXT, IncompatibleIndex, Index, Schema, SchemaError, ShardedIndex
from vnsearch.index.schema import ORDER_FIELD
from vnsearch.shards import MANIFEST, shard_of
from vnsearch.shards.ray_build import build_shards

SAME = "Hà Nội mùa thu có hoa sữa"
IDS = [f"t{i}" for i in range(24)]


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))


def _ids(ix, query: str = "hà nội", limit: int = 30, **options) -> list[str]:
    return [h.id for h in ix.search(query, limit, **options)]


def _fill(ix, ids) -> None:
    with ix.writer(jobs=1) as w:
        for i in ids:
            w.add({"id": i, "body": SAME})


def test_tied_hits_stand_in_the_order_added():
    assert len({shard_of(i, 3) for i in IDS}) == 3  # the ties span every shard
    one, sharded = Index.in_memory(_schema()), ShardedIndex.in_memory(_schema(), shards=3)
    _fill(one, IDS)
    _fill(sharded, IDS)
    assert _ids(one) == IDS  # one index: the order added
    assert _ids(sharded) == IDS
    pages = [_ids(sharded, limit=5, offset=o) for o in range(0, 25, 5)]
    assert [i for page in pages for i in page] == IDS
    assert _ids(sharded, sort="-score") == _ids(one, sort="-score") == IDS
    assert all(h.order == h.docnum for h in one.search("hà nội", 30))  # one index: its own


def test_numbering_goes_on_after_reopening(tmp_path):
    sharded = ShardedIndex.create(tmp_path / "sh", _schema(), shards=3)
    _fill(sharded, IDS[:10])
    sharded.close()
    with ShardedIndex.open(tmp_path / "sh") as sharded:
        _fill(sharded, IDS[10:])
        hits = sharded.search("hà nội", 30)
        assert [h.id for h in hits] == IDS
        assert [h.order for h in hits] == list(range(len(IDS)))


def test_an_updated_document_goes_last_among_ties():
    one, sharded = Index.in_memory(_schema()), ShardedIndex.in_memory(_schema(), shards=3)
    for ix in (one, sharded):
        _fill(ix, IDS[:8])
        with ix.writer(jobs=1) as w:
            w.update({"id": "t3", "body": SAME})
    expected = [i for i in IDS[:8] if i != "t3"] + ["t3"]
    assert _ids(one) == expected
    assert _ids(sharded) == expected


def test_shards_built_by_tasks_order_ties_as_one_index(tmp_path):
    docs = [{"id": i, "body": SAME} for i in IDS] + [{"id": "t5", "body": SAME}]  # t5 again
    one = Index.in_memory(_schema())
    with one.writer(jobs=1) as w:
        for d in docs:
            w.update(d)
    build_shards(tmp_path / "sh", _schema(), docs, 3, runner="processes", jobs=1)
    with ShardedIndex.open(tmp_path / "sh") as sharded:
        assert _ids(sharded) == _ids(one) == [i for i in IDS if i != "t5"] + ["t5"]


def test_a_sharded_index_of_the_former_format_says_to_rebuild(tmp_path):
    ShardedIndex.create(tmp_path / "sh", _schema(), shards=2).close()
    path = tmp_path / "sh" / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "format": "vnsearch-shards/1"}), encoding="utf-8")
    with pytest.raises(IncompatibleIndex, match=r"rebuild it .*vnsearch shards build"):
        ShardedIndex.open(tmp_path / "sh")


def test_the_order_field_is_the_shards_own():
    shard = _schema().with_order()
    assert shard.has_order and not _schema().has_order
    assert shard.with_order() == shard == Schema.from_json(shard.to_json())
    assert shard[ORDER_FIELD] == NUMERIC()
    with pytest.raises(SchemaError):  # not a name for another field
        Schema(body=TEXT(), **{ORDER_FIELD: TEXT()})
