"""The merge policy: each commit merges full levels of segments into the new one."""

from __future__ import annotations

import random

import pytest
from whoosh.writing import MERGE_SMALL

from vnsearch import ID, TEXT, Index, Schema
from vnsearch.index.merges import FLOOR, MERGE_FACTOR, levels, merged_by_levels


def _commit(sizes: list[int], new: int) -> list[int]:
    """The live sizes of the segments after a commit of ``new`` documents."""
    chosen = merged_by_levels(sizes, new)
    grown = new + sum(sizes[i] for i in chosen)
    return [s for i, s in enumerate(sizes) if i not in chosen] + ([grown] if grown else [])


@pytest.mark.parametrize("seed", range(6))
def test_no_level_holds_the_merge_factor_after_any_commit(seed: int) -> None:
    rng = random.Random(seed)
    sizes: list[int] = []
    total = 0
    for _ in range(400):
        new = rng.choice([0, 1, rng.randrange(1, 60), rng.randrange(100, 3_000), 21_033])
        sizes = _commit(sizes, new)
        total += new
        assert sum(sizes) == total  # every document in one segment
        for level in set(levels(sizes)):
            assert levels(sizes).count(level) < MERGE_FACTOR, (sizes, level)


def test_a_large_commit_merges_nothing_below_a_full_level() -> None:
    # 1,000 new documents beside an index of 84,132: a commit of a few seconds
    assert merged_by_levels([84_132], 1_000) == []
    assert merged_by_levels([84_132, 1_000, 1_200, 3_000], 1_000) == []
    assert merged_by_levels([84_132, 1_000, 1_200, 3_000, 4_000], 1_000) == [1, 2, 3, 4]
    # the merged segment reaches the next level, full too: merged as well
    full = [FLOOR * MERGE_FACTOR] * (MERGE_FACTOR - 1)
    below = [FLOOR] * (MERGE_FACTOR - 1)
    assert merged_by_levels([*full, *below], FLOOR) == [4, 5, 6, 7, 0, 1, 2, 3]
    assert merged_by_levels([*full, *below[1:]], FLOOR) == []


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))


def _docs(n: int) -> list[dict]:
    words = "Hà Nội phở bò mùa thu Đà Nẵng biển xanh Huế sông Hương".split()
    rng = random.Random(7)
    return [{"id": str(i), "body": " ".join(rng.choices(words, k=12))} for i in range(n)]


def test_commits_of_a_hundred_documents_do_not_pile_up() -> None:
    """Nine commits of 100 documents: Whoosh's policy keeps nine segments (five hold more
    than its bound of 55 documents); vnsearch's merges the fifth into one, and finds
    what one commit of all the documents finds."""
    docs = _docs(900)
    ix, one = Index.in_memory(_schema()), Index.in_memory(_schema())
    counts = []
    for start in range(0, len(docs), 100):
        with ix.writer(jobs=1) as w:
            for doc in docs[start : start + 100]:
                w.add(doc)
        counts.append(len(ix.snapshot().segments))
    assert counts == [1, 2, 3, 4, 1, 2, 3, 4, 1]  # 500 documents, then 900
    with ix.writer(jobs=1) as w:
        w.delete("3")
    with one.writer(jobs=1) as w:
        for doc in docs:
            w.add(doc)
        w.delete("3")
    for q in ["phở bò", "Hà Nội", "song huong", "biển"]:  # every match: ties in any order
        got, want = ({h.id: h.score for h in i.search(q, limit=1_000)} for i in (ix, one))
        assert got.keys() == want.keys() and len(got) > 100
        assert all(got[k] == pytest.approx(want[k], rel=1e-9) for k in got)


def test_whoosh_policy_kept_those_segments() -> None:
    """What the test above improves on: Whoosh's ``MERGE_SMALL`` on the same commits."""
    docs = _docs(900)
    ix = Index.in_memory(_schema())
    for start in range(0, len(docs), 100):
        w = ix.writer(jobs=1)
        for doc in docs[start : start + 100]:
            w.add(doc)
        w._w.commit(mergetype=MERGE_SMALL)  # the Whoosh writer underneath
    assert len(ix.snapshot().segments) == 9
