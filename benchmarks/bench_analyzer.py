"""Word segmentation speed: vnsearch against pyvi on VNTC news text, in one process.

Both engines segment the same evenly spread sample of VNTC documents, alternately
(vnsearch, pyvi, vnsearch, pyvi, ...), and the median time of each gives its syllables per
second. Outside the timed loops the script also checks that vnsearch's word boundaries are
pyvi's on the first 200 documents of the sample, and measures ``import vnsearch`` in a fresh
interpreter (and whether it pulls in scikit-learn).

Run from the repository root::

    python benchmarks/bench_analyzer.py                    # 2000 documents, 3 runs each
    python benchmarks/bench_analyzer.py --docs 500 --repeat 5 --json
    python benchmarks/bench_analyzer.py --corpus /path/to/vntc_10topics.jsonl.gz

The corpus is gzip JSON Lines (``id``, ``split``, ``topic``, ``text``) made from the public
VNTC release (duyvuleo/VNTC); by default it is looked for in ``shared/data/vntc/`` beside
the repository, or in ``$VNSEARCH_DATA/vntc/`` when that variable is set.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # benchmark this checkout, whether installed or not

from _common import DEFAULT_CORPUS, corpus_missing, machine  # noqa: E402

import vnsearch  # noqa: E402

CHECK_DOCS = 200
IMPORT_RUNS = 5
_WORD_CHAR = re.compile(r"\w")


@dataclass(frozen=True)
class Doc:
    id: str
    topic: str
    text: str


@dataclass
class Figures:
    machine: dict[str, Any]
    docs: int
    topics: int
    syllables: int
    megabytes: float
    import_ms: float
    sklearn_imported: bool
    checked: int
    matched: int
    vnsearch_runs: list[float]
    pyvi_runs: list[float]
    vnsearch_s: float
    pyvi_s: float
    vnsearch_syl_per_s: float
    pyvi_syl_per_s: float
    ratio: float


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="VNTC .jsonl.gz")
    parser.add_argument("--docs", type=_positive, default=2000, help="documents to sample")
    parser.add_argument("--repeat", type=_positive, default=3, help="timed runs per engine")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    return parser.parse_args(argv)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


# --- corpus -------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        yield from f


def load_sample(path: Path, n: int) -> list[Doc]:
    """Every k-th document of the file (k = lines // n), so that all topics are covered."""
    total = sum(1 for _ in _lines(path))
    stride = max(1, total // n)
    wanted = set(range(0, total, stride)[:n])
    docs = []
    for i, line in enumerate(_lines(path)):
        if i in wanted:
            record = json.loads(line)
            docs.append(Doc(record["id"], record["topic"], record["text"]))
    return docs


def count_syllables(texts: list[str]) -> int:
    return sum(sum(1 for t in vnsearch.syllables(text) if t.kind != "part") for text in texts)


# --- engines ------------------------------------------------------------------------------


def run_vnsearch(texts: list[str]) -> None:
    [vnsearch.segment(t) for t in texts]


def run_pyvi(texts: list[str]) -> None:
    from pyvi import ViTokenizer

    [ViTokenizer.tokenize(t) for t in texts]


def time_engines(
    engines: dict[str, Callable[[list[str]], None]], texts: list[str], repeat: int
) -> dict[str, list[float]]:
    """Seconds of each run, the engines alternating; each is warmed up on one document."""
    for engine in engines.values():
        engine(texts[:1])
    runs: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(repeat):
        for name, engine in engines.items():
            start = time.perf_counter()
            engine(texts)
            runs[name].append(time.perf_counter() - start)
    return runs


# --- agreement with pyvi ------------------------------------------------------------------


def pyvi_words(text: str) -> list[str]:
    """pyvi's words of ``normalize(text)``, punctuation dropped, syllables joined by spaces."""
    from pyvi import ViTokenizer

    norm = vnsearch.normalize(text)
    out = ViTokenizer.ViTokenizer.tokenize(norm)
    _, toks = ViTokenizer.ViTokenizer.sylabelize(norm)
    if not toks:
        return []
    groups = [[toks[0]]]
    pos = len(toks[0])
    for tok in toks[1:]:
        sep = out[pos]
        if out[pos + 1 : pos + 1 + len(tok)] != tok:
            raise ValueError(f"pyvi output does not follow its syllables at {pos}: {tok!r}")
        if sep == "_":
            groups[-1].append(tok)
        else:
            groups.append([tok])
        pos += 1 + len(tok)
    kept = ([t for t in group if _WORD_CHAR.search(t)] for group in groups)
    return [" ".join(group) for group in kept if group]


def check_agreement(docs: list[Doc]) -> list[str]:
    """Ids of the documents whose vnsearch words differ from pyvi's."""
    return [
        doc.id
        for doc in docs
        if [w.text for w in vnsearch.segment(doc.text)] != pyvi_words(doc.text)
    ]


# --- import time --------------------------------------------------------------------------


def import_ms(runs: int = IMPORT_RUNS) -> float:
    """Median cumulative ``import vnsearch`` time in a fresh interpreter, in milliseconds."""
    times = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import vnsearch"],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        last = result.stderr.strip().splitlines()[-1]
        _, cumulative, name = (field.strip() for field in last.split("|"))
        if name != "vnsearch":
            raise RuntimeError(f"unexpected last -X importtime line: {last!r}")
        times.append(int(cumulative) / 1000)
    return statistics.median(times)


def sklearn_imported() -> bool:
    """Whether importing vnsearch and segmenting once loads scikit-learn."""
    code = (
        "import sys, vnsearch; vnsearch.segment('Hà Nội'); "
        "print(any(m.startswith('sklearn') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return result.stdout.strip() == "True"


# --- report -------------------------------------------------------------------------------


def measure(docs: list[Doc], repeat: int) -> Figures:
    texts = [doc.text for doc in docs]
    syllable_count = count_syllables(texts)
    mismatched = check_agreement(docs[:CHECK_DOCS])
    runs = time_engines({"vnsearch": run_vnsearch, "pyvi": run_pyvi}, texts, repeat)
    vn_s, pyvi_s = statistics.median(runs["vnsearch"]), statistics.median(runs["pyvi"])
    for doc_id in mismatched[:3]:
        print(f"words differ from pyvi: {doc_id}", file=sys.stderr)
    return Figures(
        machine=machine(),
        docs=len(docs),
        topics=len({doc.topic for doc in docs}),
        syllables=syllable_count,
        megabytes=sum(len(t.encode("utf-8")) for t in texts) / 1e6,
        import_ms=import_ms(),
        sklearn_imported=sklearn_imported(),
        checked=min(CHECK_DOCS, len(docs)),
        matched=min(CHECK_DOCS, len(docs)) - len(mismatched),
        vnsearch_runs=runs["vnsearch"],
        pyvi_runs=runs["pyvi"],
        vnsearch_s=vn_s,
        pyvi_s=pyvi_s,
        vnsearch_syl_per_s=syllable_count / vn_s,
        pyvi_syl_per_s=syllable_count / pyvi_s,
        ratio=(syllable_count / vn_s) / (syllable_count / pyvi_s),
    )


def report(f: Figures) -> str:
    m = f.machine
    lines = [
        f"machine   {m['cpus']} CPUs, {m['cpu_model']} ({m['machine']}), Python {m['python']}",
        f"sample    {f.docs:,} documents ({f.topics} topics), {f.syllables:,} syllables, "
        f"{f.megabytes:.1f} MB of text",
        f"import    vnsearch {f.import_ms:.1f} ms (median of {IMPORT_RUNS}), "
        f"scikit-learn imported: {f.sklearn_imported}",
        f"agree     {f.matched}/{f.checked} documents with pyvi's word boundaries",
        "",
        f"{'engine':<10} {'median s':>9} {'syllables/s':>12}   runs (s)",
    ]
    for name, runs, seconds, speed in [
        ("vnsearch", f.vnsearch_runs, f.vnsearch_s, f.vnsearch_syl_per_s),
        ("pyvi", f.pyvi_runs, f.pyvi_s, f.pyvi_syl_per_s),
    ]:
        shown = " ".join(f"{r:.2f}" for r in runs)
        lines.append(f"{name:<10} {seconds:>9.2f} {speed:>12,.0f}   {shown}")
    lines.append(f"{'ratio':<10} {'':>9} {f.ratio:>11.2f}x   vnsearch syl/s / pyvi syl/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.corpus.is_file():
        print(corpus_missing(args.corpus), file=sys.stderr)
        return 2
    figures = measure(load_sample(args.corpus, args.docs), args.repeat)
    print(report(figures))
    if args.json:
        print(json.dumps(asdict(figures), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
