"""Odd input gets a one-line vnsearch error, or is handled (issue 19, finding 8): lone
surrogates in documents, schema files with odd values, and the CLI's odd arguments and
input files (devices, FIFOs, huge CSV fields, unreadable subfolders).
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vnsearch import (
    ID,
    KEYWORD,
    NUMERIC,
    STORED,
    TEXT,
    DocumentError,
    IncompatibleIndex,
    Index,
    IndexCorrupted,
    Schema,
    SchemaError,
    fold,
)
from vnsearch.cli.app import main
from vnsearch.index.storage import SCHEMA_FILE, read_schema

SURROGATE = "\ud83d"


def _has_surrogate(value: object) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in json.dumps(value, ensure_ascii=False))


# --- lone surrogates in documents ---------------------------------------------------------


def test_a_lone_surrogate_in_a_text_is_stored_as_analyzed_and_shown() -> None:
    ix = Index.in_memory(Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True)))
    body = f"Phở {SURROGATE}bò Hà Nội{SURROGATE}"
    with ix.writer() as w:
        w.add({"id": "1", "body": body})
    (hit,) = ix.search("pho bo ha noi")
    stored = hit.fields["body"]
    # one U+FFFD for each surrogate: the same length, so offsets into it line up
    assert stored == body.replace(SURROGATE, "\ufffd")
    stored.encode("utf-8")  # printable
    snippet = hit.snippet("body")
    found = [fold(snippet.text[a:b]) for a, b in snippet.spans]
    assert found == ["pho", "bo ha noi"]  # U+FFFD separates words, as the surrogate did


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", f"a{SURROGATE}"), ("tag", f"x{SURROGATE}"), ("tag", ["ok", f"\udc80{SURROGATE}"])],
)
def test_a_lone_surrogate_in_an_exact_value_is_a_document_error(field, value) -> None:
    ix = Index.in_memory(Schema(id=ID(stored=True, unique=True), tag=KEYWORD(), body=TEXT()))
    doc = {"id": "1", "body": "x", field: value}
    with ix.writer() as w, pytest.raises(DocumentError, match=rf"field '{field}'.*surrogate"):
        w.add(doc)  # before: UnicodeEncodeError from Whoosh's term encoding


def _run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real command, with a real stdout and a 2 GB address-space limit (a runaway read
    of a device fails instead of taking the machine's memory)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run(
        [sys.executable, "-m", "vnsearch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=timeout,
        preexec_fn=limit,
        env={**os.environ, "XDG_CACHE_HOME": str(cwd / "cache")},
    )


def test_cli_shows_documents_with_lone_surrogates(tmp_path: Path) -> None:
    # "\ud83d" in JSON decodes to a lone surrogate; before, every query showing the
    # document died printing it (UnicodeEncodeError), text and --json alike
    record = (
        '{"id": "1", "title": "Hà Nội \\ud83d mùa thu", "body": "phở \\ud83d bò ngon", '
        '"extra": {"k\\udc00": ["v\\ud800"]}}\n'
    )
    (tmp_path / "docs.jsonl").write_text(record, encoding="utf-8")
    done = _run("index", "docs.jsonl", "--index", "ix", "--jobs", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = _run("query", "phở bò", "--index", "ix", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Hà Nội \ufffd mùa thu" in done.stdout
    assert "Traceback" not in done.stderr
    done = _run("query", "pho bo", "--index", "ix", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (hit,) = json.loads(done.stdout)["hits"]
    assert hit["fields"]["body"] == "phở \ufffd bò ngon"
    # a STORED value is kept as given; the JSON output escapes it, and reads back the same
    assert hit["fields"]["extra"] == {"k\udc00": ["v\ud800"]}


# --- schema files and schemas with odd values ---------------------------------------------

GOOD = Schema(
    id=ID(stored=True, unique=True),
    title=TEXT(stored=True, boost=2.0),
    tag=KEYWORD(),
    n=NUMERIC(numtype="float"),
    extra=STORED(),
)


def _spec(**changes: object) -> str:
    data = json.loads(GOOD.to_json())
    for path, value in changes.items():
        *keys, last = path.split("__")
        target = data
        for key in keys:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return json.dumps(data)


_DELETE = object()
_NAN = float("nan")

BAD_SCHEMAS = {
    "not an object": "[1, 2]",
    "null": "null",
    "no format": _spec(format=_DELETE),
    "no fields": _spec(fields=_DELETE),
    "format a string": _spec(format="3"),
    "format a float": _spec(format=3.0),
    "format true": _spec(format=True),
    "format NaN": _spec(format=_NAN),
    "fields a list": _spec(fields=[1]),
    "fields empty": _spec(fields={}),
    "field spec a list": _spec(fields__title=["TEXT"]),
    "field spec a string": _spec(fields__title="TEXT"),
    "field spec null": _spec(fields__title=None),
    "no type": _spec(fields__title__type=_DELETE),
    "type a list": _spec(fields__title__type=["TEXT"]),
    "type unknown": _spec(fields__title__type="VECTOR"),
    "unknown option": _spec(fields__title__analyzer="x"),
    "option of another type": _spec(fields__title__unique=True),
    "boost NaN": _spec(fields__title__boost=_NAN),
    "boost infinite": _spec(fields__title__boost=float("inf")),
    "boost negative": _spec(fields__title__boost=-1),
    "boost a string": _spec(fields__title__boost="2"),
    "boost true": _spec(fields__title__boost=True),
    "boost null": _spec(fields__title__boost=None),
    "boost huge": _spec(fields__title__boost=1e300),
    "stored a string": _spec(fields__title__stored="yes"),
    "stored 1": _spec(fields__title__stored=1),
    "unique null": _spec(fields__id__unique=None),
    "lowercase a dict": _spec(fields__tag__lowercase={}),
    "numtype unknown": _spec(fields__n__numtype="decimal"),
    "numtype a number": _spec(fields__n__numtype=1),
    "field name not a name": _spec(**{"fields__1 x": {"type": "ID", "stored": False}}),
    "two unique fields": _spec(fields__tag={"type": "ID", "stored": False, "unique": True}),
    "deeply nested": '{"format": 3, "fields": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "not JSON": '{"format": 3,',
}


@pytest.mark.parametrize("text", BAD_SCHEMAS.values(), ids=BAD_SCHEMAS.keys())
def test_a_schema_with_odd_values_is_a_schema_error(text: str) -> None:
    # before: TypeError, AttributeError, RecursionError, or accepted (NaN, negative boosts)
    with pytest.raises(SchemaError):
        Schema.from_json(text)


def test_a_schema_file_with_odd_values_is_an_index_corrupted_naming_it(tmp_path: Path) -> None:
    ix = Index.create(tmp_path / "ix", GOOD)
    with ix.writer() as w:
        w.add({"id": "1", "title": "Hà Nội"})
    ix.close()
    for name, text in BAD_SCHEMAS.items():
        (tmp_path / "ix" / SCHEMA_FILE).write_text(text, encoding="utf-8")
        with pytest.raises(IndexCorrupted, match=rf"{SCHEMA_FILE}: damaged") as caught:
            Index.open(tmp_path / "ix")
        assert "\n" not in str(caught.value), name
        with pytest.raises(IndexCorrupted):
            read_schema(tmp_path / "ix" / SCHEMA_FILE)


@pytest.mark.parametrize(
    "make",
    [
        lambda: TEXT(boost=_NAN),
        lambda: TEXT(boost=float("inf")),
        lambda: TEXT(boost=-0.5),
        lambda: TEXT(boost="2"),
        lambda: TEXT(stored=1),
        lambda: ID(unique="yes"),
        lambda: KEYWORD(lowercase=None),
        lambda: NUMERIC(numtype="decimal"),
    ],
)
def test_field_types_refuse_odd_values(make) -> None:
    with pytest.raises(SchemaError):
        make()


def test_a_field_may_be_named_self() -> None:
    schema = Schema(self=TEXT(), id=ID())  # before: TypeError, got multiple values for self
    assert Schema.from_json(schema.to_json()) == schema


def test_field_types_take_what_they_always_took() -> None:
    assert TEXT(boost=0).boost == 0
    assert TEXT(boost=3).boost == 3
    assert (
        TEXT(stored=True, boost=0.25)
        == Schema.from_json(Schema(t=TEXT(stored=True, boost=0.25)).to_json())["t"]
    )
    assert Schema.from_json(GOOD.to_json()) == GOOD


def _mutations() -> st.SearchStrategy:
    """A valid schema's JSON data with one part replaced, removed or added."""
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.sampled_from(["TEXT", "ID", "KEYWORD", "NUMERIC", "DATETIME", "STORED", "int"]),
    )
    values = st.recursive(
        leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner)
    )
    return st.tuples(
        st.lists(st.integers(0, 10), min_size=1, max_size=3),  # where
        st.sampled_from(["replace", "delete", "add"]),
        st.text(max_size=8),  # an added key
        values,
    )


def _mutate(data: object, where: list[int], how: str, key: str, value: object) -> object:
    if not where or not isinstance(data, dict) or not data:
        return value if how == "replace" else data
    keys = sorted(data)
    pick = keys[where[0] % len(keys)]
    out = dict(data)
    if len(where) == 1 or not isinstance(data[pick], dict):
        if how == "delete":
            del out[pick]
        elif how == "add":
            out[key] = value
        else:
            out[pick] = value
    else:
        out[pick] = _mutate(data[pick], where[1:], how, key, value)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_mutations(), min_size=1, max_size=3), st.integers(0, 400))
def test_mutated_schema_files_give_only_schema_errors(mutations, cut: int) -> None:
    data: object = json.loads(GOOD.to_json())
    for where, how, key, value in mutations:
        data = _mutate(data, where, how, key, value)
    text = json.dumps(data)
    for candidate in (text, text[: max(cut, 1)]):
        try:
            schema = Schema.from_json(candidate)
        except (SchemaError, IncompatibleIndex) as exc:
            assert "\n" not in str(exc)
            continue
        # what is accepted works: written back the same, usable by Whoosh
        assert Schema.from_json(schema.to_json()) == schema
        schema.whoosh_schema()
        for ftype in schema.values():
            if isinstance(ftype, TEXT):
                assert math.isfinite(ftype.boost) and ftype.boost >= 0


# --- the command line's odd arguments and input files ---------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``cli(*args) -> (exit code, stdout, stderr)``, run in this process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VNSEARCH_INDEX", raising=False)
    monkeypatch.chdir(tmp_path)

    def run_cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: usage errors
            code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return run_cli


def _docs(tmp_path: Path) -> Path:
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "1", "title": "Hà Nội", "body": "mùa thu"}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("value", ["nan", "NaN", "-1", "0", "inf", "-inf", "mười", ""])
def test_max_text_mb_must_be_a_positive_number(cli, tmp_path, value) -> None:
    # before: nan and inf gave a traceback (int(nan)), -1 refused every text
    code, _out, err = cli("index", str(_docs(tmp_path)), "--index", "ix", f"--max-text-mb={value}")
    assert code == 2
    (line,) = [x for x in err.splitlines() if "error:" in x]
    assert "--max-text-mb" in line
    assert not (tmp_path / "ix").exists()


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [
        ("zero.jsonl", lambda p: p.symlink_to("/dev/zero"), "a character device"),
        ("zero.csv", lambda p: p.symlink_to("/dev/zero"), "a character device"),
        ("pipe.jsonl", _fifo, "a FIFO"),
        ("pipe.csv.gz", _fifo, "a FIFO"),
    ],
)
def test_input_files_must_be_regular_files(tmp_path, name, make, kind) -> None:
    # before: /dev/zero read until memory ran out (a MemoryError traceback), a FIFO hung
    make(tmp_path / name)
    done = _run("index", name, "--index", "ix", cwd=tmp_path, timeout=30)
    assert done.returncode == 3
    assert done.stderr.strip() == f"vnsearch: error: {name}: not a regular file ({kind})"
    assert not (tmp_path / "ix").exists()


def test_analyze_file_must_be_a_regular_file(tmp_path) -> None:
    _fifo(tmp_path / "pipe.txt")
    done = _run("analyze", "--file", "pipe.txt", cwd=tmp_path, timeout=30)  # before: hung
    assert done.returncode == 3
    assert done.stderr.strip() == "vnsearch: error: pipe.txt: not a regular file (a FIFO)"


def test_a_fifo_in_a_folder_is_not_a_document(cli, tmp_path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Hà Nội\nmùa thu", encoding="utf-8")
    _fifo(tmp_path / "docs" / "b.txt")
    code, _out, err = cli("index", "docs", "--index", "ix")
    assert code == 0, err
    assert Index.open(tmp_path / "ix").doc_count == 1


def _csv(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "docs.csv"
    path.write_text(f"id,title,body\n1,Hà Nội,{'mùa thu ' * (size // 8)}\n", encoding="utf-8")
    return path


def test_a_csv_field_over_128_kb_is_read(cli, tmp_path) -> None:
    # before: "malformed CSV: field larger than field limit (131072)"
    _csv(tmp_path, 400_000)
    code, _out, err = cli("index", "docs.csv", "--index", "ix")
    assert code == 0, err
    assert [h.id for h in Index.open(tmp_path / "ix").search("mùa thu")] == ["1"]


def test_a_csv_field_over_the_text_limit_is_an_error_naming_its_line(cli, tmp_path) -> None:
    _csv(tmp_path, 400_000)
    code, _out, err = cli("index", "docs.csv", "--index", "ix", "--max-text-mb", "0.2")
    assert code == 3
    assert err.strip() == (
        "vnsearch: error: docs.csv:2: a field longer than --max-text-mb 0.2 allows "
        "(200,000 characters)"
    )
    assert not (tmp_path / "ix").exists()


def _folder_with_a_locked_subfolder(tmp_path: Path) -> Path:
    for name in ("a/one.txt", "locked/two.txt", "z/three.md"):
        path = tmp_path / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{name}\nmùa thu Hà Nội", encoding="utf-8")
    return tmp_path / "docs" / "locked"


def _deny(monkeypatch, folder: Path) -> None:
    """Reading ``folder`` fails as it does without the permission (root reads anything)."""
    scandir = os.scandir

    def denying(path=".", *args, **kwargs):
        if not isinstance(path, int) and Path(os.fsdecode(path)).resolve() == folder.resolve():
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return scandir(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", denying)


def test_an_unreadable_subfolder_stops_the_run_naming_it(cli, tmp_path, monkeypatch) -> None:
    # before: skipped without a word, and its documents were missing from the index
    locked = _folder_with_a_locked_subfolder(tmp_path)
    _deny(monkeypatch, locked)
    code, _out, err = cli("index", "docs", "--index", "ix")
    assert code == 3
    assert err.strip() == (
        f"vnsearch: error: {Path('docs', 'locked')}: cannot read the folder: Permission denied"
    )
    assert not (tmp_path / "ix").exists()


def test_an_unreadable_subfolder_is_skipped_and_named_with_skip_errors(
    cli, tmp_path, monkeypatch
) -> None:
    locked = _folder_with_a_locked_subfolder(tmp_path)
    _deny(monkeypatch, locked)
    code, _out, err = cli("index", "docs", "--index", "ix", "--skip-errors")
    assert code == 0, err
    assert f"skipped {Path('docs', 'locked')}: cannot read the folder" in err
    assert {h.id for h in Index.open(tmp_path / "ix").search("mua thu")} == {
        "a/one.txt",
        "z/three.md",
    }


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="as root, a folder's permissions do not stop reading it (the monkeypatched "
    "tests above simulate it)",
)
def test_a_subfolder_without_permissions_stops_the_run(cli, tmp_path) -> None:
    locked = _folder_with_a_locked_subfolder(tmp_path)
    locked.chmod(0)
    try:
        code, _out, err = cli("index", "docs", "--index", "ix")
    finally:
        locked.chmod(0o755)
    assert code == 3
    assert "locked: cannot read the folder" in err


def test_a_file_that_cannot_be_read_in_a_folder_is_a_record_error(tmp_path) -> None:
    from vnsearch.cli.sources import SourceError, TextFiles

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Hà Nội\nmùa thu", encoding="utf-8")
    (folder / "b.txt").write_text("Huế\nmùa thu", encoding="utf-8")
    source = TextFiles(folder)
    (folder / "a.txt").unlink()  # deleted between the listing and the reading
    first, second = source.records()  # before: a UserError stopped it, --skip-errors or not
    assert isinstance(first, SourceError)
    assert str(first) == f"{folder / 'a.txt'}: no such file"
    assert second.fields["title"] == "Huế"


def test_a_lone_surrogate_in_a_query_is_dropped_quietly():
    """A query from a command line in another encoding holds lone surrogates
    (``surrogateescape``): folding drops them as unidecode does, without unidecode's
    RuntimeWarning on stderr, and the rest of the query is searched."""
    import warnings

    import vnsearch
    from vnsearch.analysis import fold

    ix = vnsearch.Index.in_memory(vnsearch.Schema(body=vnsearch.TEXT(stored=True)))
    with ix.writer(jobs=1) as w:
        w.add({"body": "Hà Nội mùa thu"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fold("h" + chr(0xDCFF) + "à") == "ha"
        assert ix.search("h" + chr(0xDCFF) + " Nội").total == 1
