"""The benchmark scripts start, show their help, and refuse a missing corpus in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

SCRIPTS = ["bench_analyzer.py", "bench_query.py"]


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script: str) -> None:
    out = run(script, "--help")
    assert out.returncode == 0, out.stderr
    assert "--corpus" in out.stdout


@pytest.mark.parametrize("script", SCRIPTS)
def test_missing_corpus_is_one_line_exit_2(tmp_path, script: str) -> None:
    missing = tmp_path / "nope.jsonl.gz"
    out = run(script, "--corpus", str(missing))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: corpus not found: {missing} (the data comes from the public VNTC release, "
        "duyvuleo/VNTC; see benchmarks/README.md)"
    ]
