"""Reliability (issue 6): crash safety, concurrency, bad input, damaged indexes, embedding.

Faults are injected for real: writer processes are killed with SIGKILL at random moments,
index files are truncated and overwritten, readers race writers. The ``slow`` variants
repeat the same checks many more times (``pytest -m slow tests/test_reliability.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import vnsearch
from vnsearch import ID, KEYWORD, NUMERIC, TEXT, Index, Schema, SchemaError
from vnsearch.index import IndexError_

POSIX = pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL and fork are POSIX")

BATCH = 40  # documents per commit in the writer processes (> 32: analysis workers start)
WORD = "chung"  # in every document's body


def make_schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))


def all_ids(ix: Index) -> set[str]:
    """Every document's id, through an ordinary search (every body has WORD)."""
    results = ix.search(WORD, limit=1_000_000)
    assert results.total == len(results)
    return {hit.id for hit in results}


def committed_ids(last: int) -> set[str]:
    """The ids the index holds once batches 0..last are committed: batch ``b`` adds
    ``b-0`` .. ``b-39`` and deletes ``(b-1)-0``."""
    return {f"{b}-{j}" for b in range(last + 1) for j in range(BATCH)} - {
        f"{b}-0" for b in range(last)
    }


# The writer process: commits batches of known ids from ``first`` on, forever, writing
# "C<b>" before each commit and "D<b>" after it (and "O<b>"/"P<b>" around an optimize).
WRITER = """
import os, sys
from vnsearch import Index

def run(path, first, jobs, out, optimize=False):
    ix = Index.open(path)
    b = first
    while True:
        w = ix.writer(timeout=30.0, jobs=jobs)
        for j in range(BATCH):
            w.add({"id": f"{b}-{j}", "body": f"Tin chung đợt {b} số {j} về Hà Nội và " * 3})
        if b > 0:
            w.delete(f"{b - 1}-0")
        os.write(out, b"C%d\\n" % b)
        w.commit()
        os.write(out, b"D%d\\n" % b)
        if optimize:
            os.write(out, b"O%d\\n" % b)
            ix.optimize(timeout=30.0)
            os.write(out, b"P%d\\n" % b)
        b += 1
""".replace("BATCH", str(BATCH))


class Killer:
    """Starts writer processes on one index, kills each with SIGKILL, checks what is left."""

    def __init__(self, path: Path, seed: int) -> None:
        self.path = path
        self.rng = random.Random(seed)
        self.last = -1  # the last batch the index holds
        self.kills = 0
        self.states = {"acknowledged": 0, "in flight": 0}
        self.lines = 0
        self.log = path.parent / "writers.log"  # the writers' stderr
        Index.create(path, make_schema()).close()

    def _start(
        self, jobs: int, optimize: bool, fresh: bool
    ) -> tuple[int, int, subprocess.Popen | None]:
        rfd, wfd = os.pipe()
        if fresh:  # a new interpreter (and its pool of analysis processes)
            code = (
                WRITER
                + "\nrun(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 1, sys.argv[4] == '1')"
            )
            argv = [sys.executable, "-c", code, str(self.path), str(self.last + 1), str(jobs)]
            with open(self.log, "ab") as log:
                proc = subprocess.Popen([*argv, "1" if optimize else "0"], stdout=wfd, stderr=log)
            os.close(wfd)
            return proc.pid, rfd, proc
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            try:
                os.close(rfd)
                # the killed writer's analysis processes complain of the broken pipe
                log = os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
                os.dup2(log, 2)
                namespace: dict = {}
                exec(WRITER, namespace)
                namespace["run"](str(self.path), self.last + 1, jobs, wfd, optimize)
            finally:
                os._exit(1)
        os.close(wfd)
        return pid, rfd, None

    def kill_once(self, jobs: int = 1, optimize: bool = False, fresh: bool = False) -> None:
        """Run a writer, kill it at a random moment, check the index holds exactly the
        last acknowledged commit or the one in flight, and go on from there."""
        pid, rfd, proc = self._start(jobs, optimize, fresh)
        out = b""
        # half the kills at a random time, half just after a chosen "C" (or "O") line
        marker = b"O" if optimize else b"C"
        target = self.rng.randint(1, 3) if self.rng.random() < 0.5 else None
        deadline = time.monotonic() + (60.0 if fresh else 20.0)
        delay = self.rng.uniform(0.0, 0.4)
        started = time.monotonic()
        os.set_blocking(rfd, False)
        while time.monotonic() < deadline:
            with contextlib.suppress(BlockingIOError):
                out += os.read(rfd, 65536)
            lines = out.split(b"\n")
            if target is None:
                # a fresh interpreter needs its imports before it writes anything
                if (lines[0] or not fresh) and time.monotonic() - started > delay:
                    break
            elif sum(line.startswith(marker) for line in lines) >= target:
                time.sleep(self.rng.uniform(0.0, 0.25))  # about one commit
                break
            time.sleep(0.002)
        os.kill(pid, signal.SIGKILL)
        if proc is not None:
            proc.wait()
        else:
            os.waitpid(pid, 0)
        self.kills += 1
        os.set_blocking(rfd, True)
        # the pipe may still be open in the killed writer's analysis processes: read what
        # the writer itself wrote (it is in the pipe already), without waiting for EOF
        os.set_blocking(rfd, False)
        try:
            while chunk := os.read(rfd, 65536):
                out += chunk
        except BlockingIOError:
            pass
        os.close(rfd)
        events = [line.decode() for line in out.split(b"\n") if line]
        self.lines += len(events)
        done = [int(e[1:]) for e in events if e[0] == "D"]
        begun = [int(e[1:]) for e in events if e[0] == "C"]
        acked = max(done, default=self.last)
        inflight = max(begun, default=self.last)
        with Index.open(self.path) as ix:
            got = all_ids(ix)
            assert ix.doc_count == len(got)
        if got == committed_ids(acked):
            self.states["acknowledged"] += 1
            self.last = acked
        else:
            assert inflight == acked + 1, (events, sorted(got))
            assert got == committed_ids(inflight), (events, sorted(got))
            self.states["in flight"] += 1
            self.last = inflight

    def finish(self) -> None:
        """A new writer commits at once (no stale lock), and sees everything."""
        with Index.open(self.path) as ix:
            b = self.last + 1
            with ix.writer(timeout=5.0, jobs=1) as w:
                w.add({"id": f"{b}-0", "body": "Tin chung cuối"})
            assert ix.doc_count == len(committed_ids(self.last)) + 1
            ix.optimize(timeout=5.0)
            assert all_ids(ix) == committed_ids(self.last) | {f"{b}-0"}


def _kill_many(tmp_path: Path, kills: int, seed: int) -> Killer:
    k = Killer(tmp_path / "ix", seed)
    for i in range(kills):
        k.kill_once(jobs=2 if i % 3 == 2 else 1)
    k.kill_once(optimize=True)
    k.finish()
    return k


@POSIX
def test_writers_killed_at_random_moments_leave_the_last_commit(tmp_path):
    """12 writers killed with SIGKILL during adds, commits and merges, and one during an
    optimize: each time the index opens and holds exactly the last acknowledged commit or
    the one that was in flight; then a new writer commits at once."""
    k = _kill_many(tmp_path, kills=12, seed=6)
    assert k.kills == 13
    assert k.last >= 3  # the writers got some commits done between kills
    print(f"kills={k.kills} states={k.states} last batch={k.last} lines={k.lines}")


@POSIX
@pytest.mark.slow
def test_writers_killed_200_times(tmp_path):
    k = _kill_many(tmp_path, kills=200, seed=66)
    for _ in range(5):
        k.kill_once(optimize=True)
    k.finish()
    assert k.kills == 206
    print(f"kills={k.kills} states={k.states} last batch={k.last} lines={k.lines}")
    print("files left:", sorted(p.name for p in (tmp_path / "ix").iterdir()))


@POSIX
def test_a_killed_writer_process_with_analysis_workers_leaves_no_lock(tmp_path):
    """A fresh interpreter writing with 2 analysis processes (which share the lock's file
    descriptor after fork) is killed; its lock must not outlive it. The lock file stays
    behind but holds no lock: Whoosh's lock is ``flock``, released by the OS."""
    k = Killer(tmp_path / "ix", seed=7)
    k.kill_once(jobs=2, fresh=True)
    assert (tmp_path / "ix" / "MAIN_WRITELOCK").exists()
    k.finish()


@POSIX
def test_kill_during_optimize(tmp_path):
    k = Killer(tmp_path / "ix", seed=8)
    for _ in range(3):
        k.kill_once(optimize=True)
    k.finish()
    assert k.kills == 3
