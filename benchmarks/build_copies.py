"""An index larger than the corpus: its documents ``--copies`` times over, in one commit.

VNTC has 84,132 articles; how vnsearch grows past them (build time, peak memory, size,
query latency) is measured on copies of them under new ids (``<id>#<k>``), with
``bench_query.py``'s schema, in one commit (as one ``vnsearch index`` run makes). Copies
repeat every term: the postings grow with the copies, the dictionaries do not (a real
corpus of that size would have more terms). Time its queries with ``bench_regimes.py
--docs 84132 --engines vnsearch --index OUT``.

    python benchmarks/build_copies.py --out /tmp/x3 --copies 3
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's vnsearch, installed or not
sys.path.insert(0, str(HERE))

from _common import DEFAULT_CORPUS, corpus_missing, machine  # noqa: E402
from bench_query import VnsearchEngine, load_docs  # noqa: E402

import vnsearch  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a folder for the index")
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--docs", type=int, default=84132)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        print(corpus_missing(args.corpus), file=sys.stderr)
        return 2
    if args.copies < 1:
        parser.error("--copies must be at least 1")
    docs = load_docs(args.corpus, args.docs)
    shutil.rmtree(args.out, ignore_errors=True)
    print(f"machine {machine()}")
    start = time.perf_counter()
    with vnsearch.Index.create(args.out, VnsearchEngine.schema()) as ix:
        with ix.writer(jobs=args.jobs) as w:
            for k in range(args.copies):
                for d in docs:
                    doc_id = f"{d.id}#{k}" if k else d.id
                    w.add({"id": doc_id, "title": d.title, "body": d.body})
        count = ix.doc_count
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = sum(f.stat().st_size for f in args.out.iterdir())
    print(
        f"{count:,} documents ({args.copies} x {len(docs):,}) in {seconds:.1f} s, "
        f"peak RSS {peak:,.0f} MB (this process; the documents held: all of them), "
        f"{size:,} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
