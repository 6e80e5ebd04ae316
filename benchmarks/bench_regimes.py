"""Query latency in two regimes: the first queries after opening an index, and steady state.

A short-lived process (the CLI, a serverless function) pays for the first queries after
``open``: pages of the index mapped in, checksums summed, caches empty. A server pays the
steady state. Each engine runs alone, in a fresh process per run: it opens its index and
times its own queries back to back, in order: the first ``--first`` (600) are the
"after open" regime, the rest (queries it has not seen, after those 600 as warm-up) the
"steady" regime. When ``--first`` is half the queries, every other run takes the second
half first: over an even number of runs each regime times every query equally often, so
their ratio is the cost of opening, not of one half's queries being harder. Engines never
interleave here (``bench_query.py`` is the interleaved harness); their processes take
turns (run 1 of each engine, then run 2, ...). Each regime's p50 and p95 are the medians
over ``--runs`` fresh processes.

The query set and the indexes are ``bench_query.py``'s (same ``--docs``, ``--queries``,
``--seed``; built into ``benchmarks/.cache`` when missing). ``--vnsearch-from REPO`` adds a
row for another checkout's vnsearch (say, a worktree of the last commit writing another
index format) on its own index (``--vnsearch-index DIR``, built by that checkout).
``--index DIR`` times this checkout on another index of the same documents instead (one
of several segments, or updated since it was built).

``--decoded`` adds a row for this checkout with every postings list a query reads already
decoded: the child runs all its queries once untimed (their postings stay in the index's
cache of recent terms: 16,384 terms, 512 MB, which 1,200 VNTC queries stay under),
empties every other cache vnsearch keeps (every ``lru_cache``: analysed query text,
spellings), then runs them all again, timed, in order: the first ones fill those caches
again as in a fresh process, and the steady ones cost what the rest of a query costs
(planning, ranking, stored fields) whatever the index format, a floor no decoder can go
below. Its open and first-query columns are not reported.

Each child imports vnsearch from bytecode compiled before the runs, as an installed copy
does (the reference machine sets ``PYTHONDONTWRITEBYTECODE``: without this, each fresh
process compiled vnsearch's sources: ~150 ms of its "open", ~100 of its first query).

Run from the repository root::

    python benchmarks/bench_regimes.py --docs 84132 --queries 1200
    python benchmarks/bench_regimes.py --docs 84132 --engines vnsearch,tantivy --runs 3 \\
        --vnsearch-from /tmp/format2 --vnsearch-index /tmp/format2-index
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _label(name: str, repo: str, decoded: bool) -> str:
    if decoded:
        return f"{name}, postings decoded"
    return name if repo == str(HERE.parent) else f"{name} ({Path(repo).name})"


def _child(args: argparse.Namespace) -> None:
    """Open one engine's index and time its queries in order; print the nanoseconds."""
    queries = json.loads(Path(args.child_queries).read_text(encoding="utf-8"))
    if args.child == "vnsearch":
        sys.path.insert(0, args.repo)
        import vnsearch

        assert Path(vnsearch.__file__).resolve().is_relative_to(Path(args.repo).resolve())
        start = time.perf_counter_ns()
        cache = {} if args.cache_mb is None else {"cache_mb": args.cache_mb}
        index = vnsearch.Index.open(args.path, **cache)
        opened = time.perf_counter_ns() - start

        def search(q: str) -> None:
            results = index.search(q, limit=10)
            [(hit.id, hit.fields["title"]) for hit in results]

        if args.decoded:
            for q in queries:
                search(q)
            _clear_caches("vnsearch")
    else:
        sys.path.insert(0, str(HERE))
        import bench_query

        engine = bench_query.ENGINES[args.child](Path(args.path))
        start = time.perf_counter_ns()
        engine.open()
        opened = time.perf_counter_ns() - start

        def search(q: str) -> None:
            engine.search(q)

    times = []
    for q in queries:
        t = time.perf_counter_ns()
        search(q)
        times.append(time.perf_counter_ns() - t)
    print(json.dumps({"open_ns": opened, "times": times}))


_NOT_INHERITED = ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")


def _compiled(repo: Path) -> None:
    """Compile ``repo``'s ``vnsearch`` package to bytecode before the runs, as installing
    it does: a child that compiled the sources it imports (``PYTHONDONTWRITEBYTECODE``
    set, as on the reference machine) would count ~150 ms more of "open" and ~100 of its
    first query, more for more code, which no installed copy pays."""
    import compileall

    compileall.compile_dir(str(repo / "vnsearch"), quiet=1)


def _clear_caches(package: str) -> int:
    """Empty every ``functools.lru_cache`` of ``package``'s code (module functions and the
    ones objects keep); the number emptied."""
    import functools
    import gc

    caches = [
        o
        for o in gc.get_objects()
        if isinstance(o, functools._lru_cache_wrapper)
        and str(getattr(o, "__module__", "")).startswith(package + ".")
    ]
    for cache in caches:
        cache.cache_clear()
    return len(caches)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def _run_child(
    name: str, path: Path, queries: list[str], repo: str, decoded: bool = False,
    cache_mb: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(queries, f, ensure_ascii=False)
    try:
        cmd = [sys.executable, __file__, "--child", name, "--path", str(path)]
        cmd += ["--child-queries", f.name, "--repo", repo] + (["--decoded"] if decoded else [])
        cmd += [] if cache_mb is None else ["--cache-mb", str(cache_mb)]
        # bytecode as an installed package has it (see ``_compiled``)
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        os.unlink(f.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=84132)
    parser.add_argument("--queries", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--first", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="vnsearch,tantivy")
    parser.add_argument("--vnsearch-from", help="another checkout of vnsearch: one more row")
    parser.add_argument("--vnsearch-index", type=Path, help="its index")
    parser.add_argument(
        "--index", type=Path, help="this checkout's vnsearch on this index (say, of several "
        "segments) instead of the one built for --docs"
    )  # fmt: skip
    parser.add_argument(
        "--decoded", action="store_true", help="one more row: postings already decoded (floor)"
    )
    parser.add_argument(
        "--cache-mb", type=float, help="this checkout's vnsearch opens its index with "
        "Index.open(..., cache_mb=MB): the decoded postings it keeps (default 512)"
    )  # fmt: skip
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--child-queries", help=argparse.SUPPRESS)
    parser.add_argument("--repo", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    if args.index is not None and "vnsearch" not in args.engines.split(","):
        parser.error("--index needs vnsearch among --engines")
    sys.path.insert(0, str(HERE))
    import bench_query
    from _common import DEFAULT_CORPUS, machine

    docs = bench_query.load_docs(DEFAULT_CORPUS, args.docs)
    queries = bench_query.make_queries(docs, args.queries, args.seed)
    if args.first >= len(queries):
        parser.error("--first must leave queries for the steady state")
    engines, _builds, _fold = bench_query.open_engines(
        args.engines.split(","), docs, DEFAULT_CORPUS, False, []
    )
    here = str(HERE.parent)
    # (engine, index, its queries, the checkout it runs, whether its postings are decoded)
    rows = [(e.name, e.path, [e.prepare(q) for q in queries], here, False) for e in engines]
    if args.index is not None:
        rows = [(n, args.index if n == "vnsearch" else p, *rest) for n, p, *rest in rows]
    if args.vnsearch_from:
        if args.vnsearch_index is None:
            parser.error("--vnsearch-from needs --vnsearch-index")
        texts = [q.text for q in queries]
        rows.append(("vnsearch", args.vnsearch_index, texts, args.vnsearch_from, False))
    if args.decoded:
        mine = next((r for r in rows if r[0] == "vnsearch" and r[3] == here), None)
        if mine is None:
            parser.error("--decoded needs vnsearch among --engines")
        rows.append((*mine[:4], True))
    # the runs go round the engines (run 1 of each, then run 2 of each, ...): each process
    # is still alone, and a drift of the machine (page cache, other load) hits all alike
    labels = [_label(name, repo, decoded) for name, _path, _prepared, repo, decoded in rows]
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in labels}
    swap = 2 * args.first == len(queries)  # halves of one size: every other run swaps them
    for repo in {row[3] for row in rows}:
        _compiled(Path(repo))
    for r in range(args.runs):
        for label, (name, path, prepared, repo, decoded) in zip(labels, rows):
            print(f"{label}: run {r + 1} of {args.runs}", file=sys.stderr, flush=True)
            if swap and r % 2:
                prepared = prepared[args.first :] + prepared[: args.first]
            cache = args.cache_mb if name == "vnsearch" and repo == here else None
            got = _run_child(name, path, prepared, repo, decoded, cache)
            ms = [t / 1e6 for t in got["times"]]
            first, steady = ms[: args.first], ms[args.first :]
            runs[label].append(
                {
                    "open_ms": got["open_ns"] / 1e6,
                    "first_p50": statistics.median(first),
                    "first_p95": _percentile(first, 0.95),
                    "first_mean": statistics.fmean(first),
                    "steady_p50": statistics.median(steady),
                    "steady_p95": _percentile(steady, 0.95),
                }
            )
    results: dict[str, Any] = {}
    for label, mine in runs.items():
        results[label] = {k: statistics.median(r[k] for r in mine) for k in mine[0]}
        results[label]["runs"] = mine
    m = machine()
    print(f"machine   {m}")
    print(f"corpus    {len(docs):,} documents; {len(queries)} queries (seed {args.seed}); "
          f"first {args.first} after open, the other {len(queries) - args.first} steady"
          f"{' (every other run the other half first)' if swap else ''}; "
          f"medians of {args.runs} fresh processes; ms")  # fmt: skip
    if args.cache_mb is not None:
        print(f"cache     this checkout's vnsearch: Index.open(..., cache_mb={args.cache_mb:g})")
    print("| engine | open | first p50 | first p95 | first mean | steady p50 | steady p95 "
          "| first/steady p50 |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, r in results.items():
        if label == _label("vnsearch", here, True):  # its first queries ran once before
            steady = f"{r['steady_p50']:.2f} | {r['steady_p95']:.2f}"
            print(f"| {label} | - | - | - | - | {steady} | - |")
            continue
        print(
            f"| {label} | {r['open_ms']:.1f} | {r['first_p50']:.2f} | {r['first_p95']:.2f} | "
            f"{r['first_mean']:.2f} | {r['steady_p50']:.2f} | {r['steady_p95']:.2f} | "
            f"{r['first_p50'] / r['steady_p50']:.2f}x |"
        )
    if args.json:
        print(json.dumps({"machine": m, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
