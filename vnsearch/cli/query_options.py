"""``vnsearch query --filter FIELD=VALUE`` and ``--sort [-]FIELD``, checked against the
index's schema: an unknown field, or one that cannot filter or sort, is a usage error
naming the fields that can."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vnsearch.cli.errors import USAGE_ERROR, UserError

__all__ = ["filters", "sort_key"]

FILTER_KINDS = ("KEYWORD", "ID")
SORT_KINDS = ("NUMERIC", "DATETIME")


def _of_kinds(schema: Any, kinds: Sequence[str]) -> str:
    names = [name for name, ftype in schema.items() if ftype.kind in kinds]
    return ", ".join(names) if names else "none"


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
        ftype = schema.get(name)
        if ftype is None or ftype.kind not in FILTER_KINDS:
            what = "no field" if ftype is None else f"a {ftype.kind} field"
            raise UserError(
                f"--filter: {name!r} is {what}; the index's fields that filter "
                f"(KEYWORD, ID): {_of_kinds(schema, FILTER_KINDS)}",
                USAGE_ERROR,
            )
        out.setdefault(name, []).append(value)
    return out or None


def sort_key(schema: Any, specs: Sequence[str]) -> str | None:
    """The one ``--sort`` field (``"-published"``: descending), from the repeatable,
    comma-separated option.

    >>> from vnsearch.index import DATETIME, Schema
    >>> sort_key(Schema(published=DATETIME()), ["-published"])
    '-published'
    """
    keys = [key.strip() for spec in specs for key in spec.split(",") if key.strip()]
    if not keys:
        return None
    if len(keys) > 1:
        raise UserError(f"--sort: one field at a time, got {', '.join(keys)}", USAGE_ERROR)
    name = keys[0].removeprefix("-")
    ftype = schema.get(name)
    if ftype is None or ftype.kind not in SORT_KINDS:
        what = "no field" if ftype is None else f"a {ftype.kind} field"
        raise UserError(
            f"--sort: {name!r} is {what}; the index's fields that sort (NUMERIC, "
            f"DATETIME): {_of_kinds(schema, SORT_KINDS)}",
            USAGE_ERROR,
        )
    return keys[0]
