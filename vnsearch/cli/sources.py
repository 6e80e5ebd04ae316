"""Where documents come from: JSON Lines, CSV (with a header row) and folders of text files.

A source yields :class:`Record`\\ s (a mapping of column names to values, and where it came
from) or, for a record it cannot read, a :class:`SourceError` naming the file and line, so
that the caller decides whether to stop or to skip it. Problems with a whole source (a
missing file, a CSV that is not UTF-8) raise :class:`~vnsearch.cli.errors.UserError`.
Only regular files are read: a FIFO would block and a device never end, so naming one is
a ``UserError``.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from vnsearch.cli.errors import UserError

__all__ = ["Record", "Source", "SourceError", "open_source", "read_text"]

JSONL_SUFFIXES = (".jsonl", ".ndjson")
TEXT_SUFFIXES = (".txt", ".md")
STDIN_NAME = "<stdin>"  # what messages call standard input (``vnsearch index -``)
# what ``vnsearch index --max-text-mb`` defaults to: a CSV field may be as long
MAX_FIELD_MB = 10.0


class SourceError(UserError):
    """One record that cannot be read (``--skip-errors`` skips and counts it)."""


@dataclass(frozen=True)
class Record:
    """One document as read: its columns, and ``where`` (``file:line``) for messages.

    >>> Record("a.jsonl:3", {"id": "1"}).where
    'a.jsonl:3'
    """

    where: str
    fields: dict[str, Any]


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def not_regular(path: Path) -> UserError:
    """The error for a source that exists but is not a regular file."""
    return UserError(f"{path}: not a regular file ({_kind(path.stat().st_mode)})")


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file (checked on the open file,
    which is opened without blocking: opening a FIFO would wait for a writer)."""
    nonblock = getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, os.O_RDONLY | nonblock)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UserError(f"{path}: not a regular file ({_kind(mode)})")
        if nonblock:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _read_bytes(path: Path) -> bytes:
    try:
        with open_regular(path) as f:
            data = f.read()
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".gz":
        import gzip

        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise UserError(f"{path}: not a gzip file: {exc}") from None
    return data


def _decode(where: object, data: bytes, offset: int = 0) -> str:
    """``data`` (found at byte ``offset`` of its file) as text; a BOM at offset 0 is dropped."""
    try:
        return data.decode("utf-8-sig" if offset == 0 else "utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{where}: not UTF-8 (invalid byte at offset {offset + exc.start})"
        ) from None


def read_text(path: Path) -> str:
    """Read a UTF-8 file (gunzipped if it ends in ``.gz``); errors name the file and the
    byte offset of the first invalid byte."""
    try:
        return _decode(path, _read_bytes(path))
    except SourceError as exc:
        raise UserError(str(exc)) from None


class Source:
    """A file or folder of documents; ``size`` and ``position`` (bytes) show progress."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self.position = 0

    def columns(self) -> list[str]:
        """The columns of the first record (an index created from this source gets them)."""
        for item in self.records():
            if isinstance(item, Record):
                return list(item.fields)
        return []

    def records(self) -> Iterator[Record | SourceError]:
        raise NotImplementedError


class JsonLines(Source):
    """One JSON object a line (``.jsonl``, ``.ndjson``, optionally ``.gz``); blank lines skipped."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.size = path.stat().st_size

    def records(self) -> Iterator[Record | SourceError]:
        import gzip

        path = self.path
        with open_regular(path) as raw:
            lines = gzip.GzipFile(fileobj=raw) if path.suffix.lower() == ".gz" else raw
            yield from _json_records(self, str(path), lines, raw.tell)
        self.position = self.size


class StdinJsonLines(Source):
    """JSON Lines from standard input (``vnsearch index -``), gzipped or not, read once as
    a stream: the records :meth:`columns` reads ahead are kept for :meth:`records`.
    Messages name it ``<stdin>:line``."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        super().__init__(Path(STDIN_NAME))
        self._stream = stream
        self._read = 0  # bytes read so far
        self._records: Iterator[Record | SourceError] | None = None
        self._ahead: list[Record | SourceError] = []

    def _started(self) -> Iterator[Record | SourceError]:
        if self._records is None:
            import itertools

            raw = sys.stdin.buffer if self._stream is None else self._stream

            def counted() -> Iterator[bytes]:
                for line in raw:
                    self._read += len(line)
                    yield line

            lines: Iterator[bytes] = counted()
            first = next(lines, b"")
            lines = itertools.chain([first], lines)
            if first.startswith(b"\x1f\x8b"):  # gzip's magic number
                import gzip

                lines = gzip.GzipFile(fileobj=_Chained(lines))  # type: ignore[assignment]
            self._records = _json_records(self, STDIN_NAME, lines, lambda: self._read)
        return self._records

    def columns(self) -> list[str]:
        for item in self._ahead:
            if isinstance(item, Record):
                return list(item.fields)
        for item in self._started():
            self._ahead.append(item)
            if isinstance(item, Record):
                return list(item.fields)
        return []

    def records(self) -> Iterator[Record | SourceError]:
        records = self._started()
        while self._ahead:
            yield self._ahead.pop(0)
        yield from records


class _Chained(io.RawIOBase):
    """An iterator of byte strings as a readable file (what ``GzipFile`` reads from)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = chunk
        n = min(len(buffer), len(self._left))
        buffer[:n], self._left = self._left[:n], self._left[n:]
        return n


def _json_records(
    source: Source, name: str, lines: Any, tell: Callable[[], int]
) -> Iterator[Record | SourceError]:
    """The records of JSON Lines ``lines`` (byte strings) of the file ``name``, each
    malformed one a :class:`SourceError` naming ``name:line``; ``tell()`` is how far the
    file is read (``source.position``)."""
    import json

    offset = 0
    try:
        for lineno, line in enumerate(lines, 1):
            start, offset = offset, offset + len(line)
            source.position = tell()
            if not line.strip():
                continue
            where = f"{name}:{lineno}"
            try:
                value = json.loads(_decode(where, line, start))
            except SourceError as exc:
                yield exc
                continue
            except json.JSONDecodeError as exc:
                yield SourceError(f"{where}: malformed JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(value, dict):
                yield SourceError(f"{where}: expected a JSON object, got {type(value).__name__}")
                continue
            yield Record(where, value)
    except (OSError, EOFError) as exc:
        raise UserError(f"{name}: cannot read: {exc}") from None


class Csv(Source):
    """A CSV file with a header row (optionally ``.gz``), read as UTF-8 as a stream (a
    line at a time, never whole); a field may be as long as a TEXT field may be
    (``max_field_mb`` million characters)."""

    def __init__(self, path: Path, max_field_mb: float = MAX_FIELD_MB) -> None:
        super().__init__(path)
        self.size = path.stat().st_size
        self.max_field_mb = max_field_mb

    @contextlib.contextmanager
    def _reader(self) -> Iterator[Any]:
        """A ``csv.DictReader`` over the file, read as a stream, a line at a time (a line
        that is not UTF-8 stops it with a :class:`UserError` naming the byte offset)."""
        import csv
        import gzip
        import re

        # Python's limit is 131,072 characters a field, for the whole process; a longer
        # field is then a TEXT over the writer's limit (counted in bytes) anyway
        csv.field_size_limit(min(int(self.max_field_mb * 1_000_000), sys.maxsize))
        path = self.path
        with open_regular(path) as raw:
            data = gzip.GzipFile(fileobj=raw) if path.suffix.lower() == ".gz" else raw

            def lines() -> Iterator[str]:
                offset = 0
                try:
                    for line in data:
                        start, offset = offset, offset + len(line)
                        self.position = raw.tell()
                        try:
                            text = _decode(path, line, start)
                        except SourceError as exc:
                            raise UserError(str(exc)) from None
                        if "\r" in text.rstrip("\r\n"):  # old Mac line ends: one a line
                            yield from re.split(r"(?<=\r)(?!\n)", text)
                        else:
                            yield text
                except (OSError, EOFError) as exc:
                    raise UserError(f"{path}: cannot read: {exc}") from None

            yield csv.DictReader(lines())

    def _error(self, exc: Exception, line: int) -> UserError:
        """A CSV error as the user's: which line, and for a long field, what to do."""
        where = f"{self.path}:{line}"
        if str(exc).startswith("field larger than field limit"):
            return UserError(
                f"{where}: a field longer than --max-text-mb {self.max_field_mb:g} allows "
                f"({int(self.max_field_mb * 1_000_000):,} characters)"
            )
        return UserError(f"{where}: malformed CSV: {exc}")

    def columns(self) -> list[str]:
        import csv

        with self._reader() as reader:
            try:
                return list(reader.fieldnames or [])
            except csv.Error as exc:
                raise self._error(exc, reader.reader.line_num) from None

    def records(self) -> Iterator[Record | SourceError]:
        import csv

        with self._reader() as reader:
            try:
                header = reader.fieldnames
                if not header:
                    return
                for row in reader:
                    where = f"{self.path}:{reader.line_num}"
                    if None in row:
                        yield SourceError(f"{where}: more values than the header has columns")
                        continue
                    yield Record(where, {k: v for k, v in row.items() if v is not None})
            except csv.Error as exc:
                raise self._error(exc, reader.reader.line_num) from None
        self.position = self.size


def _text_record(path: Path, doc_id: str) -> Record | SourceError:
    """A text file as a document: title = its first line, body = the rest."""
    try:
        text = _decode(path, _read_bytes(path))
    except SourceError as exc:
        return exc
    except UserError as exc:  # unreadable, or no longer a regular file
        return SourceError(str(exc))
    title, _, body = text.partition("\n")
    title = title.strip()
    if path.suffix.lower() == ".md":
        title = title.lstrip("#").strip()
    return Record(str(path), {"id": doc_id, "title": title, "body": body.strip("\r\n")})


class TextFiles(Source):
    """A folder of ``.txt`` and ``.md`` files (searched recursively, hidden ones skipped),
    or one such file; a document's id is its path relative to the folder. A subfolder
    that cannot be read is a :class:`SourceError` (its files would be missing from the
    index without a word): the run stops, or with ``--skip-errors`` skips it and says so."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.unreadable: list[SourceError] = []
        if path.is_dir():
            self.files = sorted(self._walk(path))
            self.ids = [p.relative_to(path).as_posix() for p in self.files]
        else:
            self.files, self.ids = [path], [path.name]
        self.size = sum(p.stat().st_size for p in self.files)

    def _walk(self, top: Path) -> Iterator[Path]:
        def failed(exc: OSError) -> None:
            self.unreadable.append(
                SourceError(f"{exc.filename}: cannot read the folder: {exc.strerror or exc}")
            )

        for folder, subfolders, names in os.walk(top, onerror=failed):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            for name in names:
                p = Path(folder, name)
                if p.suffix.lower() in TEXT_SUFFIXES and not name.startswith(".") and p.is_file():
                    yield p

    def columns(self) -> list[str]:
        return ["id", "title", "body"]

    def records(self) -> Iterator[Record | SourceError]:
        yield from self.unreadable
        for path, doc_id in zip(self.files, self.ids):
            yield _text_record(path, doc_id)
            with contextlib.suppress(OSError):  # gone since the listing: a record error
                self.position += path.stat().st_size


def open_source(name: str, max_field_mb: float = MAX_FIELD_MB) -> Source:
    """The source for a path given on the command line (its kind from its suffix; ``-``:
    JSON Lines from standard input); a CSV field may hold up to ``max_field_mb`` million
    characters."""
    if name == "-":
        return StdinJsonLines()
    path = Path(name)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_dir():
        return TextFiles(path)
    if not path.is_file():
        raise not_regular(path)
    lower = path.name.lower()
    gzipped = lower.endswith(".gz")
    base = lower[:-3] if gzipped else lower
    if base.endswith(JSONL_SUFFIXES):
        return JsonLines(path)
    if base.endswith(".csv"):
        return Csv(path, max_field_mb)
    if base.endswith(TEXT_SUFFIXES) and not gzipped:
        return TextFiles(path)
    raise UserError(
        f"{path}: unknown kind of source (use .jsonl, .ndjson, .csv, optionally .gz, "
        ".txt, .md, or a folder of .txt/.md files)"
    )
