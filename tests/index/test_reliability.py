"""Reliability (issue 6): crash safety, concurrency, damaged and foreign indexes, embedding.

Faults are injected for real: writer processes are killed with SIGKILL at random moments,
index files are truncated and overwritten, readers race writers. The ``slow`` variants
repeat the same checks many more times (``pytest -m slow tests/index/test_reliability.py``).
Bad input is in ``tests/test_bad_input.py``, checksums in ``tests/index/test_checksums.py``.
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
from tests.helpers import WORD, all_ids, body_schema, hand, open_and_search, two_segments
from vnsearch import (
    ID,
    NUMERIC,
    TEXT,
    IncompatibleIndex,
    Index,
    IndexCorrupted,
    IndexNotFound,
    Schema,
    SchemaError,
)
from vnsearch.index.schema import FORMAT_VERSION

POSIX = pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL and fork are POSIX")

BATCH = 40  # documents per commit in the writer processes (> 32: analysis workers start)


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
        self.finished = False  # finish() adds a document outside the batches: no kill after
        Index.create(path, body_schema()).close()

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
        assert not self.finished, "finish() ends a run: its document has the next batch's id"
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
            # every committed segment has its checksums (written before its commit), and
            # they match
            assert ix.verify()["unchecked_segments"] == 0
            got = all_ids(ix)
            if ix.doc_count != len(got):  # an id indexed twice
                listed = [h.id for h in ix.search(WORD, limit=1_000_000)]
                twice = sorted({i for i in listed if listed.count(i) > 1})
                raise AssertionError(f"kill {self.kills}: ids twice {twice}, events {events}")
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
        self.finished = True
        with Index.open(self.path) as ix:
            b = self.last + 1
            with ix.writer(timeout=5.0, jobs=1) as w:
                w.add({"id": f"{b}-0", "body": "Tin chung cuối"})
            assert ix.doc_count == len(committed_ids(self.last)) + 1
            ix.optimize(timeout=5.0)
            assert all_ids(ix) == committed_ids(self.last) | {f"{b}-0"}
            live = [f"{segment.segment_id()}.seg" for segment in ix._ix._segments()]
        # what killed writers left (half-written tables of contents, segments) is gone
        left = sorted(p.name for p in self.path.iterdir())
        assert [name for name in left if name.endswith(".seg")] == live, left
        assert not [name for name in left if ".toc." in name], left


def _kill_many(tmp_path: Path, kills: int, seed: int, optimize_kills: int = 1) -> Killer:
    k = Killer(tmp_path / "ix", seed)
    for i in range(kills):
        k.kill_once(jobs=2 if i % 3 == 2 else 1)
    for _ in range(optimize_kills):
        k.kill_once(optimize=True)
    k.finish()  # last: its document takes the next batch's first id
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
    k = _kill_many(tmp_path, kills=200, seed=66, optimize_kills=6)
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


def test_a_half_written_table_of_contents_is_removed_by_the_next_writer(tmp_path):
    """A writer killed while writing ``_MAIN_<n>.toc.<time>`` (before its rename) leaves
    it behind; Whoosh never deletes it. The next writer does, and the index is intact."""
    ix = Index.create(tmp_path / "ix", body_schema())
    with ix.writer(jobs=1) as w:
        w.add({"id": "1", "body": "Tin chung"})
    leftover = tmp_path / "ix" / "_MAIN_7.toc.1795511992.646448"
    leftover.write_bytes(b"half a table of contents")
    assert Index.open(tmp_path / "ix").doc_count == 1  # readers ignore it
    with ix.writer(jobs=1) as w:
        w.add({"id": "2", "body": "Tin chung"})
    assert not leftover.exists()
    assert all_ids(Index.open(tmp_path / "ix")) == {"1", "2"}


@POSIX
def test_kill_during_optimize(tmp_path):
    k = Killer(tmp_path / "ix", seed=8)
    for _ in range(3):
        k.kill_once(optimize=True)
    k.finish()
    assert k.kills == 3


# -- concurrency ---------------------------------------------------------------------------

HOLDER = """
import sys
from vnsearch import Index
ix = Index.open(sys.argv[1])
w = ix.writer(jobs=1)
w.add({"id": "held", "body": "Tin chung giữ khóa"})
print("locked", flush=True)
sys.stdin.readline()
w.commit()
print("released", flush=True)
"""


def test_a_writer_in_another_process_makes_a_writer_wait_then_raise_or_get_it(tmp_path):
    Index.create(tmp_path / "ix", body_schema()).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "ix")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        with Index.open(tmp_path / "ix") as ix:
            start = time.monotonic()
            with pytest.raises(vnsearch.IndexLocked, match="another writer"):
                ix.writer(timeout=0.5)
            assert time.monotonic() - start >= 0.5  # it waited for the timeout
            # a patient writer gets the lock once the other process commits
            got: list = []
            waiter = threading.Thread(target=lambda: got.append(ix.writer(timeout=60.0, jobs=1)))
            waiter.start()
            time.sleep(0.3)
            assert not got  # still waiting
            holder.stdin.write("go\n")
            holder.stdin.flush()
            waiter.join(60.0)
            assert got, "the waiting writer never got the lock"
            with got[0] as w:
                w.add({"id": "mine", "body": "Tin chung của tôi"})
            assert all_ids(ix) == {"held", "mine"}
    finally:
        holder.kill()
        holder.wait()


def test_a_writer_in_another_thread_makes_a_writer_wait_then_get_it():
    ix = Index.in_memory(body_schema())
    first = ix.writer(jobs=1)
    first.add({"id": "a", "body": "Tin chung"})
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(ix.writer(timeout=60.0, jobs=1)))
    waiter.start()
    time.sleep(0.3)
    assert not got
    first.commit()
    waiter.join(60.0)
    assert got
    with got[0] as w:
        w.add({"id": "b", "body": "Tin chung"})
    assert all_ids(ix) == {"a", "b"}


READER = """
import sys
from vnsearch import Index
ix = Index.open(sys.argv[1])
totals = []
while True:
    r = ix.search("chung", limit=1_000_000)
    ids = {h.id for h in r}
    assert len(ids) == r.total == len(r), (len(ids), r.total)
    print(r.total, ",".join(sorted(ids)), flush=True)
"""


def _stress(tmp_path: Path, seconds: float, threads: int, batch: int = 5) -> dict:
    """``threads`` threads and one other process search while this thread commits batch
    after batch (and optimizes now and then) for ``seconds``. Every search must see a whole
    commit (its total and its ids one commit's), never an older one than before."""
    ix = Index.create(tmp_path / "ix", body_schema())
    ids_at: dict[int, set[str]] = {0: set()}  # total -> the ids of that commit
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: list[list[int]] = [[] for _ in range(threads)]

    def reader(k: int) -> None:
        try:
            while not stop.is_set():
                full = len(seen[k]) % 10 == 0
                r = ix.search(WORD, limit=1_000_000 if full else 5)
                seen[k].append(r.total)
                assert len(r) == (r.total if full else min(5, r.total))
                if full:
                    # a search sees one commit: its ids are all there, and nothing else
                    assert {h.id for h in r} == ids_at[r.total]
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    other = subprocess.Popen(
        [sys.executable, "-c", READER, str(tmp_path / "ix")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pool = [threading.Thread(target=reader, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    commits = optimizes = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and not stop.is_set():
            b = commits
            new = {f"{b}-{j}" for j in range(batch)}
            ids_at[len(ids_at[b * batch]) + batch] = ids_at[b * batch] | new
            with ix.writer(jobs=1) as w:
                for doc_id in sorted(new):
                    w.add({"id": doc_id, "body": f"Tin chung đợt {b} về Hà Nội"})
            commits += 1
            if commits % 7 == 0:
                ix.optimize()
                optimizes += 1
    finally:
        stop.set()
        for t in pool:
            t.join(30.0)
        time.sleep(0.5)  # the other process sees the last commit
        other.kill()
        out, err = other.communicate()
    assert not errors, errors
    assert not any(t.is_alive() for t in pool)
    final = commits * batch
    assert ix.doc_count == final
    assert all_ids(ix) == ids_at[final]  # no document lost
    for totals in seen:
        assert totals
        assert set(totals) <= set(ids_at)
        assert totals == sorted(totals)  # never back to an older commit
    # whole lines only: the process was killed, maybe in the middle of one
    lines = [line.split(" ") for line in out.split("\n")[:-1]]
    assert lines, err
    process_totals = [int(t) for t, *_ in lines]
    assert process_totals == sorted(process_totals)
    for total, *rest in lines:
        got = set(rest[0].split(",")) if rest and rest[0] else set()
        assert got == ids_at[int(total)]
    ix.close()
    return {
        "commits": commits,
        "optimizes": optimizes,
        "searches": sum(map(len, seen)) + len(lines),
        "states seen": len({t for totals in seen for t in totals} | set(process_totals)),
    }


def test_eight_searching_threads_and_a_process_against_a_committing_writer(tmp_path):
    stats = _stress(tmp_path, seconds=5.0, threads=8)
    assert stats["commits"] >= 3 and stats["optimizes"] >= 0
    print(stats)


@pytest.mark.slow
def test_stress_for_a_minute(tmp_path):
    stats = _stress(tmp_path, seconds=60.0, threads=8)
    assert stats["optimizes"] >= 1
    print(stats)


@pytest.mark.usefixtures("private_tempdir")
def test_search_while_writing(tmp_path, schema):
    ix = Index.create(tmp_path / "ix", schema)
    word = "chung"
    with ix.writer() as w:
        for i in range(5):
            w.add(hand(f"base{i}", "Tin", f"Tin chung số {i} về Hà Nội", "x"))
    n0 = ix.doc_count
    batches, batch_size = 5, 4
    final = n0 + batches * batch_size
    valid = {n0 + k * batch_size for k in range(batches + 1)}

    stop = threading.Event()
    done_writing = threading.Event()
    errors: list[BaseException] = []
    totals: list[list[int]] = [[] for _ in range(4)]
    after: list[int | None] = [None] * 4

    def reader(k: int) -> None:
        try:
            deadline = time.monotonic() + 10.0
            while not stop.is_set() and time.monotonic() < deadline:
                r = ix.search(word, limit=5)
                totals[k].append(r.total)
                assert len(r) == min(5, r.total)
                assert all(h.fields["body"] for h in r)
            assert done_writing.wait(10.0)
            after[k] = ix.search(word, limit=5).total
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    start = time.monotonic()
    try:
        for b in range(batches):
            with ix.writer() as w:
                for j in range(batch_size):
                    w.add(hand(f"b{b}-{j}", "Tin mới", f"Tin chung đợt {b} số {j}", "x"))
            time.sleep(0.05)
        done_writing.set()
        time.sleep(max(0.0, 1.5 - (time.monotonic() - start)))
    finally:
        done_writing.set()
        stop.set()
        for t in threads:
            t.join(20.0)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    assert ix.doc_count == final
    for seen in totals:
        assert seen
        assert all(n0 <= n <= final for n in seen)
        assert set(seen) <= valid  # a commit is seen whole or not at all
        assert seen == sorted(seen)  # a thread never goes back to an older commit
    assert after == [final] * 4
    ix.close()


# -- damaged and foreign indexes -----------------------------------------------------------


def test_a_truncated_segment_names_the_segment(tmp_path):
    path = two_segments(tmp_path)
    segments = sorted(path.glob("*.seg"))
    assert len(segments) == 2
    rng = random.Random(3)
    for cut in [0, 1, 100, *(rng.randrange(segments[0].stat().st_size) for _ in range(20))]:
        data = segments[0].read_bytes()
        segments[0].write_bytes(data[:cut])
        with pytest.raises(IndexCorrupted, match="damaged or truncated") as info:
            open_and_search(path)
        assert segments[0].stem in str(info.value), str(info.value)
        segments[0].write_bytes(data)
    open_and_search(path)


def test_a_damaged_table_of_contents(tmp_path):
    path = two_segments(tmp_path)
    (toc,) = path.glob("_MAIN_*.toc")
    data = toc.read_bytes()
    for bad in (data[: len(data) // 2], b"", b"\x80\x04junk" * 20):
        toc.write_bytes(bad)
        with pytest.raises(IndexCorrupted):
            open_and_search(path)
    toc.write_bytes(data)
    open_and_search(path)


@pytest.mark.parametrize(
    "damage, kind, message",
    [
        (
            lambda d: d["vnsearch.json"].write_text("{not json"),
            IndexCorrupted,
            "not a vnsearch schema",
        ),
        (
            lambda d: d["vnsearch.json"].write_text("[1, 2]"),
            IndexCorrupted,
            "not a vnsearch schema",
        ),
        (
            lambda d: d["vnsearch.json"].write_text(json.dumps({"format": 99})),
            IndexCorrupted,
            "not a vnsearch",
        ),
        (
            lambda d: d["vnsearch.json"].write_text(
                d["vnsearch.json"].read_text().replace(f'"format": {FORMAT_VERSION}', '"format": 2')
            ),
            IncompatibleIndex,
            "format version 2.*rebuild",
        ),
        (
            lambda d: d["vnsearch.json"].write_text(
                d["vnsearch.json"].read_text().replace('"TEXT"', '"VECTOR"')
            ),
            IndexCorrupted,
            "unknown type",
        ),
        (lambda d: d["vnsearch.json"].unlink(), IndexNotFound, "not a vnsearch index"),
        (lambda d: [p.unlink() for p in d["dir"].glob("_MAIN_*.toc")], IndexNotFound, "missing"),
    ],
    ids=["not-json", "json-list", "no-fields", "version", "field-type", "no-schema", "no-toc"],
)
def test_foreign_or_other_version_folders_are_named(tmp_path, damage, kind, message):
    path = two_segments(tmp_path)
    damage({"vnsearch.json": path / "vnsearch.json", "dir": path})
    with pytest.raises(kind, match=message):
        open_and_search(path)


def test_a_folder_of_other_files_and_an_empty_folder(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("không phải chỉ mục")
    (tmp_path / "empty").mkdir()
    for folder in ("other", "empty"):
        with pytest.raises(IndexNotFound, match="not a vnsearch index"):
            Index.open(tmp_path / folder)


# -- embedding -----------------------------------------------------------------------------


@pytest.mark.parametrize("on_disk", [True, False], ids=["disk", "memory"])
def test_two_indexes_with_different_schemas_in_one_process(tmp_path, on_disk):
    news = Schema(id=ID(stored=True, unique=True), title=TEXT(stored=True, boost=2.0))
    shop = Schema(sku=ID(stored=True, unique=True), name=TEXT(stored=True), price=NUMERIC())
    if on_disk:
        a, b = Index.create(tmp_path / "news", news), Index.create(tmp_path / "shop", shop)
    else:
        a, b = Index.in_memory(news), Index.in_memory(shop)
    wa = a.writer(jobs=1)  # both writers open at once
    wa.add({"id": "n1", "title": "Giá vàng hôm nay"})
    with b.writer(jobs=1) as wb:
        wb.add({"sku": "s1", "name": "Vàng miếng SJC", "price": 80})
        with pytest.raises(SchemaError, match="title"):
            wb.add({"sku": "s2", "title": "wrong schema"})
    wa.commit()
    assert [h.id for h in a.search("vang")] == ["n1"]
    assert [h.id for h in b.search("vang", sort="price")] == ["s1"]
    with pytest.raises(ValueError):
        a.search("vang", sort="price")  # not a field of this index
    if on_disk:
        a.close()
        b.close()
        with Index.open(tmp_path / "news") as a2, Index.open(tmp_path / "shop") as b2:
            assert a2.schema == news and b2.schema == shop
            assert [h.id for h in b2.search("vàng miếng")] == ["s1"]


def test_index_as_a_context_manager_closes(tmp_path):
    path = two_segments(tmp_path)
    with Index.open(path) as ix:
        assert ix.doc_count == 40
        assert ix._snapshot is not None
    assert ix._snapshot is None  # closed: the snapshot's files are released
    assert ix.doc_count == 40  # and a closed index opens a new snapshot if used again
    ix.close()
