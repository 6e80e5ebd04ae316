"""Every failure has a name: what each kind of bad input or damaged file raises.

All of them are :class:`vnsearch.VnsearchError`, exported from ``vnsearch``; a damaged
schema file, table of contents or segment is :class:`vnsearch.IndexCorrupted` on open,
search and verify, and the command line prints it as one line (exit 3).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import vnsearch
from vnsearch import (
    ID,
    TEXT,
    DocumentError,
    IncompatibleIndex,
    Index,
    IndexCorrupted,
    IndexLocked,
    IndexNotFound,
    Schema,
    SchemaError,
    VnsearchError,
)
from vnsearch.index.schema import FORMAT_VERSION

ERRORS = [
    "DocumentError",
    "IncompatibleIndex",
    "IndexCorrupted",
    "IndexLocked",
    "IndexNotFound",
    "IndexWriteError",
    "ModelError",
    "SchemaError",
    "VnsearchError",
]


def _cli_reads(path):
    """``vnsearch query``, ``info`` and ``verify`` of the index at ``path``, each run."""
    for command in (["query", "ha noi"], ["info"], ["verify"]):
        yield (
            command,
            subprocess.run(
                [sys.executable, "-m", "vnsearch", *command, "--index", str(path)],
                capture_output=True,
                text=True,
                timeout=120,
            ),
        )


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))


def _index(tmp_path: Path) -> Path:
    path = tmp_path / "ix"
    with Index.create(path, _schema()) as ix, ix.writer(jobs=1) as w:
        for i in range(30):
            w.add({"id": str(i), "body": f"Tin số {i} về Hà Nội và Thành phố Hồ Chí Minh"})
    return path


def test_every_public_name_resolves_and_every_error_is_exported():
    for name in vnsearch.__all__:
        assert getattr(vnsearch, name) is not None, name
    for name in ERRORS:
        assert name in vnsearch.__all__, name
        assert issubclass(getattr(vnsearch, name), VnsearchError), name
    assert "IndexError_" not in vnsearch.__all__  # a deprecated alias only
    assert vnsearch.IndexError_ is VnsearchError


def test_a_missing_index_is_index_not_found(tmp_path):
    with pytest.raises(IndexNotFound, match="no such index folder"):
        Index.open(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexNotFound, match="not a vnsearch index"):
        Index.open(tmp_path / "empty")
    path = _index(tmp_path)
    for toc in path.glob("_MAIN_*.toc"):
        toc.unlink()
    with pytest.raises(IndexNotFound, match="missing"):
        Index.open(path)


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00garbage",  # not UTF-8
        b'{"format": 2, "fields": {',  # truncated JSON
        b"[1, 2, 3]",  # JSON, not a schema
        b'{"format": %d, "fields": {"body": {"type": "NOPE"}}}' % FORMAT_VERSION,  # unknown type
        b"",
    ],
)
def test_a_damaged_schema_file_is_index_corrupted(tmp_path, content):
    path = _index(tmp_path)
    (path / "vnsearch.json").write_bytes(content)
    with pytest.raises(IndexCorrupted, match=r"vnsearch\.json"):
        Index.open(path)


def test_a_schema_file_of_another_format_is_incompatible(tmp_path):
    path = _index(tmp_path)
    saved = json.loads((path / "vnsearch.json").read_text(encoding="utf-8"))
    saved["format"] += 1
    (path / "vnsearch.json").write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(IncompatibleIndex, match="format version"):
        Index.open(path)


def test_a_format_2_index_says_how_to_rebuild_it_in_one_line(tmp_path):
    """Format 2 pickled its table of contents and stored fields; format 3 reads none of it:
    opening one is IncompatibleIndex saying how to rebuild, also from the command line."""
    path = _index(tmp_path)
    saved = json.loads((path / "vnsearch.json").read_text(encoding="utf-8"))
    saved["format"] = 2
    (path / "vnsearch.json").write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(IncompatibleIndex) as info:
        Index.open(path)
    message = str(info.value)
    assert "format version 2" in message and "vnsearch index SOURCE... --index" in message
    assert "\n" not in message
    for command, out in _cli_reads(path):
        assert out.returncode == 3, (command, out.stderr)
        assert out.stderr.strip() == f"vnsearch: error: {message}", out.stderr


def test_opening_with_another_schema_is_incompatible(tmp_path):
    path = _index(tmp_path)
    with pytest.raises(IncompatibleIndex, match="another schema"):
        Index.open(path, Schema(id=ID(stored=True, unique=True), title=TEXT()))


def test_a_damaged_table_of_contents_is_index_corrupted(tmp_path):
    path = _index(tmp_path)
    (toc,) = path.glob("_MAIN_*.toc")
    data = toc.read_bytes()
    for cut in (0, 1, len(data) // 2, len(data) - 1):
        toc.write_bytes(data[:cut])
        with pytest.raises(IndexCorrupted, match="table of contents"):
            Index.open(path)
    toc.write_bytes(data)
    with Index.open(path) as ix:
        assert ix.search("ha noi").total == 30


def test_a_damaged_segment_is_index_corrupted_on_open_search_and_verify(tmp_path):
    path = _index(tmp_path)
    (segment,) = path.glob("*.seg")
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x20
    segment.write_bytes(bytes(data))
    # open + search (a small segment's parts are checked whole when it is opened)
    with pytest.raises(IndexCorrupted, match=segment.name), Index.open(path) as ix:
        ix.search("ha noi")
    with pytest.raises(IndexCorrupted, match=segment.name), Index.open(path) as ix:
        ix.verify()
    segment.write_bytes(bytes(data[: len(data) // 3]))  # truncated
    with pytest.raises(IndexCorrupted, match="damaged or truncated"), Index.open(path) as ix:
        ix.search("ha noi")


def test_a_second_writer_is_index_locked(tmp_path):
    path = _index(tmp_path)
    with Index.open(path) as ix, ix.writer(jobs=1), pytest.raises(IndexLocked):
        ix.writer(timeout=0.0, jobs=1)


def test_a_bad_document_is_a_document_error_naming_the_field():
    ix = Index.in_memory(_schema())
    with ix.writer(jobs=1) as w:
        with pytest.raises(DocumentError, match="'author'"):
            w.add({"id": "1", "author": "x"})
        with pytest.raises(DocumentError, match="'body'") as info:
            w.add({"id": "1", "body": 42})
        # what a bad document raised before: still caught by the same handlers
        assert isinstance(info.value, (TypeError, ValueError, SchemaError))
        with pytest.raises(DocumentError):
            w.add(["not", "a", "mapping"])  # type: ignore[arg-type]
    assert ix.doc_count == 0


def test_the_cli_reports_a_damaged_schema_file_in_one_line(tmp_path):
    path = _index(tmp_path)
    (path / "vnsearch.json").write_bytes(b"\xff\xfe\x00garbage")
    for command, out in _cli_reads(path):
        assert out.returncode == 3, (command, out.stderr)
        assert "Traceback" not in out.stderr
        assert out.stderr.startswith("vnsearch: error: ") and "vnsearch.json" in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
