"""How a segment's files are packed into one ``MAIN_<id>.seg``: components and a JSON directory.

Whoosh's compound file ends with a pickled directory (name -> offset, length, time); reading
a folder received from elsewhere would then run whatever that pickle says. vnsearch's keeps
Whoosh's 12-byte head (big-endian ``int64`` offset and ``int32`` length of the directory),
then a magic, each component on a 64-byte boundary (mapped, its arrays are aligned in
memory as in their files), and at the end the directory as JSON::

    head (12) | b"VNC3" | pad | component | pad | component | ... | {"files": {...}}

``{"files": {"MAIN_<id>.vnp": [offset, length], ...}}``: every component lies between the
head and the directory, which runs to the end of the file; anything else is a
:class:`~vnsearch.errors.DamagedFile` naming the file (:func:`read_directory`).

>>> from whoosh.filedb.filestore import RamStorage
>>> st = RamStorage()
>>> for name, data in (("MAIN_x.a", b"abc"), ("MAIN_x.b", b"de")):
...     st.files[name] = data
>>> write_compound(st.create_file("MAIN_x.seg"), st, ["MAIN_x.a", "MAIN_x.b"])
>>> read_directory(memoryview(st.files["MAIN_x.seg"]), "MAIN_x.seg", "MAIN_x")
{'MAIN_x.a': (64, 3), 'MAIN_x.b': (128, 2)}
"""

from __future__ import annotations

import errno
import json
import mmap
import re
import struct
from shutil import copyfileobj
from threading import Lock
from typing import Any

from whoosh.filedb.compound import CompoundStorage

from vnsearch.errors import DamagedFile

__all__ = ["ALIGN", "HEAD", "VnCompoundStorage", "read_directory", "write_compound"]

HEAD = struct.Struct(">qi")  # Whoosh's head: the directory's offset and length
ALIGN = 64
_MAGIC = b"VNC3"
# a component's name: the segment's id, a dot, an extension (Whoosh's and vnsearch's)
_NAME = re.compile(r"^\w+\.[\w.]+$")
# a directory lists a few dozen components; anything much larger is not one
_MAX_DIRECTORY = 1 << 20


def write_compound(cfile: Any, storage: Any, names: list[str]) -> None:
    """Copy the files ``names`` of ``storage`` into the new compound file ``cfile`` (a
    Whoosh ``StructFile``, closed at the end) and write its directory. Components go in
    name order (the storage lists them in no set order), so a segment's bytes depend only
    on what it holds."""
    cfile.write(HEAD.pack(0, 0) + _MAGIC)
    directory: dict[str, list[int]] = {}
    for name in sorted(names):
        cfile.write(b"\0" * (-cfile.tell() % ALIGN))
        directory[name] = [cfile.tell(), storage.file_length(name)]
        f = storage.open_file(name)
        try:
            copyfileobj(f, cfile)
        finally:
            f.close()
    at = cfile.tell()
    raw = json.dumps({"files": directory}, separators=(",", ":")).encode("ascii")
    cfile.write(raw)
    cfile.flush()
    cfile.seek(0)
    cfile.write(HEAD.pack(at, len(raw)))
    cfile.close()


def read_directory(data: Any, name: str, segment_id: str) -> dict[str, tuple[int, int]]:
    """The directory of the compound file ``name`` (its bytes ``data``), each component's
    ``(offset, length)``, checked: names of the segment ``segment_id``, every component
    inside the file and after the head. Raises :class:`DamagedFile` naming the file."""
    size = len(data)
    if size < HEAD.size + len(_MAGIC) or bytes(data[HEAD.size : HEAD.size + 4]) != _MAGIC:
        raise DamagedFile(f"{name}: not a compound segment file of this vnsearch version")
    at, length = HEAD.unpack(bytes(data[0 : HEAD.size]))
    if not (HEAD.size < at <= size and at + length == size and length <= _MAX_DIRECTORY):
        raise DamagedFile(f"{name}: the compound file's head points outside the file")
    try:
        files = json.loads(bytes(data[at:size]).decode("ascii"))["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DamagedFile(f"{name}: damaged directory ({type(exc).__name__})") from None
    if not isinstance(files, dict):
        raise DamagedFile(f"{name}: damaged directory (not a mapping)")
    out = {}
    for component, extent in files.items():
        if (
            not _NAME.match(component)
            or component.split(".", 1)[0] != segment_id
            or not isinstance(extent, list)
            or len(extent) != 2
            or not all(type(v) is int for v in extent)
            or not (HEAD.size <= extent[0] and extent[1] >= 0 and extent[0] + extent[1] <= at)
        ):
            raise DamagedFile(f"{name}: damaged directory (entry {component[:80]!r})")
        out[component] = (extent[0], extent[1])
    return out


class VnCompoundStorage(CompoundStorage):
    """Whoosh's ``CompoundStorage`` over a vnsearch compound file: the same interface
    (``open_file``, ``range``, ``_source`` the map), the directory read by
    :func:`read_directory` (never unpickled)."""

    def __init__(self, dbfile: Any, name: str, segment_id: str, use_mmap: bool = True) -> None:
        self._file = dbfile
        self._name = name
        self.is_closed = False
        self._locks: dict[str, Lock] = {}
        self._source = None
        self._options: dict = {}
        buf = getattr(dbfile, "_buf", None)  # an in-memory file
        if use_mmap and buf is None and hasattr(dbfile, "fileno"):
            try:
                self._source = mmap.mmap(dbfile.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError) as exc:  # no memory for the map, or an empty file
                if getattr(exc, "errno", None) not in (errno.ENOMEM, None):
                    raise
            else:
                dbfile.close()
                self._file = None
        try:
            if self._source is not None:
                data: Any = memoryview(self._source)
            elif buf is not None:
                data = buf
            else:  # a file read through the file system: its head and directory only
                data = _Ends(dbfile)
            try:
                directory = read_directory(data, name, segment_id)
            finally:
                if isinstance(data, memoryview) and self._source is not None:
                    data.release()
        except BaseException:
            self.close()
            raise
        self._dir = {n: {"offset": at, "length": size} for n, (at, size) in directory.items()}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({self._name})>"

    def file_modified(self, name: str) -> float:
        return 0.0  # not recorded (Whoosh's directory kept the time, nothing read it)


class _Ends:
    """The head and the directory of a compound file read through the file system, as
    :func:`read_directory` slices them (the rest is not read)."""

    def __init__(self, f: Any) -> None:
        f.seek(0, 2)
        self._size = f.tell()
        f.seek(0)
        self._head = f.read(HEAD.size + len(_MAGIC))
        self._f = f

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, part: slice) -> bytes:
        if part.stop <= len(self._head):
            return self._head[part]
        self._f.seek(part.start)
        return self._f.read(min(part.stop - part.start, _MAX_DIRECTORY))
