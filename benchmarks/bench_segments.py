"""Indexes of several segments, as commits leave them: what they cost to build and merge.

Makes, under ``--out``, the VNTC indexes that ``bench_regimes.py --index`` times (every
one of the same ``--docs`` documents, with ``bench_query.py``'s schema), each step in a
fresh process (its peak RSS its own):

* ``commits``: the documents in commits of ``--commit`` documents (4 of 21,033 for all of
  VNTC): seconds and peak RSS after each commit;
* ``optimized``: a copy of ``commits`` with its segments merged into one
  (``Index.optimize``): seconds and peak RSS;
* ``added``: a copy of ``--base`` (an index of the documents in one segment, say the one
  ``bench_query.py`` built) with 1,000 more added and 20 updated, as a live index has;
* ``small``: a copy of ``--base`` with 10 commits of 50 more documents each;
* ``thousands``: a copy of ``--base`` with 10 commits of 1,000 more documents each
  (seconds after each commit: the merges the policy makes show).

Documents added to a copy take new ids (``<id>#<n>``): the same texts, more documents.
vnsearch's merge policy (``vnsearch.index.merges``) merges the segments of a level
(below 1,000 documents, 1,000-4,999, ...) once a commit would leave five there: ``small``
and ``thousands`` end with 3 segments (Whoosh's ``MERGE_SMALL`` kept all 11).

    python benchmarks/bench_segments.py --base benchmarks/.cache/vnsearch-84132-<hash> \\
        --out /tmp/segments
    python benchmarks/bench_regimes.py --engines vnsearch --index /tmp/segments/added
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's vnsearch, installed or not
sys.path.insert(0, str(HERE))

from _common import DEFAULT_CORPUS, corpus_missing, machine  # noqa: E402
from bench_query import VnsearchEngine, load_docs  # noqa: E402

import vnsearch  # noqa: E402

STEPS = ("commits", "optimized", "added", "small", "thousands")
# steps of 10 commits on a copy of ``--base``: documents a commit
SERIES = {"small": 50, "thousands": 1000}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _segments(path: Path) -> list[int]:
    with vnsearch.Index.open(path) as ix:
        return [r.doc_count_all() for r, _base in ix.snapshot().segments]


def _add(ix: vnsearch.Index, docs: list, suffix: str, jobs: int) -> None:
    with ix.writer(jobs=jobs) as w:
        for d in docs:
            w.add({"id": d.id + suffix, "title": d.title, "body": d.body})


def _child(step: str, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    path = out / step
    start = time.perf_counter()
    got: dict[str, Any] = {"step": step}
    if step == "optimized":
        shutil.copytree(out / "commits", path)
        start = time.perf_counter()
        with vnsearch.Index.open(path) as ix:
            ix.optimize()
    else:
        docs = load_docs(args.corpus, args.docs)
        if step == "commits":
            start = time.perf_counter()
            with vnsearch.Index.create(path, VnsearchEngine.schema()) as ix:
                got["commits"] = []
                for at in range(0, len(docs), args.commit):
                    _add(ix, docs[at : at + args.commit], "", args.jobs)
                    got["commits"].append([time.perf_counter() - start, _peak_mb()])
        else:
            shutil.copytree(args.base, path)
            start = time.perf_counter()
            with vnsearch.Index.open(path) as ix:
                if step == "added":
                    _add(ix, docs[-1000:], "#added", args.jobs)
                    with ix.writer(jobs=1) as w:
                        for d in docs[:20]:
                            w.update({"id": d.id, "title": d.title, "body": d.body})
                else:
                    size, got["commits"] = SERIES[step], []
                    for n in range(10):
                        _add(ix, docs[size * n : size * (n + 1)], f"#{n}", 1)
                        got["commits"].append([time.perf_counter() - start, _peak_mb()])
    got["seconds"] = time.perf_counter() - start
    got["peak_rss_mb"] = _peak_mb()
    got["segments"] = _segments(path)
    got["bytes"] = sum(f.stat().st_size for f in path.iterdir())
    return got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a folder for the indexes")
    parser.add_argument("--base", type=Path, help="an index of the documents in one segment")
    parser.add_argument("--docs", type=int, default=84132)
    parser.add_argument("--commit", type=int, default=21033, help="documents a commit")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.out, args)))
        return 0
    if not args.corpus.exists():
        print(corpus_missing(args.corpus), file=sys.stderr)
        return 2
    steps = [s for s in args.steps.split(",") if s]
    if unknown := set(steps) - set(STEPS):
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    if {"added", *SERIES} & set(steps) and args.base is None:
        parser.error("the added, small and thousands steps need --base")
    if "optimized" in steps and "commits" not in steps and not (args.out / "commits").exists():
        parser.error("the optimized step needs the commits step's index")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine {machine()}")
    for step in steps:
        shutil.rmtree(args.out / step, ignore_errors=True)
        cmd = [sys.executable, __file__, "--child", step, "--out", str(args.out)]
        cmd += ["--docs", str(args.docs), "--commit", str(args.commit)]
        cmd += ["--jobs", str(args.jobs), "--corpus", str(args.corpus)]
        cmd += ["--base", str(args.base)] if args.base else []
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        got = json.loads(done.stdout.strip().splitlines()[-1])
        line = (
            f"{step}: {got['seconds']:.1f} s, peak RSS {got['peak_rss_mb']:,.0f} MB, "
            f"{got['bytes']:,} bytes, segments {got['segments']}"
        )
        print(line, flush=True)
        for i, (seconds, peak) in enumerate(got.get("commits", []), 1):
            print(f"  commit {i}: at {seconds:.1f} s, peak RSS {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
