"""What the benchmark scripts share: where the data is, and what machine they ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VNSEARCH_DATA", REPO.parent / "shared/data"))
DEFAULT_CORPUS = DATA / "vntc/vntc_10topics.jsonl.gz"


def corpus_missing(path: Path) -> str:
    """The one-line error for a missing corpus file."""
    return (
        f"error: corpus not found: {path} (the data comes from the public VNTC release, "
        "duyvuleo/VNTC; see benchmarks/README.md)"
    )


def machine() -> dict[str, Any]:
    """CPU count and model, architecture and Python version of this machine."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }


def _cpu_model() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
