"""A one-line progress bar on a terminal's stderr (nothing at all when stderr is piped)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]

_EVERY_S = 0.1  # redraw at most this often


class Progress:
    """Documents done, documents per second and the share of the input read.

    Silent unless ``stream`` is a terminal.

    >>> import io
    >>> p = Progress(total_bytes=100, stream=io.StringIO())
    >>> p.update(documents=5, done_bytes=50); p.finish(); p.enabled
    False
    """

    def __init__(self, total_bytes: int, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total_bytes = total_bytes
        self.start = time.perf_counter()
        self._drawn = 0.0

    def update(self, documents: int, done_bytes: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._drawn < _EVERY_S:
            return
        self._drawn = now
        rate = documents / max(now - self.start, 1e-9)
        line = f"{documents:,} documents  {rate:,.0f} documents/s"
        if self.total_bytes:
            share = min(done_bytes / self.total_bytes, 1.0)
            filled = int(share * 24)
            line = f"[{'#' * filled}{'.' * (24 - filled)}] {share:4.0%}  " + line
        self._write(line)

    def status(self, text: str) -> None:
        if self.enabled:
            self._write(text)

    def _write(self, line: str) -> None:
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self._write("")
