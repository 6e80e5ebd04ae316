"""Which index a command uses: ``--index``, else ``$VNSEARCH_INDEX``, else an index of the
bundled seeds, built on first use in the user's cache folder.

The seeds index lives in ``<cache>/seeds-f<FORMAT_VERSION>-<fingerprint>``, the fingerprint
a hash of the seeds' names and contents and of vnsearch's version, so a new vnsearch or
new seeds get a new index. It is built in a temporary folder beside it and renamed into
place: two processes starting at once may both build it, but neither ever opens a
half-built index (the loser of the rename uses the winner's).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from vnsearch import demo
from vnsearch.cli.errors import USAGE_ERROR, UserError
from vnsearch.cli.locate import is_index

__all__ = [
    "cache_dir",
    "ensure_seeds_index",
    "resolve_index",
    "seeds_dir",
    "seeds_fingerprint",
]

_STALE_BUILD_S = 3600.0  # a temporary build folder this old was left by a crashed process


def seeds_dir() -> Path:
    """The bundled seed documents (inside the installed package, or the source checkout)."""
    try:
        return demo.seeds_dir()
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None


def cache_dir() -> Path:
    """vnsearch's cache folder: ``$XDG_CACHE_HOME/vnsearch`` when set, else the platform's
    usual place (``~/.cache``, ``~/Library/Caches``, ``%LOCALAPPDATA%``)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "vnsearch"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "vnsearch"
    if os.name == "nt":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / "vnsearch" / "Cache"
    return Path.home() / ".cache" / "vnsearch"


def seeds_fingerprint(seeds: Path) -> str:
    """A short hash of the seed files (names and bytes) and of vnsearch's version."""
    from vnsearch import __version__

    digest = hashlib.sha256(f"vnsearch {__version__}\n".encode())
    for path in sorted(seeds.glob("*.txt")):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:16]


def _seeds_index_name(seeds: Path) -> str:
    from vnsearch.index.schema import FORMAT_VERSION

    return f"seeds-f{FORMAT_VERSION}-{seeds_fingerprint(seeds)}"


def _remove_stale(cache: Path, keep: str) -> None:
    """Remove seeds indexes of other fingerprints and abandoned temporary builds."""
    import shutil
    import time

    now = time.time()
    for entry in cache.iterdir():
        if entry.name == keep or not entry.is_dir():
            continue
        if entry.name.startswith("seeds-") or (
            entry.name.startswith(".building-") and now - entry.stat().st_mtime > _STALE_BUILD_S
        ):
            shutil.rmtree(entry, ignore_errors=True)


def ensure_seeds_index(seeds: Path | None = None, cache: Path | None = None) -> Path:
    """The folder of the seeds index, built first if this vnsearch and these seeds have none."""
    seeds = seeds_dir() if seeds is None else seeds
    cache = cache_dir() if cache is None else cache
    name = _seeds_index_name(seeds)
    target = cache / name
    if is_index(target):
        return target
    import shutil
    import tempfile

    from vnsearch.cli.indexing import IndexOptions, index_sources
    from vnsearch.cli.sources import TextFiles

    try:
        cache.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".building-", dir=cache))
    except OSError as exc:
        raise UserError(f"{cache}: cannot create the seeds index: {exc.strerror or exc}") from None
    try:
        index_sources(building, [TextFiles(seeds)], IndexOptions())
        try:
            os.rename(building, target)
        except OSError:
            if not is_index(target):  # not another process's finished build
                raise
    except OSError as exc:
        raise UserError(f"{target}: cannot build the seeds index: {exc.strerror or exc}") from None
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
    _remove_stale(cache, keep=name)
    return target


def resolve_index(given: str | None, required: bool = False) -> Path:
    """The index folder a command works on: ``given`` (``--index``), else
    ``$VNSEARCH_INDEX``, else (unless ``required``) the seeds index."""
    if given:
        return Path(given)
    configured = os.environ.get("VNSEARCH_INDEX")
    if configured:
        return Path(configured)
    if required:
        raise UserError("which index? give --index DIR (or set VNSEARCH_INDEX)", USAGE_ERROR)
    return ensure_seeds_index()
