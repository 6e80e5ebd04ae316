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

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vnsearch
from vnsearch import ID, KEYWORD, NUMERIC, TEXT, Index, Schema, SchemaError
from vnsearch.index import IndexError_
from vnsearch.index.postings import BLOCK_HEAD

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
        self.finished = False  # finish() adds a document outside the batches: no kill after
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
    ix = Index.create(tmp_path / "ix", make_schema())
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
    Index.create(tmp_path / "ix", make_schema()).close()
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
    ix = Index.in_memory(make_schema())
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
    ix = Index.create(tmp_path / "ix", make_schema())
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


# -- bad input -----------------------------------------------------------------------------

FUZZ_SCHEMA = Schema(
    id=ID(stored=True, unique=True),
    title=TEXT(stored=True, boost=2.0),
    body=TEXT(stored=True),
    topic=KEYWORD(stored=True),
    n=NUMERIC(stored=True),
)
FUZZ_DOCS = [
    {
        "id": "1",
        "title": "Thủy điện Hòa Bình",
        "body": "Nhà máy thủy điện lớn",
        "topic": "kt",
        "n": 1,
    },
    {"id": "2", "title": "Hà Nội mùa thu", "body": "Phố cổ Hà Nội, hồ Gươm", "topic": "dl", "n": 2},
    {"id": "3", "title": "OR AND NOT", "body": '+-"((OR" title: body: ""', "topic": "x", "n": 3},
]
_fuzz_index: list[Index] = []


def fuzz_index() -> Index:
    if not _fuzz_index:
        ix = Index.in_memory(FUZZ_SCHEMA)
        with ix.writer(jobs=1) as w:
            for doc in FUZZ_DOCS:
                w.add(doc)
        _fuzz_index.append(ix)
    return _fuzz_index[0]


OPERATORS = ['"', "“", "”", "+", "-", "(", ")", "OR", " OR ", "AND", "NOT", ":", "title:",
             "body:", "nope:", "topic:", " ", "\t", "\x00", "\u200b", "\u0301", "hà", "nội",
             "thuy", "điện", "🙂", "\ud800", "\uffff", "\\"]  # fmt: skip
queries = st.one_of(
    st.text(),  # any code point, controls and surrogates included
    st.lists(st.sampled_from(OPERATORS), max_size=80).map("".join),
    st.tuples(st.sampled_from(OPERATORS + ["a", "ư", "x" * 7]), st.integers(1, 3000)).map(
        lambda t: t[0] * t[1]
    ),  # huge tokens and deep nesting: '((((...', '""""...'
    st.integers(1, 400).map(lambda n: '+-"((OR' * n),
)
search_options = st.fixed_dictionaries(
    {},
    optional={
        "fields": st.lists(st.sampled_from(["title", "body"]), min_size=1, unique=True),
        "filter": st.sampled_from([{"topic": "kt"}, {"topic": ["dl", "x"]}]),
        "sort": st.sampled_from(["n", "-n"]),
        "limit": st.integers(0, 20),
    },
)
_slowest: list[float] = [0.0]


@settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(queries, search_options)
@pytest.mark.filterwarnings("ignore:Surrogate character")  # unidecode, on lone surrogates
def test_any_query_searches_without_error(query: str, options: dict) -> None:
    """Random Unicode, operator soup and huge tokens, with random options: a search never
    raises, returns a consistent page, and finishes within a generous bound (a guard
    against pathological blowups, not a speed test)."""
    ix = fuzz_index()
    # this thread's CPU time: a loaded machine (other processes, other threads of the
    # test run) must not fail the bound, a blowup in the search must
    start = time.thread_time()
    results = ix.search(query, **options)
    hits = list(results)
    explained = ix.explain(query, "1") if hits else None
    elapsed = time.thread_time() - start
    _slowest[0] = max(_slowest[0], elapsed)
    assert elapsed < 2.0, f"{elapsed:.2f} s for {query[:80]!r}"
    limit = options.get("limit", 10)
    assert len(hits) == min(limit, results.total) <= len(FUZZ_DOCS)
    assert {h.id for h in hits} <= {"1", "2", "3"}
    assert all(h.score >= 0 for h in hits)
    assert explained is None or explained.score >= 0


def test_fuzzed_searches_slowest_query_reported():
    """Prints the slowest query time of the fuzz test above (run in the same session)."""
    print(f"slowest fuzzed search: {_slowest[0] * 1000:.1f} ms")


@pytest.mark.parametrize(
    "bad, error",
    [
        ({"fields": ["nope"]}, ValueError),
        ({"filter": {"nope": "x"}}, ValueError),
        ({"filter": {"body": "x"}}, ValueError),
        ({"sort": "title"}, ValueError),
        ({"sort": 5}, TypeError),
    ],
)
def test_bad_search_options_raise_documented_errors(bad, error):
    with pytest.raises(error):
        fuzz_index().search("hà nội", **bad)
    with pytest.raises(TypeError):
        fuzz_index().search(b"ha noi")  # type: ignore[arg-type]


def test_a_text_over_the_writers_limit_is_refused_by_name_and_size():
    ix = Index.in_memory(make_schema())
    big = "Hà Nội mùa thu chung " * 60_000  # 1.4 MB of UTF-8
    with ix.writer(jobs=1, max_text_mb=1) as w:
        with pytest.raises(ValueError, match=r"field 'body'.*1\.\d MB.*limit of 1 MB"):
            w.add({"id": "big", "body": big})
        w.add({"id": "small", "body": big[:100_000]})  # the writer goes on
    assert all_ids(ix) == {"small"}
    # the default limit (10 MB) refuses 50 MB at once, without analyzing (or copying) it
    huge = "a " * 25_000_000
    with ix.writer(jobs=1) as w:
        start = time.thread_time()
        with pytest.raises(ValueError, match=r"'body'.*50\.0 MB.*limit of 10 MB"):
            w.add({"id": "huge", "body": huge})
        assert time.thread_time() - start < 1.0  # refused, not analyzed
    with ix.writer(jobs=2, max_text_mb=None) as w:  # no limit; worker processes too
        w.add({"id": "big", "body": big})
    assert all_ids(ix) == {"small", "big"}


MEMORY = """
import resource, sys
from vnsearch import ID, TEXT, Index, Schema
mb = float(sys.argv[1])
text = "Thủy điện Hòa Bình là nhà máy lớn ở Việt Nam, chung. " * int(mb * 1e6 / 62)
ix = Index.in_memory(Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True)))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with ix.writer(jobs=1, max_text_mb=None) as w:
    w.add({"id": "big", "body": text})
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert ix.search("hoa binh").total == 1
print(len(text.encode()) / 1e6, (after - before) / 1024)
"""


@pytest.mark.slow
def test_memory_of_indexing_one_big_text():
    """Peak memory grows with a text's size (~140 bytes per byte): why the limit exists."""
    for mb in (1, 4):
        out = subprocess.run(
            [sys.executable, "-c", MEMORY, str(mb)], capture_output=True, text=True, check=True
        ).stdout.split()
        size, growth = float(out[0]), float(out[1])
        print(f"{size:.1f} MB text: peak RSS +{growth:.0f} MB ({growth / size:.0f}x)")
        assert growth < 300 * size


# -- damaged and foreign indexes -----------------------------------------------------------


def _built(tmp_path: Path) -> Path:
    """An index of two segments (two commits) of 20 documents each."""
    path = tmp_path / "ix"
    with Index.create(path, make_schema()) as ix:
        for b in range(2):
            with ix.writer(jobs=1) as w:
                for j in range(20):
                    w.add({"id": f"{b}-{j}", "body": f"Tin chung đợt {b} số {j} về Hà Nội"})
    return path


def _open_and_search(path: Path) -> None:
    with Index.open(path) as ix:
        ix.search("ha noi", limit=100)
        ix.search(WORD, limit=100)


def test_a_truncated_segment_names_the_segment(tmp_path):
    path = _built(tmp_path)
    segments = sorted(path.glob("*.seg"))
    assert len(segments) == 2
    rng = random.Random(3)
    for cut in [0, 1, 100, *(rng.randrange(segments[0].stat().st_size) for _ in range(20))]:
        data = segments[0].read_bytes()
        segments[0].write_bytes(data[:cut])
        with pytest.raises(IndexError_, match="damaged or truncated") as info:
            _open_and_search(path)
        assert segments[0].stem in str(info.value), str(info.value)
        segments[0].write_bytes(data)
    _open_and_search(path)


def test_flipped_bytes_in_a_segment_are_found_on_open_and_by_verify(tmp_path):
    """Every flip of 1-4 bits anywhere in a small segment is an IndexError_ naming the
    segment file when the index is opened and searched (its parts are small enough to be
    checked whole on open), and from verify(): never other results, never a raw error."""
    path = _built(tmp_path)
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
            with pytest.raises(IndexError_, match=segment.name) as info, Index.open(path) as ix:
                check(ix)
            assert "checksum mismatch" in str(info.value)
    segment.write_bytes(data)
    with Index.open(path) as ix:
        assert [(h.id, h.score) for h in ix.search("ha noi", limit=100)] == good


def _component_range(segment: Path, suffix: str) -> tuple[int, int]:
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.structfile import StructFile

    with open(segment, "rb") as f:
        storage = CompoundStorage(StructFile(f), use_mmap=False)
        (name,) = [n for n in storage._dir if n.endswith(suffix)]
        offset, length = storage.range(name)
    return offset, length


def test_damaged_postings_are_found_when_read_by_verify_and_by_merges(tmp_path, monkeypatch):
    """Postings and term dictionaries of a large segment are not summed on open (here:
    nothing is, as if every part were large). A flipped byte in a term's postings is
    found by the first search that reads them (their pages are checked on first read),
    by ``verify()``, and by a merge, which refuses the segment: the index keeps its last
    commit and the lock is given back."""
    from vnsearch.index import checksums

    monkeypatch.setattr(checksums, "OPEN_CHECK_BYTES", 0)
    monkeypatch.setattr(checksums, "PAGE", 256)  # pages of the postings' own
    path = _built(tmp_path)
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
        with pytest.raises(IndexError_, match=damaged):
            ix.search(WORD)
        with pytest.raises(IndexError_, match=damaged):
            ix.verify()
        with pytest.raises(IndexError_, match=damaged):
            ix.optimize(timeout=1.0)
        w = ix.writer(jobs=1, timeout=1.0)
        w.add({"id": "new", "body": "Tin chung"})
        with pytest.raises(IndexError_, match=damaged):
            w.commit(optimize=True)  # a commit that merges
        with ix.writer(jobs=1, timeout=0.0) as w:  # the lock was given back
            w.add({"id": "new", "body": "Tin chung"})
    after = sorted(p.name for p in path.iterdir())
    assert set(before) - {"_MAIN_2.toc"} <= set(after)  # nothing of the last commit lost
    assert segment.read_bytes() == bytes(data)


def test_damaged_positions_are_found_by_the_first_search_that_reads_them(tmp_path, monkeypatch):
    """A term's documents and frequencies are checked when its postings are first read,
    its positions (most of a frequent term's bytes; only phrases read them) when they
    are: a flipped position is not read by a plain search, and is an error for the first
    phrase that reads it, and for ``verify()``."""
    from vnsearch.index import checksums
    from vnsearch.index.postings import BLOCK_HEAD

    monkeypatch.setattr(checksums, "OPEN_CHECK_BYTES", 0)
    monkeypatch.setattr(checksums, "PAGE", 64)
    path = _built(tmp_path)
    with Index.open(path) as ix:
        reader = ix.snapshot().segments[0][0]
        segment_name = f"{reader.segment().segment_id()}.seg"
        # an unaccented phrase is matched in the folded view
        at, length = reader._terms.extent("body.folded", WORD.encode())
        flip = at + length - 2  # the last position of WORD's last posting
        assert flip >= at + BLOCK_HEAD.size + 8 * 20 + 64  # past the page of the frequencies
    segment = path / segment_name
    offset, _ = _component_range(segment, ".vnp")
    data = bytearray(segment.read_bytes())
    data[offset + flip] ^= 0x01
    segment.write_bytes(bytes(data))
    damaged = rf"{segment_name}: checksum mismatch in bytes \d+-\d+ \(vnp\)"
    with Index.open(path) as ix:
        assert len(ix.search(WORD, limit=100)) == 40  # documents and frequencies are right
        with pytest.raises(IndexError_, match=damaged):
            ix.search(f'"tin {WORD}"')
        with pytest.raises(IndexError_, match=damaged):
            ix.verify()


def test_a_damaged_term_dictionary_is_found_when_read(tmp_path, monkeypatch):
    """A flipped byte in a term's key in the dictionary of a large segment (not summed on
    open; here nothing is) would make the term vanish: the lookup checks the pages it
    reads, and the search is an IndexError_ naming the dictionary (vnt)."""
    from vnsearch.index import checksums

    monkeypatch.setattr(checksums, "OPEN_CHECK_BYTES", 0)
    monkeypatch.setattr(checksums, "PAGE", 256)
    path = _built(tmp_path)
    with Index.open(path) as ix:
        reader = ix.snapshot().segments[0][0]
        segment = path / f"{reader.segment().segment_id()}.seg"
        terms = reader._terms._fields["body.syllables"]
        at = terms._at[3] + terms._koff[terms.find(WORD.encode())]  # the key's first byte
    data = bytearray(segment.read_bytes())
    data[at] ^= 0x01
    segment.write_bytes(bytes(data))
    with Index.open(path) as ix, pytest.raises(IndexError_, match=r"checksum mismatch .*vnt"):
        ix.search(WORD)


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
    path = _built(tmp_path)
    with Index.open(path) as ix:
        reader = ix.snapshot().segments[0][0]
        assert ix._wait_checked_ahead(timeout=10)
        terms = reader._terms
        pages = terms._pages
        spans = terms.frequent_postings(int(reader.doc_count_all() * checksums.AHEAD_SHARE))
        # the first segment's frequent terms, dictionary and spellings; the second's; then
        # the rest of each one's postings
        assert len(asked) == 8
        assert asked[:3] == [spans, [terms._terms_span], [terms.spellings.span]]
        assert asked[6] == [terms._posts_span]
        start, _length = terms.extent("body.syllables", WORD.encode())
        assert len(spans) > 5
        docs_end = start + terms._posts_at + BLOCK_HEAD.size + 8 * 20  # WORD: in all 20 docs
        assert (start + terms._posts_at, docs_end) in spans
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
        assert ix._ahead
    assert not ix._ahead  # close() stopped and joined the thread
    with Index.open(path, check_reads=False) as ix:
        ix.snapshot()
        assert not ix._ahead


def test_segments_without_checksums_open_and_are_reported_unchecked(tmp_path):
    """An index written before checksums existed (no .sum files) still opens and
    searches; verify() says what it could not check."""
    path = _built(tmp_path)
    for sums in path.glob("*.sum"):
        sums.unlink()
    with Index.open(path) as ix:
        assert len(all_ids(ix)) == 40
        assert ix.verify() == {"segments": 2, "bytes": 0, "unchecked_segments": 2}


def test_a_damaged_or_truncated_checksums_file_is_named(tmp_path):
    path = _built(tmp_path)
    sums = sorted(path.glob("*.sum"))[0]
    data = sums.read_bytes()
    for bad in (data[:5], b"XXXX" + data[4:], data[:-4]):
        sums.write_bytes(bad)
        with pytest.raises(IndexError_, match=sums.name):
            _open_and_search(path)
    sums.write_bytes(data)
    _open_and_search(path)


def test_a_damaged_table_of_contents(tmp_path):
    path = _built(tmp_path)
    (toc,) = path.glob("_MAIN_*.toc")
    data = toc.read_bytes()
    for bad in (data[: len(data) // 2], b"", b"\x80\x04junk" * 20):
        toc.write_bytes(bad)
        with pytest.raises(IndexError_):
            _open_and_search(path)
    toc.write_bytes(data)
    _open_and_search(path)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: d["vnsearch.json"].write_text("{not json"), "not a vnsearch schema"),
        (lambda d: d["vnsearch.json"].write_text("[1, 2]"), "not a vnsearch schema"),
        (lambda d: d["vnsearch.json"].write_text(json.dumps({"format": 99})), "not a vnsearch"),
        (
            lambda d: d["vnsearch.json"].write_text(
                d["vnsearch.json"].read_text().replace('"format": 2', '"format": 3')
            ),
            "format version 3",
        ),
        (
            lambda d: d["vnsearch.json"].write_text(
                d["vnsearch.json"].read_text().replace('"TEXT"', '"VECTOR"')
            ),
            "unknown type",
        ),
        (lambda d: d["vnsearch.json"].unlink(), "not a vnsearch index"),
        (lambda d: [p.unlink() for p in d["dir"].glob("_MAIN_*.toc")], "missing"),
    ],
    ids=["not-json", "json-list", "no-fields", "version", "field-type", "no-schema", "no-toc"],
)
def test_foreign_or_other_version_folders_are_named(tmp_path, damage, message):
    path = _built(tmp_path)
    damage({"vnsearch.json": path / "vnsearch.json", "dir": path})
    with pytest.raises(IndexError_, match=message):
        _open_and_search(path)


def test_a_folder_of_other_files_and_an_empty_folder(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("không phải chỉ mục")
    (tmp_path / "empty").mkdir()
    for folder in ("other", "empty"):
        with pytest.raises(IndexError_, match="not a vnsearch index"):
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
    path = _built(tmp_path)
    with Index.open(path) as ix:
        assert ix.doc_count == 40
        assert ix._snapshot is not None
    assert ix._snapshot is None  # closed: the snapshot's files are released
    assert ix.doc_count == 40  # and a closed index opens a new snapshot if used again
    ix.close()


def test_reads_unchecked_on_request(tmp_path, monkeypatch):
    """``check_reads=False``: searches read pages without summing them (for storage that
    checks itself); opening, merges and ``verify`` still check."""
    from vnsearch.index import checksums

    monkeypatch.setattr(checksums, "OPEN_CHECK_BYTES", 0)
    monkeypatch.setattr(checksums, "PAGE", 256)
    path = _built(tmp_path)
    with Index.open(path, check_reads=False) as ix:
        assert len(all_ids(ix)) == 40
        reader = ix.snapshot().segments[0][0]
        assert reader._terms._pages is None
        assert ix.verify()["unchecked_segments"] == 0
    with Index.open(path) as ix:
        assert len(all_ids(ix)) == 40
        pages = ix.snapshot().segments[0][0]._terms._pages
        assert pages is not None and 0 < sum(pages.done) < len(pages.done)
