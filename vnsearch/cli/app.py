"""The ``vnsearch`` command: its arguments, help with Vietnamese examples, and exit codes.

Exit codes: 0 ok (also when nothing matched), 2 usage error, 3 data or index error,
130 interrupted. User errors print one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from vnsearch.analysis import VIEWS
from vnsearch.cli.errors import UserError
from vnsearch.errors import VnsearchError

__all__ = ["build_parser", "main"]

EXAMPLES = """\
examples (from a checkout of vnsearch; with no --index, query and info use the bundled
demo documents):
  vnsearch query "tổ chức đảng"                     search, accents optional: "to chuc dang"
  vnsearch query "hội nghị" --field title --limit 3
  vnsearch query "Ban Tổ chức Trung ương" --json
  vnsearch index seeds --index tin-tuc.idx          index a folder of .txt/.md files
  vnsearch index bao.jsonl bao.csv --index tin-tuc.idx --fields title=tieu_de,body=noi_dung
  vnsearch query "thái nguyên" --index tin-tuc.idx
  vnsearch suggest "to ch"                          completions as you type: tổ chức
  vnsearch info --index tin-tuc.idx
  vnsearch optimize --index tin-tuc.idx             merge its segments into one
  vnsearch verify --index tin-tuc.idx               check every byte against its checksums
  vnsearch analyze "Thủy điện Hòa Bình"             how a text is analyzed
  vnsearch serve --index tin-tuc.idx                a search page: http://127.0.0.1:8000/
"""

ANALYZE_EXAMPLES = """\
examples:
  vnsearch analyze "Thủy điện Hòa Bình"          the views of a text
  vnsearch analyze "thuy dien hoa binh" --view folded
  vnsearch analyze --file seeds/000_483ea6bfdeb6afd9.txt --json
  vnsearch analyze                               the first bundled seed document
"""

INDEX_EXAMPLES = """\
sources:
  a folder of .txt/.md files    one document a file: title = first line, body = the rest,
                                id = the path inside the folder
  .jsonl / .ndjson (.gz)        one JSON object a line
  .csv (.gz)                    a header row, then one document a row
  Columns title and body are TEXT (searched); other columns are stored with the document.
  A document whose id is already in the index replaces it. All documents are committed
  at the end, together; an unreadable record stops the run with nothing committed,
  unless --skip-errors. Texts are analyzed in --jobs processes (default: one per core);
  the index is the same whatever the number.

examples:
  vnsearch index seeds --index tin-tuc.idx
  vnsearch index bao.jsonl --index tin-tuc.idx --id-field ma_bai \\
      --fields title=tieu_de,body=noi_dung
  vnsearch index bao.csv --index tin-tuc.idx --fields tom_tat --skip-errors
  vnsearch index bao.jsonl.gz --index tin-tuc.idx --jobs 1   one process, no workers
  VNSEARCH_INDEX=tin-tuc.idx vnsearch index bai-moi/
"""

QUERY_EXAMPLES = """\
query language: words (accents optional), "a phrase", +must, -must_not, field:word, OR

examples:
  vnsearch query "tổ chức đảng"                  the bundled demo documents
  vnsearch query to chuc dang                    the same, without accents or quotes
  vnsearch query '"Ban Tổ chức Trung ương" +hội nghị' --limit 3
  vnsearch query "hội nghị" --field title --json
  vnsearch query "thai nguyen" --index tin-tuc.idx
"""

SUGGEST_EXAMPLES = """\
Completes the last word (with the word before it, as a pair) from the words the index
holds, most documents first; typed without accents it matches any accents and shows the
index's most frequent spelling, typed with accents only those. A space at the end
completes the next word.

examples:
  vnsearch suggest "to ch"                       the bundled demo documents
  vnsearch suggest "hội " --limit 3
  vnsearch suggest "ha n" --index tin-tuc.idx --json
"""

INFO_EXAMPLES = """\
examples:
  vnsearch info                                  the bundled demo index
  vnsearch info --index tin-tuc.idx --json
"""

VERIFY_EXAMPLES = """\
Opening an index checks the small parts of each segment (lengths, columns, directory);
this reads and checks everything, postings and term dictionaries included (about a second
per GB). Merges check the segments they merge the same way.

examples:
  vnsearch verify --index tin-tuc.idx
  vnsearch verify                                the bundled demo index
"""

OPTIMIZE_EXAMPLES = """\
Each run of "vnsearch index" commits a new segment; once many small ones pile up, a
later run merges them. A search reads every segment. Optimizing rewrites them all as one
and drops deleted (replaced) documents for good; on a large index that takes minutes.
Searches keep working meanwhile; other writers wait for it.

examples:
  vnsearch optimize --index tin-tuc.idx
  VNSEARCH_INDEX=tin-tuc.idx vnsearch optimize
"""

SERVE_EXAMPLES = """\
examples:
  vnsearch serve --index tin-tuc.idx             then open http://127.0.0.1:8000/
  vnsearch serve --port 8080                     the bundled demo documents
  curl 'http://127.0.0.1:8000/search?q=ha+noi&limit=5&offset=5'
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _megabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of megabytes: {text!r}") from None
    if not 0 < value < float("inf"):  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


def _index_limit_fields(
    p: argparse.ArgumentParser, index_help: str, what: str, field_help: str
) -> None:
    """The options ``query`` and ``suggest`` share: ``--index``, ``--limit``, ``--field``."""
    p.add_argument("--index", metavar="DIR", help=index_help)
    p.add_argument(
        "--limit",
        "-n",
        type=_positive_int,
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    index_help = "the index folder (default: $VNSEARCH_INDEX, else the bundled demo index)"

    p = sub.add_parser(
        "query",
        help="search an index",
        description="Print the best documents for a query, with a snippet of each.",
        epilog=QUERY_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("query", nargs="+", help="the query (several words are joined)")
    _index_limit_fields(p, index_help, "hits", "search only this TEXT field (repeatable)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: query, total, hits with snippet spans",
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
        help="a .jsonl/.ndjson/.csv file (optionally .gz), a .txt/.md file or a folder",
    )
    p.add_argument(
        "--index",
        metavar="DIR",
        help="the index folder (default: $VNSEARCH_INDEX; one of them is needed)",
    )
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
    p.add_argument(
        "--skip-errors",
        action="store_true",
        help="skip unreadable records (malformed JSON, no id, ...) and count them",
    )
    p.add_argument(
        "--wait",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for another writer's lock (default 10)",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"processes analyzing the texts (default: one per core, {os.cpu_count() or 1} "
        "here); 1 keeps everything in this process",
    )
    p.add_argument(
        "--max-text-mb",
        type=_megabytes,
        default=10.0,
        metavar="MB",
        help="refuse a text field longer than this (a data error, or skipped with "
        "--skip-errors; default 10: indexing takes ~140 bytes of memory per byte of text)",
    )

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
    p.add_argument(
        "--index",
        metavar="DIR",
        help="the index folder (default: $VNSEARCH_INDEX; one of them is needed)",
    )
    p.add_argument(
        "--wait",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for another writer's lock (default 10)",
    )

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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    _lenient_stdout()
    try:
        args = build_parser().parse_args(argv)
        if args.command == "serve":
            from vnsearch.cli.serve import serve

            return serve(args)
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
