"""``vnsearch query --filter FIELD=VALUE`` and ``--sort [-]FIELD,...``, checked against the
index's schema: an unknown field, or one that cannot filter or sort, is a usage error
naming the fields that can."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vnsearch.cli.errors import USAGE_ERROR, UserError

__all__ = ["filters", "sort_keys"]

FILTER_KINDS = ("KEYWORD", "ID")
SORT_KINDS = ("NUMERIC", "DATETIME", "KEYWORD", "ID")
SCORE = "score"  # ``--sort score`` / ``-score``: by score (lowest / best first)


def _of_kinds(schema: Any, kinds: Sequence[str]) -> str:
    names = [name for name, ftype in schema.items() if ftype.kind in kinds]
    return ", ".join(names) if names else "none"


def _check_field(schema: Any, name: str, option: str, verb: str, kinds: Sequence[str]) -> None:
    """A usage error unless ``name`` is a field of one of ``kinds`` (naming those that are)."""
    ftype = schema.get(name)
    if ftype is None or ftype.kind not in kinds:
        what = "no field" if ftype is None else f"a {ftype.kind} field"
        raise UserError(
            f"{option}: {name!r} is {what}; the index's fields that {verb} "
            f"({', '.join(kinds)}): {_of_kinds(schema, kinds)}",
            USAGE_ERROR,
        )


def filters(schema: Any, specs: Sequence[str]) -> dict[str, list[str]] | None:
    """``["topic=the-thao", "topic=kinh-te", "id=7"]`` -> ``{"topic": ["the-thao",
    "kinh-te"], "id": ["7"]}``: the values of one field any of them, the fields all.

    >>> from vnsearch.index import ID, KEYWORD, Schema
    >>> filters(Schema(id=ID(unique=True), topic=KEYWORD()), ["topic=the-thao", "id=7"])
    {'topic': ['the-thao'], 'id': ['7']}
    """
    out: dict[str, list[str]] = {}
    for spec in specs:
        name, equals, value = spec.partition("=")
        name = name.strip()
        if not equals or not name:
            raise UserError(f"--filter: expected FIELD=VALUE, got {spec!r}", USAGE_ERROR)
        _check_field(schema, name, "--filter", "filter", FILTER_KINDS)
        out.setdefault(name, []).append(value)
    return out or None


def sort_keys(schema: Any, specs: Sequence[str]) -> list[str] | None:
    """The ``--sort`` keys in order (``"-published"``: descending; ``score``: by score),
    from the repeatable, comma-separated option; ties go by score, then document number.

    >>> from vnsearch.index import DATETIME, KEYWORD, Schema
    >>> sort_keys(Schema(published=DATETIME(), topic=KEYWORD()), ["-published,topic"])
    ['-published', 'topic']
    """
    keys = [key.strip() for spec in specs for key in spec.split(",") if key.strip()]
    for key in keys:
        name = key.removeprefix("-")
        if name != SCORE or name in schema:
            _check_field(schema, name, "--sort", "sort", SORT_KINDS)
    return keys or None
