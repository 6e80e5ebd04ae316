"""Durable commits (issue 19): what a power cut leaves, and opening past a damaged commit.

A power cut keeps what the disk holds and loses the page cache. The test makes that
real: an ext4 file system in a loop-mounted image holds the index; a copy of the image
file, taken at a few delays after ``commit()`` or ``optimize()`` returned, is what the
disk held at that moment (the loop driver has written only what ext4 wrote back or
flushed). Each copy is mounted (ext4 replays its journal) and must open and hold the old
or the new commit in full, and pass ``verify``. It needs root and a loop device, and
skips with the reason otherwise.

The image is mounted with ``commit=1``: ext4 writes its journal (renames, deletions,
file sizes) every second instead of every 5 s, while file data waiting for delayed
allocation is written back after 30 s. Without fsync, a copy taken 1 to 30 s after a
commit then has the new table of contents renamed into place, the old one deleted and
the new segment's files empty (by default: 5 to 30 s, too long for a test).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import body_schema, two_segments
from vnsearch import Index, IndexCorrupted

# -- a file system in an image -------------------------------------------------------------

_DELAYS = (0.0, 0.5, 1.5, 3.0)  # seconds after commit()/optimize() returned
_IMAGE_MB = 64


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def _tool(name: str) -> str | None:
    """Where the system tool ``name`` is: also in the sbin folders, which a minimal
    ``PATH`` (CI's) leaves out."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


@contextlib.contextmanager
def _mounted(image: Path, where: Path, options: str = "") -> Iterator[Path]:
    where.mkdir(exist_ok=True)
    done = _run("mount", "-t", "ext4", "-o", f"loop{options}", str(image), str(where))
    if done.returncode:
        raise OSError(f"mount {image}: {done.stderr.strip()}")
    try:
        yield where
    finally:
        gc.collect()  # the last maps of the index's files
        if _run("umount", str(where)).returncode:
            _run("umount", "-l", str(where))


@pytest.fixture
def ext4(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A fresh ext4 image mounted with ``commit=1``: ``(image file, mount point)``."""
    if os.geteuid() != 0:
        pytest.skip("the power-loss test mounts a loop image: needs root")
    mkfs = _tool("mkfs.ext4")
    if mkfs is None or _tool("mount") is None:
        pytest.skip("the power-loss test needs mkfs.ext4 and mount")
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(_IMAGE_MB << 20)
    done = _run(mkfs, "-q", "-F", str(image))
    if done.returncode:
        pytest.skip(f"mkfs.ext4 failed: {done.stderr.strip()}")
    try:
        with _mounted(image, tmp_path / "mnt", ",commit=1") as mnt:
            yield image, mnt
    except OSError as exc:
        pytest.skip(f"cannot mount a loop image here ({exc})")


# -- documents whose commits can be told apart ---------------------------------------------

_SYLLABLES = (
    "ha noi sai gon da nang hue can tho nha may thuy dien song hong bien dong mua thu "
    "hoa sua com lang vong pho bo tai chin kinh te thoi su du lich giao duc the thao "
    "van hoa xa hoi khoa hoc cong nghe suc khoe phap luat"
).split()


def _docs(batch: str, n: int, seed: int) -> list[dict]:
    """``n`` documents of about 2 KB; every body holds ``chung`` and ``dot<batch>``."""
    rng = random.Random(seed)
    return [
        {
            "id": f"{batch}-{i}",
            "body": f"chung dot{batch} " + " ".join(rng.choices(_SYLLABLES, k=500)),
        }
        for i in range(n)
    ]


def _add(ix: Index, docs: list[dict]) -> None:
    w = ix.writer(jobs=1)
    for doc in docs:
        w.add(doc)
    w.commit()


def _check_copy(image: Path, where: Path, states: list[dict[str, int]]) -> str:
    """Mount the copy ``image`` read-write (its journal replayed) and return which of
    ``states`` (batch -> document count) it holds in full: a count per batch word and in
    all, and ``verify`` passing. Any other outcome fails."""
    with _mounted(image, where) as mnt, Index.open(mnt / "ix") as ix:
        ix.verify()
        found = {b: ix.search(f"dot{b}~0", limit=1).total for b in states[-1]}
        total = ix.search("chung", limit=1).total
        for n, state in enumerate(states):
            if {b: state.get(b, 0) for b in found} == found and total == sum(state.values()):
                assert ix.doc_count == total
                return "old" if n == 0 else "new"
        raise AssertionError(f"holds {found} ({total} in all), none of {states}")


def _copies_after(image: Path, tmp: Path, tag: str, returned: float) -> list[Path]:
    """Copies of ``image`` taken at :data:`_DELAYS` after ``returned`` (no sync)."""
    copies = []
    for delay in _DELAYS:
        time.sleep(max(0.0, returned + delay - time.monotonic()))
        copy = tmp / f"{tag}-{delay}.img"
        shutil.copyfile(image, copy)
        copies.append(copy)
    return copies


def test_a_power_cut_after_a_commit_or_an_optimize_keeps_a_whole_commit(ext4, tmp_path):
    image, mnt = ext4
    with Index.create(mnt / "ix", body_schema()) as ix:
        _add(ix, _docs("a", 300, 1))
        _add(ix, _docs("b", 300, 2))
        os.sync()  # what was there before is on the disk
        before = {"a": 300, "b": 300}
        _add(ix, _docs("c", 300, 3))
        commit_copies = _copies_after(image, tmp_path, "commit", time.monotonic())
        after = {"a": 300, "b": 300, "c": 300}
        os.sync()
        ix.optimize()
        optimize_copies = _copies_after(image, tmp_path, "optimize", time.monotonic())
    seen = []
    for copies, states in ((commit_copies, [before, after]), (optimize_copies, [after, after])):
        for copy in copies:  # (an optimize keeps the same documents, in one segment)
            try:
                seen.append(_check_copy(copy, tmp_path / "check", states))
            except Exception as exc:
                seen.append(f"{type(exc).__name__}: {exc}")
            copy.unlink()
    # a commit that returned is on the disk: every copy holds it
    assert seen == ["new"] * len(_DELAYS) + ["old"] * len(_DELAYS), ", ".join(seen)


# -- opening past a damaged last commit ----------------------------------------------------


def _last_commit_damaged(tmp_path: Path, damage: str) -> tuple[Path, Path]:
    """Two commits of 20 documents; the first one's table of contents is put back (as a
    power cut after a commit without fsync can leave it), then the second one's
    damaged by ``damage``. Returns the folder and the second table of contents."""
    path = tmp_path / "ix"
    with Index.create(path, body_schema()) as ix:
        _add(ix, _docs("a", 20, 1))
        (first,) = path.glob("_MAIN_*.toc")
        kept = first.read_bytes()
        old = set(path.glob("MAIN_*.seg"))
        _add(ix, _docs("b", 20, 2))
    (last,) = path.glob("_MAIN_*.toc")
    first.write_bytes(kept)
    (seg,) = set(path.glob("MAIN_*.seg")) - old
    sums = seg.with_suffix(".sum")
    if damage == "empty segment":
        seg.write_bytes(b"")
    elif damage == "short segment":
        seg.write_bytes(seg.read_bytes()[:-100])
    elif damage == "empty checksums":
        sums.write_bytes(b"")
    elif damage == "missing segment":
        seg.unlink()
    elif damage == "empty table of contents":
        last.write_bytes(b"")
    elif damage == "short table of contents":
        last.write_bytes(last.read_bytes()[:-3])
    return path, last


DAMAGES = [
    "empty segment",
    "short segment",
    "empty checksums",
    "missing segment",
    "empty table of contents",
    "short table of contents",
]


@pytest.mark.parametrize("damage", DAMAGES)
def test_open_falls_back_to_the_last_whole_commit_and_says_so(tmp_path, caplog, damage):
    path, last = _last_commit_damaged(tmp_path, damage)
    with caplog.at_level(logging.WARNING, logger="vnsearch"), Index.open(path) as ix:
        assert ix.doc_count == 20
        assert ix.search("dota~0", limit=1).total == 20
        assert ix.search("dotb~0", limit=1).total == 0
        ix.verify()
    assert any(last.name in r.getMessage() for r in caplog.records), caplog.records


@pytest.mark.parametrize("damage", ["empty segment", "empty table of contents"])
def test_the_next_commit_after_a_fallback_keeps_the_old_and_adds_the_new(tmp_path, damage):
    path, last = _last_commit_damaged(tmp_path, damage)
    with Index.open(path) as ix:
        _add(ix, _docs("c", 10, 3))
        assert ix.doc_count == 30
        assert ix.search("dota~0", limit=1).total == 20
        assert ix.search("dotc~0", limit=1).total == 10
        ix.verify()
    assert not last.exists()  # the damaged commit's files are gone, above it a new one
    with Index.open(path) as ix:
        assert ix.doc_count == 30
        ix.optimize()
        assert ix.doc_count == 30
        ix.verify()


def test_no_whole_commit_is_index_corrupted_naming_the_file(tmp_path):
    path = two_segments(tmp_path)
    segment = sorted(path.glob("*.seg"))[0]
    segment.write_bytes(b"")
    with pytest.raises(IndexCorrupted, match=segment.stem):
        Index.open(path).search("chung")


@pytest.mark.parametrize("optimize", [False, True])
def test_a_commit_syncs_its_files_before_the_table_of_contents_and_deletes_after(
    tmp_path, monkeypatch, optimize
):
    """The order a power cut needs: every new file of the commit and the new table of
    contents synced, the folder synced after the rename, and only then the previous
    commit's files deleted."""
    path = tmp_path / "ix"
    events: list[tuple[str, str]] = []
    real_fsync, real_remove, real_rename = os.fsync, os.unlink, os.rename

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def remove(name, *args, **kwargs):
        events.append(("remove", str(name)))
        real_remove(name, *args, **kwargs)

    def rename(a, b, *args, **kwargs):
        events.append(("rename", str(b)))
        real_rename(a, b, *args, **kwargs)

    with Index.create(path, body_schema()) as ix:
        _add(ix, _docs("a", 5, 1))
        _add(ix, _docs("b", 5, 2))
        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "remove", remove)
        monkeypatch.setattr(os, "unlink", remove)  # what folder_files.remove_entry calls
        monkeypatch.setattr(os, "rename", rename)
        old = {p.name for p in path.iterdir()}
        if optimize:
            ix.optimize()
        else:
            _add(ix, _docs("c", 5, 3))
        monkeypatch.undo()
    new = {p.name for p in path.iterdir()} - old
    (toc,) = (n for n in new if n.endswith(".toc"))
    renamed = events.index(("rename", str(path / toc)))
    synced = {Path(what).name for kind, what in events[:renamed] if kind == "fsync"}
    # the new (or merged) segment, its checksums and the table of contents, before the rename
    assert new - {toc} <= synced, (new, synced)
    assert any(name.startswith(toc + ".") for name in synced), synced
    # the folder right after the rename, and only then the old files deleted
    after = events[renamed + 1 :]
    assert after[0] == ("fsync", str(path))
    deleted = {Path(what).name for kind, what in after if kind == "remove"}
    assert deleted >= {
        n for n in old if n.endswith(".toc" if not optimize else (".seg", ".sum", ".toc"))
    }
    early = {Path(what).name for kind, what in events[:renamed] if kind == "remove"}
    assert not early & old
