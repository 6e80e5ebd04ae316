"""Snapshots: what a search reads (one commit's segments) and the recent-terms cache each
keeps; a commit makes a new one.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import hand
from vnsearch import Index
from vnsearch.index.reader import TermPostings

pytestmark = pytest.mark.usefixtures("private_tempdir")


def test_a_snapshot_keeps_its_recent_terms_bounded_and_a_commit_starts_afresh(
    tmp_path, monkeypatch, schema
):
    from vnsearch.index import reader as snapshot

    monkeypatch.setattr(snapshot, "RECENT_TERMS", 4)
    ix = Index.create(tmp_path / "ix", schema)
    with ix.writer() as w:
        w.add(hand("a", "Tin", "Tin chung về Hà Nội", "x"))
    snap = ix.snapshot()
    first = snap.postings("body.syllables", "chung")
    # one segment: the postings themselves are kept and shared, not re-read
    assert snap._one is not None and snap.postings("body.syllables", "chung") is first
    for term in ("tin", "về", "hà", "nội", "không có"):
        snap.postings("body.syllables", term)
    assert len(snap._recent) == 4  # the least recently used went
    assert snap.postings("body.syllables", "chung").freqs is not first.freqs
    with ix.writer() as w:
        w.add(hand("b", "Tin", "Tin chung", "x"))
    assert ix.snapshot() is not snap
    assert ix.search("chung").total == 2 and snap.postings("body.syllables", "chung").df == 1
    # two segments: the postings joined once from each segment's arrays, kept and shared
    two = ix.snapshot()
    assert len(two.segments) == 2 and two._one is None
    joined = two.postings("body.syllables", "chung")
    kept = len(two._recent)
    assert two.postings("body.syllables", "chung") is joined and len(two._recent) == kept
    assert joined.df == 2 and len(joined._parts) == 2
    # each segment's arrays are parts of the joined ones (held once, weighed once)
    for start, end, a, _k in joined._parts:
        assert np.shares_memory(a.docs, joined.sorted_docs) and a.docs is not joined.sorted_docs
        assert (a.docs == joined.sorted_docs[start:end]).all()
        assert np.shares_memory(a.freqs, joined.freqs)
    assert joined.nbytes == joined.sorted_docs.nbytes + joined.freqs.nbytes
    # and their positions still read (the second segment's numbers less its base)
    assert sorted(h.id for h in ix.search('"tin chung"')) == ["a", "b"]
    assert [h.id for h in ix.search('"tin chung ve"')] == ["a"]
    ix.close()


def test_joined_postings_read_derived_positions_in_every_segment(tmp_path, schema):
    """Unaccented phrases read the folded view's positions from the accented terms': with
    several segments (the later ones' documents numbered from a base), they find what
    one segment of the same documents finds."""
    docs = [
        hand(f"d{i}", "Tin", f"Hôm nay {w} Hà Nội, mùa thu {w} hà nội {i}", "x")
        for i, w in enumerate(["ở", "tại", "về", "ở", "qua", "ở"])
    ]
    ix, one = Index.create(tmp_path / "ix", schema), Index.create(tmp_path / "one", schema)
    for k in range(0, len(docs), 2):
        with ix.writer() as w:
            for d in docs[k : k + 2]:
                w.add(d)
    with one.writer() as w:
        for d in docs:
            w.add(d)
    assert len(ix.snapshot().segments) == 3
    for q in ['"o ha noi"', '"thu o ha"', '"ve ha noi"', '"hom nay qua"', '"mua thu"']:
        got = [(h.id, h.score) for h in ix.search(q, limit=10)]
        want = [(h.id, h.score) for h in one.search(q, limit=10)]
        assert [i for i, _ in got] == [i for i, _ in want] and got, q
        assert np.allclose([s for _, s in got], [s for _, s in want])
    ix.close()
    one.close()


def test_many_segments_and_deletions_read_a_querys_terms_together(tmp_path, monkeypatch, schema):
    """With several segments, or deleted documents, a query's terms are read together
    (not a term at a time): the short lists of every segment in one batch, each term
    joined as a lookup of it alone joins it, and kept."""
    from vnsearch.index import terms as terms_module

    ix = Index.create(tmp_path / "ix", schema)
    for part in range(3):
        with ix.writer() as w:
            for i in range(40):
                body = f"Tin chung về Hà Nội số {i} hòa bình {'chính phủ' if i % 3 else 'nhà nước'}"
                w.add(hand(f"{part}-{i}", "Tin", body, "x"))
    with ix.writer() as w:
        w.delete("1-7")
        w.delete("2-9")
    terms = [
        ("body.syllables", "chung"), ("body.folded", "hoa"), ("body.bigrams", "chính phủ"),
        ("body.folded_bigrams", "hoa binh"), ("body.syllables", "không có"),
        ("title.syllables", "tin"),
    ]  # fmt: skip
    ix.close()
    one_by_one = []
    for f, t in terms:  # each from a snapshot of its own: nothing read before
        with Index.open(tmp_path / "ix") as alone:
            one_by_one.append(alone.snapshot().postings(f, t))
    ix = Index.open(tmp_path / "ix")
    snap = ix.snapshot()
    assert len(snap.segments) >= 3 and snap._one is None
    batches = []
    real = terms_module.read_many
    monkeypatch.setattr(terms_module, "read_many", lambda b: batches.append(b) or real(b))
    together = snap.postings_many(terms)
    assert len(batches) == 1  # every segment's short lists (all of them here) at once
    assert len(batches[0]) >= 4 * len(snap.segments)  # a block per term and segment, at least
    for a, b in zip(one_by_one, together):
        if a is None:
            assert b is None
            continue
        assert b.sorted_docs.tolist() == a.sorted_docs.tolist()
        assert b.freqs.tolist() == a.freqs.tolist()
        if all(arrays.has_positions for _s, _e, arrays, _k in b._parts):
            assert b.position_keys(b.docs, 1).tolist() == a.position_keys(a.docs, 1).tolist()
        assert snap.live[b.sorted_docs].all()  # no deleted document
    assert together[0].df == 3 * 40 - 2  # "chung": in every document but the two deleted
    assert snap.postings_many(terms)[0] is together[0]  # kept: no second batch
    assert len(batches) == 1
    ix.close()


def test_the_recent_terms_are_bounded_in_bytes_positions_included(tmp_path, schema):
    """Long lists of a large index must not fill memory: the recent terms weigh their
    arrays (positions too, once a phrase decoded them) and the oldest go past the budget
    (``Index.open(..., cache_mb=...)``'s)."""
    from vnsearch.index.recent import ENTRY_BYTES

    ix = Index.create(tmp_path / "ix", schema)
    with ix.writer() as w:
        for i in range(300):
            w.add(hand(str(i), "Tin", f"Tin chung về Hà Nội số {i} tin chung", "x"))
    one = ix.snapshot().postings("body.syllables", "tin")
    assert one.nbytes == 300 * (4 + 1)  # uint32 documents, frequencies in a byte each
    weight = ENTRY_BYTES + one.nbytes
    with ix.writer() as w:
        w.add(hand("x", "Tin", "khác", "x"))
    ix.optimize()
    ix.close()
    ix = Index.open(tmp_path / "ix", cache_mb=3 * weight / (1 << 20))
    snap = ix.snapshot()
    assert snap._one is not None
    for term in ("tin", "chung", "về", "hà", "nội"):
        snap.postings("body.syllables", term)
    assert len(snap._recent) == 3 and snap._recent.nbytes <= 3 * weight
    noi = snap.postings("body.syllables", "nội")
    key = ("body.syllables", "nội".encode())
    unread = noi.nbytes
    assert snap._recent._items[key][1] == ENTRY_BYTES + unread
    noi.position_keys(noi.docs[:5], 0)  # a few documents: their positions alone
    assert noi.nbytes == unread
    noi.position_keys(noi.docs, 0)  # every document: the term's positions decoded, kept
    assert noi.nbytes > unread
    snap.postings("body.syllables", "nội")  # weighed again when used
    assert snap._recent._items[key][1] == ENTRY_BYTES + noi.nbytes
    # the budget let the oldest go: "nội" stays, with as many others as fit beside it
    room = 3 * weight - (ENTRY_BYTES + noi.nbytes)
    assert list(snap._recent._items)[-1] == key
    assert len(snap._recent) == 1 + max(room, 0) // weight < 3
    assert snap._recent.nbytes <= 3 * weight
    ix.close()


def test_a_few_documents_positions_equal_those_of_the_whole_term(tmp_path, schema):
    """A phrase's few candidates read their positions alone (``batch.positions_at``): the
    same keys as from the term's positions decoded whole, for any selection and shift."""
    ix = Index.create(tmp_path / "ix", schema)
    rng = np.random.default_rng(3)
    with ix.writer() as w:
        for i in range(700):  # "hà" 1-5 times in each document: positions in many chunks
            words = ["hà" if rng.random() < 0.3 else "nội" for _ in range(rng.integers(3, 14))]
            w.add(hand(str(i), "Tin", " ".join(["hà", *words]), "x"))
    term = ix.snapshot().postings("body.syllables", "hà")
    unread = term.nbytes
    picks = [np.sort(rng.choice(term.docs, k, replace=False)) for k in (1, 9, 60)]
    got = {(k, s): term.position_keys(p, s) for k, p in enumerate(picks) for s in (0, 1, 3)}
    assert term.nbytes == unread  # read alone: nothing decoded whole
    for (k, shift), keys in got.items():
        every = term.position_keys(term.docs, shift)  # decoded whole
        assert term.nbytes > unread
        assert keys.tolist() == every[np.isin(every >> 32, picks[k])].tolist()
    ix.close()


def test_many_terms_read_together_equal_those_read_one_by_one(tmp_path, schema, seed_docs):
    """A query's short lists are read together (``postings_many``): the same documents,
    frequencies and positions as one by one, found, absent, cached or not."""
    ix = Index.create(tmp_path / "ix", schema)
    with ix.writer() as w:
        for doc in seed_docs:
            w.add(doc)
    snap = ix.snapshot()
    reader = snap._one
    pairs = [
        (f"body.{view}", key)
        for view in ("syllables", "folded", "bigrams", "words")
        for key in reader.field_terms(f"body.{view}").key_list()[::7]
    ] + [("body.syllables", b"not a term"), ("title.folded", b"ha")]
    snap.postings(*pairs[3])  # one of them used recently
    many = snap.postings_many(pairs)
    for (field, term), got in zip(pairs, many):
        alone = reader.arrays(field, term)
        if alone is None:
            assert got is None
            continue
        assert got.sorted_docs.tolist() == alone.docs.tolist()
        assert got.freqs.tolist() == alone.freqs.tolist()
        if alone.has_positions:
            assert got.position_keys(got.docs, 0).tolist() == sorted(
                TermPostings(alone.docs, alone.freqs, [(0, alone.docs.size, alone, None)])
                .position_keys(alone.docs.astype(np.int64), 0)
                .tolist()
            )
    assert len(pairs) > 100
    ix.close()


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "512", True])
def test_a_cache_size_that_is_not_megabytes_is_refused(tmp_path, schema, bad):
    Index.create(tmp_path / "ix", schema).close()
    with pytest.raises(ValueError, match="cache_mb must be a number of megabytes"):
        Index.open(tmp_path / "ix", cache_mb=bad)


def test_a_cache_of_nothing_keeps_one_term_and_searches_alike(tmp_path, schema):
    """``cache_mb=0``: every search decodes its terms again, with the same hits."""
    ix = Index.create(tmp_path / "ix", schema)
    with ix.writer() as w:
        for i in range(50):
            w.add(hand(str(i), "Tin", f"Tin chung về Hà Nội số {i}", "x"))
    want = [(h.id, h.score) for h in ix.search("tin Hà Nội", limit=5)]
    ix.close()
    ix = Index.open(tmp_path / "ix", cache_mb=0)
    for _ in range(2):
        assert [(h.id, h.score) for h in ix.search("tin Hà Nội", limit=5)] == want
        assert len(ix.snapshot()._recent) == 1
    ix.close()
