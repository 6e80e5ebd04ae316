"""What makes a commit survive a power cut: files and folders synced to the disk, in order.

A file written and renamed is in the page cache, not on the disk: after a power cut, ext4
(and most file systems) can show the renamed table of contents, the previous one deleted
and the new segment empty. A commit therefore syncs (``fsync``) every new segment file
and checksums file, then the new table of contents before its rename, then the folder
after the rename, and only then deletes the previous commit's files
(:func:`vnsearch.index.toc.commit_toc`).
"""

from __future__ import annotations

import errno
import os

__all__ = ["sync_file", "sync_folder"]


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
