"""A full disk and I/O errors during a commit (issue 19, finding 5).

A commit that fails on ``ENOSPC`` or ``EIO`` raises :class:`vnsearch.IndexWriteError`
saying so, leaves the previous commit, removes its partial files and gives the write
lock back, even when closing its files fails again on the same full disk; the next
writer (the same ``Index``, a new one, another process) works once space is freed.
Faults are injected into the index's file writes and syncs at each step of a commit,
and met for real on a small tmpfs (root only; skipped otherwise).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import body_schema
from vnsearch import Index, IndexWriteError, VnsearchError
from vnsearch.index.storage import FolderStorage


def _docs(tag: str, n: int, words: int = 30) -> list[dict]:
    return [
        {"id": f"{tag}-{i}", "body": f"chung dot{tag} số {i} " + "tin Hà Nội mùa thu " * words}
        for i in range(n)
    ]


def _index(tmp_path: Path) -> Path:
    path = tmp_path / "ix"
    with Index.create(path, body_schema()) as ix, ix.writer(jobs=1) as w:
        for doc in _docs("a", 20):
            w.add(doc)
    return path


def _files(path: Path) -> set[str]:
    """The folder's files, without the lock file and the (empty) temporary folder."""
    return {p.name for p in path.iterdir() if p.name not in ("MAIN_WRITELOCK", "MAIN.tmp")}


def _holds_the_first_commit_only(path: Path) -> None:
    with Index.open(path) as ix:
        assert ix.doc_count == 20
        assert ix.search("dota~0", limit=1).total == 20
        assert ix.search("dotb~0", limit=1).total == 0
        ix.verify()


def _commit(ix: Index, tag: str, n: int = 20, optimize: bool = False) -> None:
    w = ix.writer(jobs=1, timeout=0)
    for doc in _docs(tag, n):
        w.add(doc)
    w.commit(optimize=optimize)


class _Failing:
    """A file whose writes fail with ``error`` once ``budget`` bytes were written."""

    def __init__(self, raw, budget: int, error: int, path: str) -> None:
        self._raw, self._budget, self._error, self._path = raw, budget, error, path

    def write(self, data) -> int:
        self._budget -= len(data)
        if self._budget < 0:
            raise OSError(self._error, os.strerror(self._error), self._path)
        return self._raw.write(data)

    def __getattr__(self, name: str):
        return getattr(self._raw, name)


# (where in a commit, a file name's ending or "fsync <n>": the n-th fsync of the commit)
POINTS = [
    ("postings component", ".vnp"),
    ("term dictionary component", ".vnt"),
    ("compound segment", ".seg"),
    ("checksums", ".sum"),
    ("table of contents", ".toc"),
    ("sync of the segment", "fsync 1"),
    ("sync of the table of contents", "fsync 3"),
    ("sync of the folder before the rename", "fsync 4"),
]


def _inject(monkeypatch, target: str, error: int) -> None:
    if target.startswith("fsync"):
        nth = int(target.split()[1])
        calls = [0]
        real = os.fsync

        def fsync(fd: int) -> None:
            calls[0] += 1
            if calls[0] == nth:
                raise OSError(error, os.strerror(error))
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        return
    create = FolderStorage.create_file

    def create_file(self, name, *args, **kwargs):
        f = create(self, name, *args, **kwargs)
        if target in name:
            f.file = _Failing(f.file, 10, error, os.path.join(self.folder, name))
        return f

    monkeypatch.setattr(FolderStorage, "create_file", create_file)


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EIO], ids=["ENOSPC", "EIO"])
@pytest.mark.parametrize("point", [p[1] for p in POINTS], ids=[p[0] for p in POINTS])
def test_a_failed_commit_keeps_the_last_one_leaves_nothing_and_frees_the_lock(
    tmp_path, monkeypatch, point, error
):
    path = _index(tmp_path)
    before = _files(path)
    with Index.open(path) as ix:
        assert ix.doc_count == 20  # a snapshot is open, as in a running service
        with monkeypatch.context() as patched:
            _inject(patched, point, error)
            with pytest.raises(IndexWriteError) as info:
                _commit(ix, "b")
        message = str(info.value)
        assert "disk is full" in message if error == errno.ENOSPC else "I/O error" in message
        assert str(path) in message and "keeps its previous commit" in message
        assert "\n" not in message and info.value.errno == error
        assert _files(path) == before  # the partial files are gone
        assert not os.listdir(path / "MAIN.tmp") if (path / "MAIN.tmp").exists() else True
        assert ix.doc_count == 20
        _commit(ix, "c", 5)  # the lock was given back: no wait (timeout=0)
        assert ix.doc_count == 25
    with Index.open(path) as ix:
        assert ix.search("dotc~0", limit=1).total == 5
        assert ix.search("dotb~0", limit=1).total == 0
        ix.verify()


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EIO], ids=["ENOSPC", "EIO"])
def test_a_failed_optimize_keeps_every_segment(tmp_path, monkeypatch, error):
    path = _index(tmp_path)
    with Index.open(path) as ix:
        _commit(ix, "b", 5)
    before = _files(path)
    with Index.open(path) as ix:
        with monkeypatch.context() as patched:
            _inject(patched, ".seg", error)
            with pytest.raises(IndexWriteError):
                ix.optimize()
        assert _files(path) == before
        assert ix.doc_count == 25
        ix.optimize()
        assert ix.stats().segments == 1 and ix.doc_count == 25


def test_a_failed_sync_after_the_rename_says_the_commit_is_in_place(tmp_path, monkeypatch):
    """The folder's sync after the rename fails: the commit is the index's (its files
    are kept), the error says it may not survive a power cut, the lock is free."""
    path = _index(tmp_path)
    with Index.open(path) as ix:
        with monkeypatch.context() as patched:
            _inject(patched, "fsync 5", errno.EIO)
            with pytest.raises(IndexWriteError, match="in place but may not survive"):
                _commit(ix, "b")
        assert ix.doc_count == 40
        _commit(ix, "c", 5)
        assert ix.doc_count == 45
        ix.verify()


def test_closing_files_failing_again_still_frees_the_lock(tmp_path, monkeypatch):
    """Whoosh's cancel closes the segment's files before it releases the lock: on a full
    disk that fails too, and the lock stayed taken until the process exited."""
    path = _index(tmp_path)
    before = _files(path)
    with Index.open(path) as ix:
        with monkeypatch.context() as patched:
            _inject(patched, ".vns", errno.ENOSPC)  # stored fields: written while adding
            w = ix.writer(jobs=1, timeout=0)
            with pytest.raises(IndexWriteError, match="adding a document failed"):
                for doc in _docs("b", 200):
                    w.add(doc)
            w.cancel()  # closing the stored fields' file fails again
        assert _files(path) == before
        _commit(ix, "c", 5)
        assert ix.doc_count == 25


# -- a real full disk: a small tmpfs ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 4 MB tmpfs mounted at ``tmp_path / "disk"`` (root only)."""
    if os.geteuid() != 0:
        pytest.skip("the full-disk test mounts a tmpfs: needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _fill(disk: Path, leave: int) -> Path:
    """Fill ``disk`` but ``leave`` bytes; returns the filler file."""
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave))
    return filler


WRITER = """
import sys
from vnsearch import Index
with Index.open(sys.argv[1]) as ix, ix.writer(jobs=1, timeout=0) as w:
    w.add({"id": "p-1", "body": "chung dotp"})
"""


def test_a_full_disk_for_real_then_space_freed(small_disk, tmp_path):
    path = _index(small_disk)
    before = _files(path)
    filler = _fill(small_disk, 64 << 10)
    with Index.open(path) as ix:
        for _ in range(3):  # again and again: the same outcome, nothing left behind
            with pytest.raises(IndexWriteError, match="disk is full"):
                _commit(ix, "b", 300)
            assert _files(path) == before
            assert ix.doc_count == 20
        _holds_the_first_commit_only(path)
        # the command line: one line, exit 3
        docs = tmp_path / "docs.jsonl"
        docs.write_text(
            "".join(f'{{"id": "x{i}", "body": "chung {"tin " * 300}"}}\n' for i in range(300))
        )
        done = subprocess.run(
            [sys.executable, "-m", "vnsearch", "index", str(docs), "--index", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 3, done.stderr
        assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
        assert "disk is full" in done.stderr
        assert _files(path) == before
        filler.unlink()
        _commit(ix, "c", 5)  # the same Index
        assert ix.doc_count == 25
    with Index.open(path) as ix:  # a new Index
        _commit(ix, "d", 5)
    done = subprocess.run(  # another process
        [sys.executable, "-c", WRITER, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    with Index.open(path) as ix:
        assert ix.doc_count == 31
        ix.verify()
    shutil.rmtree(path)
    assert issubclass(IndexWriteError, VnsearchError) and issubclass(IndexWriteError, OSError)
