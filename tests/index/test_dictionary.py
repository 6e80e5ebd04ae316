"""The dictionary format of term dictionaries and spellings: keys in, the same keys out."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnsearch.errors import DamagedFile
from vnsearch.index.checksums import PageChecks
from vnsearch.index.dictionary import DictionaryField, dictionary_chunks
from vnsearch.index.field_terms import read_dictionary

keys = st.one_of(
    st.binary(max_size=12),
    st.binary(max_size=6).map(lambda b: "nguyễn v".encode() + b),  # 8 bytes shared: ties
    st.text(max_size=12).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(min_size=300, max_size=3000),  # longer than a page of the checks below
)
key_sets = st.sets(keys, max_size=60)
PAGE = 64


def _field(name: str, terms: set[bytes], seed: int = 0) -> DictionaryField:
    """A field holding ``terms`` (sorted, as writers add them) with made-up records, each
    starting where the one before ends."""
    rng = np.random.default_rng(seed)
    field = DictionaryField(name)
    offset = int(rng.integers(0, 2**40))
    for key in sorted(terms):
        length = int(rng.integers(0, 2 ** int(rng.integers(1, 28))))
        field.add(key, offset, length, int(rng.integers(0, 2**32)))
        offset += length
    return field


def _records(field: DictionaryField) -> dict[bytes, tuple]:
    columns = zip(field.keys, field.offsets, field.lengths, field.counts_)
    return {key: (o, n, c) for key, o, n, c in columns}


def _file(fields: list[DictionaryField], extra: bytes = b"") -> bytes:
    return b"".join(dictionary_chunks(fields, extra))


def _checked(data: bytes, at: int = 0, flip: int | None = None) -> tuple[bytes, PageChecks]:
    """``data`` at byte ``at`` of a file of pages of PAGE bytes, and that file's checks;
    with ``flip``, that byte of the file changed after its checksums were taken."""
    whole = bytearray(b"\x5a" * at + data + b"\x5a" * (-(at + len(data)) % PAGE))
    sums = [zlib.crc32(whole[i : i + PAGE]) for i in range(0, len(whole), PAGE)]
    if flip is not None:
        whole[flip] ^= 0x10
    view = memoryview(bytes(whole))
    return view, PageChecks(view, PAGE, np.array(sums, "<u4"), "MAIN_x.seg")


@settings(max_examples=120, deadline=None, derandomize=True)
@given(key_sets, key_sets, st.binary(max_size=40), st.booleans())
def test_every_key_written_is_found_with_its_record_and_no_other_is(body, title, extra, checked):
    fields = [_field("body", body, 1), _field("empty", set()), _field("title", title, 2)]
    data = _file(fields, extra)
    assert len(data) % 8 == 0
    pages = None
    if checked:
        whole, pages = _checked(data, at=3 * PAGE + 8)
        data = whole[3 * PAGE + 8 : 3 * PAGE + 8 + len(data)]
    read, extra_at = read_dictionary(data, "test dictionary", pages, 3 * PAGE + 8)
    # a field without keys is left out
    assert sorted(read) == sorted(f.name for f in fields if len(f.keys))
    if extra:
        assert bytes(data[extra_at : extra_at + len(extra)]) == extra
    else:
        assert extra_at is None
    for field in fields:
        if not len(field.keys):
            continue
        terms = read[field.name]
        assert terms.n == len(field.keys)
        for i, (key, record) in enumerate(_records(field).items()):
            assert terms.find(key) == i  # sorted order is kept
            assert terms.key(i) == key
            assert terms.entry(i) == record
            assert terms.extent(i) == record[:2] and terms.count(i) == record[2]
        counts, offsets, lengths = terms.columns()
        assert list(zip(offsets.tolist(), lengths.tolist(), counts.tolist())) == list(
            _records(field).values()
        )
        assert terms.key_list() == list(field.keys)
        assert terms.key_list(np.array([terms.n - 1, 0])) == [field.keys[-1], field.keys[0]]
    for key in (body | title | {b"", b"absent", "vắng".encode()}) - (body & title):
        for field in fields[::2]:
            if key not in field.keys and field.name in read:
                assert read[field.name].find(key) == -1


def test_records_made_from_arrays_read_as_records_added_one_by_one():
    terms = {b"ha", b"noi", "mùa".encode(), b""} | {f"từ {i}".encode() for i in range(40)}
    one_by_one = _field("body", terms)
    columns = [np.array(c) for c in (one_by_one.offsets, one_by_one.lengths, one_by_one.counts_)]
    from_arrays = DictionaryField.from_arrays("body", list(one_by_one.keys), *columns)
    assert _file([from_arrays]) == _file([one_by_one])
    assert from_arrays.counts().tolist() == one_by_one.counts().tolist()


def test_records_that_do_not_follow_one_another_are_refused():
    field = DictionaryField("body")
    field.add(b"a", 0, 10, 1)
    field.add(b"b", 12, 10, 1)
    with pytest.raises(ValueError, match="follow one another"):
        _file([field])


def test_a_key_costs_its_new_bytes_and_a_few_more():
    """Front coding: sorted keys sharing their first syllable cost their other bytes."""
    words = [f"{a} {b}".encode() for a in ("nguyễn", "người", "nhà") for b in range(2000)]
    field = DictionaryField.from_arrays(
        "body", sorted(words), np.arange(len(words)), np.ones(len(words)), np.ones(len(words))
    )
    size = len(_file([field]))
    assert size < 0.6 * sum(map(len, words))
    assert size / len(words) < 6


def test_a_file_of_another_kind_is_damaged():
    data = _file([_field("body", {b"a", b"b"})])
    with pytest.raises(DamagedFile, match="bad spellings file"):
        read_dictionary(b"VNX1" + data[4:], "spellings file")


@pytest.mark.parametrize("what", ["key", "record", "block index"])
def test_a_damaged_entry_is_found_when_it_is_read(what):
    """With the file's checksums, the read of a flipped byte raises instead of answering."""
    terms = {f"từ {i}".encode() for i in range(200)}
    data = _file([_field("body", terms)])
    ft = read_dictionary(data, "test")[0]["body"]
    i = ft.find("từ 17".encode())
    data_at = np.frombuffer(data, np.uint8).ctypes.data

    def at(view) -> int:  # where a view into ``data`` starts in it
        return np.frombuffer(view, np.uint8).ctypes.data - data_at

    block = at(ft._blob) + ft._block_at[i // 16]
    flip = {
        "key": at(ft._blob) + ft._block(i // 16)[4] + 3,  # the block's keys
        "record": block + 2,  # its packed records
        "block index": at(ft._prefixes) + 8 * (ft.nb - 1) + 5,  # a page past the header
    }[what]
    whole, pages = _checked(data, flip=flip)
    read = read_dictionary(whole[: len(data)], "test", pages)[0]["body"]
    with pytest.raises(DamagedFile, match=r"MAIN_x\.seg: checksum mismatch"):
        read.find("từ 17".encode())
        read.entry(i)
    whole, pages = _checked(data)  # and undamaged, it reads without complaint
    read = read_dictionary(whole[: len(data)], "test", pages)[0]["body"]
    assert read.find("từ 17".encode()) == i
    assert read.entry(i) == ft.entry(i)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(key_sets, st.integers(1, 7))
def test_shared_lengths_are_the_same_computed_a_few_keys_at_a_time(terms, chunk):
    """Front coding compares each key with the one before, a bounded number of keys at a
    time: the shared lengths do not depend on where the chunks end."""
    from vnsearch.index import dictionary

    ordered = sorted(terms)
    want = [0] + [
        next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b), 255))
        for a, b in zip(ordered, ordered[1:])
    ]
    want = [min(w, 255) for w in want][: len(ordered)]
    packed = dictionary.PackedKeys.of(ordered)
    default = dictionary._CHUNK_KEYS
    try:
        dictionary._CHUNK_KEYS = chunk
        assert dictionary._shared_lengths(packed).tolist() == want
    finally:
        dictionary._CHUNK_KEYS = default
    assert dictionary._shared_lengths(packed).tolist() == want


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.lists(keys, max_size=8), max_size=6), st.integers(-70, 70), st.integers(-70, 70))
def test_packed_keys_read_as_the_list_of_keys_they_hold(batches, a, b):
    """A field's keys are kept packed until its dictionary is written: every read gives
    the keys added, in order, as a list of them would."""
    from vnsearch.index.dictionary import PackedKeys

    packed, plain = PackedKeys(), []
    for i, batch in enumerate(batches):
        if i % 2 and batch:
            packed.append(batch[0])
            plain.append(batch[0])
            batch = batch[1:]
        packed.extend(batch)
        plain.extend(batch)
    assert len(packed) == len(plain) and list(packed) == plain
    assert packed[a:b] == plain[a:b] and packed[a:] == plain[a:] and packed[:b] == plain[:b]
    for i in (a, b):
        if -len(plain) <= i < len(plain):
            assert packed[i] == plain[i]
        else:
            with pytest.raises(IndexError):
                packed[i]
