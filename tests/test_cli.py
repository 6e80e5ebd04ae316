"""The vnsearch command: in this process through ``main([...])``, and end to end."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import vnsearch
from tests.conftest import SEEDS, read_seeds
from vnsearch import fold, normalize
from vnsearch.cli import default_index as default_index_module
from vnsearch.cli import main, seeds_dir
from vnsearch.cli.default_index import ensure_seeds_index
from vnsearch.cli.output import format_hits, use_color
from vnsearch.cli.progress import Progress


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vnsearch", *args], capture_output=True, text=True, timeout=120
    )


def test_analyze_text_prints_views() -> None:
    out = run("analyze", "Thủy điện Hòa Bình")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[0] == "syllables"
    assert "thuỷ điện | hoà bình" in out.stdout  # words view


def test_analyze_default_is_a_seed() -> None:
    out = run("analyze", "--view", "words")
    assert out.returncode == 0, out.stderr
    assert "bundled seed 000_483ea6bfdeb6afd9.txt" in out.stdout
    assert "tổ chức" in out.stdout


def test_analyze_json_offsets_slice_the_file(tmp_path: Path) -> None:
    text = "Ha\u0300 No\u0323\u0302i, Đà Nẵng\n"
    path = tmp_path / "doc.txt"
    path.write_text(text, encoding="utf-8")
    out = run("analyze", "--file", str(path), "--json")
    assert out.returncode == 0, out.stderr
    views = json.loads(out.stdout)
    assert [t["text"] for t in views["folded"]] == ["ha", "noi", "da", "nang"]
    for t in views["syllables"]:
        assert normalize(text[t["start"] : t["end"]]).lower() == t["text"]


def test_missing_file_is_one_line_exit_3(tmp_path: Path) -> None:
    out = run("analyze", "--file", str(tmp_path / "nope.txt"))
    assert out.returncode == 3
    assert out.stderr.strip() == f"vnsearch: error: {tmp_path / 'nope.txt'}: no such file"
    assert "Traceback" not in out.stderr


def test_non_utf8_file_names_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Hà Nội".encode() + b" caf\xe9")
    out = run("analyze", "--file", str(path))
    assert out.returncode == 3
    assert "not UTF-8 (invalid byte at offset 13)" in out.stderr
    assert "Traceback" not in out.stderr


def test_usage_error_exit_2() -> None:
    out = run("analyze", "--view", "nonsense")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


def test_analyze_loads_neither_whoosh_nor_the_readers() -> None:
    code = (
        "import sys\n"
        "from vnsearch.cli import main\n"
        "main(['analyze', 'Hà Nội'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'whoosh', 'csv', 'json', 'gzip'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "[]"


def test_help_shows_vietnamese_examples() -> None:
    out = run("--help")
    assert out.returncode == 0
    assert 'vnsearch analyze "Thủy điện Hòa Bình"' in out.stdout


# -- index, query, info ---------------------------------------------------------------
#
# Most cases run ``main([...])`` in this process (a subprocess costs ~0.3 s); a few run
# the real command end to end. Snippet checks hold for any snippet (a fragment of the
# stored field, spans inside it).


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys) -> Callable[..., tuple[int, str, str]]:
    """``cli(*args) -> (exit code, stdout, stderr)``, in a private cache folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VNSEARCH_INDEX", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)

    def run_cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: --help, usage errors
            code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run_cli


def write_jsonl(path: Path, *lines: str | dict) -> Path:
    text = "".join(
        (json.dumps(x, ensure_ascii=False) if isinstance(x, dict) else x) + "\n" for x in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


def query_json(cli, *args: str) -> dict:
    code, out, err = cli("query", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_index_folder_then_query_and_info(cli, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    code, out, err = cli("index", str(SEEDS), "--index", index)
    assert code == 0, err
    assert "5 added, 0 updated" in out and "(new): 5 documents" in out
    assert err == ""  # no progress bar when stderr is not a terminal
    result = query_json(cli, "to chuc dang", "--index", index, "--limit", "2")
    assert result["query"] == "to chuc dang" and result["total"] == 5
    assert len(result["hits"]) == 2
    names = {p.name for p in SEEDS.glob("*.txt")}
    for hit in result["hits"]:
        assert hit["id"] in names and hit["fields"]["id"] == hit["id"]
        first, _, rest = (SEEDS / hit["id"]).read_text(encoding="utf-8").partition("\n")
        assert hit["fields"]["title"] == first.strip()
        assert hit["fields"]["body"] == rest.strip("\r\n")
        snippet = hit["snippet"]
        assert snippet["field"] == "body" and snippet["text"]
        # a fragment of the stored body (white space collapsed, "…" where it was cut)
        body = " ".join(hit["fields"]["body"].split())
        assert all(part in body for part in snippet["text"].strip("…").split("…"))
        marked = [snippet["text"][a:b] for a, b in snippet["spans"]]
        assert marked and all(fold(m) in ("to chuc", "dang", "to chuc dang") for m in marked)
    assert result["hits"][0]["score"] >= result["hits"][1]["score"]
    code, out, _ = cli("info", "--index", index, "--json")
    facts = json.loads(out)
    assert facts["documents"] == 5 and facts["deleted"] == 0 and facts["segments"] == 1
    assert facts["format"] == vnsearch.index.FORMAT_VERSION
    assert facts["fields"]["title"] == {"type": "TEXT", "stored": True, "boost": 2.0}
    assert facts["fields"]["id"]["unique"] is True
    assert facts["views"] == list(vnsearch.VIEWS)
    size = sum(p.stat().st_size for p in Path(index).rglob("*") if p.is_file())
    assert facts["size_bytes"] == size
    code, out, _ = cli("info", "--index", index)
    assert code == 0 and "documents  5" in out and "TEXT (stored, boost 2)" in out


def test_query_text_output_plain_when_piped(cli, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    cli("index", str(SEEDS), "--index", index)
    code, out, _ = cli("query", "tổ", "chức", "đảng", "--index", index, "-n", "3")
    assert code == 0
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert lines[0] == '5 documents match "tổ chức đảng"; the best 3:'
    assert lines[2].startswith("1. ") and "· score " in lines[3]
    code, out, _ = cli("query", "xyzzy", "--index", index)
    assert code == 0 and out.strip() == 'no documents match "xyzzy"'


def test_query_field_restricts_and_unknown_field_is_usage_error(cli, tmp_path) -> None:
    index = str(tmp_path / "ix")
    cli("index", str(SEEDS), "--index", index)
    everywhere = query_json(cli, "trực tuyến", "--index", index)
    titles = query_json(cli, "trực tuyến", "--index", index, "--field", "title")
    assert 0 < titles["total"] < everywhere["total"]
    for hit in titles["hits"]:
        assert "trực tuyến" in hit["fields"]["title"].lower()
        assert hit["snippet"]["field"] == "title"
    code, _, err = cli("query", "x", "--index", index, "--field", "tac_gia")
    assert code == 2 and "no TEXT field 'tac_gia'" in err and "title, body" in err


def test_colours_on_a_terminal_unless_no_color(cli, tmp_path, monkeypatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    assert use_color(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())
    ix = vnsearch.Index.in_memory(
        vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), title=vnsearch.TEXT(stored=True))
    )
    with ix.writer() as w:
        w.add({"id": "1", "title": "Hà Nội"})
    results = ix.search("ha noi")
    coloured = format_hits("ha noi", results, "title", ["title"], color=True)
    assert "\x1b[1mHà Nội\x1b[0m" in coloured
    assert "\x1b[" not in format_hits("ha noi", results, "title", ["title"], color=False)


def test_query_output_highlights_the_matches_in_the_snippet() -> None:
    ix = vnsearch.Index.in_memory(
        vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True), body=vnsearch.TEXT(stored=True))
    )
    body = "Mùa thu ở Thủ đô. " * 30 + "Thủ đô Hà Nội mùa thu."
    with ix.writer() as w:
        w.add({"id": "1", "body": body})
    results = ix.search("ha noi")
    coloured = format_hits("ha noi", results, None, ["body"], color=True)
    assert "\x1b[1;33mHà Nội\x1b[0m" in coloured
    plain = format_hits("ha noi", results, None, ["body"], color=False)
    assert "Hà Nội" in plain and "\x1b[" not in plain


def test_reindex_replaces_by_id(cli, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    write_jsonl(tmp_path / "a.jsonl", {"id": "a", "title": "Hà Nội"}, {"id": "b", "title": "Huế"})
    code, out, err = cli("index", str(tmp_path / "a.jsonl"), "--index", index)
    assert code == 0 and "2 added, 0 updated" in out, err
    write_jsonl(
        tmp_path / "b.jsonl",
        {"id": "a", "title": "Đà Nẵng", "tac_gia": "Lan"},
        {"id": "c", "title": "Vinh", "tac_gia": "Minh"},
    )
    code, out, _ = cli("index", str(tmp_path / "b.jsonl"), "--index", index)
    assert code == 0 and "1 added, 1 updated" in out and ": 3 documents" in out
    assert "ignored values of columns the index has no field for: tac_gia (2)" in out
    assert query_json(cli, "ha noi", "--index", index)["total"] == 0
    hits = query_json(cli, "da nang", "--index", index)["hits"]
    assert [h["id"] for h in hits] == ["a"]
    # the same id twice in one run: the last one wins
    write_jsonl(
        tmp_path / "c.jsonl", {"id": "d", "title": "Cần Thơ"}, {"id": "d", "title": "Sa Pa"}
    )
    code, out, _ = cli("index", str(tmp_path / "c.jsonl"), "--index", index)
    assert "1 added, 1 updated" in out and ": 4 documents" in out
    assert query_json(cli, "can tho", "--index", index)["total"] == 0


def test_csv_with_mapped_columns_and_stored_extras(cli, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    (tmp_path / "bao.csv").write_text(
        "ma,tieu_de,noi_dung,tac_gia,ngày đăng\n"
        '1,Thủy điện Hòa Bình,"Nhà máy lớn, ở Hòa Bình",Lan,2020-01-02\n'
        "2,Đà Nẵng,Thành phố biển,Minh,\n",
        encoding="utf-8",
    )
    code, out, err = cli(
        "index", str(tmp_path / "bao.csv"), "--index", index,
        "--id-field", "ma", "--fields", "title=tieu_de,body=noi_dung",
    )  # fmt: skip
    assert code == 0 and "2 added" in out, err
    hit = query_json(cli, "thuy dien hoa binh", "--index", index)["hits"][0]
    assert hit["id"] == "1"
    assert hit["fields"] == {
        "id": "1",
        "title": "Thủy điện Hòa Bình",
        "body": "Nhà máy lớn, ở Hòa Bình",
        "tac_gia": "Lan",
        "ngày_đăng": "2020-01-02",
    }
    assert query_json(cli, "bien", "--index", index)["hits"][0]["id"] == "2"
    _, out, _ = cli("info", "--index", index, "--json")
    assert json.loads(out)["fields"]["tac_gia"] == {"type": "STORED", "stored": True}


def test_jsonl_gz_and_a_text_field_from_fields(cli, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    lines = [{"_id": "x1", "text": "Bão số 3 đổ bộ Quảng Ninh", "topic": "thời sự"}]
    with gzip.open(tmp_path / "tin.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps(lines[0], ensure_ascii=False) + "\n")
    code, out, err = cli(
        "index", str(tmp_path / "tin.jsonl.gz"), "--index", index,
        "--id-field", "_id", "--fields", "text",
    )  # fmt: skip
    assert code == 0 and "1 added" in out, err
    hit = query_json(cli, "quang ninh", "--index", index)["hits"][0]
    assert hit["id"] == "x1" and hit["fields"]["topic"] == "thời sự"
    assert hit["snippet"]["field"] == "text"


def test_malformed_json_line_commits_nothing(cli, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    good = write_jsonl(tmp_path / "good.jsonl", {"id": "1", "title": "Hà Nội"})
    cli("index", str(good), "--index", str(index))
    bad = write_jsonl(
        tmp_path / "bad.jsonl", {"id": "2", "title": "Huế"}, '{"id": "3", "title": "Vinh"', ""
    )
    code, out, err = cli("index", str(bad), "--index", str(index))
    assert code == 3 and out == ""
    assert err.startswith(f"vnsearch: error: {bad}:2: malformed JSON") and err.count("\n") == 1
    assert query_json(cli, "hue", "--index", str(index))["total"] == 0  # line 1 not committed
    _, out, _ = cli("info", "--index", str(index), "--json")
    assert json.loads(out)["documents"] == 1
    # a new index is not left behind half-made
    code, _, _ = cli("index", str(bad), "--index", str(tmp_path / "new"))
    assert code == 3 and not (tmp_path / "new").exists()


def test_skip_errors_skips_and_counts(cli, tmp_path: Path) -> None:
    bad = write_jsonl(
        tmp_path / "bad.jsonl",
        {"id": "1", "title": "Hà Nội"},
        "{not json",
        '["a list"]',
        {"title": "no id"},
        {"id": "5", "title": "Huế"},
    )
    code, out, err = cli("index", str(bad), "--index", str(tmp_path / "ix"), "--skip-errors")
    assert code == 0
    assert "2 added" in out and "skipped 3 records" in out
    assert f"{bad}:2: malformed JSON" in err
    assert f"{bad}:3: expected a JSON object, got list" in err
    assert f"{bad}:4: no 'id' value" in err


def test_non_utf8_sources_name_the_byte_offset(cli, tmp_path: Path) -> None:
    jsonl = tmp_path / "latin1.jsonl"
    first = json.dumps({"id": "1", "title": "a"}).encode() + b"\n"
    jsonl.write_bytes(first + b'{"id": "2", "title": "caf\xe9"}\n')
    code, _, err = cli("index", str(jsonl), "--index", str(tmp_path / "ix"))
    offset = len(first) + len(b'{"id": "2", "title": "caf')
    assert code == 3
    assert err.strip() == f"vnsearch: error: {jsonl}:2: not UTF-8 (invalid byte at offset {offset})"
    csv_path = tmp_path / "latin1.csv"
    csv_path.write_bytes(b"id,title\n1,caf\xe9\n")
    code, _, err = cli("index", str(csv_path), "--index", str(tmp_path / "ix"))
    assert code == 3 and f"{csv_path}: not UTF-8 (invalid byte at offset 14)" in err
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"Tieu de\ncaf\xe9")
    code, _, err = cli("index", str(folder), "--index", str(tmp_path / "ix"))
    assert code == 3 and f"{folder / 'a.txt'}: not UTF-8 (invalid byte at offset 11)" in err


def test_csv_without_the_id_column(cli, tmp_path: Path) -> None:
    path = tmp_path / "bao.csv"
    path.write_text("ma,title\n1,Hà Nội\n", encoding="utf-8")
    code, _, err = cli("index", str(path), "--index", str(tmp_path / "ix"))
    assert code == 3 and err.count("\n") == 1
    assert f"{path}: no 'id' column (columns: ma, title)" in err and "--id-field" in err
    assert not (tmp_path / "ix").exists()


def test_missing_foreign_and_locked_indexes(cli, tmp_path: Path) -> None:
    code, _, err = cli("query", "x", "--index", str(tmp_path / "nope"))
    assert code == 3 and err == f"vnsearch: error: {tmp_path / 'nope'}: no such index folder\n"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x", encoding="utf-8")
    code, _, err = cli("info", "--index", str(foreign))
    assert code == 3 and "not a vnsearch index" in err and err.count("\n") == 1
    code, _, err = cli("index", str(SEEDS), "--index", str(foreign))
    assert code == 3 and "is not a vnsearch index; refusing to write into it" in err
    index = tmp_path / "ix"
    cli("index", str(SEEDS), "--index", str(index))
    ix = vnsearch.Index.open(index)
    with ix.writer():
        code, _, err = cli("index", str(SEEDS), "--index", str(index), "--wait", "0")
    assert code == 3 and "another writer holds the lock" in err and err.count("\n") == 1


def test_usage_errors_exit_2(cli, tmp_path: Path) -> None:
    assert cli("query", "--offset", "x")[0] == 2  # (no query words: a listing, exit 0)
    assert cli("query", "x", "--limit", "0")[0] == 2
    code, _, err = cli("index", str(SEEDS))  # no --index, no VNSEARCH_INDEX
    assert code == 2 and "--index" in err
    code, _, err = cli("index", str(SEEDS), "--index", str(tmp_path / "i"), "--fields", "a=b,2x")
    assert code == 2 and "'2x' is not a field name" in err
    code, _, err = cli("index", str(SEEDS), "--index", str(tmp_path / "i"), "--fields", "id=b")
    assert code == 3 and "'id' is the documents' unique ID field" in err
    assert not (tmp_path / "i").exists()
    code, _, err = cli("index", str(tmp_path / "nope.jsonl"), "--index", str(tmp_path / "i"))
    assert code == 3 and "no such file or folder" in err
    (tmp_path / "data.xml").write_text("<a/>", encoding="utf-8")
    code, _, err = cli("index", str(tmp_path / "data.xml"), "--index", str(tmp_path / "i"))
    assert code == 3 and "unknown kind of source" in err


def test_vnsearch_index_env_names_the_index(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VNSEARCH_INDEX", str(tmp_path / "env-ix"))
    assert cli("index", str(SEEDS))[0] == 0
    assert query_json(cli, "thai nguyen")["total"] > 0
    assert not (tmp_path / "cache").exists()  # the seeds index was not needed


def test_ctrl_c_exits_130_and_leaves_no_index(cli, tmp_path, monkeypatch) -> None:
    from vnsearch.cli import sources

    def interrupted(self):
        yield from ()
        raise KeyboardInterrupt

    monkeypatch.setattr(sources.TextFiles, "records", interrupted)
    code, _, err = cli("index", str(SEEDS), "--index", str(tmp_path / "ix"))
    assert code == 130 and err == "vnsearch: interrupted\n"
    assert not (tmp_path / "ix").exists()


def test_progress_only_on_a_terminal() -> None:
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        p = Progress(total_bytes=1000, stream=stream)
        p.update(documents=120, done_bytes=500, force=True)
        p.finish()
    assert "120 documents" in tty.getvalue() and "documents/s" in tty.getvalue()
    assert "50%" in tty.getvalue()
    assert pipe.getvalue() == ""


# -- the default index: the bundled seeds, built once in the user's cache ---------------


def test_default_index_is_built_once_and_reused(cli, tmp_path, monkeypatch) -> None:
    result = query_json(cli, "tổ chức đảng")
    assert result["total"] == 5
    built = list((tmp_path / "cache" / "vnsearch").iterdir())
    assert len(built) == 1 and built[0].name.startswith(f"seeds-f{vnsearch.index.FORMAT_VERSION}-")
    stamp = (built[0] / "vnsearch.json").stat().st_mtime_ns

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the seeds index was rebuilt")

    monkeypatch.setattr("vnsearch.cli.indexing.index_sources", no_rebuild)
    assert query_json(cli, "to chuc dang")["total"] == 5
    assert (built[0] / "vnsearch.json").stat().st_mtime_ns == stamp
    assert list((tmp_path / "cache" / "vnsearch").iterdir()) == built
    _, out, _ = cli("info", "--json")
    assert json.loads(out)["path"] == str(built[0])


def test_default_index_rebuilt_when_the_seeds_change(tmp_path: Path) -> None:
    seeds, cache = tmp_path / "seeds", tmp_path / "cache"
    shutil.copytree(SEEDS, seeds)
    first = ensure_seeds_index(seeds, cache)
    assert ensure_seeds_index(seeds, cache) == first
    (seeds / "005_new.txt").write_text("Lũ lụt ở miền Trung\nMưa lớn kéo dài.", "utf-8")
    second = ensure_seeds_index(seeds, cache)
    assert second != first and not first.exists()
    assert [p.name for p in cache.iterdir()] == [second.name]  # no temporary folder left
    hits = vnsearch.Index.open(second).search("lu lut")
    assert [h.id for h in hits] == ["005_new.txt"]


def test_seeds_fingerprint_names_the_format_version(tmp_path, monkeypatch) -> None:
    seeds, cache = tmp_path / "seeds", tmp_path / "cache"
    shutil.copytree(SEEDS, seeds)
    first = ensure_seeds_index(seeds, cache)
    assert first.name.startswith(f"seeds-f{vnsearch.index.FORMAT_VERSION}-")
    monkeypatch.setattr("vnsearch.index.schema.FORMAT_VERSION", 99)
    assert default_index_module._seeds_index_name(seeds).startswith("seeds-f99-")
    second = ensure_seeds_index(seeds, cache)
    assert second.name.startswith("seeds-f99-") and not first.exists()
    assert json.loads((second / "vnsearch.json").read_text("utf-8"))["format"] == 99


def test_seeds_dir_is_the_checkout_seeds() -> None:
    assert seeds_dir() == SEEDS.resolve()


# -- end to end, in subprocesses ---------------------------------------------------------


def test_end_to_end_index_then_query_json(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("VNSEARCH_INDEX", None)
    jsonl = write_jsonl(
        tmp_path / "tin.jsonl",
        {"id": "1", "title": "Thủy điện Hòa Bình", "body": "Nhà máy ở Hòa Bình"},
        {"id": "2", "title": "Đà Nẵng", "body": "Thành phố biển"},
    )
    index = str(tmp_path / "ix")
    cmd = [sys.executable, "-m", "vnsearch"]
    out = subprocess.run([*cmd, "index", str(jsonl), "--index", index],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0 and "2 added" in out.stdout and out.stderr == "", out.stderr
    out = subprocess.run([*cmd, "query", "thuy dien", "--index", index, "--json"],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["total"] == 1 and result["hits"][0]["id"] == "1"


def test_two_processes_build_the_default_index_at_once(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("VNSEARCH_INDEX", None)
    cmd = [sys.executable, "-m", "vnsearch", "query", "tổ chức đảng", "--json"]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "Traceback" not in err, err
        assert json.loads(out)["total"] == 5
    assert len(list((tmp_path / "cache" / "vnsearch").iterdir())) == 1


def test_each_command_help_has_vietnamese_examples(cli) -> None:
    for command, example in [
        ((), 'vnsearch query "tổ chức đảng"'),
        (("query",), "vnsearch query to chuc dang"),
        (("index",), "--fields title=tieu_de,body=noi_dung"),
        (("info",), "vnsearch info --index tin-tuc.idx --json"),
        (("optimize",), "vnsearch optimize --index tin-tuc.idx"),
        (("index",), "--jobs 1"),
        (("analyze",), 'vnsearch analyze "Thủy điện Hòa Bình"'),
    ]:
        code, out, _ = cli(*command, "--help")
        assert code == 0 and example in out


def test_help_query_examples_run_on_the_seeds(cli, tmp_path, monkeypatch) -> None:
    """The query examples of ``vnsearch query --help`` find documents in the seeds."""
    import shlex

    _, help_text, _ = cli("query", "--help")
    examples = [
        shlex.split(line.split("  ")[1].strip())
        for line in help_text.splitlines()
        if line.startswith("  vnsearch query")
    ]
    assert len(examples) >= 4
    monkeypatch.chdir(tmp_path)
    seeds = [  # with a KEYWORD and a DATETIME column, as the examples filter and sort
        {**doc, "chu_de": "thoi-su", "ngay": f"2020-06-0{i + 1}T08:00"}
        for i, doc in enumerate(read_seeds())
    ]
    write_jsonl(tmp_path / "seeds.jsonl", *seeds)
    options = ["--keyword", "chu_de", "--datetime", "ngay"]
    assert cli("index", "seeds.jsonl", "--index", "tin-tuc.idx", *options)[0] == 0
    for argv in examples:
        args = [a for a in argv[1:] if a != "--json"]
        code, out, err = cli(*args)
        assert code == 0, (argv, err)
        assert "documents match" in out or "document matches" in out, argv


# -- worker processes and optimize --------------------------------------------------------


def seed_sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    return [s.strip() for s in text.replace("\n", ". ").split(". ") if len(s.split()) > 3]


def sentence_docs(n: int, start: int = 0, tag: str = "") -> list[dict]:
    """``n`` documents made of the seeds' sentences: title one sentence, body the next four."""
    sentences = seed_sentences()
    k = len(sentences)
    return [
        {
            "id": f"d{i}",
            "title": sentences[i % k] + tag,
            "body": ". ".join(sentences[(i + j) % k] for j in range(1, 5)),
        }
        for i in range(start, start + n)
    ]


CHECKS = ["tổ chức đảng", "hoi nghi truc tuyen", '"Ban Tổ chức Trung ương"', "lạng sơn", "dân"]


def ranked(cli, index: str) -> list[list[tuple[str, float]]]:
    """(id, score) of every hit of each check query."""
    out = []
    for q in CHECKS:
        result = query_json(cli, q, "--index", index, "--limit", "100")
        assert result["total"] == len(result["hits"])
        out.append([(h["id"], h["score"]) for h in result["hits"]])
    return out


def test_jobs_reaches_the_writer_and_gives_the_same_index(cli, tmp_path, monkeypatch) -> None:
    source = write_jsonl(tmp_path / "docs.jsonl", *sentence_docs(80))
    seen = []
    writer = vnsearch.Index.writer

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("jobs"))
        return writer(self, *args, **kwargs)

    monkeypatch.setattr(vnsearch.Index, "writer", spy)
    results = []
    for jobs in (["--jobs", "1"], ["-j", "2"], []):
        index = str(tmp_path / f"ix{len(results)}")
        code, out, err = cli("index", str(source), "--index", index, *jobs)
        assert code == 0 and "80 added" in out, err
        results.append(ranked(cli, index))
    assert seen == [1, 2, None]  # None: the library's default, one process per core
    assert all(results[0]) and sum(map(len, results[0])) > 80
    assert results[1] == results[0] and results[2] == results[0]


def test_jobs_must_be_a_positive_number(cli, tmp_path) -> None:
    for value in ("0", "-1", "two"):
        code, _, err = cli("index", str(SEEDS), "--index", str(tmp_path / "ix"), "--jobs", value)
        assert code == 2 and "--jobs" in err
    assert not (tmp_path / "ix").exists()


def test_optimize_merges_segments_and_keeps_the_results(cli, tmp_path) -> None:
    index = str(tmp_path / "ix")
    docs = sentence_docs(90)
    for part in range(3):  # three commits of 30 documents: three segments
        source = write_jsonl(tmp_path / f"part{part}.jsonl", *docs[30 * part : 30 * part + 30])
        assert cli("index", str(source), "--index", index, "--jobs", "1")[0] == 0
    replaced = sentence_docs(10, start=20, tag=" (cập nhật)")  # replaces d20..d29
    source = write_jsonl(tmp_path / "replaced.jsonl", *replaced)
    assert cli("index", str(source), "--index", index, "--jobs", "1")[0] == 0
    _, out, _ = cli("info", "--index", index, "--json")
    before = json.loads(out)
    assert before["segments"] >= 3 and before["deleted"] == 10 and before["documents"] == 90
    hits_before = ranked(cli, index)

    code, out, err = cli("optimize", "--index", index)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"optimized {index} in ")
    assert lines[1].split() == ["segments", str(before["segments"]), "->", "1"]
    assert lines[2].split() == ["documents", "90", "->", "90"]
    assert lines[3].split() == ["deleted", "10", "->", "0"]
    _, out, _ = cli("info", "--index", index, "--json")
    after = json.loads(out)
    assert (after["segments"], after["deleted"], after["documents"]) == (1, 0, 90)
    assert after["size_bytes"] < before["size_bytes"]
    hits_after = ranked(cli, index)
    # the same documents match; the scores are those of one index built from the final
    # documents (the deleted ones no longer count in the statistics)
    for b, a in zip(hits_before, hits_after):
        assert sorted(i for i, _ in b) == sorted(i for i, _ in a)
    final = {d["id"]: d for d in docs} | {d["id"]: d for d in replaced}
    fresh = str(tmp_path / "fresh")
    source = write_jsonl(tmp_path / "final.jsonl", *final.values())
    assert cli("index", str(source), "--index", fresh, "--jobs", "1")[0] == 0
    for a, f in zip(hits_after, ranked(cli, fresh)):
        assert dict(a) == pytest.approx(dict(f), rel=1e-9)
    # a second time there is nothing to merge: the index is left as it is
    files = {p.name: p.stat().st_mtime_ns for p in Path(index).iterdir()}
    code, out, _ = cli("optimize", "--index", index)
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == f"nothing to merge in {index}: one segment, no deleted documents"
    assert lines[1].split() == ["segments", "1", "->", "1"]
    assert {p.name: p.stat().st_mtime_ns for p in Path(index).iterdir()} == files


def test_optimize_errors(cli, tmp_path) -> None:
    code, _, err = cli("optimize")  # no --index, no VNSEARCH_INDEX
    assert code == 2 and "--index" in err
    code, _, err = cli("optimize", "--index", str(tmp_path / "nope"))
    assert code == 3 and err == f"vnsearch: error: {tmp_path / 'nope'}: no such index folder\n"
    index = tmp_path / "ix"
    cli("index", str(SEEDS), "--index", str(index))
    more = write_jsonl(tmp_path / "more.jsonl", *sentence_docs(3))
    cli("index", str(more), "--index", str(index))  # a second segment: something to merge
    ix = vnsearch.Index.open(index)
    with ix.writer():
        code, _, err = cli("optimize", "--index", str(index), "--wait", "0")
    assert code == 3 and "another writer holds the lock" in err and err.count("\n") == 1


def test_a_text_over_the_writer_limit_is_a_data_error_or_skipped(cli, tmp_path: Path) -> None:
    """The writer refuses a TEXT value over its size limit with a ValueError: the command
    names the record (no traceback), and ``--skip-errors`` skips and counts it."""
    source = tmp_path / "big.jsonl"
    rows = [{"id": "1", "body": "Hà Nội"}, {"id": "2", "body": "chữ " * 400_000}]
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    limit = ["--max-text-mb", "1"]
    code, out, err = cli("index", str(source), "--index", str(tmp_path / "a"), *limit)
    assert code == 3 and "big.jsonl:2" in err and "1 MB" in err and "Traceback" not in err
    code, out, err = cli(
        "index", str(source), "--index", str(tmp_path / "b"), *limit, "--skip-errors"
    )
    assert code == 0 and "1 added" in out and "skipped" in out + err


def test_verify_checks_every_byte_and_names_a_damaged_segment(cli, tmp_path) -> None:
    """``vnsearch verify`` reads the whole index against its checksums; a flipped byte
    (in a part too large to be checked on open, here: any part) is one line naming the
    segment file, exit code 3; ``query`` on that index is no traceback either."""
    index = tmp_path / "ix"
    assert cli("index", str(SEEDS), "--index", str(index))[0] == 0
    code, out, err = cli("verify", "--index", str(index))
    assert code == 0, err
    assert out.startswith(f"verified {index} in ") and "1 segment, " in out
    assert out.rstrip().endswith("every checksum matches")
    (segment,) = index.glob("*.seg")
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x40
    segment.write_bytes(bytes(data))
    code, out, err = cli("verify", "--index", str(index))
    assert code == 3 and out == ""
    assert err.startswith(f"vnsearch: error: {index}: damaged") and segment.name in err
    assert "checksum mismatch in bytes" in err and err.count("\n") == 1
    code, out, err = cli("query", "hà nội", "--index", str(index))
    assert code in (0, 3) and (code == 0 or segment.name in err)
