"""What vnsearch tells the ``logging`` module (logger ``vnsearch.index``): commits, merges,
recovery after a dead writer, damaged segments; nothing printed unless the application
configures logging."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import two_segments
from vnsearch import TEXT, Index, IndexCorrupted, Schema


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("vnsearch")]


def test_commits_and_merges_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="vnsearch")
    ix = Index.create(tmp_path / "ix", Schema(body=TEXT()))
    for text in ("Hà Nội", "Đà Nẵng"):
        with ix.writer(jobs=1) as w:
            w.add({"body": text})
            w.add({"body": text})
    ix.optimize()
    logged = messages(caplog)
    assert sum("committed a segment of 2 documents in" in m for m in logged) == 2
    assert any(f"{tmp_path / 'ix'}: merged 2 segments in" in m for m in logged)
    assert all(r.name == "vnsearch.index" for r in caplog.records if "merged" in r.getMessage())


def test_a_dead_writers_half_written_table_of_contents_is_logged_when_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ix = Index.create(tmp_path / "ix", Schema(body=TEXT()))
    leftover = tmp_path / "ix" / "_MAIN_7.toc.1234.5"
    leftover.write_bytes(b"half")
    caplog.set_level(logging.WARNING, logger="vnsearch")
    ix.writer(jobs=1).cancel()
    assert not leftover.exists()
    assert any("_MAIN_7.toc.1234.5" in m and "died" in m for m in messages(caplog))


def test_a_damaged_segment_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = two_segments(tmp_path)
    segment = sorted(path.glob("*.seg"))[0]
    data = bytearray(segment.read_bytes())
    data[-500] ^= 0xFF
    segment.write_bytes(bytes(data))
    caplog.set_level(logging.WARNING, logger="vnsearch")
    with pytest.raises(IndexCorrupted), Index.open(path) as ix:
        ix.search("ha noi")
    damaged = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert damaged and damaged[0].levelno == logging.WARNING
    assert segment.name in damaged[0].getMessage()


def test_silent_by_default(tmp_path: Path) -> None:
    """Without logging configured, nothing reaches standard error (no "No handlers" or
    last-resort output)."""
    script = f"""
import vnsearch
ix = vnsearch.Index.create({str(tmp_path / "ix")!r}, vnsearch.Schema(body=vnsearch.TEXT()))
(ix.path / "_MAIN_9.toc.1.2").write_bytes(b"x")
for _ in range(2):
    with ix.writer(jobs=1) as w:
        w.add({{"body": "Hà Nội"}})
ix.optimize()
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert not (tmp_path / "ix" / "_MAIN_9.toc.1.2").exists()  # a warning was emitted
