"""The README's code runs as written, and CI runs the README's test command."""

from __future__ import annotations

import doctest
import re

from conftest import ROOT

README = ROOT / "README.md"


def _sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_python_examples_run(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples read seeds/ as a user in a checkout would
    result = doctest.testfile(
        str(README), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted >= 12
    assert result.failed == 0


def test_ci_runs_the_readme_test_command() -> None:
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    test_command = _sh_blocks()[1].strip()
    assert ci_lines == [test_command]
    assert "pytest" in test_command


def test_readme_run_command_uses_the_cli() -> None:
    run_command = _sh_blocks()[0].strip()
    assert "pip install ." in run_command and "vnsearch " in run_command
