"""The vnsearch command, end to end in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from vnsearch import normalize


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


def test_help_shows_vietnamese_examples() -> None:
    out = run("--help")
    assert out.returncode == 0
    assert 'vnsearch analyze "Thủy điện Hòa Bình"' in out.stdout
