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
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from vnsearch.cli.errors import UserError

__all__ = ["Record", "Source", "SourceError", "open_source", "read_text"]

JSONL_SUFFIXES = (".jsonl", ".ndjson")
TEXT_SUFFIXES = (".txt", ".md")
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
        import json

        path = self.path
        with open_regular(path) as raw:
            lines = gzip.GzipFile(fileobj=raw) if path.suffix.lower() == ".gz" else raw
            offset = 0
            try:
                for lineno, line in enumerate(lines, 1):
                    start, offset = offset, offset + len(line)
                    self.position = raw.tell()
                    if not line.strip():
                        continue
                    where = f"{path}:{lineno}"
                    try:
                        value = json.loads(_decode(where, line, start))
                    except SourceError as exc:
                        yield exc
                        continue
                    except json.JSONDecodeError as exc:
                        yield SourceError(
                            f"{where}: malformed JSON: {exc.msg} (column {exc.colno})"
                        )
                        continue
                    if not isinstance(value, dict):
                        kind = type(value).__name__
                        yield SourceError(f"{where}: expected a JSON object, got {kind}")
                        continue
                    yield Record(where, value)
            except (OSError, EOFError) as exc:
                raise UserError(f"{path}: cannot read: {exc}") from None
        self.position = self.size


class Csv(Source):
    """A CSV file with a header row (optionally ``.gz``), read as UTF-8; a field may be as
    long as a TEXT field may be (``max_field_mb`` million characters)."""

    def __init__(self, path: Path, max_field_mb: float = MAX_FIELD_MB) -> None:
        super().__init__(path)
        self.size = path.stat().st_size
        self.max_field_mb = max_field_mb
        self._text: str | None = None

    def _rows(self):
        import csv
        import sys

        # Python's limit is 131,072 characters a field, for the whole process; a longer
        # field is then a TEXT over the writer's limit (counted in bytes) anyway
        csv.field_size_limit(min(int(self.max_field_mb * 1_000_000), sys.maxsize))
        if self._text is None:
            self._text = read_text(self.path)
        text = self._text
        scale = self.size / max(len(text), 1)

        def lines() -> Iterator[str]:
            done = 0
            for line in text.splitlines(keepends=True):
                done += len(line)
                self.position = int(done * scale)
                yield line

        return csv.DictReader(lines())

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

        reader = self._rows()
        try:
            return list(reader.fieldnames or [])
        except csv.Error as exc:
            raise self._error(exc, reader.reader.line_num) from None

    def records(self) -> Iterator[Record | SourceError]:
        import csv

        reader = self._rows()
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
    """The source for a path given on the command line (its kind from its suffix); a CSV
    field may hold up to ``max_field_mb`` million characters."""
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
