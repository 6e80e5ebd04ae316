"""Paired A/B of vnsearch's query latency: this checkout against another commit, in one process.

``bench_query.py``'s p50 moves by about +-4 % from run to run, so a change worth 2-3 % cannot
be seen in it. This script measures a change directly, in the setting of that benchmark:
both versions of the package are loaded in one process (the other one from ``git archive
<base>``, renamed ``vnsearch_base``), each opens the same cached index of
``bench_query.py``, and every timed vnsearch query runs right after a stock Whoosh or an
SQLite FTS5 query (alternately, the same sequence in every pass), as most of the benchmark's
vnsearch queries do. Four passes over the same queries, in the order base, this, this,
base (ABBA: a linear drift cancels), each query timed like the benchmark's (search, ids
and stored titles of the top 10). Reported: each pass's p50, and the per-query difference
(this - base, averaged over the two passes of each) as a median, overall and by kind;
also the first passes alone (caches that keep recent terms have not yet seen these
queries there).

The indexes must have been built by ``bench_query.py`` with the same ``--docs`` (the
script stops otherwise), and ``base`` must read the same index format. Run from the
repository root::

    python benchmarks/ab_query.py                  # against HEAD, 500 queries
    python benchmarks/ab_query.py --base HEAD~2 --queries 300

About 7 minutes for 500 queries on 84,132 documents (nearly all of it in Whoosh and FTS5).
"""

from __future__ import annotations

import argparse
import gc
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import bench_query as B  # noqa: E402
from _common import DEFAULT_CORPUS, machine  # noqa: E402

import vnsearch  # noqa: E402

BASE = "vnsearch_base"
_IMPORT = re.compile(r"\b(from|import) vnsearch(?=[\s.])")
_LAZY = re.compile(r'"vnsearch\.(?=[a-z_.]+")(?!json")')


def renamed(source: str) -> str:
    """``source`` importing ``vnsearch_base`` wherever it imports ``vnsearch``.

    >>> renamed("from vnsearch.index import X\\nimport vnsearch\\nx = 'vnsearch'")
    "from vnsearch_base.index import X\\nimport vnsearch_base\\nx = 'vnsearch'"
    """
    return _IMPORT.sub(rf"\1 {BASE}", source)


def extract_base(rev: str, into: Path) -> Path:
    """The package at ``rev``, renamed, in the folder ``into`` (put on ``sys.path``)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", rev, "vnsearch"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            path = into / BASE / Path(member.name).relative_to("vnsearch")
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".py":
                text = renamed(data.decode("utf-8"))
                if member.name == "vnsearch/__init__.py":  # its lazy attributes' modules
                    text = _LAZY.sub(f'"{BASE}.', text)
                path.write_text(text, encoding="utf-8")
            else:
                path.write_bytes(data)
    return into


def open_base(path: Path) -> Any:
    """An ``Index`` of the base package on ``path``. The table of contents pickles the
    codec and schema by module name (``vnsearch.…``): while it is read, those names stand
    for the base package's modules."""
    import importlib
    import importlib.util

    base = importlib.import_module(BASE)
    for name in ("index", "ranking.search", "ranking.snapshot", "index.reader", "index.codec"):
        if importlib.util.find_spec(f"{BASE}.{name}") is not None:  # layouts differ
            importlib.import_module(f"{BASE}.{name}")
    ours = {m: sys.modules[m] for m in list(sys.modules) if m.split(".")[0] == "vnsearch"}
    try:
        for m in [m for m in list(sys.modules) if m.split(".")[0] == BASE]:
            sys.modules["vnsearch" + m[len(BASE) :]] = sys.modules[m]
        ix = base.Index.open(path)
        ix.snapshot()
        ix.search("Hà Nội")  # what is read on first use is read now
    finally:
        for m in [m for m in list(sys.modules) if m.split(".")[0] == "vnsearch"]:
            del sys.modules[m]
        sys.modules.update(ours)
    return ix


def top10(ix: Any, text: str) -> list[tuple[Any, Any]]:
    return [(h.id, h.fields["title"]) for h in ix.search(text, limit=B.LIMIT)]


def paired(times: dict[str, list[np.ndarray]]) -> dict[str, Any]:
    """Per-query difference of the two versions' mean times over their passes."""
    base = np.mean(times["base"], axis=0)
    this = np.mean(times["this"], axis=0)
    return {
        "base_p50": float(np.median(base)),
        "this_p50": float(np.median(this)),
        "diff": this - base,
        "first_diff": times["this"][0] - times["base"][0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="commit to compare with (HEAD)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--docs", type=int, default=84132)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)

    query_file = B.query_file(args.seed, args.docs)
    engines: dict[str, B.Engine] = {}
    for cls in (B.WhooshEngine, B.Fts5Engine, B.VnsearchEngine):
        path = B.cache_dir(cls, args.docs, args.corpus, cls.options())
        if not (path / "build.json").is_file() or not query_file.is_file():
            print(
                f"error: no cached {cls.name} index or query set for --docs {args.docs}: "
                f"run bench_query.py --docs {args.docs} first",
                file=sys.stderr,
            )
            return 2
        engines[cls.name] = cls(path)
    queries = B.load_queries(query_file)
    n = min(args.queries, len(queries) - 60)
    others = [engines["whoosh"], engines["fts5"]]
    for e in others:
        e.open()
    prepared = [[e.prepare(q) for q in queries] for e in others]
    path = engines["vnsearch"].path
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, str(extract_base(args.base, Path(tmp))))
        ix = {"base": open_base(path), "this": vnsearch.Index.open(path)}
        ix["this"].search("Hà Nội")
        texts = [q.text for q in queries]
        differ = sum(top10(ix["base"], t) != top10(ix["this"], t) for t in texts[n : n + 50])
        times: dict[str, list[np.ndarray]] = {"base": [], "this": []}
        gc.collect()
        clock = time.perf_counter_ns
        for p, name in enumerate(("base", "this", "this", "base")):
            ns = np.empty(n)
            for i in range(n):
                k = i % 2
                others[k].search(prepared[k][(i + n // 2) % len(queries)])
                start = clock()
                top10(ix[name], texts[i])
                ns[i] = clock() - start
            times[name].append(ns)
            print(f"pass {p} ({name}): p50 {np.median(ns) / 1e6:.3f} ms", flush=True)
    r = paired(times)
    m = machine()
    print(f"\n{m['cpus']} x {m['cpu_model']}, Python {m['python']}; {n} queries, base {args.base}")
    if differ:
        print(f"note: {differ} of 50 other queries give other top-10 hits in the two versions")
    print(
        f"p50 base {r['base_p50'] / 1e6:.3f} ms, this {r['this_p50'] / 1e6:.3f} ms; "
        f"paired median this - base {np.median(r['diff']) / 1e3:+.1f} us "
        f"(first passes only {np.median(r['first_diff']) / 1e3:+.1f})"
    )
    kinds = np.array([q.kind for q in queries[:n]])
    for kind in B.KINDS:
        sel = r["diff"][kinds == kind]
        if len(sel):
            print(f"  {kind:<11} {np.median(sel) / 1e3:+.1f} us ({len(sel)} queries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
