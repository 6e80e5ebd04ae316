"""Retrieval quality on UIT-ViQuAD 1.0: vnsearch against stock Whoosh, SQLite FTS5 and BM25.

Every passage of ``viquad/corpus.jsonl`` (5,109 Wikipedia passages) is indexed with ``title``
and ``text`` as two TEXT fields; the questions of one qrels split (``--split dev`` by
default, ``train`` for tuning) are asked in each form of ``--forms``: as written
(``accented``), stripped of every diacritic with ``unidecode`` (``unaccented``, how people
type on phones), and typed as raw Telex or VNI keystrokes with the input method off
(``telex``, ``vni``: seeded, see ``raw_typing.py``), and with one slip of the fingers in
one word (``typo``: seeded, see ``one_typo.py``). For each engine and each form the
script prints MRR@10, Recall@10, nDCG@10 and Recall@100 (one relevant passage per question).

The peers, in the same run:

* stock Whoosh 2.7.4: ``StandardAnalyzer``, BM25F, the two fields, words OR-ed;
* SQLite FTS5: ``unicode61 remove_diacritics 2``, ``bm25()``, the tokens OR-ed;
* BM25 over pyvi words (lowercased ``pyvi`` word segmentation, title + text), with bm25s
  when installed (the ``bench`` extra), otherwise a small numpy BM25 (same formula).

``--passages N`` / ``--questions N`` evaluate a seeded subset (for a quick check or CI):
half the passages are ones that answer questions of the split, the rest other passages.
The vnsearch index is cached in ``benchmarks/.cache/`` keyed by the passages and the code
that analyzes and stores them; ranking settings are read at query time, never cached.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, REPO, machine
from one_typo import typo_question
from raw_typing import telex_question, vni_question

import vnsearch

CACHE = REPO / "benchmarks/.cache"
DEFAULT_DIR = DATA / "viquad"
METRICS = ("MRR@10", "R@10", "nDCG@10", "R@100")
DEPTH = 100


@dataclass(frozen=True)
class Passage:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    relevant: frozenset[str]


# --- data ------------------------------------------------------------------------------------


def load(
    folder: Path, split: str, passages: int | None = None, questions: int | None = None,
    seed: int = 42,
) -> tuple[list[Passage], list[Question]]:  # fmt: skip
    """The passages and the questions of ``split`` (a seeded subset when sizes are given)."""
    corpus = [json.loads(line) for line in (folder / "corpus.jsonl").open(encoding="utf-8")]
    docs = [Passage(d["_id"], d["title"], d["text"]) for d in corpus]
    texts = {}
    for line in (folder / "queries.jsonl").open(encoding="utf-8"):
        q = json.loads(line)
        texts[q["_id"]] = q["text"]
    relevant: dict[str, set[str]] = {}
    with (folder / f"qrels.{split}.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if int(row["score"]) > 0:
                relevant.setdefault(row["query-id"], set()).add(row["corpus-id"])
    qs = [Question(qid, texts[qid], frozenset(rel)) for qid, rel in relevant.items()]
    rng = random.Random(seed)
    if passages is not None and passages < len(docs):
        answering = {p for q in qs for p in q.relevant}
        first = [d for d in docs if d.id in answering]
        other = [d for d in docs if d.id not in answering]
        rng.shuffle(first)
        rng.shuffle(other)
        half = min(len(first), passages // 2)
        keep = {d.id for d in first[:half] + other[: passages - half]}
        docs = [d for d in docs if d.id in keep]
        qs = [q for q in qs if q.relevant <= keep]
    if questions is not None and questions < len(qs):
        qs = sorted(rng.sample(qs, questions), key=lambda q: q.id)
    return docs, qs


def unaccent(text: str) -> str:
    """The text as typed without any diacritic (``unidecode``, case kept)."""
    from unidecode import unidecode

    return unidecode(text)


# --- metrics ---------------------------------------------------------------------------------


def metrics(ranked: Sequence[Sequence[str]], questions: Sequence[Question]) -> dict[str, float]:
    """MRR@10, Recall@10, nDCG@10 (binary relevance) and Recall@100, averaged."""
    sums = dict.fromkeys(METRICS, 0.0)
    for ids, q in zip(ranked, questions):
        rel = q.relevant
        ranks = [i for i, d in enumerate(ids[:DEPTH]) if d in rel]
        if ranks and ranks[0] < 10:
            sums["MRR@10"] += 1.0 / (ranks[0] + 1)
        sums["R@10"] += sum(1 for r in ranks if r < 10) / len(rel)
        sums["R@100"] += len(ranks) / len(rel)
        dcg = sum(1.0 / math.log2(r + 2) for r in ranks if r < 10)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), 10)))
        sums["nDCG@10"] += dcg / ideal
    n = max(1, len(questions))
    return {k: v / n for k, v in sums.items()}


# --- engines ---------------------------------------------------------------------------------

Search = Callable[[str], list[str]]  # question -> passage ids, best first (at most DEPTH)


def vnsearch_schema(title_boost: float = 1.0) -> vnsearch.Schema:
    return vnsearch.Schema(
        id=vnsearch.ID(stored=True, unique=True),
        title=vnsearch.TEXT(boost=title_boost),
        text=vnsearch.TEXT(),
    )


def _code_digest() -> str:
    """What a cached index depends on: the code that analyzes and stores documents."""
    h = hashlib.sha1(vnsearch.__version__.encode())
    pkg = REPO / "vnsearch"
    for sub in ("analysis", "index"):
        for path in sorted((pkg / sub).glob("*.py")):
            if path.name not in ("stopwords.py", "telex.py"):  # read by queries only
                h.update(path.read_bytes())
    return h.hexdigest()[:10]


def open_vnsearch(
    docs: Sequence[Passage], title_boost: float = 1.0, rebuild: bool = False, cache: bool = True
) -> vnsearch.Index:
    """An index of ``docs`` (built, or reused from ``benchmarks/.cache``)."""
    schema = vnsearch_schema(title_boost)
    if not cache:
        ix = vnsearch.Index.in_memory(schema)
        _fill(ix, docs)
        return ix
    key = hashlib.sha1("\n".join(d.id for d in docs).encode()).hexdigest()[:8]
    path = CACHE / f"viquad-vnsearch-{len(docs)}-{key}-{_code_digest()}"
    marker = path / "built.json"
    if rebuild or not marker.exists():
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        start = time.perf_counter()
        ix = vnsearch.Index.create(path, vnsearch_schema())
        _fill(ix, docs)
        ix.close()
        marker.write_text(json.dumps({"seconds": time.perf_counter() - start}))
    # boosts are read at query time: the saved schema takes the boost asked for now
    (path / "vnsearch.json").write_text(schema.to_json(), encoding="utf-8")
    return vnsearch.Index.open(path)


def _fill(ix: vnsearch.Index, docs: Sequence[Passage]) -> None:
    with ix.writer() as w:
        for d in docs:
            w.add({"id": d.id, "title": d.title, "text": d.text})


def vnsearch_engine(ix: vnsearch.Index, **options: Any) -> Search:
    def run(question: str) -> list[str]:
        return [h.id for h in ix.search(question, limit=DEPTH, **options)]

    return run


def whoosh_engine(docs: Sequence[Passage]) -> Search:
    """Stock Whoosh: StandardAnalyzer, BM25F, title and text, words OR-ed (in memory)."""
    from whoosh import fields, qparser
    from whoosh.filedb.filestore import RamStorage

    schema = fields.Schema(id=fields.ID(stored=True), title=fields.TEXT, text=fields.TEXT)
    ix = RamStorage().create_index(schema)
    w = ix.writer()
    for d in docs:
        w.add_document(id=d.id, title=d.title, text=d.text)
    w.commit()
    searcher = ix.searcher()
    parser = qparser.MultifieldParser(["title", "text"], schema, group=qparser.OrGroup)
    parser.remove_plugin_class(qparser.WildcardPlugin)

    def run(question: str) -> list[str]:
        words = re.findall(r"\w+", question)
        return [h["id"] for h in searcher.search(parser.parse(" ".join(words)), limit=DEPTH)]

    return run


def fts5_engine(docs: Sequence[Passage]) -> Search:
    """SQLite FTS5: unicode61 remove_diacritics 2, bm25(), the question's tokens OR-ed."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE p USING fts5(id UNINDEXED, title, text,"
        " tokenize='unicode61 remove_diacritics 2')"
    )
    db.executemany("INSERT INTO p VALUES (?, ?, ?)", [(d.id, d.title, d.text) for d in docs])

    def run(question: str) -> list[str]:
        toks = re.findall(r"\w+", question)
        if not toks:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in toks)
        rows = db.execute(
            "SELECT id FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT ?", (match, DEPTH)
        )
        return [r[0] for r in rows]

    return run


def pyvi_words(text: str) -> list[str]:
    """Lowercased pyvi words (``vnsearch.segment`` gives exactly pyvi's), punctuation dropped."""
    return [w.text.lower() for w in vnsearch.segment(text) if any(c.isalnum() for c in w.text)]


def bm25_words_engine(docs: Sequence[Passage], k1: float = 1.2, b: float = 0.75) -> Search:
    """Plain BM25 (Lucene idf) over pyvi words of title + text: bm25s, or numpy if missing."""
    ids = [d.id for d in docs]
    corpus = [pyvi_words(f"{d.title}\n{d.text}") for d in docs]
    try:
        import bm25s
    except ImportError:
        return _numpy_bm25(ids, corpus, k1, b)
    retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
    vocab: dict[str, int] = {}
    retriever.index(
        bm25s.tokenization.Tokenized(
            ids=[[vocab.setdefault(t, len(vocab)) for t in doc] for doc in corpus], vocab=vocab
        ),
        show_progress=False,
    )

    def run(question: str) -> list[str]:
        toks = [t for t in pyvi_words(question) if t in vocab]
        if not toks:
            return []
        scores = retriever.get_scores(toks)
        return _top(ids, scores)

    run.backend = f"bm25s {bm25s.__version__}"  # type: ignore[attr-defined]
    return run


def _top(ids: Sequence[str], scores: Any) -> list[str]:
    import numpy as np

    k = min(DEPTH, len(ids))
    part = np.argpartition(-scores, k - 1)[:k]
    part = part[scores[part] > 0]
    order = part[np.lexsort((part, -scores[part]))]
    return [ids[i] for i in order]


def _numpy_bm25(ids: list[str], corpus: list[list[str]], k1: float, b: float) -> Search:
    from collections import Counter

    import numpy as np

    n = len(corpus)
    lengths = np.array([len(doc) for doc in corpus], dtype=np.float64)
    norm = k1 * (1 - b + b * lengths / max(1.0, lengths.mean()))
    postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    lists: dict[str, tuple[list[int], list[int]]] = {}
    for i, doc in enumerate(corpus):
        for t, tf in Counter(doc).items():
            d, f = lists.setdefault(t, ([], []))
            d.append(i)
            f.append(tf)
    for t, (d, f) in lists.items():
        postings[t] = (np.array(d), np.array(f, dtype=np.float64))

    def run(question: str) -> list[str]:
        scores = np.zeros(n)
        for t in pyvi_words(question):
            if t in postings:
                d, f = postings[t]
                idf = math.log(1 + (n - len(d) + 0.5) / (len(d) + 0.5))
                scores[d] += idf * f / (f + norm[d])
        return _top(ids, scores)

    run.backend = "numpy BM25"  # type: ignore[attr-defined]
    return run


# --- running ---------------------------------------------------------------------------------


FORMS: dict[str, Callable[[Question], str]] = {
    "accented": lambda q: q.text,
    "unaccented": lambda q: unaccent(q.text),
    "telex": lambda q: telex_question(q.text, q.id),
    "vni": lambda q: vni_question(q.text, q.id),
    "typo": lambda q: typo_question(q.text, q.id),
}


FORMS_OF = {True: "accented", False: "unaccented"}


def evaluate(search: Search, questions: Sequence[Question], accented: bool | str = True) -> dict:
    """The metrics of ``search`` on the questions in one form: a name of ``FORMS``, or
    True/False for ``accented``/``unaccented``."""
    form = FORMS[accented if isinstance(accented, str) else FORMS_OF[accented]]
    texts = [form(q) for q in questions]
    start = time.perf_counter()
    ranked = [search(text) for text in texts]
    out = metrics(ranked, questions)
    out["ms/query"] = 1000 * (time.perf_counter() - start) / max(1, len(questions))
    return out


def table(rows: Iterable[tuple[str, str, dict]]) -> list[str]:
    lines = [
        "| engine | questions | " + " | ".join(METRICS) + " | ms/query |",
        "| --- | --- | " + " | ".join("---" for _ in METRICS) + " | --- |",
    ]
    for engine, form, m in rows:
        cells = " | ".join(f"{m[k]:.3f}" for k in METRICS)
        lines.append(f"| {engine} | {form} | {cells} | {m['ms/query']:.2f} |")
    return lines


PEERS: dict[str, Callable[[Sequence[Passage]], Search]] = {
    "stock Whoosh (StandardAnalyzer, BM25F, OR)": whoosh_engine,
    "SQLite FTS5 (unicode61 remove_diacritics 2, bm25)": fts5_engine,
    "BM25 over pyvi words": bm25_words_engine,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DIR, help="the viquad folder")
    parser.add_argument("--split", choices=("dev", "train"), default="dev")
    parser.add_argument("--passages", type=int, help="index a seeded subset of N passages")
    parser.add_argument("--questions", type=int, help="ask a seeded subset of N questions")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--title-boost", type=float, default=0.25,
        help="vnsearch title boost (0.25, tuned on train: passages of one article share it)",
    )  # fmt: skip
    parser.add_argument("--no-peers", action="store_true", help="evaluate vnsearch only")
    parser.add_argument(
        "--forms", default="accented,unaccented",
        help=f"the question forms to ask, comma-separated, of {','.join(FORMS)}",
    )  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached index")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    forms = [f.strip() for f in args.forms.split(",") if f.strip()]
    if not forms or any(f not in FORMS for f in forms):
        parser.error(f"--forms: choose among {', '.join(FORMS)}")
    if not (args.data / "corpus.jsonl").exists():
        print(
            f"error: data not found: {args.data / 'corpus.jsonl'} (UIT-ViQuAD 1.0 as passage "
            "retrieval; see benchmarks/README.md)",
            file=sys.stderr,
        )
        return 2
    docs, questions = load(args.data, args.split, args.passages, args.questions, args.seed)
    print(f"UIT-ViQuAD {args.split}: {len(questions):,} questions over {len(docs):,} passages")
    print(f"machine: {json.dumps(machine())}")
    start = time.perf_counter()
    ix = open_vnsearch(docs, args.title_boost, args.rebuild)
    print(f"vnsearch index ready in {time.perf_counter() - start:.1f} s")
    engines: list[tuple[str, Search]] = [
        (f"vnsearch (title boost {args.title_boost:g})", vnsearch_engine(ix))
    ]
    if not args.no_peers:
        for name, make in PEERS.items():
            start = time.perf_counter()
            engine = make(docs)
            backend = getattr(engine, "backend", None)
            label = f"{name}, {backend}" if backend else name
            engines.append((label, engine))
            print(f"{label}: indexed in {time.perf_counter() - start:.1f} s")
    rows = []
    for name, engine in engines:
        for form in forms:
            rows.append((name, form, evaluate(engine, questions, form)))
            print(f"  {name}, {form}: MRR@10 {rows[-1][2]['MRR@10']:.3f}", file=sys.stderr)
    print()
    print("\n".join(table(rows)))
    if args.json:
        print(json.dumps([{"engine": e, "questions": f, **m} for e, f, m in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
