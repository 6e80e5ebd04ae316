"""Merge policies replayed on segment sizes: how many segments, how many rewrites.

No index is built: each sequence of commits is replayed on the sizes of the segments,
with vnsearch's policy (``vnsearch.index.merges.merged_by_levels``, at merge factors 5 and
4) and Whoosh 2.7.4's ``MERGE_SMALL`` (its rule copied here: the smallest segments, once
five or more of them hold fewer documents than ``fib(i + 5)``, merged into the new one).
For each: the segments after each commit (mean and most) and how many times merges
rewrote each document added, on average.

    python benchmarks/merge_policies.py
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's vnsearch

from whoosh.writing import fib

from vnsearch.index import merges

# (base segment, documents a commit, commits)
SEQUENCES = [
    (84_132, 50, 400),
    (84_132, 1_000, 100),
    (0, 21_033, 48),
    (0, 1_000, 1_000),
]


def merge_small(sizes: list[int], new: int) -> list[int]:
    """Whoosh's ``MERGE_SMALL`` choice (indexes of the segments merged)."""
    order = sorted(range(len(sizes)), key=sizes.__getitem__)
    total = 0
    for i, k in enumerate(order):
        total += sizes[k]
        if i > 3 and total < fib(i + 5):
            return order[: i + 1]
    return []


def levels_of(factor: int) -> Callable[[list[int], int], list[int]]:
    return lambda sizes, new: merges.merged_by_levels(sizes, new, factor)


def replay(policy: Callable[[list[int], int], list[int]], base: int, size: int, n: int):
    """(mean segments, most segments, rewrites a document added) over ``n`` commits."""
    sizes = [base] if base else []
    counts, rewritten = [], 0
    for _ in range(n):
        chosen = set(policy(sizes, size))
        moved = sum(sizes[i] for i in chosen)
        rewritten += moved
        sizes = [s for i, s in enumerate(sizes) if i not in chosen] + [size + moved]
        counts.append(len(sizes))
    return sum(counts) / n, max(counts), rewritten / (size * n)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    policies = {
        "MERGE_SMALL": merge_small,
        "levels of 5": levels_of(5),
        "levels of 4": levels_of(4),
    }
    print("| commits | " + " | ".join(policies) + " |")
    print("| --- |" + " --- |" * len(policies))
    for base, size, n in SEQUENCES:
        cells = []
        for policy in policies.values():
            mean, most, rewrites = replay(policy, base, size, n)
            cells.append(f"{mean:.1f} / {most}, {rewrites:.1f}")
        on = f" on {base:,}" if base else ""
        print(f"| {n:,} x {size:,}{on} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
