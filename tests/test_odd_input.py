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
