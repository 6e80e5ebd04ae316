"""The ``vnsearch`` command: a thin layer over the library.

Exit codes: 0 ok, 2 usage error, 3 data error. User errors print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from vnsearch.analysis import VIEWS, analyze

__all__ = ["main", "seeds_dir"]

EXAMPLES = """\
examples:
  vnsearch analyze "Thủy điện Hòa Bình"          the views of a text
  vnsearch analyze "thuy dien hoa binh" --view folded
  vnsearch analyze --file seeds/000_483ea6bfdeb6afd9.txt --json
  vnsearch analyze                               the first bundled seed document
"""


class UserError(Exception):
    """An error caused by the user's input: printed as one line, exit code 3."""


def seeds_dir() -> Path:
    """The bundled seed documents (inside the installed package, or the source checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "seeds", here.parent / "seeds"):
        if candidate.is_dir():
            return candidate
    raise UserError("the bundled seeds/ folder is missing from this installation")


def read_text(path: Path) -> str:
    """Read a UTF-8 file, with errors that name the file and the byte offset."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 (invalid byte at offset {exc.start})") from None


def _cmd_analyze(args: argparse.Namespace) -> int:
    if args.text and args.file:
        raise UserError("give a TEXT or --file, not both")
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
    analysis = analyze(text)
    if args.json:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vnsearch",
        description="Full-text search for Vietnamese.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "analyze",
        help="show how a text is analyzed (the terms the index stores)",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("text", nargs="*", help="the text (default: the first bundled seed)")
    p.add_argument("--file", help="analyze a UTF-8 text file")
    p.add_argument("--view", choices=VIEWS, help="show one view only")
    p.add_argument("--json", action="store_true", help="print the views as JSON, with offsets")
    p.set_defaults(run=_cmd_analyze)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UserError as exc:
        print(f"vnsearch: error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
