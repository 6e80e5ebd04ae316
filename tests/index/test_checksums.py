"""Checksums of segment files: damage is found on open, by the first read of a damaged
page, by merges and by ``verify()``, and named; pages are checked ahead in a thread.

Faults are injected for real: bits of segment files are flipped, checksum files cut.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import WORD, all_ids, open_and_search, two_segments
from vnsearch import Index, IndexCorrupted
from vnsearch.index.compound import read_directory
from vnsearch.index.reader import FREQUENT_SHARE

# -- damage found and named --------------------------------------------------------------


def test_flipped_bytes_in_a_segment_are_found_on_open_and_by_verify(tmp_path):
    """Every flip of 1-4 bits anywhere in a small segment is an IndexCorrupted naming the
    segment file when the index is opened and searched (its parts are small enough to be
    checked whole on open), and from verify(): never other results, never a raw error."""
    path = two_segments(tmp_path)
    with Index.open(path) as ix:
        good = [(h.id, h.score) for h in ix.search("ha noi", limit=100)]
        assert ix.verify() == {
            "segments": 2,
            "bytes": ix.verify()["bytes"],
            "unchecked_segments": 0,
        }
    segment = sorted(path.glob("*.seg"))[0]
    data = segment.read_bytes()
    rng = random.Random(4)
    for i in range(120):
        bad = bytearray(data)
        if i % 3 == 0:  # a third in the last 1,000 bytes: the compound file's directory
            bad[rng.randrange(len(bad) - 1000, len(bad))] ^= 1 << rng.randrange(8)
        for _ in range(rng.randint(1, 4)):
            bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
        if bad == data:
            continue
        segment.write_bytes(bytes(bad))
        for check in (lambda ix: ix.search("ha noi", limit=100), lambda ix: ix.verify()):
            with pytest.raises(IndexCorrupted, match=segment.name) as info, Index.open(path) as ix:
                check(ix)
            assert "checksum mismatch" in str(info.value)
    segment.write_bytes(data)
    with Index.open(path) as ix:
        assert [(h.id, h.score) for h in ix.search("ha noi", limit=100)] == good


def _component_range(segment: Path, suffix: str) -> tuple[int, int]:
    directory = read_directory(segment.read_bytes(), segment.name, segment.stem)
    (name,) = [n for n in directory if n.endswith(suffix)]
    return directory[name]


def test_damaged_postings_are_found_when_read_by_verify_and_by_merges(tmp_path, monkeypatch):
    """Postings and term dictionaries of a large segment are not summed on open (here:
    nothing is, as if every part were large). A flipped byte in a term's postings is
    found by the first search that reads them (their pages are checked on first read),
    by ``verify()``, and by a merge, which refuses the segment: the index keeps its last
    commit and the lock is given back."""
    from vnsearch.index import checksums

    monkeypatch.setattr(checksums, "OPEN_CHECK_BYTES", 0)
    monkeypatch.setattr(checksums, "PAGE", 256)  # pages of the postings' own
    path = two_segments(tmp_path)
    with Index.open(path) as ix:
        reader = ix.snapshot().segments[0][0]
        segment_name = f"{reader.segment().segment_id()}.seg"
        at, length = reader._terms.extent("body.syllables", WORD.encode())
        flip = at + length // 2  # inside the postings of WORD
    segment = path / segment_name
    offset, _ = _component_range(segment, ".vnp")
    data = bytearray(segment.read_bytes())
    data[offset + flip] ^= 0x10
    segment.write_bytes(bytes(data))
    before = sorted(p.name for p in path.iterdir())
    damaged = rf"{segment_name}: checksum mismatch in bytes \d+-\d+ \(vnp\)"
    with Index.open(path) as ix:
        terms = ix.snapshot().segments[0][0]._terms
        for word in ("tin", "đợt", "số", "về", "hà", "nội"):  # postings on other pages
            start, size = terms.extent("body.syllables", word.encode())
            pages = range((offset + start) // 256, (offset + start + size - 1) // 256 + 1)
            if (offset + flip) // 256 not in pages:
                terms.block(start, size)  # no error
        with pytest.raises(IndexCorrupted, match=damaged):
            ix.search(WORD)
        with pytest.raises(IndexCorrupted, match=damaged):
            ix.verify()
        with pytest.raises(IndexCorrupted, match=damaged):
            ix.optimize(timeout=1.0)
        w = ix.writer(jobs=1, timeout=1.0)
        w.add({"id": "new", "body": "Tin chung"})
        with pytest.raises(IndexCorrupted, match=damaged):
            w.commit(optimize=True)  # a commit that merges
        with ix.writer(jobs=1, timeout=0.0) as w:  # the lock was given back
            w.add({"id": "new", "body": "Tin chung"})
    after = sorted(p.name for p in path.iterdir())
    assert set(before) - {"_MAIN_2.toc"} <= set(after)  # nothing of the last commit lost
    assert segment.read_bytes() == bytes(data)


@pytest.mark.parametrize("alone", [True, False])
def test_damaged_positions_are_found_by_the_first_search_that_reads_them(
    tmp_path, monkeypatch, alone
):
    """A list read alone (a long one: the frequent terms) has its documents and
    frequencies checked when its postings are first read, its positions (most of a
    frequent term's bytes; only phrases read them) when they are: a flipped position is
    not read by a plain search, and is an error for the first phrase that reads it, and
    for ``verify()``. A short list, read with the query's others in one batch, has its
    whole block checked then: the plain search already finds the damage."""
    from vnsearch.index import checksums, terms

    monkeypatch.setattr(checksums, "OPEN_CHECK_BYTES", 0)
    monkeypatch.setattr(checksums, "PAGE", 64)
    if alone:  # every list read alone, as a long one is (WORD has 20 postings a segment)
        monkeypatch.setattr(terms, "BATCH_POSTINGS", 0)
    path = two_segments(tmp_path, repeat=30)  # positions: most of WORD's postings
    with Index.open(path) as ix:
        reader = ix.snapshot().segments[0][0]
        segment_name = f"{reader.segment().segment_id()}.seg"
        # an unaccented phrase is matched in the folded view, whose positions are read
        # from the syllables view's
        at, length = reader._terms.extent("body.syllables", WORD.encode())
        flip = at + length - 1  # the last position of WORD's last posting
        docs_end = reader._terms.arrays("body.syllables", WORD.encode()).end
        assert flip >= at + docs_end + 64  # past the page of the frequencies
    segment = path / segment_name
    offset, _ = _component_range(segment, ".vnp")
    data = bytearray(segment.read_bytes())
    data[offset + flip] ^= 0x01
    segment.write_bytes(bytes(data))
    damaged = rf"{segment_name}: checksum mismatch in bytes \d+-\d+ \(vnp\)"
    with Index.open(path) as ix:
        if alone:
            assert len(ix.search(WORD, limit=100)) == 40  # documents and frequencies are right
        with pytest.raises(IndexCorrupted, match=damaged):
            ix.search(f'"tin {WORD}"' if alone else WORD)
        with pytest.raises(IndexCorrupted, match=damaged):
            ix.verify()


def test_a_damaged_term_dictionary_is_found_when_read(tmp_path, monkeypatch):
    """A flipped byte in a term's key in the dictionary of a large segment (not summed on
    open; here nothing is) would make the term vanish: the lookup checks the pages it
    reads, and the search is an IndexCorrupted naming the dictionary (vnt)."""
    from vnsearch.index import checksums

    monkeypatch.setattr(checksums, "OPEN_CHECK_BYTES", 0)
    monkeypatch.setattr(checksums, "PAGE", 256)
    path = two_segments(tmp_path)
    with Index.open(path) as ix:
        reader = ix.snapshot().segments[0][0]
        segment = path / f"{reader.segment().segment_id()}.seg"
        terms = reader._terms._fields["body.syllables"]
        keys_at = terms._block(terms.find(WORD.encode()) // 16)[4]  # WORD's block's keys
        at = terms._blob_at + keys_at + 2  # its first key's first byte
    data = bytearray(segment.read_bytes())
    data[at] ^= 0x01
    segment.write_bytes(bytes(data))
    with Index.open(path) as ix, pytest.raises(IndexCorrupted, match=r"checksum mismatch .*vnt"):
        ix.search(WORD)


def test_a_damaged_or_truncated_checksums_file_is_named(tmp_path):
    path = two_segments(tmp_path)
    sums = sorted(path.glob("*.sum"))[0]
    data = sums.read_bytes()
    for bad in (data[:5], b"XXXX" + data[4:], data[:-4]):
        sums.write_bytes(bad)
        with pytest.raises(IndexCorrupted, match=sums.name):
            open_and_search(path)
    sums.write_bytes(data)
    open_and_search(path)


@pytest.mark.parametrize("how", ["deleted", "dangling-link"])
def test_a_missing_checksums_file_is_an_error_not_a_segment_read_unchecked(tmp_path, how):
    """Every format-3 segment has a .sum: one deleted (or a link to nothing) would let
    any damage through unchecked, so it is IndexCorrupted naming it (before: opened,
    searched and verified with exit 0)."""
    path = two_segments(tmp_path)
    sums = sorted(path.glob("*.sum"))[0]
    sums.unlink()
    if how == "dangling-link":
        sums.symlink_to(tmp_path / "nowhere.sum")
    with pytest.raises(IndexCorrupted, match=sums.name.replace(".", r"\.")), Index.open(path) as ix:
        all_ids(ix)
        ix.verify()


# -- pages checked ahead, reads unchecked ------------------------------------------------


def test_check_ahead_marks_matching_pages_and_leaves_a_damaged_one_to_its_reader():
    import zlib

    from vnsearch.errors import DamagedFile
    from vnsearch.index.checksums import PageChecks

    data = bytes(range(256)) * 4  # four pages of 256 bytes
    sums = np.array([zlib.crc32(data[i : i + 256]) for i in range(0, 1024, 256)], "<u4")
    sums[2] ^= 1  # page 2 differs
    pages = PageChecks(memoryview(data), 256, sums, "MAIN_x.seg")
    assert pages.check_ahead([(0, 700), (900, 1000)], threading.Event()) == 1024
    assert list(pages.done) == [1, 1, 0, 1]
    with pytest.raises(DamagedFile, match="checksum mismatch in bytes 512-768"):
        pages.check(600, 601)
    stopped = threading.Event()
    stopped.set()
    fresh = PageChecks(memoryview(data), 256, sums, "MAIN_x.seg")
    assert fresh.check_ahead([(0, 1024)], stopped) == 0 and not any(fresh.done)


def test_postings_are_checked_ahead_once_per_segment_frequent_terms_first(tmp_path, monkeypatch):
    """Opening a segment starts a thread that sums the documents and frequencies of its
    frequent terms (which searches read whole), then its term dictionary and spellings,
    then the rest of its postings; reads of what matched are then not checked one by one;
    a later snapshot of the same segment keeps what was checked; ``close`` stops it."""
    from vnsearch.index import checksums

    monkeypatch.setattr(checksums, "OPEN_CHECK_BYTES", 0)
    monkeypatch.setattr(checksums, "PAGE", 64)
    asked: list[list[tuple[int, int]]] = []  # the ranges of each check_ahead, in order
    check_ahead = checksums.PageChecks.check_ahead

    def recorded(self, ranges, stop):
        asked.append(list(ranges))
        return check_ahead(self, asked[-1], stop)

    monkeypatch.setattr(checksums.PageChecks, "check_ahead", recorded)
    path = two_segments(tmp_path)
    with Index.open(path) as ix:
        reader = ix.snapshot().segments[0][0]
        assert ix._wait_checked_ahead(timeout=10)
        terms = reader._terms
        pages = terms._pages
        spans = terms.frequent_postings(int(reader.doc_count_all() * FREQUENT_SHARE))
        # the first segment's frequent terms, dictionary and spellings; the second's; then
        # the rest of each one's postings
        assert len(asked) == 8
        assert asked[:3] == [spans, [terms._terms_span], [terms.spellings.span]]
        assert asked[6] == [terms._posts_span]
        start, length = terms.extent("body.syllables", WORD.encode())
        assert len(spans) > 5
        block_end = start + terms._posts_at + length  # WORD: in all 20 docs
        assert (start + terms._posts_at, block_end) in spans
        # every page of the postings (positions and rare terms too) matched: postings
        # reads go unchecked; the rest of the file (stored fields...) is not summed ahead
        assert pages.all_checked(*terms._posts_span) and terms._read_checks is None
        assert sum(pages.done) < len(pages.done)
        # every page of the term dictionary and spellings matched: their reads go unchecked
        assert all(ft._pages is None for ft in terms._fields.values())
        assert terms.spellings._pages is None
        assert pages.all_checked(*terms._terms_span) and pages.all_checked(*terms.spellings.span)
        done = pages.done
        with ix.writer(jobs=1) as w:
            w.add({"id": "new", "body": "Tin chung mới"})
        segid = reader.segment().segid
        again = [r for r, _ in ix.snapshot().segments if r.segment().segid == segid]
        assert again and again[0] is not reader
        assert again[0]._terms._pages.done is done  # no page summed twice
        assert all(ft._pages is None for ft in again[0]._terms._fields.values())
        assert again[0]._terms._read_checks is None
        assert ix._checks.threads
    assert not ix._checks.threads  # close() stopped and joined the thread
    with Index.open(path, check_reads=False) as ix:
        ix.snapshot()
        assert not ix._checks.threads


def test_reads_unchecked_on_request(tmp_path, monkeypatch):
    """``check_reads=False``: searches read pages without summing them (for storage that
    checks itself); opening, merges and ``verify`` still check."""
    from vnsearch.index import checksums

    monkeypatch.setattr(checksums, "OPEN_CHECK_BYTES", 0)
    monkeypatch.setattr(checksums, "PAGE", 256)
    path = two_segments(tmp_path)
    with Index.open(path, check_reads=False) as ix:
        assert len(all_ids(ix)) == 40
        reader = ix.snapshot().segments[0][0]
        assert reader._terms._pages is None
        assert ix.verify()["unchecked_segments"] == 0
    with Index.open(path) as ix:
        assert len(all_ids(ix)) == 40
        pages = ix.snapshot().segments[0][0]._terms._pages
        assert pages is not None and 0 < sum(pages.done) < len(pages.done)
