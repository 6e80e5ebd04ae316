"""Which files of an index folder may be opened, locked and removed: only its own.

An index folder may come from elsewhere (a download, an archive, another user): any of
its names may be a FIFO (opening it for reading waits forever), a device (``/dev/zero``
reads forever), a directory, or a symbolic link to anything. Here:

* :func:`open_regular` opens only regular files, never a FIFO or a device, and follows a
  symbolic link only when it resolves inside the folder (checked before opening, and the
  file opened checked again with ``fstat``); anything else is
  :class:`~vnsearch.errors.DamagedFile` naming the file.
* :func:`remove_entry` removes only regular files and symbolic links themselves (never
  what a link points to), never a FIFO, a device or a directory.
* :func:`private_folder` makes the writer's temporary folder (Whoosh's ``MAIN.tmp``) anew:
  whatever held its name before (a link to another folder, a killed writer's leftovers)
  is removed first, never followed, so the writer writes and deletes only its own files.
* :class:`FolderLock` is Whoosh's ``fcntl`` lock without following a symbolic link, and
  only held while its file is still the folder's lock file: a folder removed while a
  writer waited for its lock is :class:`~vnsearch.errors.IndexNotFound`, not a raw
  file error.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
from pathlib import Path

from whoosh.filedb.filestore import FileStorage

from vnsearch.errors import DamagedFile, IndexNotFound

__all__ = [
    "LOCK_NAME",
    "FolderLock",
    "PrivateFolder",
    "folder_is_empty",
    "open_regular",
    "private_folder",
    "remove_entry",
    "remove_index_files",
]

LOCK_NAME = "MAIN_WRITELOCK"  # Whoosh's name for the index's write lock
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


def _kind(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def _plain_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise DamagedFile(f"{name[:80]!r}: not a file name of an index folder")
    return name


def _inside(folder: str, path: str) -> bool:
    root = os.path.realpath(folder)
    real = os.path.realpath(path)
    return real != root and os.path.commonpath([root, real]) == root


def open_regular(folder: str, name: str) -> int:
    """A file descriptor (read only) of the regular file ``name`` of ``folder``.

    A name that is not there raises ``FileNotFoundError`` (a commit may have removed it);
    a FIFO, a device, a directory, a link out of the folder or to nothing is
    :class:`DamagedFile` naming it. Nothing is opened before it is known to be a
    regular file (opening a device can do things), and the file opened is checked again.
    """
    path = os.path.join(folder, _plain_name(name))
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        if not _inside(folder, path):
            raise DamagedFile(f"{name}: a symbolic link out of the index folder")
        try:
            st = os.stat(path)
        except OSError:
            raise DamagedFile(f"{name}: a symbolic link to nothing") from None
        path = os.path.realpath(path)
    if not stat.S_ISREG(st.st_mode):
        raise DamagedFile(f"{name}: {_kind(st.st_mode)}, not a regular file")
    try:  # the last part of the path is no link now (it was resolved); O_NONBLOCK: a
        # FIFO put there meanwhile does not block the open
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise
        raise DamagedFile(f"{name}: cannot be opened ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise DamagedFile(f"{name}: {_kind(mode)}, not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def remove_entry(folder: str, name: str) -> None:
    """Remove ``name`` from ``folder``: a regular file, or a symbolic link itself (never
    its target). Anything else (a directory, a FIFO, a device) is left in place with a
    ``PermissionError``; a name not there is ``FileNotFoundError``."""
    path = os.path.join(folder, _plain_name(name))
    mode = os.lstat(path).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise PermissionError(
            errno.EPERM, f"{_kind(mode)}, not a file vnsearch wrote: left in place", path
        )
    os.unlink(path)


def folder_is_empty(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but (maybe) a write lock file left by a removed
    index or a creator that gave up."""
    for entry in os.scandir(folder):
        if entry.name != LOCK_NAME or not entry.is_file(follow_symlinks=False):
            return False
    return True


class PrivateFolder(FileStorage):
    """A writer's temporary folder: removed whole, without following any link in it."""

    def destroy(self) -> None:
        with contextlib.suppress(OSError):
            _remove_tree(self.folder)

    def clean(self, ignore: bool = False) -> None:
        with contextlib.suppress(OSError):
            _remove_tree(self.folder)
        os.mkdir(self.folder)


def _remove_tree(path: str) -> None:
    """Remove ``path``: a link or a file itself, a directory with what it holds (links
    in it removed, never followed: ``shutil.rmtree`` works through file descriptors)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def private_folder(folder: str, name: str) -> PrivateFolder:
    """The writer's temporary folder ``name`` in ``folder``, made anew (only the holder of
    the write lock calls this: nobody else uses it)."""
    path = os.path.join(folder, _plain_name(name))
    _remove_tree(path)
    os.mkdir(path, 0o700)
    return PrivateFolder(path)


class FolderLock:
    """An index's write lock: ``flock`` on its lock file, as Whoosh's ``FcntlLock``; the
    lock file is never a link (one is removed, not followed) and must still be the
    folder's lock file once locked (an index removed meanwhile is not locked)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.fd: int | None = None

    def _open(self) -> int:
        flags = os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        name = os.path.basename(self.filename)
        for _ in range(3):
            try:
                fd = os.open(self.filename, flags, 0o666)
            except OSError as exc:
                if exc.errno == errno.ENOENT:  # the folder itself is gone
                    raise IndexNotFound(
                        f"{os.path.dirname(self.filename)}: the index was removed"
                    ) from None
                if exc.errno == errno.ELOOP:  # a link: remove it, not what it points to
                    with contextlib.suppress(FileNotFoundError):
                        if stat.S_ISLNK(os.lstat(self.filename).st_mode):
                            os.unlink(self.filename)
                    continue
                raise DamagedFile(f"{name}: cannot be opened ({exc.strerror})") from None
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                os.close(fd)
                raise DamagedFile(f"{name}: {_kind(mode)}, not a regular file")
            return fd
        raise DamagedFile(f"{name}: keeps being replaced by a symbolic link")

    def acquire(self, blocking: bool = False) -> bool:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        try:  # the file locked must still be the folder's lock file
            now = os.lstat(self.filename)
            held = os.fstat(fd)
            current = (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
        except FileNotFoundError:
            current = False
        if not current:  # removed while we waited: the next try opens the new one
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is None:
            raise RuntimeError("the lock was not acquired")
        fd, self.fd = self.fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __del__(self) -> None:
        if getattr(self, "fd", None) is not None:
            with contextlib.suppress(Exception):
                self.release()


def remove_index_files(folder: Path, keep_folder: bool) -> bool:
    """Remove the index that this process created in ``folder`` and could not fill,
    unless another writer holds its lock (that one is adding to it: it stays). Holding
    the lock, the schema file goes first (no one opens it any more), then the other files,
    the lock file last (a writer waiting for it then finds the index removed); then the
    folder, unless ``keep_folder``. Returns whether it was removed."""
    lock = FolderLock(str(folder / LOCK_NAME))
    try:
        if not lock.acquire():
            return False
    except (IndexNotFound, DamagedFile):
        return False
    try:
        names = sorted(os.listdir(folder), key=lambda n: (n != "vnsearch.json", n))
        for name in names:
            if name != LOCK_NAME:
                _remove_tree(os.path.join(folder, name))
        os.unlink(folder / LOCK_NAME)
    finally:
        lock.release()
    if not keep_folder:
        with contextlib.suppress(OSError):  # a waiting writer made a new lock file in it
            os.rmdir(folder)
    return True
