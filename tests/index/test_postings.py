"""The postings block: bit-packed streams, written a term or a field at a time, read as
arrays, and checked against a naive reader written from the format's description."""

from __future__ import annotations

from array import array

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnsearch.errors import DamagedFile
from vnsearch.index.batch import decode_blocks, read_many
from vnsearch.index.encode import encode_block, encode_blocks
from vnsearch.index.field_writer import pack_block
from vnsearch.index.postings import CHUNK, PostingArrays, compact_freqs
from vnsearch.index.schema import RawPositions


@st.composite
def terms(draw, positional: bool):
    """A term's postings: (document, frequency, positions), documents increasing."""
    big = draw(st.booleans())
    docs = sorted(draw(st.sets(st.integers(0, 2**32 - 1 if big else 3000), min_size=1,
                               max_size=300 if not big else 20)))  # fmt: skip
    out = []
    for d in docs:
        if positional:
            pos = sorted(draw(st.sets(st.integers(0, 2**32 - 1 if big else 500), min_size=1,
                                      max_size=4)))  # fmt: skip
            out.append((d, len(pos), pos))
        else:
            out.append((d, draw(st.integers(1, 2**24 if big else 3)), []))
    return out


fields = st.booleans().flatmap(lambda p: st.tuples(st.just(p), st.lists(terms(p), min_size=1,
                                                                         max_size=6)))  # fmt: skip


def _flat(field):
    starts = np.cumsum([0] + [len(t) for t in field])
    docs = np.array([d for t in field for d, _f, _p in t], dtype=np.int64)
    freqs = np.array([f for t in field for _d, f, _p in t], dtype=np.int64)
    positions = np.array([x for t in field for _d, _f, p in t for x in p], dtype=np.int64)
    return starts, docs, freqs, positions


class _Bits:
    """A naive reader of a little-endian bit stream: one bit at a time."""

    def __init__(self, data: bytes, at: int) -> None:
        self.data, self.bit = data, 8 * at

    def read(self, width: int) -> int:
        value = 0
        for k in range(width):
            byte = self.data[self.bit >> 3]
            value |= ((byte >> (self.bit & 7)) & 1) << k
            self.bit += 1
        return value

    def end(self) -> int:
        return (self.bit + 7) >> 3


def _naive(block: bytes, n: int, positional: bool):
    """Read a block as the format's description in ``postings.py`` says, value by value."""
    chunks = lambda m: -(-m // CHUNK)  # noqa: E731
    if n > CHUNK and block[0] == 0xFF:  # a bitmap: lo, size, then one bit per document
        nf = chunks(n)
        widths_f = block[1 : 1 + nf]
        lo = int.from_bytes(block[1 + nf : 5 + nf], "little")
        size = int.from_bytes(block[5 + nf : 9 + nf], "little")
        bits = _Bits(block, 9 + nf)
        docs = [8 * lo + k for k in range(8 * size) if bits.read(1)]
        assert len(docs) == n
    else:
        nd, nf = 1 + chunks(n - 1), chunks(n)
        widths_d, widths_f = block[:nd], block[nd : nd + nf]
        bits = _Bits(block, nd + nf)
        docs = [bits.read(widths_d[0])]
        if n > CHUNK:  # a long list's gaps start on a byte
            bits = _Bits(block, bits.end())
        for i in range(1, n):
            docs.append(docs[-1] + bits.read(widths_d[1 + (i - 1) // CHUNK]) + 1)
    bits = _Bits(block, bits.end())
    freqs = [bits.read(widths_f[i // CHUNK]) + 1 for i in range(n)]
    at = bits.end()
    positions = []
    if positional:
        total = sum(freqs)
        widths_p = block[at : at + chunks(total)]
        bits = _Bits(block, at + chunks(total))
        k = 0
        for f in freqs:
            pos = 0
            mine = []
            for _ in range(f):
                pos += bits.read(widths_p[k // CHUNK])
                mine.append(pos)
                k += 1
            positions.append(mine)
        at = bits.end()
    assert at == len(block)  # nothing left over
    return docs, freqs, positions


@settings(max_examples=150, deadline=None, derandomize=True)
@given(fields)
def test_a_field_written_at_once_equals_its_terms_written_one_at_a_time(field):
    positional, field_terms = field
    one_by_one = [
        pack_block(
            array("I", [d for d, _f, _p in t]),
            array("f", [f for _d, f, _p in t]),
            [RawPositions().encode(p) for _d, _f, p in t] if positional else [b""] * len(t),
            positional,
        )
        for t in field_terms
    ]
    starts, docs, freqs, positions = _flat(field_terms)
    blob, lengths = encode_blocks(starts, docs, freqs, positions if positional else None)
    assert blob == b"".join(one_by_one)
    assert lengths.tolist() == [len(b) for b in one_by_one]
    offsets = np.cumsum(lengths) - lengths
    got = decode_blocks(blob, offsets, np.diff(starts), positional)
    assert got[0].tolist() == docs.tolist() and got[1].tolist() == freqs.tolist()
    if positional:
        assert got[2].tolist() == freqs.tolist() and got[3].tolist() == positions.tolist()
    else:
        assert got[2].tolist() == [0] * len(docs) and got[3] is None
    many = read_many([(block, len(t)) for t, block in zip(field_terms, one_by_one)])
    # frequencies come in the smallest unsigned type holding them: a batch's largest
    batch_type = compact_freqs(freqs).dtype
    assert all(m_freqs.dtype == batch_type for _d, m_freqs, _e in many)
    for t, block, (m_docs, m_freqs, m_end) in zip(field_terms, one_by_one, many):
        want = ([d for d, _f, _p in t], [f for _d, f, _p in t], [p for *_x, p in t])
        assert _naive(block, len(t), positional) == (*want[:2], want[2] if positional else [])
        arrays = PostingArrays(block, len(t), positional)
        assert m_docs.tolist() == want[0] and m_freqs.tolist() == want[1]
        assert m_docs.dtype == np.uint32
        assert m_end == arrays.end and (positional or m_end == len(block))
        assert arrays.docs.tolist() == want[0] and arrays.freqs.tolist() == want[1]
        assert arrays.docs.dtype == np.uint32
        assert arrays.freqs.dtype == compact_freqs(np.array(want[1])).dtype
        if positional:
            offsets, flat = arrays.all_positions()
            assert [flat[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])] == want[2]


@pytest.mark.parametrize("n", [1, 2, CHUNK, CHUNK + 1, 5 * CHUNK + 7])
def test_lists_of_every_shape_read_back(n):
    """Lists read with Python integers (one chunk) and with numpy (more), and their edges."""
    rng = np.random.default_rng(n)
    docs = np.sort(rng.choice(10**6, n, replace=False))
    freqs = rng.integers(1, 4, n)
    positions = np.concatenate([np.sort(rng.choice(900, f, replace=False)) for f in freqs])
    block = encode_block(docs, freqs, positions)
    arrays = PostingArrays(block, n, True)
    assert arrays.docs.tolist() == docs.tolist() and arrays.freqs.tolist() == freqs.tolist()
    assert arrays.all_positions()[1].tolist() == positions.tolist()
    assert _naive(block, n, True)[0] == docs.tolist()


def test_many_lists_of_every_shape_and_width_read_at_once():
    """``read_many`` (a query's short lists, one pass over all their chunks) against the
    naive reader: one-chunk lists (gaps right after the first document), longer ones (gaps
    from the next byte), widths from 0 to 32 bits (the 4- and 8-byte reads), ones alone."""
    rng = np.random.default_rng(7)
    lists = []
    shapes = [(1, 5), (2, 2**32 - 1), (CHUNK, 10**6), (CHUNK + 1, 2**31), (3, 40)]
    shapes += [(5 * CHUNK + 7, 2**32 - 1), (300, 400), (1, 2**32 - 1), (4 * CHUNK, 10**5)]
    for n, top in shapes:
        docs = np.sort(rng.choice(top, n, replace=False)) if top > n else np.arange(n)
        freqs = rng.integers(1, 2**20, n) if n % 2 else np.ones(n, np.int64)
        lists.append((encode_block(docs, freqs), docs, freqs))
    for order in (lists, lists[::-1], lists[3:5]):
        got = read_many([(block, len(docs)) for block, docs, _f in order])
        for (block, docs, freqs), (g_docs, g_freqs, end) in zip(order, got, strict=True):
            assert _naive(block, len(docs), False)[:2] == (docs.tolist(), freqs.tolist())
            assert g_docs.tolist() == docs.tolist() and g_freqs.tolist() == freqs.tolist()
            assert end == len(block)
    block = lists[6][0]  # 300 of 400 documents: a bitmap
    assert block[0] == 0xFF and lists[5][0][0] != 0xFF
    with pytest.raises(DamagedFile, match="needed"):
        read_many([(lists[0][0], 1), (block[:-2], 300)])
    with pytest.raises(DamagedFile, match="cut short"):
        read_many([(lists[0][0], 1), (lists[5][0][:-2], 5 * CHUNK + 7)])
    with pytest.raises(DamagedFile, match="over 32 bits"):
        read_many([(b"\x40" + block[1:], 300)])


def test_frequent_ones_cost_no_bits():
    """A chunk whose frequencies are all 1 is its width byte alone."""
    docs = np.arange(0, 2 * CHUNK)
    ones = encode_block(docs, np.ones(2 * CHUNK))
    twos = encode_block(docs, np.full(2 * CHUNK, 2))
    assert len(twos) - len(ones) == 2 * CHUNK // 8


def test_what_cannot_be_written_is_refused():
    with pytest.raises(ValueError, match="increase"):
        encode_block(np.array([3, 3]), np.array([1, 1]))
    with pytest.raises(ValueError, match="whole numbers"):
        encode_block(np.array([3, 4]), np.array([1, 0.5]))
    with pytest.raises(ValueError, match="as many as its frequency"):
        encode_block(np.array([3]), np.array([2]), np.array([1]))


def test_a_block_cut_short_or_with_impossible_widths_is_damaged():
    block = encode_block(np.array([1, 2, 300]), np.array([1, 1, 2]))
    with pytest.raises(DamagedFile, match="needed"):
        PostingArrays(block[:-1], 3, False)
    with pytest.raises(DamagedFile, match="for 3 postings"):
        PostingArrays(block[:1], 3, False)
    with pytest.raises(DamagedFile, match="over 32 bits"):
        PostingArrays(b"\x40" + block[1:], 3, False)
    long = encode_block(np.arange(1000), np.ones(1000))
    with pytest.raises(DamagedFile):
        decode_blocks(long[:-3], [0], np.array([1000]), False)


@pytest.mark.parametrize("n", [CHUNK + 1, 5 * CHUNK + 7])
def test_documents_summing_past_2_to_the_32_are_damaged(n):
    """A list of more than a chunk whose gaps carry its last document past 2**32 (a
    block no writer makes) is damaged, whichever way it is read; one that ends at
    2**32 - 1 is read."""
    top = 2**32 - 1
    good = encode_block(np.arange(top - n + 1, top + 1), np.ones(n))
    assert int(PostingArrays(good, n, False).docs[-1]) == top
    # the same block, its first document one higher: the last would be 2**32
    first_at = 1 + (n - 1 + CHUNK - 1) // CHUNK + (n + CHUNK - 1) // CHUNK
    width = good[0]
    first = int.from_bytes(good[first_at : first_at + 4], "little") & ((1 << width) - 1)
    assert first == top - n + 1
    bad = bytearray(good)
    bad[first_at : first_at + 4] = (first + 1).to_bytes(4, "little")
    with pytest.raises(DamagedFile, match="over 2\\*\\*32"):
        PostingArrays(bytes(bad), n, False)
    with pytest.raises(DamagedFile, match="over 2\\*\\*32"):
        read_many([(bytes(bad), n)])


def _dense_and_sparse_field(rng: np.random.Generator, positional: bool):
    """Terms of a segment of 3,000 documents: in most of them, a few, nine in ten, the
    ones at both ends, three in ten, from document 2**32 - 3,000 on, and all of them."""
    shapes = [(2000, 0), (40, 0), (2700, 0), (CHUNK + 1, 0), (900, 0), (2500, 2**32 - 3000)]
    shapes.append((3000, 0))
    field = []
    for n, base in shapes:
        docs = np.sort(rng.choice(3000, n, replace=False)) + base
        if n == CHUNK + 1:
            docs[0], docs[-1] = base, base + 2999  # a long span for few documents: gaps
        freqs = rng.integers(1, 4, n)
        field.append([(int(d), int(f), sorted(rng.choice(60, f, replace=False).tolist()))
                      for d, f in zip(docs, freqs)])  # fmt: skip
    return [[(d, f, p if positional else []) for d, f, p in t] for t in field]


@pytest.mark.parametrize("positional", [False, True])
def test_dense_lists_are_bitmaps_read_back_by_every_reader(positional):
    """A list in most documents of the segment holds them as a bitmap (fewer bytes than
    its gaps), a sparse one as gaps; every reader gives back what was written: one list
    or many at a time, a whole field (merges), and the naive reader."""
    field = _dense_and_sparse_field(np.random.default_rng(3), positional)
    starts, docs, freqs, positions = _flat(field)
    blob, lengths = encode_blocks(starts, docs, freqs, positions if positional else None)
    offsets = np.cumsum(lengths) - lengths
    blocks = [blob[a : a + n] for a, n in zip(offsets, lengths)]
    # every document: gaps of 0 bits cost less than a bitmap
    assert [b[0] == 0xFF for b in blocks] == [True, False, True, False, True, True, False]
    if not positional:  # a bit a document, 2 of frequency
        assert len(blocks[2]) < 3000 // 8 + 32 + 2700 // 4
    got = decode_blocks(blob, offsets, np.diff(starts), positional)
    assert got[0].tolist() == docs.tolist() and got[1].tolist() == freqs.tolist()
    if positional:
        assert got[3].tolist() == positions.tolist()
    many = read_many([(b, len(t)) for t, b in zip(field, blocks)])
    for t, block, (m_docs, m_freqs, m_end) in zip(field, blocks, many, strict=True):
        want = [d for d, _f, _p in t], [f for _d, f, _p in t], [p for *_x, p in t]
        assert _naive(block, len(t), positional) == (*want[:2], want[2] if positional else [])
        arrays = PostingArrays(block, len(t), positional)
        for d, f in ((m_docs, m_freqs), (arrays.docs, arrays.freqs)):
            assert d.tolist() == want[0] and f.tolist() == want[1]
            assert d.dtype == np.uint32 and f.dtype == np.uint8  # frequencies of 1-3
        assert m_end == arrays.end
        if positional:
            offs, flat = arrays.all_positions()
            assert [flat[a:b].tolist() for a, b in zip(offs[:-1], offs[1:])] == want[2]


def test_a_damaged_bitmap_is_damaged_for_every_reader():
    """A bitmap with a bit more or less than its list's count, or whose size runs past the
    block or past document 2**32, is :class:`DamagedFile`, however it is read."""
    docs = np.sort(np.random.default_rng(5).choice(np.arange(2, 1000), 700, replace=False))
    block = encode_block(docs, np.ones(len(docs)))
    nf = -(-len(docs) // CHUNK)
    assert block[0] == 0xFF
    bits_at = 1 + nf + 8
    extra = bytearray(block)
    extra[bits_at] |= 0x02  # document 1 too
    big = bytearray(block)
    big[1 + nf : 1 + nf + 4] = (2**29).to_bytes(4, "little")  # lo: documents past 2**32
    long = bytearray(block)
    long[1 + nf + 4 : 1 + nf + 8] = (10**6).to_bytes(4, "little")  # size: past the block
    for bad, message in ((extra, "bitmap"), (big, "2\\*\\*32|past"), (long, "needed|past")):
        bad = bytes(bad)
        with pytest.raises(DamagedFile, match=message):
            PostingArrays(bad, len(docs), False)
        with pytest.raises(DamagedFile, match=message):
            read_many([(bad, len(docs))])
        with pytest.raises(DamagedFile, match=message):
            decode_blocks(bad, [0], np.array([len(docs)]), False)
    with pytest.raises(DamagedFile, match="bitmap"):  # fewer documents than its count
        PostingArrays(block, len(docs) + 1, False)


@pytest.mark.parametrize("n", [3, 3 * CHUNK])  # read with Python integers, and with numpy
@pytest.mark.parametrize(
    ("top", "kind"), [(1, np.uint8), (128, np.uint8), (129, np.uint16), (2**20, np.uint32)]
)
def test_frequencies_are_kept_in_the_smallest_type_that_holds_them(n, top, kind):
    docs = np.arange(0, 3 * n, 3)
    freqs = np.ones(n, np.int64)
    freqs[n // 2] = top
    block = encode_block(docs, freqs)
    arrays = PostingArrays(block, n, False)
    ((m_docs, m_freqs, _end),) = read_many([(block, n)])
    for got in (arrays.freqs, m_freqs):
        assert got.dtype == kind and got.tolist() == freqs.tolist()
    assert arrays.docs.tolist() == m_docs.tolist() == docs.tolist()


@pytest.mark.parametrize(("last", "kind"), [(65535, np.uint16), (65536, np.uint32)])
def test_decoded_positions_are_kept_in_two_bytes_when_they_fit(last, kind):
    block = encode_block(np.array([2, 9]), np.array([2, 1]), np.array([0, 7, last]))
    offsets, flat = PostingArrays(block, 2, True).all_positions()
    assert flat.dtype == kind and flat.tolist() == [0, 7, last]
    assert offsets.tolist() == [0, 2, 3]
