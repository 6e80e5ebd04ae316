"""``vnsearch shards build`` and ``vnsearch shards serve``: a sharded index built in parallel
(Ray tasks, or local processes with ``--local``) and served by Ray Serve.

Documents are read as ``vnsearch index`` reads them (:func:`~vnsearch.cli.indexing.read_documents`:
the same sources, schema options and errors naming file and line). Ray is optional: without
it, ``build`` (but with ``--local``) and ``serve`` stop with one line saying
``pip install 'vnsearch[cluster]'`` (exit code 3).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path
from typing import Any

from vnsearch.cli.arg_types import count, positive_int, positive_seconds
from vnsearch.cli.errors import USAGE_ERROR, UserError

__all__ = ["add_parser", "run"]

BUILD_EXAMPLES = """\
examples:
  vnsearch shards build bao.jsonl --shards 4 --index bao-shards
  vnsearch shards build seeds/ --shards 2 --index seeds-shards --local
  vnsearch shards build bao.csv --shards 8 --index /shared/bao --address 10.0.0.1:6379
"""
SERVE_EXAMPLES = """\
examples:
  vnsearch shards serve --index bao-shards
  curl 'http://127.0.0.1:8000/search?q=ha+noi&limit=5'
  vnsearch shards serve --index /shared/bao --address 10.0.0.1:6379 --replicas 2 --pin-shards
"""


def add_parser(sub: Any) -> None:
    """Add ``shards build`` and ``shards serve`` to the subcommands ``sub``."""
    raw = argparse.RawDescriptionHelpFormatter
    top = sub.add_parser(
        "shards",
        help="a sharded index: built in parallel (Ray), served by Ray Serve",
        description="Build a sharded index with each shard in a task of its own, or serve "
        "one with Ray Serve (pip install 'vnsearch[cluster]').",
    )
    shards_sub = top.add_subparsers(dest="shards_command", required=True, metavar="COMMAND")
    address = "a Ray cluster's address (default: start a local one, on 127.0.0.1 only)"

    p = shards_sub.add_parser(
        "build",
        help="build a sharded index from JSON Lines, CSV or folders of text files",
        description="Create a sharded index (a new or empty folder): documents routed "
        "by their id, each shard built by a Ray task (or a local process: --local).",
        epilog=BUILD_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="as for vnsearch index")
    p.add_argument("--index", required=True, metavar="DIR", help="the new sharded index")
    p.add_argument("--shards", type=positive_int, default=4, metavar="S", help="default 4")
    p.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        metavar="N",
        help="shards built at once (default: cores)",
    )
    p.add_argument("--local", action="store_true", help="local processes, without Ray")
    p.add_argument("--address", metavar="HOST:PORT", help=address)
    p.add_argument("--id-field", default="id", metavar="COLUMN", help="default: id")
    p.add_argument("--fields", action="append", default=[], metavar="F[=COLUMN],...")
    for kind in ("keyword", "numeric", "datetime"):
        p.add_argument(f"--{kind}", action="append", default=[], metavar="COLUMN,...")
    p.add_argument("--skip-errors", action="store_true", help="skip unreadable records")
    p.add_argument("--max-text-mb", type=float, default=10.0, metavar="MB")

    p = shards_sub.add_parser(
        "serve",
        help="serve a sharded index's JSON API with Ray Serve",
        description="Serve /search, /suggest and /doc/<id> (as vnsearch serve) over a "
        "sharded index: a Ray Serve deployment per shard and a router. Ctrl-C stops.",
        epilog=SERVE_EXAMPLES,
        formatter_class=raw,
    )
    p.add_argument("--index", required=True, metavar="DIR", help="the sharded index")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1: this machine only")
    p.add_argument("--port", type=count, default=8000, help="default 8000")
    p.add_argument("--replicas", type=positive_int, default=1, metavar="R", help="per shard")
    p.add_argument(
        "--timeout", type=positive_seconds, default=10.0, metavar="SECONDS", help="per shard answer"
    )
    p.add_argument("--address", metavar="HOST:PORT", help=address)
    p.add_argument(
        "--pin-shards",
        action="store_true",
        help="run shard i only on nodes with the custom resource vnsearch-shard-<i>",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``vnsearch shards build`` or ``serve``."""
    return build(args) if args.shards_command == "build" else serve(args)


def build(args: argparse.Namespace) -> int:
    """``vnsearch shards build``: read every source, then build the shards in parallel."""
    from vnsearch.cli.indexing import (
        IndexOptions,
        IndexSummary,
        parse_field_map,
        parse_typed_columns,
        read_documents,
    )
    from vnsearch.cli.sources import open_source
    from vnsearch.shards.ray_build import build_shards, import_ray

    if args.sources.count("-") > 1:
        raise UserError("standard input (-) can be read once only", USAGE_ERROR)
    if args.local and args.address:
        raise UserError("--local builds without Ray: give --local or --address", USAGE_ERROR)
    if not args.local:
        _need_ray(import_ray)
    options = IndexOptions(
        id_field=args.id_field,
        fields=parse_field_map(args.fields),
        typed=parse_typed_columns(
            keyword=args.keyword, numeric=args.numeric, datetime=args.datetime
        ),
        skip_errors=args.skip_errors,
        max_text_mb=args.max_text_mb,
    )
    read = IndexSummary()
    schema, documents = read_documents(
        [open_source(name, args.max_text_mb) for name in args.sources], options, read
    )
    path = Path(args.index)
    summary = build_shards(
        path,
        schema,
        list(documents),
        args.shards,
        runner="processes" if args.local else "ray",
        address=args.address,
        jobs=args.jobs,
        max_text_mb=args.max_text_mb,
        skip_errors=args.skip_errors,
    )
    for message in [*read.first_errors, *summary.first_errors][:5]:
        print(f"vnsearch: skipped {message}", file=sys.stderr)
    total = sum(summary.documents)
    skipped = read.skipped + summary.skipped
    print(
        f"{path}: {total:,} documents in {len(summary.documents)} shards "
        f"({', '.join(f'{n:,}' for n in summary.documents)}), built by "
        f"{'local processes' if args.local else 'Ray tasks'} in {summary.seconds:.1f} s"
        + (f"; {skipped:,} records skipped" if skipped else "")
    )
    return 0


def _need_ray(import_ray: Any) -> None:
    try:
        import_ray()
    except ImportError as exc:
        raise UserError(str(exc)) from None


def serve(args: argparse.Namespace) -> int:
    """``vnsearch shards serve``: start the application, answer until Ctrl-C."""
    from vnsearch.shards.ray_build import import_ray, ray_session

    _need_ray(import_ray)
    from ray import serve as ray_serve

    from vnsearch.cli.ray_serve import APP, start

    with ray_session(args.address) as _ray:
        # SIGTERM (a service manager, kill) stops as Ctrl-C does: Serve and Ray shut down
        # (set after Ray's start, which sets a handler of its own)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            url, made = start(
                args.index, args.host, args.port, args.replicas, args.timeout, args.pin_shards
            )
            if made:
                print(f"vnsearch: {args.index}: ranking statistics saved anew", file=sys.stderr)
            print(f"vnsearch: serving {args.index} at {url} (Ctrl-C stops)", flush=True)
            while True:
                time.sleep(3600)
        finally:
            with contextlib.suppress(Exception):  # nothing started, or Ray going down
                if args.address:
                    ray_serve.delete(APP)
                else:
                    ray_serve.shutdown()
