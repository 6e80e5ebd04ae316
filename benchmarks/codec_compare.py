"""Document-number lists: vnsearch's bit-packed gaps against FastPFor's codecs, size and
decode time, on an index's own postings.

``pyfastpfor`` is not a dependency (PyPI has only its source: installing it builds C++
with SSE4, about two minutes here): ``pip install pyfastpfor`` first. One segment::

    python benchmarks/codec_compare.py benchmarks/.cache/vnsearch-84132-a8e29683fd
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import vnsearch
from vnsearch.index.encode import encode_block
from vnsearch.index.postings import CHUNK, PostingArrays
from vnsearch.index.terms import terms_reader

CODECS = ("simdfastpfor128", "simdbinarypacking", "streamvbyte")


def _encoded(codec, docs: np.ndarray) -> np.ndarray:
    gaps = np.empty(len(docs), np.uint32)
    gaps[0] = docs[0]
    gaps[1:] = np.diff(docs)
    out = np.zeros(len(docs) + 1024, np.uint32)
    return out[: codec.encodeArray(gaps, len(gaps), out, len(out))].copy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", help="an index folder of one segment")
    parser.add_argument("--sample", type=int, default=40_000, help="terms per field")
    args = parser.parse_args(argv)
    try:
        import pyfastpfor
    except ImportError:
        print("codec_compare.py: needs pyfastpfor (pip install pyfastpfor)", file=sys.stderr)
        return 2
    codecs = {name: pyfastpfor.getCodec(name) for name in CODECS}
    snap = vnsearch.Index.open(args.index).snapshot()
    terms = terms_reader(snap.segments[0][0])
    rng = np.random.default_rng(0)
    print("| field | vnsearch MB | " + " | ".join(f"{c} MB" for c in CODECS) + " |")
    print("| --- " * (len(CODECS) + 2) + "|")
    for field in ("body.bigrams", "body.syllables", "body.words"):
        keys, counts, docs, _freqs, _npos, _positions = terms.field_postings(field)
        starts = np.r_[0, np.cumsum(counts)]
        sample = rng.choice(len(keys), min(len(keys), args.sample), replace=False)
        ours, theirs = 0, dict.fromkeys(CODECS, 0)
        for t in sample.tolist():
            d = docs[starts[t] : starts[t + 1]].astype(np.uint32)
            ours += len(encode_block(d, np.ones(len(d)))) - -(-len(d) // CHUNK)  # no freqs
            for name, codec in codecs.items():
                theirs[name] += 4 * len(_encoded(codec, d))
        scale = len(keys) / len(sample) / 1e6
        sizes = " | ".join(f"{theirs[c] * scale:.1f}" for c in CODECS)
        print(f"| {field} | {ours * scale:.1f} | {sizes} |")
    print("\n| list of n | vnsearch us | " + " | ".join(f"{c} us" for c in CODECS) + " |")
    print("| --- " * (len(CODECS) + 2) + "|")
    for n in (100, 1000, 10000, 60000):
        d = np.sort(rng.choice(snap.total, min(n, snap.total), replace=False)).astype(np.uint32)
        block, reps = encode_block(d, np.ones(len(d))), max(20, 20000 // n)
        start = time.perf_counter()
        for _ in range(reps):
            PostingArrays(block, len(d), False)
        row = [(time.perf_counter() - start) / reps * 1e6]
        for codec in codecs.values():
            packed, out = _encoded(codec, d), np.zeros(len(d) + 1024, np.uint32)
            start = time.perf_counter()
            for _ in range(reps):
                pyfastpfor.prefixSum1(out, codec.decodeArray(packed, len(packed), out, len(out)))
            row.append((time.perf_counter() - start) / reps * 1e6)
            assert (out[: len(d)] == d).all()
        print(f"| {n:,} | " + " | ".join(f"{us:.1f}" for us in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
