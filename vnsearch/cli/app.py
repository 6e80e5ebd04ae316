"""The ``vnsearch`` command: its arguments, help with Vietnamese examples, and exit codes.

Exit codes: 0 ok (also when nothing matched), 1 ``delete`` found none of its ids, 2 usage
error, 3 data or index error, 130 interrupted. User errors print one line on stderr, never
a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from vnsearch import __version__
from vnsearch.analysis import VIEWS
from vnsearch.cli import shards_cli
from vnsearch.cli.arg_types import count, megabytes, positive_int, seconds
from vnsearch.cli.errors import UserError
from vnsearch.cli.examples import (
    ANALYZE_EXAMPLES,
    DELETE_EXAMPLES,
    EXAMPLES,
    INDEX_EXAMPLES,
    INFO_EXAMPLES,
    OPTIMIZE_EXAMPLES,
    QUERY_EXAMPLES,
    SERVE_EXAMPLES,
    SUGGEST_EXAMPLES,
    VERIFY_EXAMPLES,
)
from vnsearch.errors import VnsearchError

__all__ = ["build_parser", "main"]


def _writer_options(p: argparse.ArgumentParser) -> None:
    """The options the commands that write share: ``--index`` (needed) and ``--wait``."""
    p.add_argument(
        "--index",
        metavar="DIR",
        help="the index folder (default: $VNSEARCH_INDEX; one of them is needed)",
    )
    p.add_argument(
        "--wait",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for another writer's lock (default 10)",
    )


def _index_limit_fields(
    p: argparse.ArgumentParser, index_help: str, what: str, field_help: str
) -> None:
    """The options ``query`` and ``suggest`` share: ``--index``, ``--limit``, ``--field``."""
    p.add_argument("--index", metavar="DIR", help=index_help)
    p.add_argument(
        "--limit",
        "-n",
        type=positive_int,
        default=10,
        metavar="N",
        help=f"how many {what} to print (default 10)",
    )
    p.add_argument("--field", "-f", action="append", metavar="F", help=field_help)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``vnsearch`` and its subcommands."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="vnsearch",
        description="Full-text search for Vietnamese, with or without diacritics.",
        epilog=EXAMPLES,
        formatter_class=raw,
    )
    parser.add_argument("--version", action="version", version=f"vnsearch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    index_help = "the index folder (default: $VNSEARCH_INDEX, else the bundled demo index)"

    p = sub.add_parser(
        "query",
        help="search an index",
        description="Print the best documents for a query, with a snippet of each.",
        epilog=QUERY_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument(
        "query",
        nargs="*",
        help="the query (several words are joined; none: every document); a query that "
        'starts with "-" after "--"',
    )
    _index_limit_fields(p, index_help, "hits", "search only this TEXT field (repeatable)")
    p.add_argument(
        "--offset",
        type=count,
        default=0,
        metavar="N",
        help="skip the first N hits (the next page: --offset 10 with --limit 10)",
    )
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="only documents with this value of a KEYWORD or ID field (repeatable: "
        "values of one field any of them, several fields all of them)",
    )
    p.add_argument(
        "--sort",
        action="append",
        default=[],
        metavar="[-]FIELD",
        help="order by a NUMERIC, DATETIME, KEYWORD or ID field (or score), -FIELD "
        "descending; several: --sort -ngay,diem (then ties by score)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: query, total, hits with snippet spans",
    )
    words = p.add_mutually_exclusive_group()
    words.add_argument(
        "--synonyms",
        metavar="FILE",
        help="also search each form of a line of FILE as the others (UTF-8 lines such as "
        "'TP.HCM, TPHCM => thành phố Hồ Chí Minh'), besides the built-in abbreviations",
    )
    words.add_argument(
        "--no-synonyms",
        action="store_true",
        help="search the words as typed: no abbreviations (UBND, TP.HCM, ...) or synonyms",
    )
    p.add_argument(
        "--too-long",
        choices=("truncate", "error"),
        default="truncate",
        help="a query over the limits (4,000 characters, 1,024 words, 1,024 term lookups): "
        "search its first part and say so (default), or fail with exit code 3",
    )

    p = sub.add_parser(
        "suggest",
        help="complete a prefix from the index's words",
        description="Print PREFIX completed, its last word from the index's words, and "
        "how many documents hold each completion, one a line.",
        epilog=SUGGEST_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("prefix", nargs="+", help="what was typed so far (several words are joined)")
    _index_limit_fields(p, index_help, "completions", "only this TEXT field (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser(
        "index",
        help="add documents from JSON Lines, CSV or folders of text files",
        description="Add documents to an index (created if missing), replacing those "
        "with the same id.",
        epilog=INDEX_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="a .jsonl/.ndjson/.csv file (optionally .gz), a .txt/.md file, a folder, "
        "or - (JSON Lines on standard input)",
    )
    _writer_options(p)
    p.add_argument(
        "--id-field",
        default="id",
        metavar="COLUMN",
        help="the column holding each document's unique id (default: id)",
    )
    p.add_argument(
        "--fields",
        action="append",
        default=[],
        metavar="F[=COLUMN],...",
        help="TEXT (searched) fields and the columns they come from "
        "(default: title=title,body=body)",
    )
    for kind, use in [
        ("keyword", "KEYWORD fields, to filter on (vnsearch query --filter COLUMN=VALUE)"),
        ("numeric", "NUMERIC fields (numbers), to sort on (vnsearch query --sort COLUMN)"),
        ("datetime", "DATETIME fields (ISO dates: 2024-03-01T12:00), to sort on"),
    ]:
        p.add_argument(
            f"--{kind}",
            action="append",
            default=[],
            metavar="COLUMN,...",
            help=f"columns a new index keeps as {use}; other extra columns are only stored",
        )
    p.add_argument(
        "--skip-errors",
        action="store_true",
        help="skip unreadable records (malformed JSON, no id, ...) and count them",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"processes analyzing the texts (default: one per core, {os.cpu_count() or 1} "
        "here); 1 keeps everything in this process",
    )
    p.add_argument(
        "--max-text-mb",
        type=megabytes,
        default=10.0,
        metavar="MB",
        help="refuse a text field longer than this (a data error, or skipped with "
        "--skip-errors; default 10: indexing takes ~140 bytes of memory per byte of text)",
    )

    p = sub.add_parser(
        "delete",
        help="delete documents by id",
        description="Delete the documents with these ids from an index.",
        epilog=DELETE_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("ids", nargs="+", metavar="ID", help="a document's id (its unique field)")
    _writer_options(p)

    p = sub.add_parser(
        "info",
        help="describe an index",
        description="Documents, fields, views, size on disk, format version, segments.",
        epilog=INFO_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("--index", metavar="DIR", help=index_help)
    p.add_argument("--json", action="store_true", help="print the facts as one JSON object")

    p = sub.add_parser(
        "optimize",
        help="merge an index's segments into one",
        description="Merge all segments of an index into one, dropping deleted documents.",
        epilog=OPTIMIZE_EXAMPLES,
        formatter_class=raw,
    )
    _writer_options(p)

    p = sub.add_parser(
        "verify",
        help="check an index's files against their checksums",
        description="Read every segment file of an index and check it against the "
        "checksums written with it; exit code 3 and the damaged file's name if one differs.",
        epilog=VERIFY_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("--index", metavar="DIR", help=index_help)

    p = sub.add_parser(
        "serve",
        help="a search page and a JSON HTTP API over an index",
        description="Serve a search page at / and a JSON API: /search?q=&limit=&offset="
        "&filter=field:value&sort=-field, /suggest?q=, /doc/<id>. Ctrl-C stops.",
        epilog=SERVE_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("--index", metavar="DIR", help=index_help)
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1: this machine only)",
    )
    p.add_argument("--port", type=int, default=8000, help="the port (default 8000; 0: any)")
    p.add_argument("--quiet", "-q", action="store_true", help="no line per request")
    p.add_argument(
        "--cache-mb",
        type=megabytes,
        metavar="MB",
        help="decoded postings kept for the next searches (default 512): more for a large index",
    )

    p = sub.add_parser(
        "analyze",
        help="show how a text is analyzed (the terms the index stores)",
        epilog=ANALYZE_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("text", nargs="*", help="the text (default: the first bundled seed)")
    p.add_argument("--file", help="analyze a UTF-8 text file")
    p.add_argument("--view", choices=VIEWS, help="show one view only")
    p.add_argument("--json", action="store_true", help="print the views as JSON, with offsets")
    shards_cli.add_parser(sub)
    return parser


def _silence_stdout() -> None:
    """After a broken pipe (``vnsearch query ... | head``), send what is left to devnull,
    so that Python's flush at exit does not complain."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _lenient_stdout() -> None:
    """Print what the output encoding cannot encode (a lone surrogate kept in a STORED
    value, shown by ``query``) as a ``\\u`` escape, not as a traceback after the hits."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    failing = ("strict", "surrogateescape")  # the latter fails outside U+DC80..U+DCFF
    if reconfigure is not None and getattr(sys.stdout, "errors", None) in failing:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="backslashreplace")


def _joined_sort(argv: Sequence[str]) -> list[str]:
    """``--sort -published`` as ``--sort=-published``: argparse takes a value that starts
    with ``-`` for an option (before ``--`` only).

    >>> _joined_sort(["query", "x", "--sort", "-views", "--", "--sort", "-y"])
    ['query', 'x', '--sort=-views', '--', '--sort', '-y']
    """
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            out.append(arg)
            out.extend(args)
            break
        if arg == "--sort":
            value = next(args, None)
            out.append(arg if value is None else f"--sort={value}")
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    _lenient_stdout()
    try:
        args = build_parser().parse_args(_joined_sort(sys.argv[1:] if argv is None else argv))
        if args.command == "serve":
            from vnsearch.cli.serve import serve

            return serve(args)
        if args.command == "shards":
            return shards_cli.run(args)
        from vnsearch.cli import commands

        return getattr(commands, args.command)(args)
    except UserError as exc:
        print(f"vnsearch: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("vnsearch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OSError as exc:  # the disk, permissions: the user's to fix, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"vnsearch: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 3
    except VnsearchError as exc:  # the library's documented errors (a damaged index...)
        print(f"vnsearch: error: {exc}", file=sys.stderr)
        return 3
