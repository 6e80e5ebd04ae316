"""The dictionary format of term dictionaries and spellings: keys in, the same keys out."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnsearch.errors import DamagedFile
from vnsearch.index.checksums import PageChecks
from vnsearch.index.dictionary import DictionaryField, dictionary_chunks, read_dictionary

keys = st.one_of(
    st.binary(max_size=12),
    st.text(max_size=12).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(min_size=300, max_size=3000),  # longer than a page of the checks below
)
key_sets = st.sets(keys, max_size=60)
PAGE = 64


def _field(name: str, terms: set[bytes], seed: int = 0) -> DictionaryField:
    """A field holding ``terms`` (sorted, as writers add them) with made-up records."""
    rng = np.random.default_rng(seed)
    field = DictionaryField(name)
    for key in sorted(terms):
        offset, length, count = (int(x) for x in rng.integers(0, 2**32 - 1, 3))
        field.add(key, offset << 8, length, count, float(rng.random()), float(len(key)))
    return field


def _records(field: DictionaryField) -> dict[bytes, tuple]:
    return {key: tuple(info) for key, info in zip(field.keys, field.infos)}


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
            assert tuple(terms.info(i).tolist()) == pytest.approx(record)
            assert terms.extent(i) == record[:2]
    for key in (body | title | {b"", b"absent", "vắng".encode()}) - (body & title):
        for field in fields[::2]:
            if key not in field.keys and field.name in read:
                assert read[field.name].find(key) == -1


def test_records_made_from_arrays_read_as_records_added_one_by_one():
    terms = {b"ha", b"noi", "mùa".encode(), b""}
    one_by_one = _field("body", terms)
    columns = [np.array(c) for c in zip(*one_by_one.infos)]
    columns[3] = columns[3].astype(np.float32)
    columns[4] = columns[4].astype(np.float32)
    from_arrays = DictionaryField.from_arrays("body", list(one_by_one.keys), *columns)
    assert _file([from_arrays]) == _file([one_by_one])
    assert from_arrays.counts().tolist() == one_by_one.counts().tolist()


def test_a_file_of_another_kind_is_damaged():
    data = _file([_field("body", {b"a", b"b"})])
    with pytest.raises(DamagedFile, match="bad spellings file"):
        read_dictionary(b"VNX1" + data[4:], "spellings file")


@pytest.mark.parametrize("what", ["key", "key offsets", "record", "bucket", "bucket terms"])
def test_a_damaged_entry_is_found_when_it_is_read(what):
    """With the file's checksums, the read of a flipped byte raises instead of answering."""
    terms = {f"từ {i}".encode() for i in range(200)}
    data = _file([_field("body", terms)])
    ft = read_dictionary(data, "test")[0]["body"]
    i = ft.find("từ 17".encode())
    data_at = np.frombuffer(data, np.uint8).ctypes.data

    def at(array) -> int:  # where a view into ``data`` starts in it
        return np.frombuffer(array, np.uint8).ctypes.data - data_at

    flip = {
        "key": at(ft.keys) + int(ft.key_offsets[i]),
        "key offsets": at(ft.key_offsets) + 8 * i + 1,
        "record": at(ft.infos) + ft.infos.itemsize * i + 2,
        "bucket": at(ft.bucket_starts) + 4 * (zlib.crc32("từ 17".encode()) & ft.mask),
        "bucket terms": at(ft.bucket_terms) + 4 * int(np.flatnonzero(ft.bucket_terms == i)[0]),
    }[what]
    whole, pages = _checked(data, flip=flip)
    read = read_dictionary(whole[: len(data)], "test", pages)[0]["body"]
    with pytest.raises(DamagedFile, match=r"MAIN_x\.seg: checksum mismatch"):
        read.find("từ 17".encode())
        read.info(i)
        read.extent(i)
    whole, pages = _checked(data)  # and undamaged, it reads without complaint
    read = read_dictionary(whole[: len(data)], "test", pages)[0]["body"]
    assert read.find("từ 17".encode()) == i
    assert read.extent(i) == ft.extent(i)
