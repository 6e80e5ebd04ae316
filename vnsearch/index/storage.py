"""Where an index's files live: a folder, or this process's memory; its schema file.

``vnsearch.json`` beside Whoosh's files holds the schema and the format version.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.filedb.structfile import StructFile

from vnsearch.errors import (
    DamagedFile,
    IncompatibleIndex,
    IndexCorrupted,
    SchemaError,
    VnsearchError,
)
from vnsearch.index.durable import sync_file, sync_folder
from vnsearch.index.folder_files import (
    FolderLock,
    PrivateFolder,
    folder_is_empty,
    open_regular,
    private_folder,
    remove_entry,
)
from vnsearch.index.integrity import INDEX_NAME
from vnsearch.index.schema import Schema

log = logging.getLogger("vnsearch.index")

__all__ = [
    "SCHEMA_FILE",
    "FolderStorage",
    "MemoryStorage",
    "check_new_folder",
    "read_schema",
    "remove_unfinished_tocs",
]

SCHEMA_FILE = "vnsearch.json"
# a schema file is a few hundred bytes; a larger one is not one (or a special file)
_MAX_SCHEMA_BYTES = 1 << 20


def read_schema(path: Path) -> Schema:
    """The schema saved in ``path`` (``vnsearch.json``); a file that is not one (bad
    bytes, not JSON, not a schema) is :class:`IndexCorrupted`, one of another format
    version :class:`IncompatibleIndex`."""
    where = f"{path.parent}: {path.name}"
    try:  # a regular file only: not a FIFO (waits forever), nor /dev/zero (reads forever)
        with os.fdopen(open_regular(str(path.parent), path.name), "rb") as f:
            raw = f.read(_MAX_SCHEMA_BYTES + 1)
    except DamagedFile as exc:
        raise IndexCorrupted(f"{path.parent}: {exc}") from None
    except OSError as exc:
        raise IndexCorrupted(f"{where}: cannot be read ({exc})") from None
    if len(raw) > _MAX_SCHEMA_BYTES:
        raise IndexCorrupted(f"{where}: more than {_MAX_SCHEMA_BYTES:,} bytes, not a schema")
    try:
        return Schema.from_json(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise IndexCorrupted(f"{where}: damaged (not UTF-8 at byte {exc.start})") from None
    except IncompatibleIndex as exc:
        raise IncompatibleIndex(f"{where}: {exc}") from None
    except SchemaError as exc:
        raise IndexCorrupted(f"{where}: damaged ({exc})") from None


# A table of contents is written as ``_MAIN_<generation>.toc.<time>`` and renamed when
# complete; a writer killed in between leaves the temporary file, which Whoosh never removes.
_UNFINISHED_TOC = re.compile(rf"^_{INDEX_NAME}_[0-9]+\.toc\.[0-9.]+$")


def remove_unfinished_tocs(storage: Any) -> None:
    """Delete the tables of contents that dead writers left half written (only the
    holder of the write lock calls this: no live writer can be writing one)."""
    for name in list(storage):
        if _UNFINISHED_TOC.match(name):
            with contextlib.suppress(OSError):
                storage.delete_file(name)
                where = getattr(storage, "folder", "index")
                log.warning("%s: removed %s, left half written by a writer that died", where, name)


class _NonBlockingLock:
    """A thread lock whose ``acquire()`` does not block (Whoosh retries it until a timeout)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, blocking: bool = False) -> bool:
        return self._lock.acquire(blocking)

    def release(self) -> None:
        self._lock.release()


class MemoryStorage(RamStorage):
    """Whoosh's RamStorage with a lock that honours timeouts and private temporary files.

    (Whoosh's own gives every in-memory index the same ``<tmp>/MAIN.tmp`` folder, so two
    in-memory writers, even in two processes, delete each other's files.)
    """

    def lock(self, name: str) -> _NonBlockingLock:
        if name not in self.locks:
            self.locks[name] = _NonBlockingLock()
        return self.locks[name]

    _tmpdir: str | None = None

    def temp_storage(self, name: str | None = None) -> FileStorage:
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="vnsearch-")
            weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
        return FileStorage(os.path.join(self._tmpdir, name or "tmp")).create()


class FolderStorage(FileStorage):
    """Whoosh's FileStorage for an index folder: what vnsearch changes in how an index's
    files are written, read and removed lives here."""

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        """The regular file ``name`` of the folder (see
        :func:`~vnsearch.index.folder_files.open_regular`: no FIFO, device, directory or
        link out of the folder; those are :class:`DamagedFile`)."""
        return StructFile(os.fdopen(open_regular(self.folder, name), "rb"), name=name, **kwargs)

    def delete_file(self, name: str) -> None:
        """Remove ``name``: a regular file or a link itself, never a link's target nor
        anything else (see :func:`~vnsearch.index.folder_files.remove_entry`)."""
        remove_entry(self.folder, name)

    def clean(self, ignore: bool = False) -> None:
        raise PermissionError("vnsearch never empties an index folder wholesale")

    def temp_storage(self, name: str | None = None) -> PrivateFolder:
        """The writer's temporary folder, made anew: never a link followed, nor another
        writer's leftovers reused (see :func:`~vnsearch.index.folder_files.private_folder`)."""
        return private_folder(self.folder, name or f"{INDEX_NAME}.tmp")

    def lock(self, name: str) -> FolderLock:
        """The lock file ``name``, never followed if it is a link (:class:`FolderLock`)."""
        return FolderLock(self._fpath(name))

    def sync(self, names: Iterable[str] = (), folder: bool = True) -> None:
        """Write the files ``names`` to the disk, then (``folder``) the folder's entries:
        what a commit needs durable before its table of contents is renamed and after
        (:mod:`vnsearch.index.durable`)."""
        for name in names:
            sync_file(self._fpath(name))
        if folder:
            sync_folder(self.folder)


def check_new_folder(folder: Path) -> None:
    """Refuse to create an index in a folder that holds one, or anything else."""
    if os.path.lexists(folder / SCHEMA_FILE):
        raise VnsearchError(f"{folder}: already holds a vnsearch index (open it instead)")
    if os.path.lexists(folder) and not (folder.is_dir() and folder_is_empty(folder)):
        raise VnsearchError(
            f"{folder}: exists and is not an empty folder; "
            "a new index is created only in a new or empty folder"
        )
