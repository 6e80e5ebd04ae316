"""The postings pool of the segment being written (vnsearch/index/pool.py): spilled runs
merged at commit, positions gathered in chunks.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import HAND
from vnsearch import Index

pytestmark = pytest.mark.usefixtures("private_tempdir")


def test_a_build_spilling_many_runs_equals_one_in_memory(tmp_path, schema):
    """A big build spills sorted runs of postings to disk and merges them at commit (one
    field at a time). One run per document here (150 runs): the same index as in memory."""

    texts = [f"{HAND[i % len(HAND)]['body']} số {i} ngày {i % 7}" for i in range(150)]
    built = []
    for name, limit in (("spilled", 1), ("memory", 10**9)):
        ix = Index.create(tmp_path / name, schema)
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
