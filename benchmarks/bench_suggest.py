"""Latency of ``Index.suggest`` (completions as you type) on an index of VNTC news.

The prefixes are what a search box sees while someone types: runs of 1-3 neighbouring
syllables of VNTC articles (every 97th article, syllables as written, lowercased), cut
at a random point of the last syllable (at least one letter kept), half of them with
their accents and half folded (``thu tu``). They are drawn with ``--seed``; syllables
that are not letters (numbers, codes) are skipped.

The index is opened with ``check_reads=False`` (the checksums are another benchmark's
subject); ``--warmup`` prefixes (not timed, drawn apart) map the index's pages in, then
each of ``--prefixes`` prefixes is timed once with ``time.perf_counter_ns`` around
``ix.suggest(prefix, limit)``, then a second time (a search box asks for the same
prefixes again). The figures are given for all prefixes and by kind: ``short`` (one
word of one or two letters: its completions are kept per snapshot once asked, so after
the warm-up most are answered from memory), ``word`` (one longer word), ``pair`` (two or
three words: the last two completed as a pair). Run from the repository root::

    python benchmarks/bench_suggest.py                           # the cached 84,132 index
    python benchmarks/bench_suggest.py --index DIR --prefixes 2000 --json

The index is the one ``bench_query.py --docs 84132 --engines vnsearch`` builds into
``benchmarks/.cache/vnsearch-84132-<hash>/`` (the newest one found), or ``--index``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, REPO, corpus_missing, machine

import vnsearch


def default_index() -> Path | None:
    """The newest cached index of all of VNTC, if any."""
    found = sorted((REPO / "benchmarks/.cache").glob("vnsearch-84132-*"), key=_mtime)
    return found[-1] if found else None


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def draw_prefixes(corpus: Path, n: int, seed: int) -> list[str]:
    """``n`` prefixes of 1-3 syllables of VNTC text, the last one cut (see the module)."""
    rng = random.Random(seed)
    runs: list[list[str]] = []
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 97:
                continue
            words = [t.text.lower() for t in vnsearch.syllables(json.loads(line)["text"])]
            runs.append([w for w in words if w.isalpha()])
    out = []
    while len(out) < n:
        words = rng.choice(runs)
        size = rng.randint(1, 3)
        if len(words) < size:
            continue
        at = rng.randrange(len(words) - size + 1)
        picked = words[at : at + size]
        last = picked[-1]
        picked[-1] = last[: rng.randint(1, len(last))]
        text = " ".join(picked)
        out.append(text if rng.random() < 0.5 else vnsearch.fold(text))
    return out


def kind(prefix: str) -> str:
    """``short`` (one word of at most two letters), ``word`` or ``pair``."""
    words = prefix.split()
    if len(words) > 1:
        return "pair"
    return "short" if len(words[0]) <= 2 else "word"


def percentiles(ns: list[int]) -> dict[str, float]:
    ms = sorted(x / 1e6 for x in ns)
    return {
        "p50_ms": round(statistics.median(ms), 4),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 4),
        "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 4),
        "mean_ms": round(statistics.fmean(ms), 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="the index (default: the cached 84,132)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="VNTC .jsonl.gz")
    parser.add_argument("--prefixes", type=int, default=1000, help="prefixes timed")
    parser.add_argument("--warmup", type=int, default=200, help="prefixes run first")
    parser.add_argument("--limit", type=int, default=10, help="completions asked for")
    parser.add_argument("--seed", type=int, default=20, help="seed of the prefixes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.corpus.exists():
        print(corpus_missing(args.corpus), file=sys.stderr)
        return 2
    folder = args.index or default_index()
    if folder is None or not vnsearch.Index.exists(folder):
        print(f"error: no index at {folder} (build it with bench_query.py)", file=sys.stderr)
        return 2
    prefixes = draw_prefixes(args.corpus, args.warmup + args.prefixes, args.seed)
    warmup, timed = prefixes[: args.warmup], prefixes[args.warmup :]
    ix = vnsearch.Index.open(folder, check_reads=False)
    for p in warmup:
        ix.suggest(p, args.limit)
    passes = []
    for _ in range(2):
        ns = []
        for p in timed:
            t = time.perf_counter_ns()
            ix.suggest(p, args.limit)
            ns.append(time.perf_counter_ns() - t)
        passes.append(percentiles(ns))
        # by kind: one word of one or two letters (its completions kept per snapshot),
        # one longer word, two or three words (a pair completed)
        kinds: dict[str, list[int]] = {}
        for p, took in zip(timed, ns):
            kinds.setdefault(kind(p), []).append(took)
        for name, values in sorted(kinds.items()):
            passes[-1][name] = {"n": len(values), **percentiles(values)}
    report = {
        "index": str(folder),
        "documents": ix.doc_count,
        "prefixes": len(timed),
        "limit": args.limit,
        "seed": args.seed,
        "first_pass": passes[0],
        "second_pass": passes[1],
        "examples": {p: [s.text for s in ix.suggest(p, 3)] for p in timed[:5]},
        "machine": machine(),
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"{report['documents']:,} documents, {len(timed):,} prefixes, limit {args.limit}")
        for name in ("first_pass", "second_pass"):
            figures = {k: v for k, v in report[name].items() if not isinstance(v, dict)}
            print(f"  {name:12}", "  ".join(f"{k} {v}" for k, v in figures.items()))
            for k, v in report[name].items():
                if isinstance(v, dict):
                    print(f"    {k:10}", "  ".join(f"{a} {b}" for a, b in v.items()))
        for p, got in report["examples"].items():
            print(f"  {p!r:24} -> {', '.join(got)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
