"""What each subcommand does, given its parsed arguments; returns the exit code.

Each command imports what it needs when it runs, so ``vnsearch analyze`` never loads
Whoosh and ``vnsearch query`` never loads the CSV or JSON readers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vnsearch.cli.errors import USAGE_ERROR, UserError

__all__ = ["analyze", "delete", "index", "info", "optimize", "query", "suggest", "verify"]


def analyze(args: argparse.Namespace) -> int:
    """Print the views of a text (or of the first sentence of the first seed)."""
    from vnsearch.analysis import VIEWS
    from vnsearch.analysis import analyze as analyze_text
    from vnsearch.cli.default_index import seeds_dir
    from vnsearch.cli.sources import read_text

    if args.text and args.file:
        raise UserError("give a TEXT or --file, not both", USAGE_ERROR)
    if args.file:
        text = read_text(Path(args.file))
    elif args.text:
        text = " ".join(args.text)
    else:
        first = sorted(seeds_dir().glob("*.txt"))[0]
        text = read_text(first).split(". ")[0] + "."
        if not args.json:
            print(f"# {text}\n# (first sentence of the bundled seed {first.name})\n")
    views = [args.view] if args.view else list(VIEWS)
    analysis = analyze_text(text)
    if args.json:
        import json

        out = {
            view: [
                {"text": t.text, "start": t.start, "end": t.end, "position": t.position}
                for t in analysis[view]
            ]
            for view in views
        }
        print(json.dumps(out, ensure_ascii=False))
    else:
        width = max(map(len, views))
        for view in views:
            print(f"{view:<{width}}  " + " | ".join(analysis.terms(view)))
    return 0


def index(args: argparse.Namespace) -> int:
    """Add (or replace) the documents of the sources in the index, then print a summary."""
    from vnsearch.cli.default_index import resolve_index
    from vnsearch.cli.indexing import (
        IndexOptions,
        index_sources,
        parse_field_map,
        parse_typed_columns,
    )
    from vnsearch.cli.output import format_index_summary
    from vnsearch.cli.progress import Progress
    from vnsearch.cli.sources import open_source

    if args.sources.count("-") > 1:
        raise UserError("standard input (-) can be read once only", USAGE_ERROR)
    typed = parse_typed_columns(keyword=args.keyword, numeric=args.numeric, datetime=args.datetime)
    path = resolve_index(args.index, required=True)
    sources = [open_source(name, args.max_text_mb) for name in args.sources]
    options = IndexOptions(
        id_field=args.id_field,
        fields=parse_field_map(args.fields),
        typed=typed,
        skip_errors=args.skip_errors,
        wait=args.wait,
        jobs=args.jobs,
        max_text_mb=args.max_text_mb,
    )
    progress = Progress(sum(s.size for s in sources))
    try:
        summary = index_sources(path, sources, options, progress)
    finally:
        progress.finish()
    for message in summary.first_errors:
        print(f"vnsearch: skipped {message}", file=sys.stderr)
    print(format_index_summary(summary, path))
    return 0


def _snippet_fields(schema: Any, fields: list[str] | None) -> list[str]:
    """The stored TEXT fields snippets come from, by preference: the searched ones, the
    title last (it is printed anyway)."""
    names = [f for f in (fields or schema.text_fields) if schema[f].stored]
    return sorted(names, key=lambda f: f == "title")


def query(args: argparse.Namespace) -> int:
    """Print the best hits of a query (exit 0 also when nothing matched)."""
    from vnsearch.cli.default_index import resolve_index
    from vnsearch.cli.locate import open_index
    from vnsearch.cli.output import format_hits, hits_json, use_color
    from vnsearch.cli.query_options import filters, sort_keys

    ix = open_index(resolve_index(args.index), sharded=True)
    schema = ix.schema
    fields = args.field or None
    _check_fields(schema, fields)
    from vnsearch.query import QueryLimits

    text = " ".join(args.query)
    limits = QueryLimits(on_excess=args.too_long)
    results = ix.search(
        text,
        limit=args.limit,
        offset=args.offset,
        fields=fields,
        filter=filters(schema, args.filter),
        sort=sort_keys(schema, args.sort),
        limits=limits,
        synonyms=False if args.no_synonyms else args.synonyms,
    )
    for note in results.notes:  # what of a too long query was left out
        print(f"vnsearch: note: {note}", file=sys.stderr)
    snippet_fields = _snippet_fields(schema, fields)
    if args.json:
        print(hits_json(text, results, snippet_fields, offset=args.offset))
    else:
        title = "title" if "title" in schema and schema["title"].stored else None
        shown = text if len(text) <= 200 else text[:200] + "…"
        color = use_color(sys.stdout)
        print(format_hits(shown, results, title, snippet_fields, color, offset=args.offset))
    return 0


def _check_fields(schema: Any, fields: list[str] | None) -> None:
    """Refuse ``--field`` names that are not TEXT fields of the index (a usage error)."""
    unknown = [f for f in fields or () if f not in schema.text_fields]
    if unknown:
        raise UserError(
            f"--field: the index has no TEXT field {', '.join(map(repr, unknown))} "
            f"(its TEXT fields: {', '.join(schema.text_fields)})",
            USAGE_ERROR,
        )


def suggest(args: argparse.Namespace) -> int:
    """Print the completions of a prefix, one a line with its count (or as JSON)."""
    from vnsearch.cli.default_index import resolve_index
    from vnsearch.cli.locate import open_index

    ix = open_index(resolve_index(args.index))
    _check_fields(ix.schema, args.field)
    prefix = " ".join(args.prefix)
    found = ix.suggest(prefix, args.limit, fields=args.field or None)
    if args.json:
        import json

        rows = [s._asdict() for s in found]
        print(json.dumps({"prefix": prefix, "suggestions": rows}, ensure_ascii=False))
    else:
        for s in found:
            print(f"{s.query}\t{s.count}")
    return 0


def delete(args: argparse.Namespace) -> int:
    """Delete documents by id in one commit; exit 1 when none of the ids was found."""
    from vnsearch.cli.default_index import resolve_index
    from vnsearch.cli.locate import open_index
    from vnsearch.errors import IndexLocked

    path = resolve_index(args.index, required=True)
    ix = open_index(path)
    try:
        if ix.schema.unique_field is None:
            raise UserError(f"{path}: the index has no unique ID field to delete by")
        try:
            writer = ix.writer(timeout=args.wait, jobs=1)
        except IndexLocked as exc:
            raise UserError(str(exc)) from None
        try:
            ids = list(dict.fromkeys(args.ids))
            missing = [doc_id for doc_id in ids if not writer.delete(doc_id)]
            if len(missing) < len(ids):
                writer.commit()
        finally:
            writer.cancel()  # nothing to commit, or the commit failed: the lock back
    finally:
        ix.close()
    found = len(ids) - len(missing)
    print(f"deleted {found:,} of {len(ids):,} documents from {path}")
    if missing:
        shown = ", ".join(map(repr, missing[:10])) + (", …" if len(missing) > 10 else "")
        print(f"vnsearch: no document has the id {shown}", file=sys.stderr)
    return 0 if found else 1


def info(args: argparse.Namespace) -> int:
    """Print what an index holds: documents, fields, views, size, format, segments."""
    from vnsearch.analysis import VIEWS
    from vnsearch.cli.default_index import resolve_index
    from vnsearch.cli.locate import open_index
    from vnsearch.cli.output import format_info
    from vnsearch.index.schema import POSITIONAL_VIEWS

    path = resolve_index(args.index)
    ix = open_index(path)
    stats = ix.stats()
    import json

    facts = {
        "path": str(path),
        "documents": stats.documents,
        "deleted": stats.deleted,
        "size_bytes": stats.size_bytes,
        "format": stats.format,
        "segments": stats.segments,
        "fields": {name: ftype.to_json() for name, ftype in ix.schema.items()},
        "views": list(VIEWS),
        "positional_views": [v for v in VIEWS if v in POSITIONAL_VIEWS],
    }
    ix.close()
    print(json.dumps(facts, ensure_ascii=False) if args.json else format_info(facts))
    return 0


def verify(args: argparse.Namespace) -> int:
    """Check every segment of an index against its checksums."""
    import time

    from vnsearch.cli.default_index import resolve_index
    from vnsearch.cli.locate import open_index
    from vnsearch.cli.output import human_size

    path = resolve_index(args.index)
    ix = open_index(path)
    start = time.perf_counter()
    try:
        report = ix.verify()
    finally:
        ix.close()
    n = report["segments"]
    print(
        f"verified {path} in {time.perf_counter() - start:.1f} s: {n:,} segment{'s' * (n != 1)}"
        f", {human_size(report['bytes'])}, every checksum matches"
    )
    unchecked = report["unchecked_segments"]
    if unchecked:
        print(
            f"{unchecked:,} of them {'were' if unchecked > 1 else 'was'} written before "
            "vnsearch kept checksums and not checked (vnsearch optimize rewrites them with "
            "checksums)"
        )
    return 0


def optimize(args: argparse.Namespace) -> int:
    """Merge the index's segments into one; print segments, documents and size before and
    after."""
    import time

    from vnsearch.cli.default_index import resolve_index
    from vnsearch.cli.locate import open_index
    from vnsearch.cli.output import format_optimize
    from vnsearch.errors import IndexLocked

    path = resolve_index(args.index, required=True)
    ix = open_index(path)
    try:
        before = _segment_facts(ix)
        if before["segments"] <= 1 and before["deleted"] == 0:
            # already optimal: merging would rewrite the whole index to the same content
            print(format_optimize(path, before, before, None))
            return 0
        start = time.perf_counter()
        try:
            ix.optimize(timeout=args.wait)
        except IndexLocked as exc:
            raise UserError(str(exc)) from None
        seconds = time.perf_counter() - start
        after = _segment_facts(ix)
    finally:
        ix.close()
    print(format_optimize(path, before, after, seconds))
    return 0


def _segment_facts(ix: Any) -> dict[str, int]:
    stats = ix.stats()
    return {
        "segments": stats.segments,
        "documents": stats.documents,
        "deleted": stats.deleted,
        "size_bytes": stats.size_bytes,
    }
