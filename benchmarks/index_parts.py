"""Where an index's postings bytes are: per hidden field, documents, frequencies, positions.

Each field's postings are read whole and encoded again three ways (documents alone, with
frequencies, with positions where the field keeps them), so the differences split its
bytes; terms held by one document are counted apart (what inlining them in the term
dictionary could save). ``stored`` is what the postings file holds of the field: 0 for
the ``folded_bigrams`` views of format 5 (derived from their variants, their "total" what
storing them would take). One segment is expected (optimize first)::

    python benchmarks/index_parts.py benchmarks/.cache/vnsearch-84132-a8e29683fd
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import vnsearch
from vnsearch.index.encode import encode_blocks
from vnsearch.index.terms import terms_reader


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", help="an index folder of one segment")
    args = parser.parse_args(argv)
    snap = vnsearch.Index.open(args.index).snapshot()
    if len(snap.segments) != 1:
        print(f"{args.index}: {len(snap.segments)} segments; optimize it first", file=sys.stderr)
        return 2
    terms = terms_reader(snap.segments[0][0])
    mib = 1 << 20
    print("| field | terms | held once | postings | documents MiB | frequencies | positions "
          "| total | stored | blocks of terms held once |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for field in sorted(terms.indexed_field_names()):
        keys, counts, docs, freqs, _npos, positions = terms.field_postings(field)
        starts = np.r_[0, np.cumsum(counts)]
        only_docs = len(encode_blocks(starts, docs, np.ones(len(docs)))[0])
        with_freqs = len(encode_blocks(starts, docs, freqs)[0])
        total = with_freqs
        if positions is not None:
            total = len(encode_blocks(starts, docs, freqs, positions)[0])
        _counts, _offsets, lengths = terms.field_terms(field).columns()
        once = counts == 1
        print(
            f"| {field} | {len(keys):,} | {int(once.sum()):,} | {len(docs):,} "
            f"| {only_docs / mib:.1f} | {(with_freqs - only_docs) / mib:.1f} "
            f"| {(total - with_freqs) / mib:.1f} | {total / mib:.1f} "
            f"| {int(lengths.sum()) / mib:.1f} "
            f"| {int(lengths[once].sum()) / mib:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
