"""Indexes of older formats are refused clearly: format 2 (pickled table of contents and
stored fields), format 4 (folded-bigram postings stored, not derived) and format 5 (no
bitmaps: a dense list's documents as gaps).

An index written by the last commit of each format is built with that commit's code, in
another process: this vnsearch opens nothing of it and says, in one line, how to rebuild it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import vnsearch

ROOT = Path(__file__).resolve().parents[2]
# the last commit writing index format 2, format 4 and format 5
FORMAT_2 = "97d1451"
FORMAT_4 = "8872a4b"
FORMAT_5 = "7e95c37"
DOCS = [
    {"id": "1", "title": "Hà Nội mùa thu", "body": "Nhà nước đầu tư đường phố Hà Nội."},
    {"id": "2", "title": "Sông Hồng", "body": "Sông Hồng chảy qua Hà Nội, đường dài."},
]
BUILD = """
import json, sys
import vnsearch
schema = vnsearch.Schema(
    id=vnsearch.ID(stored=True, unique=True), title=vnsearch.TEXT(stored=True),
    body=vnsearch.TEXT(stored=True))
ix = vnsearch.Index.create(sys.argv[1], schema)
with ix.writer(jobs=1) as w:
    for d in json.loads(sys.argv[2]):
        w.add(d)
ix.close()
"""


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


@pytest.mark.parametrize(("commit", "version"), [(FORMAT_2, 2), (FORMAT_4, 4), (FORMAT_5, 5)])
def test_an_older_index_is_incompatible_and_says_how_to_rebuild(tmp_path, commit, version):
    if shutil.which("git") is None or _git("cat-file", "-e", f"{commit}^{{commit}}").returncode:
        pytest.skip(f"needs a git checkout holding {commit}")
    archive = _git("archive", "--format=tar", commit, "vnsearch").stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tmp_path / "before", **safe)
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "before"))
    path = tmp_path / "old"
    build = [sys.executable, "-c", BUILD, str(path), json.dumps(DOCS)]
    subprocess.run(build, check=True, env=env, cwd=tmp_path)  # not this checkout's code
    assert json.loads((path / "vnsearch.json").read_text("utf-8"))["format"] == version
    with pytest.raises(vnsearch.IncompatibleIndex) as info:
        vnsearch.Index.open(path)
    message = str(info.value)
    assert f"format version {version}" in message and "rebuild" in message and "\n" not in message
    out = subprocess.run(
        [sys.executable, "-m", "vnsearch", "info", "--index", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 3 and out.stderr.strip() == f"vnsearch: error: {message}"
    # rebuilt into a new folder, as the message says, the documents are found again
    with vnsearch.Index.create(tmp_path / "new", _schema()) as ix:
        with ix.writer(jobs=1) as w:
            for d in DOCS:
                w.add(d)
        assert [h.id for h in ix.search("sông hồng")] == ["2"]


def _schema() -> vnsearch.Schema:
    return vnsearch.Schema(
        id=vnsearch.ID(stored=True, unique=True),
        title=vnsearch.TEXT(stored=True),
        body=vnsearch.TEXT(stored=True),
    )
