"""What the command line reports as a user's error (one line, no traceback)."""

from __future__ import annotations

__all__ = ["DATA_ERROR", "USAGE_ERROR", "UserError"]

USAGE_ERROR = 2
DATA_ERROR = 3


class UserError(Exception):
    """An error caused by the user's input or data: printed as one line, then exit ``code``.

    >>> UserError("seeds.csv: no 'id' column").code
    3
    """

    def __init__(self, message: str, code: int = DATA_ERROR) -> None:
        super().__init__(message)
        self.code = code
