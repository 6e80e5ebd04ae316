"""The postings block: one layout, written a term or a field at a time, read as arrays."""

from __future__ import annotations

from array import array

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnsearch.errors import DamagedFile
from vnsearch.index.postings import (
    BLOCK_HEAD,
    PostingArrays,
    RawPositions,
    block_sizes,
    field_blocks,
    join_blocks,
    pack_block,
)

# a field: per term, its postings as (document, weight, positions)
postings = st.lists(
    st.tuples(
        st.integers(0, 2**32 - 1),
        st.integers(1, 1000).map(float),
        st.lists(st.integers(0, 2**32 - 1), max_size=5),
    ),
    min_size=1,
    max_size=8,
)
fields = st.lists(postings, min_size=1, max_size=12)


def _flat(terms):
    starts = np.cumsum([0] + [len(t) for t in terms])
    docs = np.array([d for t in terms for d, _w, _p in t], dtype=np.int64)
    weights = np.array([w for t in terms for _d, w, _p in t], dtype=np.float32)
    counts = [len(p) for t in terms for _d, _w, p in t]
    pos_starts = np.cumsum([0, *counts])
    positions = np.array([x for t in terms for _d, _w, p in t for x in p], dtype=np.int64)
    return starts, docs, weights, pos_starts, positions


@settings(max_examples=150, deadline=None, derandomize=True)
@given(fields, st.booleans())
def test_a_field_written_at_once_equals_its_terms_written_one_posting_at_a_time(terms, positional):
    one_by_one = b"".join(
        pack_block(
            array("I", [d for d, _w, _p in t]),
            array("f", [w for _d, w, _p in t]),
            [RawPositions().encode(p) if positional else b"" for _d, _w, p in t],
            positional,
        )
        for t in terms
    )
    starts, docs, weights, pos_starts, positions = _flat(terms)
    if positional:
        blocks = field_blocks(starts, docs, weights, pos_starts, positions)
        npos = np.diff(pos_starts[starts])
    else:
        blocks = field_blocks(starts, docs, weights)
        npos = None
    at_once = b"".join(blocks)
    assert at_once == one_by_one
    sizes = block_sizes(np.diff(starts), npos)
    assert int(sizes.sum()) == len(at_once)
    joined = join_blocks(at_once, np.cumsum([0, *sizes[:-1]]).tolist(), np.diff(starts))
    assert joined[0].tolist() == docs.tolist()
    assert joined[1].tolist() == weights.tolist()
    if positional:
        assert joined[2].tolist() == np.diff(pos_starts).tolist()
        assert joined[3].tolist() == positions.tolist()
    else:
        assert joined[2].tolist() == [0] * len(docs) and joined[3] is None
    at = 0
    for t, size in zip(terms, sizes.tolist()):
        arrays = PostingArrays(at_once[at : at + size])
        assert arrays.docs.tolist() == [d for d, _w, _p in t]
        assert arrays.freqs.tolist() == [w for _d, w, _p in t]
        assert arrays.has_positions == positional
        if positional:
            offsets, flat = arrays.all_positions()
            got = [flat[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
            assert got == [p for _d, _w, p in t]
        at += size


def test_a_block_that_is_not_one_or_is_cut_short_is_damaged():
    block = pack_block(array("I", [1, 2, 3]), array("f", [1, 1, 2]), [b""] * 3, False)
    with pytest.raises(DamagedFile, match="not a vnsearch postings block"):
        PostingArrays(b"XXXX" + block[4:])
    with pytest.raises(DamagedFile, match="for 3 postings"):
        PostingArrays(block[: BLOCK_HEAD.size + 8])
