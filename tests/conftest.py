"""Shared test helpers: where the public data sets are, and the repository root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VNSEARCH_DATA", ROOT.parent / "shared" / "data"))
VNTC = DATA / "vntc" / "vntc_10topics.jsonl.gz"


def require_data(path: Path) -> Path:
    """Return ``path``; skip when it is missing, except in CI (CI=true), where that fails."""
    if path.exists():
        return path
    message = f"data set not found: {path} (set VNSEARCH_DATA, see benchmarks/README.md)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError  # unreachable


@pytest.fixture(scope="session")
def vntc_texts() -> list[str]:
    """A fixed, evenly spread sample of 300 VNTC news articles (all ten topics)."""
    import gzip
    import json

    with gzip.open(require_data(VNTC), "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for i, line in enumerate(f) if i % 280 == 0]
    return texts[:300]
