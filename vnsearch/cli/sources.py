"""Where documents come from: JSON Lines, CSV (with a header row) and folders of text files.

A source yields :class:`Record`\\ s (a mapping of column names to values, and where it came
from) or, for a record it cannot read, a :class:`SourceError` naming the file and line, so
that the caller decides whether to stop or to skip it. Problems with a whole source (a
missing file, a CSV that is not UTF-8) raise :class:`~vnsearch.cli.errors.UserError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vnsearch.cli.errors import UserError

__all__ = ["Record", "Source", "SourceError", "open_source", "read_text"]

JSONL_SUFFIXES = (".jsonl", ".ndjson")
TEXT_SUFFIXES = (".txt", ".md")


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


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
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
        try:
            raw = path.open("rb")
        except OSError as exc:
            raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
        with raw:
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
    """A CSV file with a header row (optionally ``.gz``), read as UTF-8."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.size = path.stat().st_size
        self._text: str | None = None

    def _rows(self):
        import csv

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

    def columns(self) -> list[str]:
        return list(self._rows().fieldnames or [])

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
            raise UserError(f"{self.path}:{reader.line_num}: malformed CSV: {exc}") from None
        self.position = self.size


def _text_record(path: Path, doc_id: str) -> Record | SourceError:
    """A text file as a document: title = its first line, body = the rest."""
    try:
        text = _decode(path, _read_bytes(path))
    except SourceError as exc:
        return exc
    title, _, body = text.partition("\n")
    title = title.strip()
    if path.suffix.lower() == ".md":
        title = title.lstrip("#").strip()
    return Record(str(path), {"id": doc_id, "title": title, "body": body.strip("\r\n")})


class TextFiles(Source):
    """A folder of ``.txt`` and ``.md`` files (searched recursively, hidden ones skipped),
    or one such file; a document's id is its path relative to the folder."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        if path.is_dir():
            self.files = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in TEXT_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            self.ids = [p.relative_to(path).as_posix() for p in self.files]
        else:
            self.files, self.ids = [path], [path.name]
        self.size = sum(p.stat().st_size for p in self.files)

    def columns(self) -> list[str]:
        return ["id", "title", "body"]

    def records(self) -> Iterator[Record | SourceError]:
        for path, doc_id in zip(self.files, self.ids):
            yield _text_record(path, doc_id)
            self.position += path.stat().st_size


def open_source(name: str) -> Source:
    """The source for a path given on the command line (its kind from its suffix)."""
    path = Path(name)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    if path.is_dir():
        return TextFiles(path)
    lower = path.name.lower()
    gzipped = lower.endswith(".gz")
    base = lower[:-3] if gzipped else lower
    if base.endswith(JSONL_SUFFIXES):
        return JsonLines(path)
    if base.endswith(".csv"):
        return Csv(path)
    if base.endswith(TEXT_SUFFIXES) and not gzipped:
        return TextFiles(path)
    raise UserError(
        f"{path}: unknown kind of source (use .jsonl, .ndjson, .csv, optionally .gz, "
        ".txt, .md, or a folder of .txt/.md files)"
    )
