"""Indexes written before still open: their table of contents names vnsearch's classes."""

from __future__ import annotations

import datetime
import importlib
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from whoosh.filedb.filestore import FileStorage

import vnsearch

ROOT = Path(__file__).resolve().parents[2]
# Whoosh pickles the schema (each field's format) and the segments (codec and segment
# objects) into every table of contents: these classes are loaded by module and name,
# so moving or renaming one makes every existing index unreadable.
PICKLED = {
    ("vnsearch.index.codec", "RawPositions"),
    ("vnsearch.index.codec", "VnCodec"),
    ("vnsearch.index.codec", "VnSegment"),
    ("vnsearch.index.schema", "ViewField"),
}
# the last commit before the index modules were rearranged (issue 17)
BEFORE = "f47fa39"
DOCS = [
    {"id": "1", "title": "Hà Nội mùa thu", "body": "Nhà nước đầu tư đường phố Hà Nội.", "n": 3},
    {"id": "2", "title": "Vật lí", "body": "Kỹ thuật vật lý hiện đại; nhà nước.", "n": 5},
    {"id": "3", "title": "Sông Hồng", "body": "Sông Hồng chảy qua Hà Nội, đường dài.", "n": 7},
    {"id": "4", "title": "Huế", "body": "Đường phố Huế cổ kính, mùa mưa.", "tags": ["a", "b"]},
]
QUERIES = ["hà nội", "ha noi", "nha nuoc", '"đường phố"', "vật lý", "song hong -huế"]
BUILD = """
import datetime, json, sys
import vnsearch
schema = vnsearch.Schema(
    id=vnsearch.ID(stored=True, unique=True), title=vnsearch.TEXT(stored=True),
    body=vnsearch.TEXT(stored=True), tags=vnsearch.KEYWORD(stored=True),
    n=vnsearch.NUMERIC(stored=True), when=vnsearch.DATETIME(stored=True),
    note=vnsearch.STORED())
ix = vnsearch.Index.create(sys.argv[1], schema)
docs = json.loads(sys.argv[2])
for part in (docs[:2], docs[2:]):
    with ix.writer(jobs=1) as w:
        for d in part:
            w.add(dict(d, when=datetime.datetime(2020, 1, int(d["id"])), note="x"))
ix.close()
"""


def _build(path: Path, pythonpath: Path | None = None) -> None:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    subprocess.run([sys.executable, "-c", BUILD, str(path), json.dumps(DOCS)], check=True, env=env)


def _pickled_classes(folder: Path) -> set[tuple[str, str]]:
    """The (module, name) of every class the table of contents' pickles load."""
    storage = FileStorage(str(folder))
    toc = max(n for n in storage.list() if n.endswith(".toc"))
    f = storage.open_file(toc)
    for _ in range(3):  # Whoosh's _write_toc: sizes of int, long and float
        f.read_varint()
    f.read_int(), f.read_int()  # -12345, the format version
    for _ in range(3):  # Whoosh's release
        f.read_varint()
    schema = f.read_string()
    f.read_int(), f.read_int()  # generation, unused
    segments = f.read()
    f.close()
    found: set[tuple[str, str]] = set()

    class Recording(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            found.add((module, name))
            return super().find_class(module, name)

    for blob in (schema, segments):
        Recording(io.BytesIO(blob)).load()
    return found


def test_a_table_of_contents_names_only_the_classes_existing_indexes_name(tmp_path):
    _build(tmp_path / "ix", ROOT)
    found = {(m, n) for m, n in _pickled_classes(tmp_path / "ix") if m.startswith("vnsearch")}
    assert found == PICKLED
    for module, name in PICKLED:
        cls = getattr(importlib.import_module(module), name)
        assert (cls.__module__, cls.__qualname__) == (module, name)


def _results(ix: vnsearch.Index) -> dict[str, list[tuple[str, float]]]:
    return {q: [(h.id, round(h.score, 6)) for h in ix.search(q, limit=10)] for q in QUERIES}


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


def test_an_index_written_before_the_index_modules_moved_opens_and_answers_alike(tmp_path):
    if shutil.which("git") is None or _git("cat-file", "-e", f"{BEFORE}^{{commit}}").returncode:
        pytest.skip(f"needs a git checkout holding {BEFORE}")
    archive = _git("archive", "--format=tar", BEFORE, "vnsearch").stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tmp_path / "before", **safe)
    _build(tmp_path / "old", tmp_path / "before")
    _build(tmp_path / "new", ROOT)
    with vnsearch.Index.open(tmp_path / "old") as old, vnsearch.Index.open(tmp_path / "new") as new:
        assert old.verify() and old.doc_count == new.doc_count == len(DOCS)
        expected = _results(new)
        assert all(expected.values())
        assert _results(old) == expected
        hit = old.search("sông hồng")[0]
        assert hit.fields["when"] == datetime.datetime(2020, 1, 3)
        assert hit.fields["note"] == "x"
