"""The benchmark scripts start, show their help, and refuse a missing corpus in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from tests.conftest import ROOT, VNTC, require_data

SCRIPTS = [
    "bench_analyzer.py", "bench_facets.py", "bench_index.py", "bench_query.py", "bench_suggest.py"
]  # fmt: skip


def _three_titles(path):
    """A small index of three titles (and their ids)."""
    import vnsearch

    schema = vnsearch.Schema(
        id=vnsearch.ID(stored=True, unique=True), title=vnsearch.TEXT(stored=True)
    )
    ix = vnsearch.Index.create(path, schema)
    with ix.writer() as w:
        for i, t in enumerate(["Hà Nội mùa thu", "Thủy điện Hòa Bình", "Hội nghị ở Hà Nội"]):
            w.add({"id": str(i), "title": t})
    return ix


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script: str) -> None:
    out = run(script, "--help")
    assert out.returncode == 0, out.stderr
    assert "--corpus" in out.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_missing_corpus_is_one_line_exit_2(tmp_path, script: str) -> None:
    missing = tmp_path / "nope.jsonl.gz"
    out = run(script, "--corpus", str(missing))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: corpus not found: {missing} (the data comes from the public VNTC release, "
        "duyvuleo/VNTC; see benchmarks/README.md)"
    ]


def test_bench_suggest_tiny_run_times_every_prefix(tmp_path) -> None:
    """20 prefixes of VNTC text on a three-title index: both passes reported."""
    corpus = require_data(VNTC)
    _three_titles(tmp_path / "ix").close()
    out = run(
        "bench_suggest.py", "--corpus", str(corpus), "--index", str(tmp_path / "ix"),
        "--prefixes", "20", "--warmup", "5", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["prefixes"] == 20 and report["documents"] == 3
    for name in ("first_pass", "second_pass"):
        assert 0 < report[name]["p50_ms"] <= report[name]["p95_ms"]


def test_bench_index_tiny_run_builds_both_engines(tmp_path) -> None:
    """40 documents, 5 more added afterwards, 2 worker processes: both engines report."""
    corpus = require_data(VNTC)
    keep = tmp_path / "kept"
    out = run(
        "bench_index.py", "--corpus", str(corpus), "--docs", "40", "--add", "5",
        "--engines", "vnsearch,whoosh", "--jobs", "2", "--keep", str(keep), "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.splitlines()[-1])
    builds = {b["engine"]: b for b in summary["builds"]}
    assert set(builds) == {"vnsearch", "whoosh"}
    for b in builds.values():
        assert b["docs"] == 40 and b["index_mb"] > 0 and b["peak_rss_mb"] > 0
        assert all(n > 0 for n in b["queries"].values())  # searchable
        assert any(line.startswith(f"{b['engine']} ") for line in out.stdout.splitlines())
    assert builds["vnsearch"]["jobs"] == 2 and builds["vnsearch"]["peak_rss_children_mb"] > 0
    inc = summary["incremental"]
    assert (inc["docs_before"], inc["added"], inc["docs_after"]) == (40, 5, 45)
    assert (keep / "vnsearch" / "vnsearch.json").is_file() and (keep / "whoosh").is_dir()


def test_query_benchmark_orders_engines_at_random_twins_apart(monkeypatch) -> None:
    """Each engine follows every other about equally often, the order is the same for the
    same seed, and two rows on one index are never back to back."""
    from collections import Counter
    from pathlib import Path
    from types import SimpleNamespace

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import bench_query

    names = ["whoosh", "tantivy", "fts5", "vnsearch", "vnsearch+snippets"]
    paths = ["w", "t", "f", "v", "v"]
    engines = [SimpleNamespace(name=n, path=Path(p)) for n, p in zip(names, paths)]
    orders = bench_query.engine_orders(engines, 1000, seed=42)
    assert [[e.name for e in o] for o in orders] == [
        [e.name for e in o] for o in bench_query.engine_orders(engines, 1000, seed=42)
    ]
    follows = Counter()
    last = None
    for order in orders:
        assert sorted(e.name for e in order) == sorted(names)
        assert last is None or last.path != order[0].path  # also across queries
        for a, b in zip(order, order[1:]):
            assert a.path != b.path
            follows[b.name, a.name] += 1
        last = order[-1]
    before_vnsearch = [follows["vnsearch", n] for n in ("whoosh", "tantivy", "fts5")]
    assert min(before_vnsearch) > 0.7 * max(before_vnsearch)
    before_tantivy = [follows["tantivy", n] for n in names if n != "tantivy"]
    assert min(before_tantivy) > 0.15 * sum(before_tantivy)  # 4 engines can precede it
    # tantivy between the two vnsearch rows of a query (but a query's first engine
    # follows the last of the one before: with three engines both are vnsearch rows)
    three = [engines[1], *engines[3:]]
    for order in bench_query.engine_orders(three, 50, seed=1):
        assert order[1].name == "tantivy"
    # one engine alone, or two on one index: nothing can stand between them
    assert len(bench_query.engine_orders(engines[3:], 10, seed=1)) == 10
    assert len(bench_query.engine_orders(engines[:1], 10, seed=1)) == 10


def test_query_benchmark_times_queries_apart_from_warm_up_and_twins(monkeypatch, tmp_path) -> None:
    """Nothing an engine keeps between queries may come from the timed queries themselves:
    the warm-up runs other queries, and the snippets row opens its own index (sharing one
    would share its cache of recent terms with the plain vnsearch row)."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import bench_query

    class Recorder:
        name, path = "rec", Path("r")

        def __init__(self) -> None:
            self.seen: list[str] = []

        def search(self, query: str, total: bool = False):
            self.seen.append(query)
            return [("1", "t")], None

    rec = Recorder()
    runs = bench_query.time_pass([rec], {"rec": ["a", "b", "c"]}, False, warmup={"rec": ["w"]})
    assert rec.seen == ["w", "a", "b", "c"] and runs["rec"].counts == [1, 1, 1]

    docs = [bench_query.Doc(str(i), f"Hà Nội {i}", "Thủ đô nghìn năm văn hiến") for i in range(3)]
    base = bench_query.VnsearchEngine(tmp_path / "ix")
    base.path.mkdir()
    base.build(docs)
    base.open()
    twin = bench_query.VnsearchSnippetsEngine(base, docs)
    assert twin.index is not base.index and twin.path == base.path
    hits, _ = twin.search(twin.prepare(bench_query.Query("keyword", ["nghìn"], ["nghin"], "0")))
    assert sorted(hits) == [(d.id, d.title) for d in docs]
    twin.index.close()
    base.index.close()


def test_ab_query_loads_another_commit_beside_this_one(monkeypatch, tmp_path) -> None:
    """``ab_query.py`` times two versions of the package in one process: the other commit
    is extracted renamed, opens the same index (its table of contents names vnsearch's
    modules) with its own classes, finds the same hits, and leaves vnsearch's modules as
    they were."""
    import shutil

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout")  # CI runs on a clone: it has one
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import ab_query

    assert ab_query.renamed("from vnsearch.index import X\nimport vnsearch\ns = 'vnsearch.'") == (
        "from vnsearch_base.index import X\nimport vnsearch_base\ns = 'vnsearch.'"
    )
    ix = _three_titles(tmp_path / "ix")
    codec = sys.modules["vnsearch.index.codec"]
    monkeypatch.syspath_prepend(str(ab_query.extract_base("HEAD", tmp_path / "base")))
    try:
        base = ab_query.open_base(tmp_path / "ix")
        reader = base.snapshot().segments[0][0]
        assert type(reader._perdoc).__module__ == "vnsearch_base.index.lengths"
        assert sys.modules["vnsearch.index.codec"] is codec
        for q in ("ha noi", "hòa bình", '"hội nghị"'):
            assert ab_query.top10(base, q) == ab_query.top10(ix, q) != []
        base.close()
    finally:
        for m in [m for m in sys.modules if m.split(".")[0] == "vnsearch_base"]:
            del sys.modules[m]
    ix.close()


def test_regimes_child_times_every_query_of_this_checkout_in_order(tmp_path) -> None:
    """``bench_regimes.py`` runs each engine in a process of its own: the child opens the
    index with the checkout it is given and times each query once, in order."""

    ix = _three_titles(tmp_path / "ix")
    ix.close()
    queries = tmp_path / "q.json"
    queries.write_text(json.dumps(["ha noi", '"hòa bình"', "hội nghị", "không có"]))
    out = run(
        "bench_regimes.py", "--child", "vnsearch", "--path", str(tmp_path / "ix"),
        "--child-queries", str(queries), "--repo", str(ROOT),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(got["times"]) == 4 and all(t > 0 for t in got["times"]) and got["open_ns"] > 0
    decoded = run(
        "bench_regimes.py", "--child", "vnsearch", "--path", str(tmp_path / "ix"),
        "--child-queries", str(queries), "--repo", str(ROOT), "--decoded", "--cache-mb", "1",
    )  # fmt: skip
    assert decoded.returncode == 0, decoded.stderr
    assert len(json.loads(decoded.stdout.strip().splitlines()[-1])["times"]) == 4
    help_out = run("bench_regimes.py", "--help")
    assert help_out.returncode == 0 and "--first" in help_out.stdout
    assert "--decoded" in help_out.stdout and "--index" in help_out.stdout
    assert "--cache-mb" in help_out.stdout
    # another index for this checkout's vnsearch: refused at once without vnsearch
    refused = run("bench_regimes.py", "--engines", "tantivy", "--index", str(tmp_path / "ix"))
    assert refused.returncode == 2 and "--index needs vnsearch" in refused.stderr


def test_regimes_compiles_a_checkout_before_timing_it(tmp_path, monkeypatch) -> None:
    """The children import vnsearch from bytecode, as an installed copy does, whatever
    ``PYTHONDONTWRITEBYTECODE`` says: the sources are compiled before the runs."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import bench_regimes

    (tmp_path / "vnsearch").mkdir()
    (tmp_path / "vnsearch" / "module.py").write_text("X = 1\n")
    bench_regimes._compiled(tmp_path)
    assert list((tmp_path / "vnsearch" / "__pycache__").glob("module.*.pyc"))
    assert "PYTHONDONTWRITEBYTECODE" in bench_regimes._NOT_INHERITED


def test_decode_compiled_shows_its_help() -> None:
    """``decode_compiled.py`` imports numba (not a dependency) only when it runs."""
    out = run("decode_compiled.py", "--help")
    assert out.returncode == 0, out.stderr
    assert "--warm" in out.stdout and "numba" in out.stdout


def test_regimes_decoded_row_empties_vnsearch_caches(monkeypatch) -> None:
    """The ``--decoded`` row times queries whose postings are decoded, but whose analysis
    and spellings are not cached: every ``lru_cache`` of vnsearch is emptied."""
    from vnsearch.ranking import query_text

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import bench_regimes

    query_text._recent_text("hà nội mùa thu")
    assert query_text._recent_text.cache_info().currsize > 0
    assert bench_regimes._clear_caches("vnsearch") > 0
    assert query_text._recent_text.cache_info().currsize == 0


def test_segments_builds_in_commits_then_merges_them(tmp_path) -> None:
    """``bench_segments.py`` leaves one segment a commit (three segments: no level full)
    and ``optimize`` merges them into one."""
    require_data(VNTC)
    out = run(
        "bench_segments.py", "--out", str(tmp_path), "--docs", "60", "--commit", "20",
        "--jobs", "1", "--steps", "commits,optimized",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "commits: " in out.stdout and "segments [20, 20, 20]" in out.stdout
    assert "optimized: " in out.stdout and "segments [60]" in out.stdout
    assert out.stdout.count("  commit ") == 3
    missing = run("bench_segments.py", "--out", str(tmp_path), "--corpus", str(tmp_path / "x"))
    assert missing.returncode == 2 and "corpus not found" in missing.stderr
    needs_base = run("bench_segments.py", "--out", str(tmp_path), "--steps", "added")
    assert needs_base.returncode == 2 and "need --base" in needs_base.stderr


def test_merge_policies_replays_the_commits_with_each_policy() -> None:
    """``merge_policies.py`` prints a row per sequence of commits: vnsearch's levels leave
    fewer segments on average, and at most, than Whoosh's ``MERGE_SMALL``."""
    out = run("merge_policies.py")
    assert out.returncode == 0, out.stderr
    rows = [line.split(" | ") for line in out.stdout.splitlines() if " x " in line]
    assert len(rows) == 4
    for row in rows:
        (small_mean, small_most), (five_mean, five_most) = (
            (float(c.split(" / ")[0]), int(c.split(" / ")[1].split(",")[0])) for c in row[1:3]
        )
        assert five_mean < small_mean and five_most < small_most, row


def test_build_copies_indexes_the_documents_copies_times_over(tmp_path) -> None:
    """``build_copies.py`` builds one commit of ``--copies`` x ``--docs`` documents under
    new ids, searchable; a missing corpus is a one-line error."""
    require_data(VNTC)
    out = run(
        "build_copies.py", "--out", str(tmp_path / "ix"), "--copies", "3", "--docs", "20",
        "--jobs", "1",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "60 documents (3 x 20)" in out.stdout
    import vnsearch

    with vnsearch.Index.open(tmp_path / "ix") as ix:
        assert ix.doc_count == 60 and len(ix.snapshot().segments) == 1
        hits = list(ix.search("của", limit=60))  # a word of nearly every article
        found = Counter(h.id.split("#")[0] for h in hits)
        assert len(found) > 10 and set(found.values()) == {3}  # each copy found
    missing = run("build_copies.py", "--out", str(tmp_path / "x"), "--corpus", str(tmp_path / "y"))
    assert missing.returncode == 2 and "corpus not found" in missing.stderr
