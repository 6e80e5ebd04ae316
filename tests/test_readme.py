"""The README's code runs as written, and CI runs the README's test command."""

from __future__ import annotations

import doctest
import re

from tests.conftest import ROOT

README = ROOT / "README.md"


def _sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_python_examples_run(monkeypatch, tmp_path) -> None:
    """From any folder, as a user's script: the examples read the bundled seeds through
    ``vnsearch.seed_documents()``, not a path relative to a checkout."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
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


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _steady(text: str) -> list[str]:
    """Output lines without what changes from run to run (timings)."""
    text = re.sub(r"in [\d.]+ s \([\d,]+ documents/s\)", "in T", text)
    return [line.rstrip() for line in text.strip().splitlines()]


def test_readme_first_command_prints_what_the_readme_shows(tmp_path, monkeypatch, capsys) -> None:
    from vnsearch.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("VNSEARCH_INDEX", raising=False)
    command = _sh_blocks()[0].strip().split(" && ")[-1]
    assert command == 'vnsearch query "tổ chức đảng"'
    assert main(["query", "tổ chức đảng"]) == 0
    shown = _steady(_blocks("text")[0])
    assert shown[-1] == "…"  # the README shows the first hits
    assert _steady(capsys.readouterr().out)[: len(shown) - 1] == shown[:-1]


def test_readme_command_line_examples_run(tmp_path, monkeypatch, capsys) -> None:
    """Every command of the README's command-line section runs as written (in a folder
    with the seeds and a small ``bao.jsonl``), and the shown output is what it prints."""
    import json
    import shlex
    import shutil

    from vnsearch.cli import main

    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    rows = [
        {"ma_bai": "b1", "tieu_de": "Thủ tướng làm việc với Hà Nội", "noi_dung": "Chiều nay..."},
        {"ma_bai": "b2", "tieu_de": "Giá vàng tăng", "noi_dung": "Thủ tướng yêu cầu..."},
    ]
    (tmp_path / "bao.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    blocks = _sh_blocks()[2:]
    assert len(blocks) >= 2
    outputs = []
    for block in blocks:
        for line in block.strip().splitlines():
            argv = shlex.split(line, comments=True)
            assert argv[0] == "vnsearch"
            assert main(argv[1:]) == 0, line
            outputs.append(capsys.readouterr().out)
    shown = _steady(_blocks("text")[1])
    assert _steady("".join(outputs[:2])) == shown


def test_the_wheel_ships_the_license_types_and_seeds(tmp_path) -> None:
    """What a user installs: the MIT license, ``py.typed`` and the bundled seeds."""
    import subprocess
    import sys
    import zipfile

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("vnsearch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names[-10:]
    assert "vnsearch/py.typed" in names
    assert sum(n.startswith("vnsearch/seeds/") and n.endswith(".txt") for n in names) == 5
