"""``vnsearch shards build`` and the shard service's router, without Ray.

A sharded index built by parallel tasks (local processes here; Ray tasks in
``test_shards_ray.py``) holds the same shards as ``ShardedIndex``'s writer makes in one
process, with its merged statistics saved as gzip-compressed JSON. The router of
``vnsearch shards serve`` (:mod:`vnsearch.cli.ray_serve`), driven here over shard searchers
in this process instead of Ray deployment handles, answers ``/search`` as ``vnsearch
serve`` answers over one index with the same documents, says which shards answered, and
returns the others' hits when one fails or is too slow. Without Ray, ``shards build`` and
``shards serve`` stop with one line saying how to install it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SEEDS
from tests.shards_data import TEXTS as SMALL_TEXTS
from vnsearch import ALL, ID, TEXT, Index, Schema, ShardedIndex
from vnsearch.cli import main, serve_api
from vnsearch.cli.ray_serve import Router, ShardSearcher
from vnsearch.shards import MANIFEST, shard_of
from vnsearch.shards.ray_build import build_shards
from vnsearch.shards.stats_file import STATS_FILE, current_stats, load_stats, shard_states

TEXTS = [*SMALL_TEXTS, "Hà Nội và Huế", "Đà Nẵng, Huế, Hà Nội: ba thành phố"]
QUERIES = ["ha noi", "Hà Nội", "song", "hue", '"Hà Nội"', "thanh pho da nang", "pho"]


def small_schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))


def small_docs() -> list[dict]:
    docs = [{"id": f"d{i}", "body": t} for i, t in enumerate(TEXTS)]
    return [*docs, {"id": "d3", "body": "Phố cổ Hà Nội, bản sửa"}]  # d3 again: replaces it


def contents(shards: list[Index]) -> list[tuple[list[dict], dict]]:
    """Each shard's stored documents in document-number order and its ranking statistics."""
    return [
        ([dict(h.fields) for h in ix.search(ALL, max(ix.doc_count, 1))], ix.ranking_stats())
        for ix in shards
    ]


def in_process(folder: Path, docs: list[dict], shards: int) -> ShardedIndex:
    """``docs`` written by ``ShardedIndex``'s writer (update for an id seen before)."""
    sharded = ShardedIndex.create(folder, small_schema(), shards)
    with sharded.writer(jobs=1) as w:
        for d in docs:
            w.update(d)
    return sharded


def test_parallel_build_holds_the_shards_one_process_writes(tmp_path):
    docs = small_docs()
    summary = build_shards(tmp_path / "par", small_schema(), docs, 3, runner="processes", jobs=2)
    assert sum(summary.documents) == len(TEXTS)  # d3 replaced, not added twice
    built = ShardedIndex.open(tmp_path / "par")
    expected = in_process(tmp_path / "one", docs, 3)
    assert contents(built.shards) == contents(expected.shards)
    assert built.get("d3")["body"] == "Phố cổ Hà Nội, bản sửa"
    for q in QUERIES:
        got, want = built.search(q, 5), expected.search(q, 5)
        assert [(h.id, h.score) for h in got] == [(h.id, h.score) for h in want], q
    # the merged statistics, plain JSON, taken from each shard's last commit
    data = json.loads(gzip.decompress((tmp_path / "par" / STATS_FILE).read_bytes()))
    assert data["stats"]["documents"] == len(TEXTS)
    assert load_stats(tmp_path / "par", shard_states(built.shards)) == expected.ranking_stats()
    built.close()
    expected.close()


def test_statistics_made_anew_after_a_shard_commits(tmp_path):
    build_shards(tmp_path / "ix", small_schema(), small_docs(), 2, runner="processes", jobs=1)
    with ShardedIndex.open(tmp_path / "ix") as sharded:
        assert current_stats(sharded)[1] is False  # saved by the build
        with sharded.writer(jobs=1) as w:
            w.add({"id": "new", "body": "Cần Thơ gạo trắng nước trong"})
        assert load_stats(tmp_path / "ix", shard_states(sharded.shards)) is None
        stats, made = current_stats(sharded)
        assert made and stats.documents == len(TEXTS) + 1
        assert current_stats(sharded) == (stats, False)


def test_a_failed_build_leaves_the_folder_as_it_was(tmp_path):
    docs = [*small_docs(), {"id": "bad", "body": 12.5j}]  # not text: the shard's writer refuses
    target = tmp_path / "ix"
    target.mkdir()
    with pytest.raises(ValueError, match="document 12"):
        build_shards(target, small_schema(), docs, 2, runner="processes", jobs=2)
    assert list(target.iterdir()) == []
    with pytest.raises(ValueError, match="document 12"):
        build_shards(tmp_path / "new", small_schema(), docs, 2, runner="processes", jobs=1)
    assert not (tmp_path / "new").exists()


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run


def test_cli_build_local_reads_sources_as_vnsearch_index(cli, tmp_path):
    code, out, _err = cli(
        "shards", "build", str(SEEDS), "--shards", "2", "--index", "sh", "--local"
    )
    assert code == 0, out
    assert "5 documents in 2 shards" in out
    code, _out, _err = cli("index", str(SEEDS), "--index", "one", "-j", "1")
    assert code == 0
    with ShardedIndex.open(tmp_path / "sh") as sharded, Index.open(tmp_path / "one") as one:
        assert sharded.schema == one.schema
        for q in ("tổ chức đảng", "ha noi"):
            got, want = sharded.search(q, 5), one.search(q, 5)
            assert [(h.id, round(h.score, 9)) for h in got] == [
                (h.id, round(h.score, 9)) for h in want
            ]
    # the command line searches it as one index; commands that take one index say so
    for q in ("tổ chức đảng", "ha noi"):
        got = [json.loads(cli("query", q, "--index", i, "--json")[1]) for i in ("sh", "one")]
        assert got[0]["hits"] == got[1]["hits"] and got[0]["hits"], q
    code, _out, err = cli("info", "--index", "sh")
    assert code != 0 and "a sharded index" in err and "vnsearch query" in err


def test_cli_build_names_a_bad_line(cli, tmp_path):
    (tmp_path / "bao.jsonl").write_text(
        '{"id": "1", "body": "Hà Nội"}\n{"id": "2", "body": \n', encoding="utf-8"
    )
    code, _out, err = cli("shards", "build", "bao.jsonl", "--index", "sh", "--local")
    assert code == 3
    assert err.startswith("vnsearch: error: ") and "bao.jsonl:2" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "sh").exists()


def test_cli_without_ray_says_how_to_install_it(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # ``import ray`` fails as if not installed
    for args in (
        ("shards", "build", str(SEEDS), "--index", "sh"),
        ("shards", "serve", "--index", "sh"),
    ):
        code, _out, err = cli(*args)
        assert code == 3
        assert err == "vnsearch: error: Ray is not installed: pip install 'vnsearch[cluster]'\n"
    assert not (tmp_path / "sh").exists()
    # --local needs no Ray
    assert cli("shards", "build", str(SEEDS), "--index", "sh", "--local")[0] == 0


def test_import_vnsearch_loads_no_ray():
    import subprocess

    code = "import sys, vnsearch, vnsearch.cli.app; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


# -- the router, over shard searchers in this process -------------------------------------


class _Method:
    def __init__(self, call, delay: float = 0.0):
        self.call, self.delay = call, delay

    def remote(self, *args):
        async def answer():
            await asyncio.sleep(self.delay)
            return await asyncio.to_thread(self.call, *args)

        return answer()


class _Handle:
    """What the router uses of a Ray Serve deployment handle: ``handle.method.remote()``."""

    def __init__(self, searcher, delay: float = 0.0):
        for name in ("search", "document", "suggest"):
            setattr(self, name, _Method(getattr(searcher, name), delay))


class _Down:
    def __init__(self):
        def fail(*_args):
            raise ConnectionError("the replica died")

        for name in ("search", "document", "suggest"):
            setattr(self, name, _Method(fail))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    build_shards(root / "sh", small_schema(), small_docs(), 3, runner="processes", jobs=2)
    one = Index.create(root / "one", small_schema())
    with one.writer(jobs=1) as w:
        for d in small_docs():
            w.update(d)
    searchers = [ShardSearcher(str(root / "sh"), i) for i in range(3)]
    yield root / "sh", searchers, one
    for s in searchers:
        s.index.close()
    one.close()


def _ask(router: Router, path: str, **params: str) -> dict:
    return asyncio.run(router.answer(path, {k: [v] for k, v in params.items()}))


def test_router_answers_as_vnsearch_serve_over_one_index(served):
    folder, searchers, one = served
    router = Router(str(folder), 5.0, *(_Handle(s) for s in searchers))
    for q in QUERIES:
        for offset in ("0", "2"):
            got = _ask(router, "/search", q=q, limit="3", offset=offset)
            want = serve_api.search(one, {"q": [q], "limit": ["3"], "offset": [offset]})
            assert got.pop("shards") == {"answered": [0, 1, 2], "failed": []}
            for hit in got["hits"]:
                assert hit.pop("shard") == shard_of(hit["id"], 3)
                hit.pop("clauses")
            assert got == want, q
    assert _ask(router, "/doc/d7") == {"id": "d7", "fields": one.get("d7"), "shard": 1}
    with pytest.raises(serve_api.ApiError, match="no document"):
        _ask(router, "/doc/nope")
    with pytest.raises(serve_api.ApiError, match="limit must be"):
        _ask(router, "/search", q="x", limit="many")
    for params in ({"sort": "-id"}, {"sort": "-score,id"}, {"facet": "id"}):
        # a listing ("") unsorted is in shard order, not one index's add order: sorted only
        asked_for = [("ha noi", "0"), ("ha noi", "2")] + [("", "1")] * ("sort" in params)
        for q, offset in asked_for:
            got = _ask(router, "/search", q=q, limit="4", offset=offset, **params)
            asked = {k: [v] for k, v in {"q": q, "limit": "4", "offset": offset, **params}.items()}
            want = serve_api.search(one, asked)
            for hit in got["hits"]:
                hit.pop("shard"), hit.pop("clauses")
            got.pop("shards")
            assert got == want, (q, params)
    suggested = _ask(router, "/suggest", q="ha")["suggestions"]
    assert suggested[0]["text"] == one.suggest("ha", 8)[0].text


def test_router_returns_the_others_hits_when_a_shard_fails(served):
    folder, searchers, one = served
    handles = [_Handle(s) for s in searchers]
    for down, why in ((_Down(), "ConnectionError: the replica died"), (None, "timed out")):
        handles[1] = down if down is not None else _Handle(searchers[1], delay=30.0)
        router = Router(str(folder), 0.5, *handles)
        started = time.monotonic()
        got = _ask(router, "/search", q="ha noi", limit="10")
        assert time.monotonic() - started < 5  # a slow shard does not hold the answer
        assert got["shards"] == {"answered": [0, 2], "failed": [{"shard": 1, "error": why}]}
        want = [h for h in one.search("ha noi", 10) if shard_of(h.id, 3) != 1]
        assert [(h["id"], h["score"]) for h in got["hits"]] == [(h.id, h.score) for h in want]
        assert want and len(want) < len(one.search("ha noi", 10))  # shard 1 held some
        with pytest.raises(serve_api.ApiError, match="shard 1 did not answer"):
            _ask(router, "/doc/d1")  # d1 lives in shard 1
        assert _ask(router, "/doc/d0")["fields"] == one.get("d0")  # shard 0 answers
    assert (shard_of("d1", 3), shard_of("d0", 3)) == (1, 0)


def test_a_shard_replica_refuses_a_missing_shard_or_stale_statistics(served, tmp_path):
    folder, _searchers, _one = served
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    with ShardedIndex.open(copy) as sharded, sharded.writer(jobs=1) as w:
        w.add({"id": "late", "body": "Cần Thơ"})
    with pytest.raises(Exception, match=r"shard-00\d: committed since stats.json.gz"):
        ShardSearcher(str(copy), shard_of("late", 3))
    shutil.rmtree(copy / "shard-002")
    with pytest.raises(Exception, match=r"shard 2 of 3 is missing"):
        ShardSearcher(str(copy), 2)
    assert (copy / MANIFEST).is_file()


def test_a_sharded_index_splits_the_cache_it_is_given_among_its_shards(tmp_path):
    """``ShardedIndex.open(..., cache_mb=...)`` bounds the decoded postings of all its
    shards together; searches give the same hits; a bad size is refused first."""
    docs = small_docs()
    in_process(tmp_path / "sh", docs, 3).close()
    with ShardedIndex.open(tmp_path / "sh") as plain:
        want = {q: [(h.id, h.score) for h in plain.search(q, 5)] for q in QUERIES}
        assert {s.snapshot()._recent._budget for s in plain.shards} == {512 << 20}
    with ShardedIndex.open(tmp_path / "sh", cache_mb=6) as small:
        assert [s.snapshot()._recent._budget for s in small.shards] == [2 << 20] * 3
        for q in QUERIES:
            assert [(h.id, h.score) for h in small.search(q, 5)] == want[q], q
    with pytest.raises(ValueError, match="cache_mb"):
        ShardedIndex.open(tmp_path / "nowhere", cache_mb=-1)
