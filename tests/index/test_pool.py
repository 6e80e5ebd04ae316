"""The postings pool of the segment being written (vnsearch/index/pool.py): runs spilled
to disk and merged at commit give the postings of one build in memory (through an index,
and of ArrayPool alone against a plain-Python model), positions gathered in chunks.
"""

from __future__ import annotations

import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.filedb.filestore import FileStorage

from tests.helpers import HAND
from vnsearch import Index
from vnsearch.index import runs
from vnsearch.index.pool import ArrayPool

pytestmark = pytest.mark.usefixtures("private_tempdir")


def test_a_build_spilling_many_runs_equals_one_in_memory(tmp_path, schema, monkeypatch):
    """A big build spills sorted runs of postings to disk and merges them at commit (a
    range of a field's keys at a time). One run per document here (150 runs), ranges of
    a few keys: the same index as in memory."""

    monkeypatch.setattr(runs, "SAMPLE", 2)
    texts = [f"{HAND[i % len(HAND)]['body']} số {i} ngày {i % 7}" for i in range(150)]
    built = []
    for name, limit in (("spilled", 1), ("memory", 10**9)):
        ix = Index.create(tmp_path / name, schema)
        with ix.writer(jobs=1) as w:
            w._w.pool.limit = limit
            w._w.pool.range_bytes = 0 if name == "spilled" else 10**9
            for i, text in enumerate(texts):
                w.add({"id": str(i), "title": f"Tin {i}", "body": text})
            spills = len(w._w.pool.runs)
        built.append((ix, spills))
    (spilled, spills), (memory, none) = built
    assert spills >= 150 and none == 0
    for q in ("tổ chức", "so 7", '"ngày 3"', "hà nội", "tin 140"):
        a, b = spilled.search(q, limit=20), memory.search(q, limit=20)
        assert [(h.id, h.score) for h in a] == [(h.id, h.score) for h in b] and a.total == b.total


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


# -- ArrayPool on its own: any mix of spills gives the postings of a plain model ----------

# Two views of a TEXT field (fed as occurrences, one with positions) and two plain fields
# (fed as postings: a keyword field without positions, one with positions).
POSITIONAL = {"body.syllables": True, "body.folded": False, "tags": False, "title": True}
VIEWS = ("body.syllables", "body.folded")
# UTF-8 byte order is not code point order of the letters: "đ", "ư" sort after "z"
VOCAB = ["hà", "nội", "đà", "nẵng", "phở", "bò", "a", "z", "ư", "chung", "tổ", "chức"]

pool_documents = st.lists(
    st.fixed_dictionaries(
        {
            "tokens": st.lists(st.sampled_from(VOCAB), min_size=1, max_size=12),
            "tags": st.lists(st.sampled_from(VOCAB), max_size=4, unique=True),
            "title": st.lists(
                st.tuples(
                    st.sampled_from(VOCAB),
                    st.lists(st.integers(0, 60), max_size=3, unique=True).map(sorted),
                ),
                max_size=4,
                unique_by=lambda pair: pair[0],
            ),
        }
    ),
    min_size=1,
    max_size=20,
)


def _plain_postings(doc: dict) -> list[tuple]:
    """One document's ``(field, term bytes, _, weight, positions bytes, length)``, by field."""
    out = [("tags", t.encode(), None, 1.0, b"", 1) for t in doc["tags"]]
    for term, positions in doc["title"]:
        value = np.array(positions, dtype="<u4").tobytes()
        out.append(("title", term.encode(), None, float(len(positions) or 1), value, 1))
    return out


def _model(docs: list[dict]) -> dict:
    """field -> term bytes -> document -> (weight, positions or None), in plain Python."""
    model: dict = {}
    for docnum, doc in enumerate(docs):
        for view in VIEWS:
            seen: dict[bytes, list[int]] = {}
            for position, term in enumerate(doc["tokens"]):
                seen.setdefault(term.encode(), []).append(position)
            for key, positions in seen.items():
                kept = tuple(positions) if POSITIONAL[view] else None
                model.setdefault(view, {}).setdefault(key, {})[docnum] = (len(positions), kept)
        for field, key, _, weight, value, _length in _plain_postings(doc):
            kept = tuple(np.frombuffer(value, dtype="<u4").tolist()) if POSITIONAL[field] else None
            model.setdefault(field, {}).setdefault(key, {})[docnum] = (weight, kept)
    return model


def _as_model(pool: ArrayPool) -> dict:
    """What ``pool.fields()`` gives, in the model's form, checking its order on the way:
    fields by name, terms by bytes over all the pieces of a field (each term in one
    piece), each term's documents ascending."""
    out: dict = {}
    names = []
    for field, pieces in pool.fields():
        names.append(field)
        terms = out.setdefault(field, {})
        keys: list[bytes] = []
        for fp in pieces:
            assert fp.keys and len(fp.starts) == len(fp.keys) + 1
            keys += fp.keys
            for i, key in enumerate(fp.keys):
                a, b = int(fp.starts[i]), int(fp.starts[i + 1])
                assert a < b and np.all(np.diff(fp.docs[a:b].astype(np.int64)) > 0)
                for j in range(a, b):
                    kept = None
                    if fp.pos_starts is not None:
                        at = slice(int(fp.pos_starts[j]), int(fp.pos_starts[j + 1]))
                        kept = tuple(fp.positions[at].tolist())
                    terms.setdefault(key, {})[int(fp.docs[j])] = (float(fp.weights[j]), kept)
        assert keys == sorted(set(keys))  # in order, each key in one piece only
    assert names == sorted(names)
    return out


# (keys of a run kept in memory, bytes of postings a range of keys holds): the default,
# one key a range, and ranges of a few keys found by reading blocks of 3 keys
MERGES = [(runs.SAMPLE, None), (1, 0), (3, 40)]


@pytest.mark.parametrize(("sample", "range_bytes"), MERGES)
@settings(derandomize=True, max_examples=30, deadline=None)
@given(pool_documents, st.integers(1, 6))
def test_array_pool_spilling_runs_gives_the_postings_of_a_plain_model(
    sample, range_bytes, docs, batch
):
    """One pool holds everything in memory and takes views one document at a time
    (``add_view``); the other writes a sorted run to disk after every call and takes
    views ``batch`` documents at a time (``add_tokens``, as the writer does), and merges
    its runs a range of keys at a time. Merged at the end, both give exactly the postings
    of a plain-Python model; ``cleanup`` then deletes the runs."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(runs, "SAMPLE", sample)
        in_memory = ArrayPool(FileStorage(f"{tmp}/memory").create(), POSITIONAL, limitmb=1024)
        store = FileStorage(f"{tmp}/spilled").create()
        spilled = ArrayPool(store, POSITIONAL, limitmb=0)  # every call spills a run
        if range_bytes is not None:
            spilled.range_bytes = range_bytes
        for docnum, doc in enumerate(docs):
            for view in VIEWS:
                in_memory.add_view(view, docnum, doc["tokens"], list(range(len(doc["tokens"]))))
            postings = _plain_postings(doc)
            if postings:
                in_memory.add_doc(docnum, postings)
                spilled.add_doc(docnum, postings)
        for first in range(0, len(docs), batch):
            chunk = docs[first : first + batch]
            terms = sorted({t for doc in chunk for t in doc["tokens"]})
            ids = [terms.index(t) for doc in chunk for t in doc["tokens"]]
            positions = [p for doc in chunk for p in range(len(doc["tokens"]))]
            for view in VIEWS:
                spilled.add_tokens(
                    view,
                    first,
                    terms,
                    np.array(ids, dtype=np.uint32).tobytes(),
                    np.array(positions, dtype=np.uint32).tobytes(),
                    [len(doc["tokens"]) for doc in chunk],
                )
        assert in_memory.runs == [] and len(spilled.runs) >= 2 * -(-len(docs) // batch)
        expected = _model(docs)
        assert _as_model(in_memory) == expected
        assert _as_model(spilled) == expected
        spilled.cleanup()
        assert not [name for name in store.list() if name.startswith("vnpool")]


def test_a_commit_merges_runs_a_bounded_range_of_keys_at_a_time(tmp_path, monkeypatch):
    """Runs are merged a range of keys at a time, each range about ``range_bytes`` of
    postings over all runs: 300 runs of 4 new keys each (one posting a key), ranges of
    at most 10 postings' bytes, whatever the number of runs."""
    monkeypatch.setattr(runs, "SAMPLE", 1)
    pool = ArrayPool(FileStorage(str(tmp_path)).create(), {"tags": False}, limitmb=0)
    pool.range_bytes = 10 * runs.POSTING_BYTES
    for docnum in range(300):
        tags = [f"{docnum * 7 % 1000:03d}-{k}".encode() for k in range(4)]
        pool.add_doc(docnum, [("tags", t, None, 1.0, b"", 1) for t in tags])
    assert len(pool.runs) == 300
    (field, pieces), *rest = list(pool.fields())
    sizes = [len(fp.docs) for fp in pieces]
    assert field == "tags" and not rest
    assert sum(sizes) == 1200 and max(sizes) <= 10 and len(sizes) >= 120


def _every_field(ix: Index) -> dict:
    """Every field's postings in the first segment of ``ix`` (``field_postings``)."""
    from vnsearch.index.terms import terms_reader

    reader = terms_reader(ix.snapshot().reader.leaf_readers()[0][0])
    return {f: reader.field_postings(f) for f in reader.indexed_field_names()}


def _assert_same_fields(a: dict, b: dict) -> None:
    """The same fields, keys, documents, frequencies and positions."""
    assert sorted(a) == sorted(b) and {"body.syllables", "body.folded_bigrams"} <= set(a)
    for field, (keys, *arrays) in b.items():
        assert a[field][0] == keys
        for x, y in zip(a[field][1:], arrays):
            assert (x is None and y is None) or x.tolist() == y.tolist()


@pytest.mark.parametrize("group", [1, 7])
def test_a_field_encoded_in_small_groups_of_postings_is_the_same(
    tmp_path, schema, monkeypatch, group
):
    """A field's terms are encoded a group of about ``_GROUP`` postings at a time (a group
    holds whole terms): groups of 1 or 7 postings write the same postings and the same
    dictionary as one group for everything."""
    from vnsearch.index import field_writer

    texts = [f"{HAND[i % len(HAND)]['body']} số {i} ngày {i % 7}" for i in range(60)]
    fields = []
    for name, size in (("small", group), ("one", 1 << 30)):
        monkeypatch.setattr(field_writer, "_GROUP", size)
        ix = Index.create(tmp_path / name, schema)
        with ix.writer(jobs=1) as w:
            for i, text in enumerate(texts):
                w.add({"id": str(i), "title": f"Tin {i}", "body": text})
        fields.append(_every_field(ix))
    _assert_same_fields(*fields)


def test_a_merge_reads_each_segment_a_piece_of_terms_at_a_time(tmp_path, schema, monkeypatch):
    """A merge reads a segment's field in pieces of consecutive terms (``field_pieces``,
    bounded memory; a derived field's from its variants' blocks); pieces of one term each
    merge three segments, with deleted documents, into the same segment as one piece a
    field."""
    from vnsearch.index import writer
    from vnsearch.index.pieces import field_pieces
    from vnsearch.index.terms import terms_reader

    texts = [f"{HAND[i % len(HAND)]['body']} số {i} ngày {i % 7}" for i in range(60)]
    merged = []
    for name, piece in (("pieces", 1), ("whole", None)):
        ix = Index.create(tmp_path / name, schema)
        for first in (0, 20, 40):
            with ix.writer(jobs=1) as w:
                for i in range(first, first + 20):
                    w.add({"id": str(i), "title": f"Tin {i}", "body": texts[i]})
        with ix.writer(jobs=1) as w:
            w.delete("3")
            w.delete("45")
        reader = terms_reader(ix.snapshot().reader.leaf_readers()[0][0])
        for field in ("body.syllables", "body.folded_bigrams"):  # one term a piece
            pieces = list(field_pieces(reader, field, 1))
            assert [len(p[0]) for p in pieces] == [1] * len(reader.field_postings(field)[0])
        monkeypatch.setattr(writer, "MERGE_PIECE_BYTES", piece)
        ix.optimize()
        assert len(ix.snapshot().segments) == 1 and ix.doc_count == 58
        merged.append(_every_field(ix))
    _assert_same_fields(*merged)
