"""The command line a user expects: ``--version``, ``index -`` (JSON Lines on standard
input), CSV read as a stream, ``--keyword``/``--numeric``/``--datetime`` columns,
``delete``, and ``query --filter/--sort/--offset``, a listing, a query after ``--``."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

import vnsearch
from vnsearch import Index
from vnsearch.cli import main
from vnsearch.cli.sources import Csv, StdinJsonLines

DOCS = [
    {"id": "a", "title": "Bóng đá Việt Nam", "body": "Đội tuyển thắng", "chu_de": "the-thao",
     "ngay": "2024-03-01T10:00", "diem": 3},
    {"id": "b", "title": "Giá vàng", "body": "Giá vàng tăng mạnh", "chu_de": "kinh-te",
     "ngay": "2024-03-02T10:00", "diem": 5},
    {"id": "c", "title": "Bóng chuyền", "body": "Đội bóng chuyền thắng", "chu_de": "The-Thao",
     "ngay": "2024-03-03T10:00", "diem": 1},
    {"id": "d", "title": "Thời tiết", "body": "Hà Nội mưa, đội bóng nghỉ", "chu_de": "doi-song",
     "ngay": "2024-02-01T10:00", "diem": 4},
    {"id": "e", "title": "Bóng rổ", "body": "Đội bóng rổ thua", "chu_de": "the-thao",
     "ngay": "2024-01-01T10:00"},
]  # fmt: skip
TYPED = ["--keyword", "chu_de", "--datetime", "ngay", "--numeric", "diem"]


def run(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "vnsearch", *args], capture_output=True, input=input, timeout=120
    )


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys) -> Callable[..., tuple[int, str, str]]:
    """``cli(*args, stdin=b"...") -> (exit code, stdout, stderr)``, in a private cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VNSEARCH_INDEX", raising=False)

    def run_cli(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run_cli


def jsonl(*docs: dict | str) -> bytes:
    return "".join(
        (d if isinstance(d, str) else json.dumps(d, ensure_ascii=False)) + "\n" for d in docs
    ).encode()


@pytest.fixture
def news(cli, tmp_path: Path) -> str:
    """DOCS indexed from standard input, with a KEYWORD, a DATETIME and a NUMERIC column."""
    index = str(tmp_path / "ix")
    code, out, err = cli("index", "-", "--index", index, *TYPED, "--jobs", "1", stdin=jsonl(*DOCS))
    assert code == 0, err
    assert "indexed 5 documents" in out
    return index


def ids(cli, *args: str) -> list[str]:
    code, out, err = cli("query", "--json", *args)  # (--json before a "--")
    assert code == 0, err
    return [hit["id"] for hit in json.loads(out)["hits"]]


def test_version(cli) -> None:
    code, out, _ = cli("--version")
    assert (code, out) == (0, f"vnsearch {vnsearch.__version__}\n")


# -- index -: JSON Lines from standard input ---------------------------------------------------


def test_index_from_a_pipe_plain_and_gzipped(tmp_path: Path) -> None:
    for name, data in [("plain", jsonl(*DOCS)), ("gz", gzip.compress(jsonl(*DOCS)))]:
        index = str(tmp_path / name)
        out = run("index", "-", "--index", index, "--keyword", "chu_de", input=data)
        assert out.returncode == 0, out.stderr
        with Index.open(index) as ix:
            assert ix.doc_count == 5 and ix.schema["chu_de"].kind == "KEYWORD"
            assert ix.get("b")["title"] == "Giá vàng"


def test_stdin_errors_name_the_line(cli, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    bad = jsonl(DOCS[0], "{not json", DOCS[1])
    code, _, err = cli("index", "-", "--index", index, stdin=bad)
    assert code == 3
    assert err == "vnsearch: error: <stdin>:2: malformed JSON: Expecting property name " \
        "enclosed in double quotes (column 2)\n"  # fmt: skip
    assert not Path(index).exists()  # nothing committed
    code, out, err = cli("index", "-", "--index", index, "--skip-errors", stdin=bad)
    assert code == 0 and "skipped 1 records" in out and "<stdin>:2" in err
    code, _, err = cli("index", "-", "--index", index, stdin=b'{"id": "x"}\n\xff\n')
    assert code == 3 and "<stdin>:2: not UTF-8 (invalid byte at offset 12)" in err
    code, _, err = cli("index", "-", "-", "--index", index)
    assert code == 2 and "once" in err


def test_stdin_columns_are_read_ahead_once() -> None:
    source = StdinJsonLines(io.BytesIO(jsonl("[1]", *DOCS[:2])))
    assert source.columns() == list(DOCS[0])
    items = list(source.records())
    assert [type(i).__name__ for i in items] == ["SourceError", "Record", "Record"]
    assert [i.fields["id"] for i in items[1:]] == ["a", "b"]


# -- CSV as a stream ------------------------------------------------------------------------


def test_csv_is_read_as_a_stream(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    row = "Hà Nội " * 300
    path.write_text(
        "id,title,body\n" + "".join(f"{i},Tin {i},{row}\n" for i in range(4000)), "utf-8"
    )
    assert path.stat().st_size > 8_000_000
    tracemalloc.start()
    try:
        source = Csv(path)
        assert source.columns() == ["id", "title", "body"]
        first = next(iter(source.records()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert first.fields["id"] == "0" and first.where == f"{path}:2"
    assert peak < 1_000_000  # the file is 8 MB: read a line at a time, not whole


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_csv_stream_reads_what_the_csv_module_reads(tmp_path: Path, newline: str) -> None:
    rows = [
        ["id", "title", "body"],
        ["1", "Hà Nội", 'nhiều\ndòng, "trích"'],
        ["2", "", "Đà Nẵng"],
        ["3", "x\u2028y", "z"],
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + buffer.getvalue().encode()))
    got = [r.fields for r in Csv(path).records()]
    assert got == [dict(zip(rows[0], r)) for r in rows[1:]]


# -- typed columns --------------------------------------------------------------------------


def test_typed_columns_make_typed_fields(news: str) -> None:
    with Index.open(news) as ix:
        kinds = {name: ftype.kind for name, ftype in ix.schema.items()}
        assert kinds["chu_de"] == "KEYWORD" and kinds["ngay"] == "DATETIME"
        assert kinds["diem"] == "NUMERIC"


def test_typed_columns_are_checked(cli, news: str, tmp_path: Path) -> None:
    source = tmp_path / "more.jsonl"
    source.write_bytes(jsonl({"id": "z", "title": "t", "tac_gia": "An"}))
    code, _, err = cli("index", str(source), "--index", news, "--keyword", "tac_gia")
    assert code == 3 and "'tac_gia' is missing, not KEYWORD" in err
    code, _, err = cli("index", str(source), "--index", news, "--numeric", "chu_de")
    assert code == 3 and "'chu_de' is KEYWORD, not NUMERIC" in err
    new = str(tmp_path / "new")
    code, _, err = cli("index", str(source), "--index", new, "--keyword", "id")
    assert code == 2 and "id column" in err
    code, _, err = cli("index", str(source), "--index", new, "--keyword", "a", "--numeric", "a")
    assert code == 2 and "two options" in err
    code, _, err = cli("index", "-", "--index", new, "--datetime", "ngay", stdin=jsonl(
        {"id": "1", "ngay": "yesterday"}))  # fmt: skip
    assert code == 3 and "<stdin>:1: column 'ngay'" in err


# -- delete ---------------------------------------------------------------------------------


def test_delete_by_id(cli, news: str) -> None:
    code, out, err = cli("delete", "a", "zz", "c", "a", "--index", news)
    assert code == 0
    assert out == f"deleted 2 of 3 documents from {news}\n"
    assert err == "vnsearch: no document has the id 'zz'\n"
    assert ids(cli, "", "--index", news) == ["b", "d", "e"]
    with Index.open(news) as ix:
        generation = ix.snapshot().generation
    code, out, err = cli("delete", "a", "--index", news)
    assert code == 1 and out.startswith("deleted 0 of 1") and "'a'" in err
    with Index.open(news) as ix:  # nothing to delete: no new commit
        assert ix.snapshot().generation == generation and ix.doc_count == 3


def test_delete_needs_an_index(cli, tmp_path: Path, monkeypatch) -> None:
    code, _, err = cli("delete", "a")
    assert code == 2 and "--index" in err
    code, _, err = cli("delete", "a", "--index", str(tmp_path / "none"))
    assert code == 3 and "no such index folder" in err


# -- query --filter, --sort, --offset, listing, "--" -------------------------------------------


def test_filter_values_of_one_field_any_several_fields_all(cli, news: str) -> None:
    sport = ids(cli, "bóng", "--index", news, "--filter", "chu_de=the-thao")
    assert sorted(sport) == ["a", "c", "e"]  # KEYWORDs are lowercased: The-Thao too
    both = ["--filter", "chu_de=the-thao", "--filter", "chu_de=doi-song"]
    assert sorted(ids(cli, "bóng", "--index", news, *both)) == ["a", "c", "d", "e"]
    narrow = ["--filter", "chu_de=the-thao", "--filter", "id=a"]
    assert ids(cli, "bóng", "--index", news, *narrow) == ["a"]


def test_sort_ascending_and_descending(cli, news: str) -> None:
    assert ids(cli, "bong", "--index", news, "--sort", "-ngay") == ["c", "a", "d", "e"]
    assert ids(cli, "bong", "--index", news, "--sort=ngay") == ["e", "d", "a", "c"]
    # no value last
    assert ids(cli, "bong", "--index", news, "--sort", "-diem") == ["d", "a", "c", "e"]


def test_offset_pages(cli, news: str) -> None:
    whole = ids(cli, "bong", "--index", news)
    pages = [ids(cli, "bong", "--index", news, "-n", "2", "--offset", str(o)) for o in (0, 2, 4)]
    assert pages[0] + pages[1] + pages[2] == whole and len(whole) == 4
    code, out, _ = cli("query", "bong", "--index", news, "-n", "2", "--offset", "2", "--json")
    assert json.loads(out)["offset"] == 2 and json.loads(out)["total"] == 4
    code, out, _ = cli("query", "bong", "--index", news, "-n", "2", "--offset", "2")
    assert out.startswith('4 documents match "bong"; 3 to 4:') and "\n3. " in out
    code, _, err = cli("query", "bong", "--index", news, "--offset", "-1")
    assert code == 2 and "--offset" in err


def test_no_query_lists_documents(cli, news: str) -> None:
    assert ids(cli, "--index", news) == ["a", "b", "c", "d", "e"]
    assert ids(cli, "--index", news, "--filter", "chu_de=the-thao", "--sort", "-ngay") == [
        "c",
        "a",
        "e",
    ]
    code, out, _ = cli("query", "--index", news, "-n", "2")
    assert code == 0 and out.startswith("5 documents; the first 2:")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--filter", "nope=1"], "--filter: 'nope' is no field; the index's fields that filter "
         "(KEYWORD, ID): id, chu_de"),
        (["--filter", "body=x"], "'body' is a TEXT field"),
        (["--filter", "chu_de"], "expected FIELD=VALUE"),
        (["--sort", "title"], "--sort: 'title' is a TEXT field; the index's fields that sort "
         "(NUMERIC, DATETIME, KEYWORD, ID): "),
        (["--sort", "-ngay,nope"], "--sort: 'nope' is no field"),
    ],
)  # fmt: skip
def test_bad_filter_or_sort_is_a_usage_error(cli, news: str, option, message) -> None:
    code, out, err = cli("query", "bong", "--index", news, *option)
    assert code == 2 and out == ""
    assert err.startswith("vnsearch: error: ") and message in err and err.count("\n") == 1


def test_sort_by_several_keys_as_the_library_does(cli, news: str) -> None:
    ix = vnsearch.Index.open(news)
    for keys in (["-ngay", "diem"], ["chu_de", "-score"], ["diem", "-ngay"]):
        want = [hit.id for hit in ix.search("", sort=keys)]
        assert ids(cli, "--index", news, "--sort", ",".join(keys)) == want
        spread = [arg for key in keys for arg in ("--sort", key)]
        assert ids(cli, "--index", news, *spread) == want
    ix.close()


def test_synonyms_from_a_file_or_none(cli, news: str, tmp_path: Path) -> None:
    table = tmp_path / "dong-nghia.txt"
    table.write_text("# ours\nvàng, kim loại quý\n", encoding="utf-8")
    assert ids(cli, "--index", news, "kim loại quý") == []
    assert ids(cli, "--index", news, "--synonyms", str(table), "kim loại quý") == ["b"]
    assert ids(cli, "--index", news, "HN") == ["d"]  # the built-in abbreviations
    assert ids(cli, "--index", news, "--no-synonyms", "HN") == []
    table.write_text("vàng =>\n", encoding="utf-8")
    code, out, err = cli("query", "--index", news, "--synonyms", str(table), "vàng")
    assert code != 0 and out == "" and f"{table}:1" in err and err.count("\n") == 1
    code, _, err = cli("query", "--index", news, "--synonyms", str(table), "--no-synonyms", "x")
    assert code == 2 and "not allowed with" in err


def test_a_query_that_starts_with_a_dash(cli, news: str) -> None:
    assert ids(cli, "--index", news, "--", "-vàng", "tăng", "thắng") == ["a", "c"]
    code, _, err = cli("query", "-vàng", "--index", news)
    assert code == 2 and "-vàng" in err
    code, out, _ = cli("query", "--help")
    assert 'A query that starts with "-" goes after "--"' in out
    # as the shell runs it
    out = run("query", "--index", news, "--json", "--", "-foo", "bong")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["query"] == "-foo bong"
    assert json.loads(out.stdout)["total"] == 4
