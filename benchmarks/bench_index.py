"""Indexing speed and memory: vnsearch against stock Whoosh on VNTC news articles.

Issue 6's measure: all 84,132 VNTC documents (250 MB of text) indexed, committed and
searchable in at most 6 minutes wall time on a 2-core machine, with a peak memory of at
most 4 GB; and adding 1,000 documents to the full index takes seconds, not a rebuild.

Each engine builds its index of the first ``--docs`` documents (title = first line of the
article, body = the rest, as in ``bench_query.py``) in its own subprocess, so that the peak
memory reported is that engine's own. The child loads the documents first (not timed; the
resident memory after loading is reported too), then the clock runs from the first
document added until the commit is done and the index, opened afresh, has answered two
queries drawn from document titles with at least one hit each ("searchable").

* ``vnsearch``: the schema of ``bench_query.py``'s engine (``id`` ID stored unique,
  ``title`` TEXT stored boost 2, ``body`` TEXT not stored), ``Index.writer(jobs=--jobs)``:
  texts are analyzed in ``--jobs`` worker processes (default one per core);
* ``whoosh``: stock Whoosh 2.7.4 as ``bench_query.py`` builds it (``id`` ID stored unique,
  ``title`` TEXT stored, ``body`` TEXT, StandardAnalyzer), ``index.writer()`` with its
  defaults: one process, ``limitmb=128``.

Peak memory is ``getrusage(RUSAGE_SELF).ru_maxrss`` of the child, and for vnsearch also
``RUSAGE_CHILDREN`` (the largest of its worker processes). Their sum over-counts: the
workers are forked from the child and share its pages (the loaded documents among them).

Then the incremental step (vnsearch, ``--add`` documents, 0 to skip) runs in a fresh
subprocess: open the built index, add the next ``--add`` documents of the corpus (if the
corpus has no more, the last ones again under new ids ``<id>#2``), commit; it reports the
seconds and the segment count after the commit. ``--rounds R`` repeats that R times, one
commit each, and reports the segment count after each: vnsearch's merge policy
(``vnsearch.index.merges``) merges segments of about the same size once five are there.

Run from the repository root::

    python benchmarks/bench_index.py                         # the whole corpus, both engines
    python benchmarks/bench_index.py --docs 20000 --json
    python benchmarks/bench_index.py --engines vnsearch --jobs 1 --add 0
    python benchmarks/bench_index.py --docs 20000 --engines vnsearch --add 1000 --rounds 25
    python benchmarks/bench_index.py --docs 2000 --keep /tmp/ix   # keep the indexes

Indexes are built in a temporary folder, removed at the end unless ``--keep DIR``. The
load average of the machine (``os.getloadavg``) is recorded at the start and the end of
each build: the figures mean little on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # benchmark this checkout, whether installed or not
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _common import DEFAULT_CORPUS, corpus_missing, machine  # noqa: E402
from bench_query import (  # noqa: E402
    Doc,
    VnsearchEngine,
    WhooshEngine,
    dir_megabytes,
    load_docs,
    text_megabytes,
    versions,
)

ENGINES = ("vnsearch", "whoosh")
FULL_CORPUS = 84_132  # documents in VNTC 10 topics: what the estimate scales to
FULL_CORPUS_MB = 249.5  # their title + body text, UTF-8
TARGET_SECONDS = 360.0  # issue 6
TARGET_RSS_MB = 4096.0
CHECK_QUERIES = 2
ALL = 10**9  # --docs default: every document of the corpus


# --- in the child process -------------------------------------------------------------


def rss_now_mb() -> float:
    """This process's resident memory now (Linux; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest (waited-for) child, in MB."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / scale, children / scale


def cpu_seconds() -> tuple[float, float]:
    """User + system CPU seconds of this process and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def check_queries(docs: list[Doc]) -> list[str]:
    """Two queries that must match: the first three alphabetic words of two titles."""
    picks = [docs[0], docs[len(docs) // 2]]
    queries = []
    for doc in picks:
        words = [w for w in (doc.title or doc.body).split() if w.isalpha()][:3]
        queries.append(" ".join(words) or doc.body.split()[0])
    return queries[:CHECK_QUERIES]


def build_vnsearch(path: Path, docs: list[Doc], jobs: int) -> dict[str, float]:
    import vnsearch

    index = vnsearch.Index.create(path, VnsearchEngine.schema())
    start = time.perf_counter()
    writer = index.writer(jobs=jobs)
    for d in docs:
        writer.add({"id": d.id, "title": d.title, "body": d.body})
    added = time.perf_counter()
    rss_added = peak_rss_mb()[0]
    writer.commit()
    committed = time.perf_counter()
    index.close()
    return {"add_s": added - start, "commit_s": committed - added, "peak_rss_add_mb": rss_added}


def build_whoosh(path: Path, docs: list[Doc]) -> dict[str, float]:
    from whoosh import fields, index

    schema = fields.Schema(  # bench_query.py's WhooshEngine schema
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(stored=True),
        body=fields.TEXT,
    )
    ix = index.create_in(str(path), schema)
    start = time.perf_counter()
    writer = ix.writer()  # stock defaults: procs=1, limitmb=128
    for d in docs:
        writer.add_document(id=d.id, title=d.title, body=d.body)
    added = time.perf_counter()
    rss_added = peak_rss_mb()[0]
    writer.commit()
    committed = time.perf_counter()
    ix.close()
    return {"add_s": added - start, "commit_s": committed - added, "peak_rss_add_mb": rss_added}


def segment_count(engine: str, path: Path) -> int:
    if engine == "vnsearch":
        import vnsearch

        ix = vnsearch.Index.open(path)
        try:
            return len(ix.snapshot().segments)
        finally:
            ix.close()
    from whoosh import index

    ix = index.open_dir(str(path))
    try:
        return len(ix._segments())
    finally:
        ix.close()


def child_build(args: argparse.Namespace) -> dict[str, Any]:
    """Build one engine's index, open it, run the check queries; the figures."""
    docs = load_docs(args.corpus, args.docs)
    rss_loaded = rss_now_mb()
    queries = check_queries(docs)
    load_before = os.getloadavg()
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    if args.child == "vnsearch":
        phases = build_vnsearch(args.path, docs, args.jobs)
        engine: Any = VnsearchEngine(args.path)
    else:
        phases = build_whoosh(args.path, docs)
        engine = WhooshEngine(args.path)
    opened = time.perf_counter()
    engine.open()
    hits = [engine.search(q, total=True)[1] for q in queries]
    done = time.perf_counter()
    own, children = peak_rss_mb()
    cpu_own, cpu_children = (b - a for a, b in zip(cpu_before, cpu_seconds()))
    if args.child == "whoosh":
        engine.searcher.close()
        engine.index.close()
    else:
        engine.index.close()
    return {
        "engine": args.child,
        "docs": len(docs),
        "text_mb": text_megabytes(docs),
        "jobs": args.jobs if args.child == "vnsearch" else 1,
        "seconds": done - start,
        **phases,
        "search_s": done - opened,
        "queries": dict(zip(queries, hits)),
        "index_mb": dir_megabytes(args.path),
        "segments": segment_count(args.child, args.path),
        "rss_loaded_mb": rss_loaded,
        "peak_rss_mb": own,
        "peak_rss_children_mb": children if args.child == "vnsearch" else None,
        "cpu_s": cpu_own,
        "cpu_workers_s": cpu_children,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
    }


def extra_docs(args: argparse.Namespace) -> tuple[list[Doc], int]:
    """The ``--add`` x ``--rounds`` documents after the first ``--docs``; when the corpus
    has no more, its last documents again under new ids (``<id>#2``, ``#3``, ...). Also
    how many were re-added."""
    wanted = args.add * args.rounds
    more = load_docs(args.corpus, args.docs + wanted)
    base, extra = more[: args.docs], more[args.docs :]
    readded = wanted - len(extra)
    copy = 2
    while len(extra) < wanted:
        n = min(wanted - len(extra), len(base))
        extra += [Doc(f"{d.id}#{copy}", d.title, d.body) for d in base[len(base) - n :]]
        copy += 1
    return extra, readded


def child_add(args: argparse.Namespace) -> dict[str, Any]:
    """Add ``--add`` documents to the built vnsearch index and commit, ``--rounds`` times
    (one writer and one commit each); the figures."""
    import vnsearch

    extra, readded = extra_docs(args)
    ix = vnsearch.Index.open(args.path)
    before = ix.doc_count
    segments_before = len(ix.snapshot().segments)
    rounds = []
    for r in range(args.rounds):
        start = time.perf_counter()
        with ix.writer(jobs=args.jobs) as writer:
            for d in extra[r * args.add : (r + 1) * args.add]:
                writer.add({"id": d.id, "title": d.title, "body": d.body})
        seconds = time.perf_counter() - start
        rounds.append({"seconds": seconds, "segments": len(ix.snapshot().segments)})
    after = ix.doc_count
    ix.close()
    own, children = peak_rss_mb()
    return {
        "added": len(extra),
        "readded": readded,
        "rounds": rounds,
        "seconds": rounds[0]["seconds"],
        "docs_before": before,
        "docs_after": after,
        "segments_before": segments_before,
        "segments_after": rounds[-1]["segments"],
        "peak_rss_mb": own,
        "peak_rss_children_mb": children,
        "loadavg_after": os.getloadavg(),
    }


# --- in the parent process ------------------------------------------------------------


def run_child(args: argparse.Namespace, mode: str, engine: str, path: Path) -> dict[str, Any]:
    """Run ``mode`` (build or add) for ``engine`` in a subprocess; its figures."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--corpus", str(args.corpus),
        "--docs", str(args.docs),
        "--jobs", str(args.jobs),
        "--add", str(args.add),
        "--rounds", str(args.rounds),
        "--child", engine,
        "--mode", mode,
        "--path", str(path),
    ]  # fmt: skip
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise SystemExit(f"error: the {engine} {mode} subprocess failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def workdir(keep: Path | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="bench-index-"))
    keep.mkdir(parents=True, exist_ok=True)
    return keep


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = workdir(args.keep)
    builds, incremental = [], None
    try:
        for engine in args.engines:
            path = root / engine
            if path.exists():
                raise SystemExit(f"error: {path} exists; give --keep an empty or new folder")
            path.mkdir()
            print(f"{engine}: building ...", file=sys.stderr, flush=True)
            build = run_child(args, "build", engine, path)
            print(f"{engine}: {build['seconds']:.1f} s", file=sys.stderr, flush=True)
            builds.append(build)
            if engine == "vnsearch" and args.add:
                print(f"vnsearch: adding {args.add} documents ...", file=sys.stderr, flush=True)
                incremental = run_child(args, "add", engine, path)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return {
        "machine": machine(),
        "versions": versions(),
        "corpus": str(args.corpus),
        "docs_asked": None if args.docs == ALL else args.docs,
        "jobs": args.jobs,
        "builds": builds,
        "incremental": incremental,
        "ratios": ratios(builds),
        "kept": str(root) if args.keep else None,
    }


def ratios(builds: list[dict[str, Any]]) -> dict[str, float]:
    by = {b["engine"]: b for b in builds}
    if not {"vnsearch", "whoosh"} <= set(by):
        return {}
    v, w = by["vnsearch"], by["whoosh"]
    return {  # vnsearch's figure over Whoosh's
        "seconds": v["seconds"] / w["seconds"],
        "cpu_s": (v["cpu_s"] + v["cpu_workers_s"]) / (w["cpu_s"] + w["cpu_workers_s"]),
        "index_mb": v["index_mb"] / w["index_mb"],
        "peak_rss_mb": v["peak_rss_mb"] / w["peak_rss_mb"],
    }


def report(s: dict[str, Any]) -> list[str]:
    m, v = s["machine"], s["versions"]
    builds = s["builds"]
    lines = [
        f"machine   {m['cpus']} CPUs, {m['cpu_model']} ({m['machine']}), Python {m['python']}",
        f"versions  whoosh {v['whoosh']}, vnsearch {v['vnsearch']}",
    ]
    if builds:
        b = builds[0]
        lines.append(
            f"corpus    {b['docs']:,} documents (first in file order), {b['text_mb']:.1f} MB "
            "of title+body text (UTF-8)"
        )
    lines += [
        "",
        "seconds: first document added -> committed -> opened and 2 queries answered",
        f"{'engine':<9} {'jobs':>4} {'docs':>7} {'MB':>6} {'seconds':>8} {'docs/s':>7} "
        f"{'MB/s':>5} {'index MB':>9} {'size/text':>9} {'peak RSS MB':>11} "
        f"{'+workers MB':>11}",
    ]
    for b in builds:
        workers = b["peak_rss_children_mb"]
        lines.append(
            f"{b['engine']:<9} {b['jobs']:>4} {b['docs']:>7,} {b['text_mb']:>6.1f} "
            f"{b['seconds']:>8.1f} {b['docs'] / b['seconds']:>7.0f} "
            f"{b['text_mb'] / b['seconds']:>5.2f} {b['index_mb']:>9.1f} "
            f"{b['index_mb'] / b['text_mb']:>8.2f}x {b['peak_rss_mb']:>11.0f} "
            f"{'-' if workers is None else f'{workers:.0f}':>11}"
        )
    lines.append("")
    for b in builds:
        hits = ", ".join(f"{q!r} {n:,}" for q, n in b["queries"].items())
        searchable = "searchable" if all(n > 0 for n in b["queries"].values()) else "NO HITS"
        lines.append(
            f"{b['engine']}: add {b['add_s']:.1f} s, commit {b['commit_s']:.1f} s, open + "
            f"queries {b['search_s']:.2f} s; {b['segments']} segment(s); {searchable} "
            f"(hits: {hits})"
        )
        lines.append(
            f"  CPU {b['cpu_s']:.1f} s + workers {b['cpu_workers_s']:.1f} s; RSS "
            f"{b['rss_loaded_mb']:.0f} MB with the documents loaded, peak "
            f"{b['peak_rss_add_mb']:.0f} MB until the commit, {b['peak_rss_mb']:.0f} MB "
            f"with it; load average {_load(b['loadavg_before'])} -> "
            f"{_load(b['loadavg_after'])}"
        )
    if any(b["peak_rss_children_mb"] for b in builds):
        lines.append(
            "  (+workers: the largest worker process's peak; workers are forked and share "
            "pages with their parent, so adding the two over-counts)"
        )
    r = s["ratios"]
    if r:
        lines.append(
            f"ratio vnsearch/whoosh: wall time {r['seconds']:.2f}x, CPU seconds (with "
            f"workers) {r['cpu_s']:.2f}x, index size {r['index_mb']:.2f}x, peak RSS (without "
            f"workers) {r['peak_rss_mb']:.2f}x"
        )
    for b in builds:
        if b["engine"] == "vnsearch":
            lines += list(verdict(b))
    inc = s["incremental"]
    if inc:
        again = f" ({inc['readded']:,} of them re-added under new ids)" if inc["readded"] else ""
        rounds = inc["rounds"]
        per = inc["added"] // len(rounds)
        lines.append(
            f"vnsearch incremental: {per:,} documents added to {inc['docs_before']:,} and "
            f"committed in {rounds[0]['seconds']:.1f} s (segments {inc['segments_before']} -> "
            f"{rounds[0]['segments']}); peak RSS {inc['peak_rss_mb']:.0f} MB + workers "
            f"{inc['peak_rss_children_mb']:.0f} MB{again}"
        )
        if len(rounds) > 1:
            seconds = [r["seconds"] for r in rounds]
            lines.append(
                f"  {len(rounds)} rounds of {per:,} documents, one commit each: "
                f"{min(seconds):.1f}-{max(seconds):.1f} s a commit (total "
                f"{sum(seconds):.1f} s), {inc['docs_after']:,} documents; segments after each: "
                + " ".join(str(r["segments"]) for r in rounds)
            )
    if s["kept"]:
        lines.append(f"indexes kept in {s['kept']}")
    return lines


def verdict(b: dict[str, Any]) -> list[str]:
    """Issue 6's targets, met or not (estimated by scaling the rate when not the full run)."""
    rss = b["peak_rss_mb"] + (b["peak_rss_children_mb"] or 0)
    if b["docs"] >= FULL_CORPUS:
        ok = b["seconds"] <= TARGET_SECONDS and rss <= TARGET_RSS_MB
        return [
            f"issue 6 target (<= {TARGET_SECONDS:.0f} s, <= {TARGET_RSS_MB / 1024:.0f} GB): "
            f"{'met' if ok else 'NOT met'} ({b['seconds']:.0f} s, {rss:.0f} MB incl. workers)"
        ]
    scale = FULL_CORPUS_MB / b["text_mb"]
    cpu = b["cpu_s"] + b["cpu_workers_s"]
    cores = min(b["jobs"] + 1, os.cpu_count() or 1)
    return [
        f"scaled by text size to the full {FULL_CORPUS:,} documents ({FULL_CORPUS_MB} MB; "
        f"linear, the commit's sorts grow a little faster): about {b['seconds'] * scale:.0f} s "
        f"at this run's pace, and {cpu * scale:.0f} CPU seconds in all, so at least "
        f"{cpu * scale / cores:.0f} s on {cores} idle cores (target {TARGET_SECONDS:.0f} s)"
    ]


def _load(avg: list[float]) -> str:
    return "/".join(f"{x:.2f}" for x in avg)


# --- main -----------------------------------------------------------------------------


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="VNTC .jsonl.gz")
    parser.add_argument(
        "--docs", type=_positive, default=ALL, help="first N documents (default: all)"
    )
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated subset of " + ",".join(ENGINES),
    )
    parser.add_argument(
        "--jobs",
        type=_positive,
        default=os.cpu_count() or 1,
        help="vnsearch's analysis processes (default: one per core)",
    )
    parser.add_argument(
        "--add",
        type=_count,
        default=1000,
        help="documents added to the built vnsearch index afterwards (default 1000; 0 skips)",
    )
    parser.add_argument(
        "--rounds",
        type=_positive,
        default=1,
        help="how many times to add --add documents, one commit each (default 1)",
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build in DIR and keep it")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("build", "add"), help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.engines = args.engines.split(",")
    unknown = set(args.engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.corpus.is_file():
        print(corpus_missing(args.corpus), file=sys.stderr)
        return 2
    if args.child:
        figures = child_build(args) if args.mode == "build" else child_add(args)
        print(json.dumps(figures, ensure_ascii=False))
        return 0
    summary = run(args)
    print("\n".join(report(summary)))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
