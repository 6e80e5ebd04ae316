"""A sharded index's manifest, ``shards.json``, and where each document goes.

The manifest is plain JSON (never a pickle): the format, the number of shards, how
documents are routed, the index format of the shards and the schema. Shard ``i`` is the
vnsearch index in the subfolder :func:`shard_folder` ``(folder, i)``.

>>> shard_of("doc-1", 4), shard_of(7, 4) == shard_of("7", 4)
(1, True)
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

from vnsearch.errors import IncompatibleIndex, IndexCorrupted, IndexNotFound
from vnsearch.index.schema import FORMAT_VERSION, Schema

__all__ = [
    "MANIFEST",
    "MAX_SHARDS",
    "SHARDS_FORMAT",
    "read_manifest",
    "shard_folder",
    "shard_of",
    "write_manifest",
]

MANIFEST = "shards.json"
SHARDS_FORMAT = "vnsearch-shards/2"  # 2: shards number their documents (shard.order)
ROUTE = "crc32(utf-8 of the unique id) % shards"
MAX_SHARDS = 4096


def shard_of(doc_id: Any, shards: int) -> int:
    """The shard of the document whose unique field is ``doc_id``: the CRC-32 of its text
    (as ``str``) in UTF-8, modulo ``shards``. The same in every process and on every
    machine (unlike Python's ``hash``)."""
    return zlib.crc32(str(doc_id).encode("utf-8", "surrogatepass")) % shards


def shard_folder(folder: Path, i: int) -> Path:
    """The subfolder of shard ``i``: ``shard-000``, ``shard-001``, ..."""
    return folder / f"shard-{i:03d}"


def check_shards(shards: Any) -> int:
    """``shards`` as a number of shards (1 to :data:`MAX_SHARDS`), else a ``ValueError``."""
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"shards must be an int from 1 to {MAX_SHARDS}, got {shards!r}")
    return shards


def write_manifest(folder: Path, shards: int, schema: Schema) -> None:
    """Write ``shards.json`` (to a temporary name, synced, then renamed into place)."""
    data = {
        "format": SHARDS_FORMAT,
        "shards": shards,
        "route": ROUTE,
        "index_format": FORMAT_VERSION,
        "schema": json.loads(schema.to_json()),
    }
    tmp = folder / (MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / MANIFEST)


def read_manifest(folder: Path) -> tuple[int, Schema]:
    """The number of shards and the schema of the sharded index in ``folder``:
    :class:`IndexNotFound` without a manifest, :class:`IndexCorrupted` naming it when it
    is not one, :class:`IncompatibleIndex` for another format."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise IndexNotFound(f"{folder}: no such sharded index folder")
    if not path.is_file():
        raise IndexNotFound(f"{folder}: not a sharded vnsearch index (no {MANIFEST})")
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise IndexCorrupted(f"{path}: not a readable JSON manifest ({exc})") from None
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("vnsearch-shards/"):
        raise IndexCorrupted(f"{path}: not a vnsearch shards manifest")
    if data["format"] != SHARDS_FORMAT or data.get("index_format") != FORMAT_VERSION:
        raise IncompatibleIndex(
            f"{path}: format {data['format']!r} of index format {data.get('index_format')!r}"
            f" (this vnsearch reads {SHARDS_FORMAT!r} of {FORMAT_VERSION}): rebuild it from"
            " its sources into a new folder (vnsearch shards build SOURCE... --index NEW)"
        )
    if data.get("route") != ROUTE:
        raise IndexCorrupted(f"{path}: unknown routing {data.get('route')!r}")
    try:
        shards = check_shards(data.get("shards"))
        schema = Schema.from_json(json.dumps(data["schema"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise IndexCorrupted(f"{path}: bad manifest ({exc})") from None
    return shards, schema
