"""Facet counts on a real KEYWORD field: VNTC articles with their topic (the folder in
their id), searched with and without ``facets=["topic"]``.

Builds (once, into ``benchmarks/.cache``) an index of every ``--every``-th article of the
corpus, so all topics are there, then times each query ``--runs`` times after a warm-up
and prints medians::

    python benchmarks/bench_facets.py --every 4
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = ["của", "việt nam", "bóng đá", "thị trường chứng khoán", "ha noi", "giá vàng"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=None, help="VNTC as JSON Lines (.gz)")
    parser.add_argument("--every", type=int, default=4, help="index every N-th article")
    parser.add_argument("--runs", type=int, default=41)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import bench_query
    from _common import DEFAULT_CORPUS, corpus_missing, machine

    import vnsearch

    corpus = args.corpus or DEFAULT_CORPUS
    if not corpus.exists():
        print(corpus_missing(corpus), file=sys.stderr)
        return 2
    path = HERE / ".cache" / f"facets-every-{args.every}-{zlib.crc32(bytes(corpus.resolve())):08x}"
    if not vnsearch.Index.exists(path):
        docs = bench_query.load_docs(corpus, 84132)[:: args.every]
        schema = vnsearch.Schema(
            id=vnsearch.ID(stored=True, unique=True),
            title=vnsearch.TEXT(stored=True),
            body=vnsearch.TEXT(),
            topic=vnsearch.KEYWORD(stored=True),
        )
        start = time.perf_counter()
        ix = vnsearch.Index.create(path, schema)
        with ix.writer() as w:
            for d in docs:
                topic = d.id.split("/")[1] if d.id.count("/") >= 2 else "?"
                w.add({"id": d.id, "title": d.title, "body": d.body, "topic": topic})
        ix.optimize()
        ix.close()
        print(f"built {len(docs):,} documents in {time.perf_counter() - start:.1f} s")
    ix = vnsearch.Index.open(path)
    print(f"machine {machine()}; {ix.doc_count:,} documents; medians of {args.runs} runs, ms")
    print("| query | matches | search | with facets | facet values |")
    print("| --- | --- | --- | --- | --- |")
    for q in QUERIES:
        for _ in range(3):
            ix.search(q, facets=["topic"])
        plain, faceted = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            ix.search(q)
            plain.append(time.perf_counter() - t)
            t = time.perf_counter()
            r = ix.search(q, facets=["topic"])
            faceted.append(time.perf_counter() - t)
        print(
            f"| {q} | {r.total:,} | {statistics.median(plain) * 1e3:.2f} "
            f"| {statistics.median(faceted) * 1e3:.2f} | {len(r.facets['topic'])} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
