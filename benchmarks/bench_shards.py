"""Shards on Ray Serve: queries a second over HTTP, and what the fan-out costs a query.

The first ``--docs`` VNTC articles (20,000; title = first line, body = the rest, as
``bench_query.py`` reads them) are built twice: into one index, and by ``vnsearch shards
build``'s Ray tasks into ``--shards`` (4) shards with their merged statistics. The queries
are ``bench_query.py``'s seeded set (``--queries``, its four kinds). Measured, each after
``--warmup`` queries:

* latency, one query at a time (one keep-alive connection), p50 and p95 of the whole
  ``/search?q=...&limit=10`` round trip (hits with snippets): Ray Serve over the shards
  (1 replica per shard) against ``vnsearch serve`` over the one index (a subprocess, with
  TCP_NODELAY set: as shipped, a keep-alive client waits ~40 ms for each answer, see
  ``NODELAY``; that row is printed too), and against the same work in process
  (``serve_api.search``: hits and snippets, no HTTP) and plain ``Index.search`` (the top
  10 and their stored fields);
* throughput, queries a second with ``--clients`` (4) concurrent keep-alive connections
  (threads, ``http.client``) sending every query once: ``vnsearch serve``, and Ray Serve
  with 1 and with 2 replicas per shard;
* the size of ``stats.json.gz`` and of its JSON, and the resident memory of each Serve
  replica (``ps``) after the runs.

Ray runs locally (``--cpus``, 127.0.0.1, no dashboard). The indexes are kept in
``benchmarks/.cache/shards-<docs>`` (``--rebuild`` to build them again). Run from the
repository root, on a quiet machine (the load average is printed)::

    python benchmarks/bench_shards.py --docs 20000
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import DEFAULT_CORPUS, corpus_missing, machine  # noqa: E402


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Client:
    """One keep-alive HTTP connection to ``host:port``."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def search(self, q: str) -> dict[str, Any]:
        self.conn.request("GET", "/search?" + urllib.parse.urlencode({"q": q, "limit": 10}))
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {body[:200]!r}")
        return json.loads(body)  # type: ignore[no-any-return]


def latency(port: int, queries: list[str], warmup: int) -> dict[str, float]:
    """p50/p95 (ms) of one query at a time over one connection."""
    client = Client(port)
    for q in queries[:warmup]:
        client.search(q)
    times = []
    for q in queries[warmup:]:
        start = time.perf_counter_ns()
        client.search(q)
        times.append((time.perf_counter_ns() - start) / 1e6)
    return {"p50_ms": statistics.median(times), "p95_ms": _pct(times, 95)}


def throughput(port: int, queries: list[str], clients: int) -> dict[str, float]:
    """Queries a second: every query once, spread over ``clients`` connections."""
    local = threading.local()

    def ask(q: str) -> None:
        if not hasattr(local, "client"):
            local.client = Client(port)
        local.client.search(q)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(ask, queries[: clients * 5]))  # connections opened, replicas warm
        start = time.perf_counter()
        list(pool.map(ask, queries))
        seconds = time.perf_counter() - start
    return {"qps": len(queries) / seconds, "seconds": seconds}


def in_process(index_path: Path, queries: list[str], warmup: int) -> dict[str, Any]:
    """p50/p95 (ms) of ``Index.search`` (top 10 and fields) and of ``serve_api.search``."""
    import vnsearch
    from vnsearch.cli import serve_api

    ix = vnsearch.Index.open(index_path)
    out = {}
    calls = {
        "Index.search": lambda q: [dict(h.fields) for h in ix.search(q, 10)],
        "serve_api.search": lambda q: serve_api.search(ix, {"q": [q], "limit": ["10"]}),
    }
    for name, call in calls.items():
        for q in queries[:warmup]:
            call(q)
        times = []
        for q in queries[warmup:]:
            start = time.perf_counter_ns()
            call(q)
            times.append((time.perf_counter_ns() - start) / 1e6)
        out[name] = {"p50_ms": statistics.median(times), "p95_ms": _pct(times, 95)}
    ix.close()
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            Client(port).search("ha noi")
            return
        except (OSError, RuntimeError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _replica_memory() -> dict[str, float]:
    """Resident MB of each Serve replica of the application, by its process title."""
    out = subprocess.run(["ps", "-eo", "rss=,args="], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        rss, _, title = line.strip().partition(" ")
        if "ServeReplica:vnsearch-shards:" in title:
            name = title.split("ServeReplica:vnsearch-shards:")[1].split()[0]
            found.setdefault(name, []).append(int(rss) / 1024)
    return {name: max(values) for name, values in sorted(found.items())}


# ``vnsearch serve`` with TCP_NODELAY: as shipped, a keep-alive client waits ~40 ms for each
# answer (headers and body are written apart, Nagle holds the body until the client's
# delayed ACK), which has nothing to do with sharding
NODELAY = (
    "import sys, socketserver; socketserver.StreamRequestHandler.disable_nagle_algorithm = True;"
    " from vnsearch.cli import main; sys.exit(main(sys.argv[1:]))"
)


def serve_one(index: Path, queries: list[str], args: Any, nodelay: bool) -> dict[str, float]:
    """``vnsearch serve`` over ``index`` in a subprocess: latency and throughput."""
    port = _free_port()
    command = [sys.executable, "-c", NODELAY] if nodelay else [sys.executable, "-m", "vnsearch"]
    single = subprocess.Popen(
        [*command, "serve", "--index", str(index), "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
        row = latency(port, queries, args.warmup)
        if nodelay:
            row.update(throughput(port, queries, args.clients))
        return row
    finally:
        single.terminate()
        single.wait(30)


def build(work: Path, docs: list[Any], shards: int, cpus: int) -> dict[str, Any]:
    import vnsearch
    from vnsearch.shards.ray_build import build_shards

    schema = vnsearch.Schema(
        id=vnsearch.ID(stored=True, unique=True),
        title=vnsearch.TEXT(stored=True, boost=2.0),
        body=vnsearch.TEXT(stored=True),
    )
    dicts = [{"id": d.id, "title": d.title, "body": d.body} for d in docs]
    out: dict[str, Any] = {}
    start = time.perf_counter()
    summary = build_shards(work / "shards", schema, dicts, shards, runner="ray", jobs=cpus)
    out["ray_build_s"] = time.perf_counter() - start
    out["shard_documents"] = summary.documents
    start = time.perf_counter()
    one = vnsearch.Index.create(work / "one", schema)
    with one.writer(jobs=cpus) as w:
        for d in dicts:
            w.add(d)
    one.close()
    out["one_index_build_s"] = time.perf_counter() - start
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--queries", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--work", type=Path, help="default benchmarks/.cache/shards-<docs>")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        print(corpus_missing(args.corpus), file=sys.stderr)
        return 2
    import bench_query
    import ray
    from ray import serve

    from vnsearch.cli.ray_serve import start
    from vnsearch.shards.stats_file import STATS_FILE

    report: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg()}
    docs = bench_query.load_docs(args.corpus, args.docs)
    queries = [q.text for q in bench_query.make_queries(docs, args.queries, args.seed)]
    work = args.work or HERE / ".cache" / f"shards-{args.docs}"
    report.update(documents=len(docs), queries=len(queries), shards=args.shards)
    ray.init(num_cpus=args.cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False, logging_level="WARNING")  # fmt: skip
    try:
        if args.rebuild or not (work / "shards" / "shards.json").exists():
            shutil.rmtree(work, ignore_errors=True)
            report["build"] = build(work, docs, args.shards, args.cpus)
        stats_gz = (work / "shards" / STATS_FILE).read_bytes()
        report["stats_gz_mb"] = len(stats_gz) / 1e6
        report["stats_json_mb"] = len(gzip.decompress(stats_gz)) / 1e6
        report["in_process"] = in_process(work / "one", queries, args.warmup)

        for name, nodelay in (("serve_one", True), ("serve_one_shipped", False)):
            report[name] = serve_one(work / "one", queries, args, nodelay)

        for replicas in (1, 2):
            port = _free_port()
            serve.shutdown()
            start(work / "shards", "127.0.0.1", port, replicas=replicas)
            _wait_for(port)
            row = {**latency(port, queries, args.warmup), **throughput(port, queries, args.clients)}
            row["replica_mb"] = _replica_memory()
            report[f"ray_{replicas}_replica"] = row
    finally:
        serve.shutdown()
        ray.shutdown()
    report["load_after"] = os.getloadavg()
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    _print(report)
    return 0


def _print(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(f"machine   {m['cpus']} CPUs, {m['cpu_model']}, Python {m['python']}")
    print(f"load      {r['load_before'][0]:.2f} before, {r['load_after'][0]:.2f} after")
    print(f"corpus    {r['documents']:,} documents, {r['shards']} shards; "
          f"{r['queries']:,} queries")  # fmt: skip
    if "build" in r:
        b = r["build"]
        print(f"build     Ray tasks {b['ray_build_s']:.1f} s (shards {b['shard_documents']}); "
              f"one index {b['one_index_build_s']:.1f} s")  # fmt: skip
    print(f"stats     {r['stats_gz_mb']:.1f} MB gzip, {r['stats_json_mb']:.1f} MB of JSON")
    one = r["serve_one"]
    rows = [
        ("in process: Index.search", r["in_process"]["Index.search"], None),
        ("in process: serve_api.search", r["in_process"]["serve_api.search"], None),
        ("vnsearch serve (as shipped)", r["serve_one_shipped"], None),
        ("vnsearch serve, TCP_NODELAY", one, one["qps"]),
        ("Ray Serve, 4 shards x 1 replica", r["ray_1_replica"], r["ray_1_replica"]["qps"]),
        ("Ray Serve, 4 shards x 2 replicas", r["ray_2_replica"], r["ray_2_replica"]["qps"]),
    ]
    print(f"\n{'':34} {'p50 ms':>8} {'p95 ms':>8} {'q/s':>8} {'p50 / one':>12}")
    for name, row, qps in rows:
        ratio = row["p50_ms"] / one["p50_ms"]
        shown = f"{qps:8.1f}" if qps is not None else f"{'':8}"
        print(f"{name:34} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} {shown} {ratio:11.2f}x")
    for key in ("ray_1_replica", "ray_2_replica"):
        mem = r[key]["replica_mb"]
        print(f"memory    {key}: " + ", ".join(f"{k} {v:.0f} MB" for k, v in mem.items()))


if __name__ == "__main__":
    sys.exit(main())
