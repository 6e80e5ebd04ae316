"""What the commands print: ranked hits (text with ANSI colours on a terminal, or JSON),
an index's description, an indexing summary.

Colours only when the stream is a terminal and ``NO_COLOR`` is unset or empty.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

__all__ = [
    "format_hits",
    "format_index_summary",
    "format_info",
    "format_optimize",
    "hits_json",
    "human_size",
    "use_color",
]

TITLE_CHARS = 100
BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def use_color(stream: TextIO) -> bool:
    """Whether to write ANSI colours to ``stream``."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


def _snippet_field(hit: Any, fields: Sequence[str]) -> str | None:
    """The first of ``fields`` with stored text in this hit."""
    for name in fields:
        value = hit.fields.get(name)
        if isinstance(value, str) and value.strip():
            return name
    return None


def _title(hit: Any, title_field: str | None) -> str:
    value = hit.fields.get(title_field) if title_field else None
    title = " ".join(value.split()) if isinstance(value, str) else ""
    if not title:
        return str(hit.id)
    if len(title) > TITLE_CHARS:
        cut = title.rfind(" ", 0, TITLE_CHARS)
        title = title[: cut if cut > TITLE_CHARS // 2 else TITLE_CHARS] + " …"
    return title


def format_hits(
    query: str,
    results: Any,
    title_field: str | None,
    snippet_fields: Sequence[str],
    color: bool = False,
    offset: int = 0,
) -> str:
    """Ranked results for a terminal: a count line, then per hit its rank, title, id and
    score, and a snippet of the first of ``snippet_fields`` the hit has text in. The
    results are those after the first ``offset``; an empty ``query`` lists documents. The
    query as read comes first when it was corrected (``Showing results for "việt nam"``)."""
    total = results.total
    corrected = getattr(results, "corrected", None)
    shown = [f'Showing results for "{corrected}"'] if corrected else []
    if not query.strip():  # a listing: every document (that passes the filters)
        head = f"{total:,} document{'s' * (total != 1)}" if total else "no documents"
    elif total == 0:
        return "\n".join([*shown, f'no documents match "{query}"'])
    else:
        noun = "document matches" if total == 1 else "documents match"
        head = f'{total:,} {noun} "{query}"'
    if offset and not len(results):
        head += f"; none after the first {offset:,}" if total else ""
    elif offset:
        head += f"; {offset + 1:,} to {offset + len(results):,}:"
    elif total > len(results):
        head += f"; the {'best' if query.strip() else 'first'} {len(results)}:"
    lines = [*shown, head, ""]
    bold, dim, reset = (BOLD, DIM, RESET) if color else ("", "", "")
    width = len(str(offset + len(results)))
    pad = " " * (width + 2)
    for rank, hit in enumerate(results, offset + 1):
        lines.append(f"{rank:>{width}}. {bold}{_title(hit, title_field)}{reset}")
        lines.append(f"{pad}{dim}{hit.id} · score {hit.score:.2f}{reset}")
        field = _snippet_field(hit, snippet_fields)
        if field is not None:
            snippet = hit.snippet(field)
            text = snippet.to_ansi() if color else snippet.text
            text = " ".join(text.split())
            if text:
                lines.append(pad + text)
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def hits_json(query: str, results: Any, snippet_fields: Sequence[str], offset: int = 0) -> str:
    """The results as one JSON object: query, ``corrected`` (the query as read when raw
    keys or typos were read, else null), total, offset, and hits (id, score, stored
    fields, and the snippet's field, text and spans; see :func:`format_hits`); ``notes``
    when part of a too long query was left out."""
    import json

    hits = []
    for hit in results:
        item: dict[str, Any] = {"id": hit.id, "score": hit.score, "snippet": None}
        field = _snippet_field(hit, snippet_fields)
        if field is not None:
            snippet = hit.snippet(field)
            item["snippet"] = {
                "field": field,
                "text": snippet.text,
                "spans": [list(span) for span in snippet.spans],
            }
        item["fields"] = dict(hit.fields)
        hits.append(item)
    corrected = getattr(results, "corrected", None)
    out = {"query": query, "corrected": corrected, "total": results.total, "offset": offset}
    out["hits"] = hits
    if results.notes:
        out["notes"] = list(results.notes)
    return json.dumps(out, ensure_ascii=False, default=str)


def human_size(n: int) -> str:
    """``1536`` -> ``'1.5 KB'`` (powers of 1024).

    >>> human_size(512), human_size(405_504), human_size(3 * 1024**3)
    ('512 B', '396 KB', '3.0 GB')
    """
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            if unit == "B":
                return f"{int(size)} B"
            return f"{size:.1f} {unit}" if size < 10 else f"{size:.0f} {unit}"
        size /= 1024
    raise AssertionError  # unreachable


def _field_text(spec: Mapping[str, Any]) -> str:
    flags = []
    for key, value in spec.items():
        if key == "type" or value is False:
            continue
        if key == "boost" and value == 1.0:
            continue
        flags.append(
            key if value is True else f"{key} {value:g}" if key == "boost" else f"{key} {value}"
        )
    return spec["type"] + (f" ({', '.join(flags)})" if flags else "")


def format_info(info: Mapping[str, Any]) -> str:
    """An index's description (see ``commands.info``), one fact a line."""
    fields = info["fields"]
    width = max(map(len, fields), default=0)
    field_lines = [f"{name:<{width}}  {_field_text(spec)}" for name, spec in fields.items()]
    deleted = f" ({info['deleted']:,} deleted, not yet merged away)" if info["deleted"] else ""
    views = ", ".join(
        f"{v} (positions)" if v in info["positional_views"] else v for v in info["views"]
    )
    rows = [
        ("index", info["path"]),
        ("documents", f"{info['documents']:,}{deleted}"),
        ("size", f"{human_size(info['size_bytes'])} on disk"),
        ("format", f"version {info['format']}"),
        ("segments", str(info["segments"])),
        ("fields", "\n".join(field_lines)),
        ("views", f"{views} (of each TEXT field)"),
    ]
    out = []
    for label, value in rows:
        first, *rest = value.split("\n")
        out.append(f"{label:<10} {first}")
        out.extend(f"{'':<10} {line}" for line in rest)
    return "\n".join(out)


def format_index_summary(summary: Any, path: Any) -> str:
    """The last lines of ``vnsearch index``."""
    n = summary.added + summary.updated
    rate = n / summary.seconds if summary.seconds > 0 else 0.0
    lines = [
        f"indexed {n:,} documents in {summary.seconds:.1f} s ({rate:,.0f} documents/s): "
        f"{summary.added:,} added, {summary.updated:,} updated"
    ]
    if summary.skipped:
        lines.append(f"skipped {summary.skipped:,} records that could not be read")
    if summary.dropped:
        names = ", ".join(f"{c} ({k:,})" for c, k in summary.dropped.most_common())
        lines.append(f"ignored values of columns the index has no field for: {names}")
    new = " (new)" if summary.created else ""
    lines.append(
        f"index {path}{new}: {summary.doc_count:,} documents, {human_size(summary.size_bytes)}"
    )
    return "\n".join(lines)


def format_optimize(
    path: Any, before: Mapping[str, int], after: Mapping[str, int], seconds: float | None
) -> str:
    """What ``vnsearch optimize`` did: segments, documents and size, before -> after
    (``seconds`` None: nothing to do).

    >>> print(format_optimize("ix", {"segments": 3, "documents": 80, "deleted": 5,
    ...     "size_bytes": 2_000_000}, {"segments": 1, "documents": 80, "deleted": 0,
    ...     "size_bytes": 1_500_000}, 0.3))
    optimized ix in 0.3 s
    segments   3 -> 1
    documents  80 -> 80
    deleted    5 -> 0
    size       1.9 MB -> 1.4 MB
    """
    rows = [
        ("segments", f"{before['segments']:,} -> {after['segments']:,}"),
        ("documents", f"{before['documents']:,} -> {after['documents']:,}"),
        ("deleted", f"{before['deleted']:,} -> {after['deleted']:,}"),
        ("size", f"{human_size(before['size_bytes'])} -> {human_size(after['size_bytes'])}"),
    ]
    if seconds is None:
        first = f"nothing to merge in {path}: one segment, no deleted documents"
    else:
        first = f"optimized {path} in {seconds:.1f} s"
    return "\n".join([first] + [f"{k:<10} {v}" for k, v in rows])
