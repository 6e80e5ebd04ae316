"""Decoding the postings real queries read: vnsearch's numpy readers against a compiled
loop over the same bytes (numba), with what the compiled one costs to install and start.

What would an optional compiled decoder (an extra) buy? The script opens an index of
one segment, runs the first ``--warm`` queries, then records every postings block the
next ones decode (documents and frequencies: the batches of short lists ``read_many``
reads, and the long lists read alone), and decodes them all again both ways: outputs
compared, time per query reported. numba is not a dependency of vnsearch (it and
llvmlite install ~200 MB): ``pip install numba`` first. The query file defaults to the
1,200 queries ``bench_query.py`` writes for the 84k index::

    python benchmarks/decode_compiled.py benchmarks/.cache/vnsearch-84132-ae7a2a26d7

The compiled loop checks every read against the bytes it was given (a block past the
end, a width over 32, a bitmap of another count: an error code, never a read outside):
an index folder is untrusted input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
QUERIES = HERE / ".cache" / "queries-42-84132-1200.json"


def compiled_read_many(decode: Any, blocks: list[tuple[bytes, int]]) -> list[tuple]:
    """``read_many``'s answer, from the compiled loop."""
    k = len(blocks)
    lengths = np.fromiter((len(data) for data, _n in blocks), np.int64, k)
    n = np.fromiter((count for _data, count in blocks), np.int64, k)
    at = np.cumsum(lengths) - lengths
    size = int(lengths.sum())
    raw = np.zeros(size + 8, np.uint8)
    raw[:size] = np.frombuffer(b"".join(data for data, _n in blocks), np.uint8)
    total = int(n.sum())
    docs, freqs = np.empty(total, np.uint32), np.empty(total, np.float32)
    ends = np.empty(k, np.int64)
    if decode(raw, size, at, n, docs, freqs, ends):
        raise ValueError("damaged postings block")
    bounds = np.r_[0, np.cumsum(n)].tolist()
    return [(docs[s:e], freqs[s:e], end) for s, e, end in zip(bounds, bounds[1:], ends.tolist())]


def _recorded(index: str, queries: list[str], warm: int) -> tuple[list, list]:
    """The blocks the queries after the first ``warm`` decode: batches of short lists,
    and long lists (``(bytes, n)`` each)."""
    import vnsearch
    from vnsearch.index import terms

    ix = vnsearch.Index.open(index)
    batches: list[list[tuple[bytes, int]]] = []
    longs: list[tuple[bytes, int]] = []
    read_many, postings = terms.read_many, terms.VnTermsReader.postings

    def recording_read_many(blocks: list) -> list:
        batches.append([(bytes(data), n) for data, n in blocks])
        return read_many(blocks)

    def recording_postings(self: Any, offset: int, length: int, n: int, pos: bool) -> Any:
        longs.append((bytes(self.block(offset, length)), n))
        return postings(self, offset, length, n, pos)

    for q in queries[:warm]:
        ix.search(q, limit=10)
    batches.clear()
    longs.clear()
    terms.read_many, terms.VnTermsReader.postings = recording_read_many, recording_postings
    try:
        for q in queries[warm:]:
            [hit.fields for hit in ix.search(q, limit=10)]
    finally:
        terms.read_many, terms.VnTermsReader.postings = read_many, postings
        ix.close()
    return batches, longs


def _best(run: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", help="an index folder of one segment")
    parser.add_argument("--queries", type=Path, default=QUERIES, help="a JSON list of queries")
    parser.add_argument("--warm", type=int, default=600, help="queries run before recording")
    parser.add_argument("--repeat", type=int, default=5, help="decodes timed: the best")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    try:
        start = time.perf_counter()
        import numba
    except ImportError:
        print("decode_compiled.py: needs numba (pip install numba)", file=sys.stderr)
        return 2
    imported = time.perf_counter() - start
    if not args.queries.exists():
        print(f"decode_compiled.py: no {args.queries} (bench_query.py writes it)", file=sys.stderr)
        return 2
    raw_queries = json.loads(args.queries.read_text(encoding="utf-8"))
    queries = [q if isinstance(q, str) else q["text"] for q in raw_queries]
    batches, longs = _recorded(args.index, queries, args.warm)
    timed = len(queries) - args.warm

    from vnsearch.index.batch import read_many
    from vnsearch.index.postings import PostingArrays

    start = time.perf_counter()
    from _compiled_decode import decode  # compiled on first use, or read from numba's cache

    compiled_read_many(decode, [(b"\x00\x00", 1)])  # compiles, or loads numba's cache
    first_call = time.perf_counter() - start
    for batch in batches:
        for (d1, f1, e1), (d2, f2, e2) in zip(read_many(batch), compiled_read_many(decode, batch)):
            assert (d1 == d2).all() and (f1 == f2).all() and e1 == e2
    for data, n in longs:
        arrays = PostingArrays(data, n, False)
        d2, f2, e2 = compiled_read_many(decode, [(data, n)])[0]
        assert (arrays.docs == d2).all() and (arrays.freqs == f2).all() and e2 == arrays.end

    def numpy_batches() -> None:
        for batch in batches:
            read_many(batch)

    def numpy_longs() -> None:
        for data, n in longs:
            PostingArrays(data, n, False)

    def compiled_batches() -> None:
        for batch in batches:
            compiled_read_many(decode, batch)

    def compiled_longs() -> None:
        for data, n in longs:
            compiled_read_many(decode, [(data, n)])

    postings = sum(n for batch in batches for _d, n in batch), sum(n for _d, n in longs)
    print(f"numba {numba.__version__}: import {imported * 1e3:.0f} ms, first decode (compile "
          f"or its cache) {first_call * 1e3:.0f} ms")  # fmt: skip
    print(f"{timed} queries after {args.warm}: {len(batches)} batches of short lists "
          f"({sum(map(len, batches))} lists, {postings[0]:,} postings) and {len(longs)} long "
          f"lists ({postings[1]:,} postings); outputs equal")  # fmt: skip
    print("| blocks | numpy ms a query | compiled ms a query | ratio |")
    print("| --- | --- | --- | --- |")
    for name, ours, theirs in (
        ("short lists, in batches", numpy_batches, compiled_batches),
        ("long lists, alone", numpy_longs, compiled_longs),
    ):
        a, b = _best(ours, args.repeat) / timed * 1e3, _best(theirs, args.repeat) / timed * 1e3
        print(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
