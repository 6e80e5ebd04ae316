"""Index folders from elsewhere: special files, links out, and what is not the index's.

Each kind of index file replaced by a device, a FIFO, a directory, a link (to nothing, or
out of the folder), random bytes or a truncated copy is ``IndexCorrupted`` or
``IndexNotFound`` within seconds, from the library and the command line (exit 3, one line,
no traceback); no link in the folder is followed to write or delete; ``Index.create``
refuses a folder holding anything; two processes creating one index get one outcome.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import WORD, all_ids, body_schema, two_segments
from vnsearch import Index, IndexCorrupted, IndexNotFound, VnsearchError
from vnsearch.cli import main

BOUND = 5.0  # seconds: today's failures hang forever or take 2-20 s


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return two_segments(tmp_path_factory.mktemp("pristine"))


def _target(folder: Path, kind: str) -> Path:
    if kind == "schema":
        return folder / "vnsearch.json"
    if kind == "toc":
        (toc,) = folder.glob("_MAIN_*.toc")
        return toc
    return sorted(folder.glob(f"MAIN_*.{kind}"))[0]


def _replace(path: Path, how: str, outside: Path) -> None:
    data = path.read_bytes()
    path.unlink()
    if how == "dev-zero":
        path.symlink_to("/dev/zero")
    elif how == "dev-urandom":
        path.symlink_to("/dev/urandom")
    elif how == "fifo":
        os.mkfifo(path)
    elif how == "directory":
        path.mkdir()
        (path / "x").write_bytes(data)
    elif how == "dangling-link":
        path.symlink_to(outside / "nothing-here")
    elif how == "link-outside":  # the very same bytes, but out of the folder
        outside.mkdir(exist_ok=True)
        (outside / path.name).write_bytes(data)
        path.symlink_to(outside / path.name)
    elif how == "random":
        path.write_bytes(random.Random(7).randbytes(len(data)))
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])


def _bounded(fn: Callable[[], object], fifos: list[Path]) -> object:
    """``fn()``'s result or exception within BOUND seconds (a thread, so that a hang fails
    the test; a reader blocked on a FIFO is then let go)."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(BOUND)
    if thread.is_alive():
        for fifo in fifos:  # open the other end: the blocked open returns, reads see EOF
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"still running after {BOUND} s (started {time.monotonic() - start:.1f} s ago)")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("result")


def _library(path: Path) -> None:
    with Index.open(path) as ix:
        ix.search(WORD, limit=100)
        ix.verify()


KINDS = ["schema", "toc", "seg", "sum"]
HOW = [
    "dev-zero",
    "dev-urandom",
    "fifo",
    "directory",
    "dangling-link",
    "link-outside",
    "random",
    "truncated",
]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("kind", KINDS)
def test_each_index_file_replaced_is_named_within_seconds(pristine, tmp_path, capsys, kind, how):
    case = tmp_path / "case"
    shutil.copytree(pristine, case, symlinks=True)
    target = _target(case, kind)
    _replace(target, how, tmp_path / "outside")
    fifos = [target] if how == "fifo" else []
    with pytest.raises((IndexCorrupted, IndexNotFound)) as info:
        _bounded(lambda: _library(case), fifos)
    assert target.name in str(info.value) or "not a vnsearch index" in str(info.value)
    for command in (["info"], ["query", WORD], ["verify"]):
        capsys.readouterr()
        code = _bounded(lambda c=command: main([*c, "--index", str(case)]), fifos)
        err = capsys.readouterr().err
        assert code == 3, (command, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("how", ["fifo", "directory", "dangling-link", "link-outside", "dev-zero"])
def test_a_write_lock_file_that_is_not_one_follows_no_link(pristine, tmp_path, how):
    """The lock file: a link is removed (never followed: before, a link to nothing made
    the file it pointed to, a FIFO hung the writer); a FIFO or a directory is
    IndexCorrupted; nothing out of the folder is created or changed."""
    case = tmp_path / "case"
    shutil.copytree(pristine, case, symlinks=True)
    lock = case / "MAIN_WRITELOCK"
    lock.touch()
    outside = tmp_path / "outside"
    _replace(lock, how, outside)
    before = {p: p.read_bytes() for p in outside.glob("*")} if outside.exists() else {}

    def write() -> None:
        with Index.open(case) as ix, ix.writer(jobs=1, timeout=0.5) as w:
            w.add({"id": "new", "body": f"{WORD} mới"})

    try:
        _bounded(write, [lock] if how == "fifo" else [])
    except IndexCorrupted as exc:
        assert how in ("fifo", "directory") and "MAIN_WRITELOCK" in str(exc)
    else:
        assert how not in ("fifo", "directory")
        with Index.open(case) as ix:
            assert len(all_ids(ix)) == 41
    after = {p: p.read_bytes() for p in outside.glob("*")} if outside.exists() else {}
    assert after == before


# -- never touch what is not the index's ------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_temporary_folder_linked_elsewhere_is_not_followed(pristine, tmp_path):
    """``MAIN.tmp`` a link to another folder: before, a commit deleted every file in it."""
    case = tmp_path / "case"
    shutil.copytree(pristine, case, symlinks=True)
    other = tmp_path / "photos"
    other.mkdir()
    for i in range(20):
        (other / f"IMG_{i}.jpg").write_bytes(b"\xff\xd8" + bytes([i]) * 100)
    (other / "MAIN_notes.txt").write_text("ghi chú")
    kept = _files(other)
    (case / "MAIN.tmp").symlink_to(other, target_is_directory=True)
    with Index.open(case) as ix:
        with ix.writer(jobs=1) as w:
            w.add({"id": "new", "body": f"{WORD} mới"})
        assert len(all_ids(ix)) == 41
    assert _files(other) == kept
    assert not (case / "MAIN.tmp").exists()


def test_links_planted_in_the_temporary_folder_are_not_written_through(
    pristine, tmp_path, monkeypatch
):
    """A killed writer's ``MAIN.tmp`` with links named as the pool's sorted runs: before,
    a writer that spilled its postings to disk wrote them through the links."""
    from functools import partial

    from vnsearch.index.writer import ArraySegmentWriter

    monkeypatch.setattr(  # spill every few documents
        "vnsearch.index.index.ArraySegmentWriter", partial(ArraySegmentWriter, limitmb=0)
    )
    case = tmp_path / "case"
    shutil.copytree(pristine, case, symlinks=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("của người dùng")
    tmp = case / "MAIN.tmp"
    tmp.mkdir()
    for i in range(50):  # the names of the pool's sorted runs
        (tmp / f"vnpool{i}.npz").symlink_to(victim)
    with Index.open(case) as ix:
        with ix.writer(jobs=1) as w:
            for i in range(5):
                w.add({"id": f"new{i}", "body": f"{WORD} mới {i}"})
        assert len(all_ids(ix)) == 45
    assert victim.read_text() == "của người dùng"


def test_commits_remove_no_directory_fifo_or_link_target_named_like_index_files(pristine, tmp_path):
    """What a commit deletes by name pattern: a link itself at most, never its target, a
    directory or a FIFO (before: the FIFO was removed)."""
    case = tmp_path / "case"
    shutil.copytree(pristine, case, symlinks=True)
    victim = tmp_path / "victim.seg"
    victim.write_bytes(b"user data")
    (case / "MAIN_zzz.seg").mkdir()
    os.mkfifo(case / "MAIN_zzz.sum")
    (case / "MAIN_yyy.seg").symlink_to(victim)
    with Index.open(case) as ix:
        with ix.writer(jobs=1) as w:
            w.add({"id": "new", "body": f"{WORD} mới"})
        ix.optimize()
        assert len(all_ids(ix)) == 41
    assert (case / "MAIN_zzz.seg").is_dir() and (case / "MAIN_zzz.sum").is_fifo()
    assert victim.read_bytes() == b"user data"


def test_create_refuses_a_folder_holding_other_files(tmp_path):
    """Before: created, and the first commit deleted the user's files named ``MAIN_*``."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "MAIN_notes.txt").write_text("ghi chú")
    (folder / "_MAIN_1.toc").write_text("của tôi")
    kept = _files(folder)
    with pytest.raises(VnsearchError, match="not an empty folder"):
        ix = Index.create(folder, body_schema())
        with ix.writer(jobs=1) as w:
            w.add({"id": "1", "body": WORD})
    assert _files(folder) == kept
    with pytest.raises(VnsearchError, match="already holds a vnsearch index"):
        Index.create(two_segments(tmp_path / "other"), body_schema())
    Index.create(tmp_path / "empty", body_schema()).close()  # new or empty: fine


# -- two processes creating one index ---------------------------------------------------------


def test_a_second_indexer_waiting_while_the_first_fails_gets_one_outcome(tmp_path):
    """The first ``vnsearch index`` creates the index and fails on line 61 while a second
    waits for the lock. Before: the second failed with ``MAIN_WRITELOCK: No such file or
    directory`` (10 of 10 trials here); now it indexes its documents."""
    bad = tmp_path / "a.jsonl"
    with bad.open("w") as f:
        for i in range(60):
            f.write(json.dumps({"id": f"a{i}", "body": f"{WORD} số {i} về Hà Nội " * 300}) + "\n")
        f.write("{not json\n")
    good = tmp_path / "b.jsonl"
    good.write_text("".join(json.dumps({"id": f"b{i}", "body": WORD}) + "\n" for i in range(5)))
    cli = [sys.executable, "-m", "vnsearch", "index", "--jobs", "1", "--index"]
    for trial in range(2):
        ix = tmp_path / f"ix{trial}"
        first = subprocess.Popen([*cli, str(ix), str(bad)], stderr=subprocess.PIPE, text=True)
        while not (ix / "vnsearch.json").exists() and first.poll() is None:
            time.sleep(0.005)
        second = subprocess.run([*cli, str(ix), str(good)], capture_output=True, text=True)
        _, first_err = first.communicate()
        assert first.returncode == 3 and "a.jsonl:61:" in first_err, first_err
        assert second.returncode == 0, second.stderr
        with Index.open(ix) as opened:
            assert {h.id for h in opened.search(WORD, limit=100)} == {f"b{i}" for i in range(5)}


def test_a_forged_document_count_allocates_nothing(pristine, tmp_path):
    """A table of contents with a valid CRC but a document count of 10**12 (arrays of that
    many entries are allocated for a segment's documents) is not a whole commit: passed
    over for the commit before it (before: the open failed on the lengths file), or, alone,
    IndexCorrupted naming the segment, found before anything of that size is made."""
    import zlib

    path = tmp_path / "ix"
    shutil.copytree(pristine, path)
    (toc,) = path.glob("_MAIN_*.toc")
    raw = toc.read_bytes()
    body = json.loads(raw[12:])
    expected = sum(s["docs"] for s in body["segments"])
    body["generation"] += 1
    body["segments"][0]["docs"] = 10**12
    forged = json.dumps(body, separators=(",", ":")).encode("ascii")
    head = raw[:4] + zlib.crc32(forged).to_bytes(4, "little") + len(forged).to_bytes(4, "little")
    newer = path / f"_MAIN_{body['generation']}.toc"
    newer.write_bytes(head + forged)
    with Index.open(path) as ix:  # the commit before it
        assert ix.doc_count == expected
    toc.unlink()
    with pytest.raises(IndexCorrupted, match=r"1,000,000,000,000 documents in a file of"):
        Index.open(path).search(WORD)
