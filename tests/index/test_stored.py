"""The stored fields file (``.vns``): each document deflated alone against a dictionary of
the segment's first documents, read back exactly, and damage found and named."""

from __future__ import annotations

import datetime
import random
import struct
import zlib

import pytest
from whoosh.filedb.filestore import RamStorage

from vnsearch.errors import DamagedFile
from vnsearch.index.stored import DICTIONARY_BYTES, StoredFieldsReader, StoredFieldsWriter

WORDS = "Hà Nội thủ đô Việt Nam sông Hồng phố cổ mùa thu 𝔘 \ud800".split()


def _docs(n: int) -> list[dict]:
    rng = random.Random(n)
    docs = []
    for i in range(n):
        kind = i % 7
        if kind == 0:
            docs.append({})
        elif kind == 1:  # a large one: more than the dictionary alone
            docs.append({"id": str(i), "body": " ".join(rng.choices(WORDS, k=20_000))})
        else:
            docs.append({
                "id": f"doc{i}",
                "title": " ".join(rng.choices(WORDS, k=rng.randint(1, 30))),
                "views": rng.randint(-10**12, 10**12),
                "score": rng.random(),
                "when": datetime.datetime(2020, 1, 1) + datetime.timedelta(seconds=i),
                "tags": (b"\x00\xff", None, True, [1.5, "a"]),
            })  # fmt: skip
    return docs


def _write(docs: list[dict]) -> bytes:
    st = RamStorage()
    w = StoredFieldsWriter(st.create_file("MAIN_x.vns"))
    for doc in docs:
        w.add(doc)
    w.close(len(docs))
    return bytes(st.files["MAIN_x.vns"])


@pytest.mark.parametrize("n", [0, 1, 2, 300])
def test_documents_read_back_as_written(n):
    docs = _docs(n)
    data = _write(docs)
    assert n < 300 or sum(len(str(d)) for d in docs) > 3 * DICTIONARY_BYTES
    r = StoredFieldsReader(data, "MAIN_x.vns", n)
    assert [r.document(i) for i in range(n)] == docs
    with pytest.raises(IndexError):
        r.document(n)


def test_a_document_costs_its_own_bytes_not_a_blocks():
    """Small documents like each other are stored in fewer bytes than their JSON."""
    docs = [
        {"id": f"vntc{i}", "title": f"Thủ tướng dự hội nghị số {i} tại Hà Nội"} for i in range(500)
    ]
    data = _write(docs)
    dictionary = struct.unpack_from("<QII4s", data, len(data) - 20)[1]
    records = len(data) - 4 - dictionary - 16 * len(docs) - 8 - 20
    assert records < 0.3 * sum(len(str(d).encode()) for d in docs)


def test_a_small_segment_stores_fewer_bytes_than_its_json():
    """The dictionary is the first documents themselves: deflated, so that a segment of a
    few documents does not store them twice, once raw."""
    docs = [{"id": str(i), "body": " ".join(WORDS[:12] * 40)} for i in range(5)]
    raw = sum(len(str(d).encode()) for d in docs)
    assert len(_write(docs)) < 0.5 * raw


def _damage(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 0x55
    return bytes(out)


def test_damage_is_found_and_named():
    docs = _docs(40)
    data = _write(docs)
    at, _dictionary, n, _magic = struct.unpack_from("<QII4s", data, len(data) - 20)
    offsets = struct.unpack_from(f"<{n + 1}Q", data, at)
    record = next(i for i in range(n) if offsets[i + 1] - offsets[i] > 20)
    hurt = StoredFieldsReader(_damage(data, offsets[record] + 10), "MAIN_x.vns", n)
    with pytest.raises(DamagedFile, match=f"MAIN_x.vns: document {record}"):
        hurt.document(record)
    assert hurt.document(record + 1) == docs[record + 1]  # the others still read
    similar = [{"id": f"d{i}", "title": f"Hội nghị số {i} tại Hà Nội"} for i in range(2000)]
    small = _write(similar)
    packed = struct.unpack_from("<QII4s", small, len(small) - 20)[1]
    with pytest.raises(DamagedFile, match=r"MAIN_x\.vns: damaged dictionary"):
        StoredFieldsReader(_damage(small, 4 + packed // 2), "MAIN_x.vns", len(similar))
    for bad, what in [
        (b"VSF3" + data[4:], "not a stored-fields file"),
        (data[:-30], "not a stored-fields file|does not fit|documents in the file"),
        (data, "40 documents in the file, 41 in the segment"),
    ]:
        with pytest.raises(DamagedFile, match=what):
            StoredFieldsReader(bad, "MAIN_x.vns", 41 if bad is data else n)


def test_a_record_that_inflates_without_bound_is_refused_at_its_length():
    """A planted record of 64 MB of zeros deflated (64 KB) is damage as soon as it inflates
    past the length written, not after 64 MB are allocated."""
    data = _write([{"id": "a"}, {"id": "b"}])
    at, dictionary, n, magic = struct.unpack_from("<QII4s", data, len(data) - 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = c.compress(bytes(64 << 20)) + c.flush()
    head = data[: 4 + dictionary]
    index = data[at : len(data) - 20]
    offsets = list(struct.unpack_from(f"<{n + 1}Q", index))
    shift = len(bomb) - (offsets[1] - offsets[0])
    new_offsets = [offsets[0], offsets[1] + shift, offsets[2] + shift]
    planted = (
        head + bomb + data[offsets[1] : at] + struct.pack("<3Q", *new_offsets) + index[24:]
        + struct.pack("<QII4s", at + shift, dictionary, n, magic)
    )  # fmt: skip
    r = StoredFieldsReader(planted, "MAIN_x.vns", 2)
    with pytest.raises(DamagedFile, match="document 0: not the length written"):
        r.document(0)
    assert r.document(1) == {"id": "b"}
