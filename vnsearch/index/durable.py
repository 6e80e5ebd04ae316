"""What makes a commit survive a power cut: files and folders synced to the disk, in order.

A file written and renamed is in the page cache, not on the disk: after a power cut, ext4
(and most file systems) can show the renamed table of contents, the previous one deleted
and the new segment empty. A commit therefore syncs (``fsync``) every new segment file
and checksums file, then the new table of contents before its rename, then the folder
after the rename, and only then deletes the previous commit's files
(:func:`vnsearch.index.toc.commit_toc`).

A commit that fails on a full disk or an I/O error raises :class:`IndexWriteError`
(:func:`write_error`) and leaves the previous commit as it was.
"""

from __future__ import annotations

import errno
import os

from vnsearch.errors import IndexWriteError

__all__ = ["sync_file", "sync_folder", "write_error"]


def sync_file(path: str) -> None:
    """Write the file ``path``'s data and size to the disk (``fsync``)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(path: str) -> None:
    """Write the folder ``path``'s entries (names created, renamed, deleted) to the disk.
    File systems that cannot sync a folder (``EINVAL``) or open one (Windows) are left."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except PermissionError:  # Windows: folders are not opened
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


_WHAT = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EIO: "an I/O error (a failing disk?)",
    errno.EROFS: "the file system is read-only",
    errno.EFBIG: "a file grew too large for the file system",
}


def write_error(
    where: str, exc: OSError, what: str = "the commit", committed: bool = False
) -> IndexWriteError:
    """The :class:`IndexWriteError` for ``exc``, met while ``what`` wrote to the index at
    ``where``: one line saying what failed, on which file, and that the previous commit is
    still the index's (or, ``committed``: that the commit is in place, but may not be on
    the disk).

    >>> import errno
    >>> print(write_error("news.idx", OSError(errno.ENOSPC, "No space left", "/x/MAIN_a.seg")))
    news.idx: the commit failed, the disk is full (No space left: MAIN_a.seg); the index \
keeps its previous commit
    """
    reason = _WHAT.get(exc.errno or 0, "it could not write a file")
    detail = exc.strerror or str(exc)
    if exc.filename:
        detail += f": {os.path.basename(str(exc.filename))}"
    if committed:
        outcome = "the commit is in place but may not survive a power cut"
    else:
        outcome = "the index keeps its previous commit"
    error = IndexWriteError(f"{where}: {what} failed, {reason} ({detail}); {outcome}")
    error.errno = exc.errno
    return error
