"""A user's code type-checks: ``mypy --strict`` on the README's Python examples and on a
script that pins what each public name returns (``tests/typing/api_types.py``)."""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import vnsearch
from tests.conftest import ROOT

README = ROOT / "README.md"

# Errors inside vnsearch itself are not the user's: the package is checked as a user's
# installed copy would be (mypy reports no errors in installed packages either).
MYPY_CONFIG = """\
[mypy]
strict = True
[mypy-vnsearch.*]
ignore_errors = True
[mypy-whoosh.*,pyvi.*,unidecode.*]
ignore_missing_imports = True
"""


def readme_script() -> str:
    """The README's ```python blocks as one script (outputs become comments)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return "\n".join(doctest.script_from_examples(block) for block in blocks)


def test_the_package_says_it_is_typed() -> None:
    assert (Path(vnsearch.__file__).parent / "py.typed").is_file()
    lazy = vnsearch._LAZY  # the names loaded on first use are exported too
    assert set(lazy) <= set(vnsearch.__all__)


def test_mypy_strict_passes_on_a_users_script(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if importlib.util.find_spec("mypy") is None:
        if os.environ.get("CI"):
            pytest.fail("mypy is not installed: pip install '.[test]'")
        pytest.skip("mypy is not installed (it is in the 'test' extra: pip install '.[test]')")
    script = tmp_path / "readme_user.py"
    script.write_text(readme_script(), encoding="utf-8")
    assert "vnsearch.Index.in_memory" in script.read_text(encoding="utf-8")
    config = tmp_path / "mypy.ini"
    config.write_text(MYPY_CONFIG, encoding="utf-8")
    cache = request.config.cache.mkdir("mypy") if request.config.cache else tmp_path / "cache"
    checked = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--config-file", str(config),
            "--cache-dir", str(cache), "--no-error-summary",
            str(script), str(ROOT / "tests" / "typing" / "api_types.py"),
        ],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},  # this working tree's vnsearch
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
