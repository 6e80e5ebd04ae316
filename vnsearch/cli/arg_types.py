"""What the command line's numeric options accept: argparse ``type=`` converters whose
errors say what was expected (argparse prints them as usage errors).

>>> whole_number(1)("3"), count("0"), seconds("0.5"), positive_seconds("2"), megabytes("10")
(3, 0, 0.5, 2.0, 10.0)
>>> positive_int("0")
Traceback (most recent call last):
argparse.ArgumentTypeError: must be at least 1, got 0
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["count", "megabytes", "positive_int", "positive_seconds", "seconds", "whole_number"]


def whole_number(least: int) -> Callable[[str], int]:
    """A converter of whole numbers of at least ``least``."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < least:
            need = "0 or more" if least == 0 else f"at least {least}"
            raise argparse.ArgumentTypeError(f"must be {need}, got {value}")
        return value

    return convert


positive_int = whole_number(1)
count = whole_number(0)


def _number(text: str, unit: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of {unit}: {text!r}") from None


def seconds(text: str) -> float:
    """Seconds, 0 or more."""
    value = _number(text, "seconds")
    if not value >= 0:  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_seconds(text: str) -> float:
    """Seconds, above 0 and finite."""
    value = _number(text, "seconds")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def megabytes(text: str) -> float:
    """Megabytes, above 0 and finite."""
    value = _number(text, "megabytes")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value
