"""Query latency: vnsearch against stock Whoosh, tantivy and SQLite FTS5 on VNTC news articles.

All engines index the same first ``--docs`` documents of the corpus (title = first line of
the article, body = the rest) and answer the same fixed, seeded set of queries drawn from
those documents, in one process:

* ``whoosh``  stock Whoosh 2.7.4 (StandardAnalyzer, BM25F), given the original text; queries
  parsed with ``MultifieldParser(["title", "body"], group=OrGroup)``;
* ``tantivy`` tantivy-py, default tokenizer, given the *folded* syllable text; queries through
  ``index.parse_query(q, ["title", "body"])`` (OR by default);
* ``fts5``    SQLite FTS5 (``unicode61 remove_diacritics 2``), given the folded syllable text;
  queries are an OR of double-quoted terms, ``ORDER BY bm25(docs) LIMIT 10``;
* ``vnsearch`` this project's engine, given the original text (skipped while
  ``vnsearch.Index`` does not exist yet).

"Folded syllable text" is ``" ".join(fold(t.text) for t in syllables(text) if t.kind != "part")``:
what the peers need to find Vietnamese with or without diacritics. Folding the documents is
timed once and reported apart from the peers' build times; queries are folded before the
timed loop.

The query set (``--queries``, 1,200 by default, saved to ``benchmarks/.cache/``) mixes runs of
1-4 syllables as written (40 %) and without diacritics (30 %), quoted 2-3 syllable phrases
(15 %) and 6-12 syllable "questions" (15 %). Each engine is warmed up on the first 50 queries,
then every query is timed on every engine in turn, the engines in a new seeded random
order for each query: every engine follows each of the others about equally often (the
one before evicts its data from the CPU caches, and a slow engine evicts more), and two
rows on one index (``vnsearch`` and ``vnsearch+snippets``) are never back to back, within
a query or across two (when a third engine can stand between them), so neither runs
right after the other has warmed the caches for it. Each call is timed with
``time.perf_counter_ns`` around the whole call: parsing, search and reading the stored
``title`` of each of the top 10 hits. Two passes are timed: top 10 only (Whoosh skips blocks,
tantivy runs with ``count=False``, FTS5 runs one SELECT), and top 10 plus the exact number of
matching documents (Whoosh ``len(results)``, tantivy ``count=True``, FTS5 a second
``SELECT count(*)``). vnsearch's ``results.total`` is part of its API, so it is in both.

Indexes are built once into ``benchmarks/.cache/<engine>-<docs>-<hash>/`` and reused. On 2
CPUs the default run takes about 19 minutes the first time (stock Whoosh indexes 20,000
documents in about 3 minutes, folding them for the peers takes 1) and about 14 with cached
indexes, nearly all of it in stock Whoosh's searches; ``--engines`` leaves engines out.

Run from the repository root::

    python benchmarks/bench_query.py                       # 20,000 documents, 1,200 queries
    python benchmarks/bench_query.py --docs 2000 --queries 1000
    python benchmarks/bench_query.py --docs 84132 --rebuild --json
    python benchmarks/bench_query.py --engines whoosh,fts5 --seed 7
    python benchmarks/bench_query.py --docs 84132 --engines vnsearch --snippets

``--snippets`` adds the row ``vnsearch+snippets``: the same vnsearch search plus
``hit.snippet("body")`` for each of the top 10 hits inside the timed call, so the two p50s
show what snippets cost.

``pip install tantivy`` (or ``pip install .[bench]``) for the tantivy engine; without it that
engine is skipped. The corpus is gzip JSON Lines (``id``, ``split``, ``topic``, ``text``) made
from the public VNTC release (duyvuleo/VNTC); by default it is looked for in
``shared/data/vntc/`` beside the repository, or in ``$VNSEARCH_DATA/vntc/`` when set.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import hashlib
import json
import random
import shutil
import sqlite3
import statistics
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # benchmark this checkout, whether installed or not

from _common import DEFAULT_CORPUS, corpus_missing, machine  # noqa: E402

import vnsearch  # noqa: E402
import vnsearch.index  # noqa: E402

CACHE = REPO / "benchmarks/.cache"
BUILD_FORMAT = 1  # bump to invalidate every cached index
LIMIT = 10
WARMUP = 50
EXAMPLES = 5
TITLE_SHARE = 0.25  # share of query runs drawn from titles rather than bodies
KINDS = {  # kind: (share of the query set, shortest run, longest run)
    "keyword": (0.40, 1, 4),
    "unaccented": (0.30, 1, 4),
    "phrase": (0.15, 2, 3),
    "question": (0.15, 6, 12),
}
KEYWORD_KINDS = ("keyword", "unaccented")
MIN_KEYWORD_HITS = 0.95
OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO", "IN"}  # query-syntax words
PASSES = {"top10": False, "top10+total": True}  # pass name: exact total in the timed call


# --- corpus -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    body: str


def load_docs(path: Path, n: int) -> list[Doc]:
    """The first ``n`` documents of the file; title = first line of ``text``, body = the rest."""
    docs = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if len(docs) == n:
                break
            record = json.loads(line)
            title, _, body = record["text"].partition("\n")
            docs.append(Doc(record["id"], title.strip(), body.strip()))
    return docs


def text_megabytes(docs: Sequence[Doc]) -> float:
    return sum(len(d.title.encode()) + len(d.body.encode()) for d in docs) / 1e6


def fold_text(text: str) -> str:
    """The folded syllable text the peers index and search."""
    return " ".join(vnsearch.fold(t.text) for t in vnsearch.syllables(text) if t.kind != "part")


def fold_docs(docs: Sequence[Doc]) -> list[Doc]:
    return [replace(d, title=fold_text(d.title), body=fold_text(d.body)) for d in docs]


# --- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str
    words: list[str]  # syllables as given to Whoosh and vnsearch
    folded: list[str]  # the same, folded, for the peers
    doc_id: str  # the document the run was drawn from

    @property
    def text(self) -> str:
        """The query string for Whoosh and vnsearch."""
        joined = " ".join(self.words)
        return f'"{joined}"' if self.kind == "phrase" else joined


def make_queries(docs: Sequence[Doc], n: int, seed: int) -> list[Query]:
    """``n`` queries of the four kinds in their shares, in a seeded random order."""
    rng = random.Random(seed)
    counts = {kind: round(n * share) for kind, (share, _, _) in KINDS.items()}
    counts["question"] = n - sum(c for k, c in counts.items() if k != "question")
    queries = [make_query(rng, docs, kind) for kind, count in counts.items() for _ in range(count)]
    rng.shuffle(queries)
    return queries


def make_query(rng: random.Random, docs: Sequence[Doc], kind: str) -> Query:
    _, shortest, longest = KINDS[kind]
    doc, words = draw_run(rng, docs, rng.randint(shortest, longest))
    if kind == "unaccented":
        words = [vnsearch.fold(w) for w in words]
    return Query(kind, words, fold_text(" ".join(words)).split(), doc.id)


def draw_run(rng: random.Random, docs: Sequence[Doc], length: int) -> tuple[Doc, list[str]]:
    """A random run of ``length`` consecutive syllables, as written, from a random document.

    Runs with numbers, codes, digits-only syllables, query-syntax words or anything but white
    space between their syllables are drawn again.
    """
    while True:
        doc = docs[rng.randrange(len(docs))]
        text = doc.title if doc.title and rng.random() < TITLE_SHARE else doc.body
        tokens = [t for t in vnsearch.syllables(text) if t.kind != "part"]
        if len(tokens) < length:
            continue
        start = rng.randrange(len(tokens) - length + 1)
        run = tokens[start : start + length]
        words = [text[t.start : t.end] for t in run]
        if _clean_run(text, run, words):
            return doc, words


def _clean_run(text: str, run: list[vnsearch.Token], words: list[str]) -> bool:
    if any(t.kind != "syllable" for t in run):
        return False
    if any(w.isdigit() or w in OPERATORS for w in words):
        return False
    return all(not text[a.end : b.start].strip() for a, b in zip(run, run[1:]))


DEFAULT_QUERIES = 1200  # --queries


def query_file(seed: int, docs: int, n: int = DEFAULT_QUERIES) -> Path:
    """Where a run saves its query set: one file per (seed, documents, queries), so that
    a short run does not replace the set a longer one (and identical_results.py) read."""
    return CACHE / f"queries-{seed}-{docs}-{n}.json"


def save_queries(queries: Sequence[Query], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(q), "text": q.text} for q in queries]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def load_queries(path: Path) -> list[Query]:
    """The query set :func:`save_queries` wrote."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [Query(r["kind"], r["words"], r["folded"], r["doc_id"]) for r in rows]


# --- engines ------------------------------------------------------------------------------

Hits = list[tuple[str, str]]  # (id, stored title) of the top hits, best first


class Engine(ABC):
    """One search engine behind the benchmark's small interface."""

    name: str
    folded: bool  # whether it is given folded syllable text rather than the original

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    @abstractmethod
    def options(cls) -> dict[str, Any]:
        """What the index depends on (versions, schema); part of the cache key."""

    @abstractmethod
    def build(self, docs: Sequence[Doc]) -> None:
        """Index ``docs`` into ``self.path`` (an empty directory)."""

    @abstractmethod
    def open(self) -> None:
        """Open the index at ``self.path`` for searching."""

    @abstractmethod
    def prepare(self, query: Query) -> str:
        """The query string a user of this engine would pass (untimed)."""

    @abstractmethod
    def search(self, query: str, total: bool = False) -> tuple[Hits, int | None]:
        """Top hits with their stored titles, and the number of matches when ``total``."""

    def info(self) -> str:
        return ""


class WhooshEngine(Engine):
    name = "whoosh"
    folded = False

    @classmethod
    def options(cls) -> dict[str, Any]:
        import whoosh

        return {"whoosh": whoosh.versionstring(), "schema": "id ID, title TEXT stored, body TEXT"}

    def build(self, docs: Sequence[Doc]) -> None:
        from whoosh import fields, index

        schema = fields.Schema(
            id=fields.ID(stored=True, unique=True),
            title=fields.TEXT(stored=True),
            body=fields.TEXT,
        )
        writer = index.create_in(str(self.path), schema).writer()
        for d in docs:
            writer.add_document(id=d.id, title=d.title, body=d.body)
        writer.commit()

    def open(self) -> None:
        from whoosh import index, qparser

        self.index = index.open_dir(str(self.path))
        self.searcher = self.index.searcher()
        self.parser = qparser.MultifieldParser(
            ["title", "body"], self.index.schema, group=qparser.OrGroup
        )

    def prepare(self, query: Query) -> str:
        return query.text

    def search(self, query: str, total: bool = False) -> tuple[Hits, int | None]:
        results = self.searcher.search(self.parser.parse(query), limit=LIMIT)
        hits = [(hit["id"], hit["title"]) for hit in results]
        return hits, (len(results) if total else None)


class TantivyEngine(Engine):
    name = "tantivy"
    folded = True

    @classmethod
    def options(cls) -> dict[str, Any]:
        return {
            "tantivy": metadata.version("tantivy"),
            "vnsearch": vnsearch.__version__,
            "format": vnsearch.index.FORMAT_VERSION,
            "schema": "id raw stored, title default stored, body default",
        }

    def build(self, docs: Sequence[Doc]) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", stored=True)
        builder.add_text_field("body")
        index = tantivy.Index(builder.build(), path=str(self.path), reuse=False)
        writer = index.writer()
        for d in docs:
            doc = tantivy.Document()
            doc.add_text("id", d.id)
            doc.add_text("title", d.title)
            doc.add_text("body", d.body)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()

    def open(self) -> None:
        import tantivy

        self.index = tantivy.Index.open(str(self.path))
        self.searcher = self.index.searcher()

    def prepare(self, query: Query) -> str:
        joined = " ".join(query.folded)
        return f'"{joined}"' if query.kind == "phrase" else joined

    def search(self, query: str, total: bool = False) -> tuple[Hits, int | None]:
        parsed = self.index.parse_query(query, ["title", "body"])
        result = self.searcher.search(parsed, LIMIT, count=total)
        doc = self.searcher.doc
        hits = [(d["id"][0], d["title"][0]) for d in (doc(addr) for _, addr in result.hits)]
        return hits, (result.count if total else None)

    def info(self) -> str:
        return f"{self.searcher.num_segments} segments"


class Fts5Engine(Engine):
    name = "fts5"
    folded = True
    TOP = "SELECT id, title FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?"
    COUNT = "SELECT count(*) FROM docs WHERE docs MATCH ?"

    @property
    def db(self) -> Path:
        return self.path / "docs.sqlite"

    @classmethod
    def options(cls) -> dict[str, Any]:
        return {
            "sqlite": sqlite3.sqlite_version,
            "vnsearch": vnsearch.__version__,
            "format": vnsearch.index.FORMAT_VERSION,
            "table": "fts5(id UNINDEXED, title, body, unicode61 remove_diacritics 2), optimized",
        }

    def build(self, docs: Sequence[Doc]) -> None:
        with sqlite3.connect(self.db) as conn:
            conn.execute(
                "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                "tokenize='unicode61 remove_diacritics 2')"
            )
            conn.executemany(
                "INSERT INTO docs(id, title, body) VALUES (?, ?, ?)",
                ((d.id, d.title, d.body) for d in docs),
            )
            conn.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        conn.close()

    def open(self) -> None:
        self.conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)

    def prepare(self, query: Query) -> str:
        if query.kind == "phrase":
            return _fts5_string(" ".join(query.folded))
        return " OR ".join(_fts5_string(term) for term in query.folded)

    def search(self, query: str, total: bool = False) -> tuple[Hits, int | None]:
        hits = self.conn.execute(self.TOP, (query, LIMIT)).fetchall()
        count = self.conn.execute(self.COUNT, (query,)).fetchone()[0] if total else None
        return hits, count


def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class VnsearchEngine(Engine):
    name = "vnsearch"
    folded = False

    @classmethod
    def options(cls) -> dict[str, Any]:
        return {
            "vnsearch": vnsearch.__version__,
            "format": vnsearch.index.FORMAT_VERSION,
            "schema": "id ID, title TEXT x2 stored, body TEXT",
        }

    @staticmethod
    def schema() -> vnsearch.Schema:
        """The schema of every benchmark index of VNTC (``bench_index.py``'s too)."""
        return vnsearch.Schema(
            id=vnsearch.ID(stored=True, unique=True),
            title=vnsearch.TEXT(stored=True, boost=2.0),
            body=vnsearch.TEXT(stored=False),
        )

    def build(self, docs: Sequence[Doc]) -> None:
        index = vnsearch.Index.create(self.path, self.schema())
        with index.writer() as writer:
            for d in docs:
                writer.add({"id": d.id, "title": d.title, "body": d.body})

    def open(self) -> None:
        self.index = vnsearch.Index.open(self.path)

    def prepare(self, query: Query) -> str:
        return query.text

    def search(self, query: str, total: bool = False) -> tuple[Hits, int | None]:
        results = self.index.search(query, limit=LIMIT)
        hits = [(hit.id, hit.fields["title"]) for hit in results]
        return hits, (results.total if total else None)  # counted when asked for


class VnsearchSnippetsEngine(VnsearchEngine):
    """vnsearch, plus ``hit.snippet("body")`` for each top-10 hit inside the timed call.

    Opens the ``vnsearch`` engine's index as an ``Index`` of its own: sharing one would
    share its snapshot's cache of recent terms, and ``vnsearch`` would find the terms of
    every query this row ran just before it already looked up. The benchmark index does
    not store bodies, so each body is handed to ``snippet(text=...)`` from memory (a dict
    lookup).
    """

    name = "vnsearch+snippets"

    def __init__(self, base: VnsearchEngine, docs: Sequence[Doc]) -> None:
        super().__init__(base.path)
        self.open()
        self.bodies = {d.id: d.body for d in docs}

    def search(self, query: str, total: bool = False) -> tuple[Hits, int | None]:
        results = self.index.search(query, limit=LIMIT)
        hits = []
        for hit in results:
            hit.snippet("body", text=self.bodies[hit.id])
            hits.append((hit.id, hit.fields["title"]))
        return hits, (results.total if total else None)


ENGINES: dict[str, type[Engine]] = {
    e.name: e for e in (WhooshEngine, TantivyEngine, Fts5Engine, VnsearchEngine)
}


def available(name: str) -> str | None:
    """Why engine ``name`` cannot run here, or None when it can."""
    if name == "tantivy":
        try:
            import tantivy  # noqa: F401
        except ImportError:
            return "tantivy: not installed (pip install tantivy), skipped"
    if name == "vnsearch" and getattr(vnsearch, "Index", None) is None:
        return "vnsearch: engine not available yet"
    return None


# --- building -----------------------------------------------------------------------------


@dataclass
class Build:
    engine: str
    reused: bool
    seconds: float
    megabytes: float
    ratio: float  # index size / text size
    path: str
    info: str = ""


def cache_dir(engine: type[Engine], n: int, corpus: Path, options: dict[str, Any]) -> Path:
    key = {"format": BUILD_FORMAT, "corpus": [corpus.name, corpus.stat().st_size], **options}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    return CACHE / f"{engine.name}-{n}-{digest}"


def dir_megabytes(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def ensure_built(engine: Engine, docs: Sequence[Doc], text_mb: float, rebuild: bool) -> Build:
    """Build the engine's index unless a complete one is cached, then open it."""
    marker = engine.path / "build.json"
    reused = marker.is_file() and not rebuild
    if not reused:
        shutil.rmtree(engine.path, ignore_errors=True)
        engine.path.mkdir(parents=True)
        start = time.perf_counter()
        engine.build(docs)
        seconds = time.perf_counter() - start
        megabytes = dir_megabytes(engine.path)
        marker.write_text(
            json.dumps({"seconds": seconds, "megabytes": megabytes, "docs": len(docs)})
        )
    recorded = json.loads(marker.read_text())
    engine.open()
    return Build(
        engine.name,
        reused,
        recorded["seconds"],
        recorded["megabytes"],
        recorded["megabytes"] / text_mb,
        str(engine.path.relative_to(REPO)),
        engine.info(),
    )


# --- timing -------------------------------------------------------------------------------


@dataclass
class Run:
    """One engine's answers to the query set in one timed pass."""

    ns: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)  # hits returned (at most LIMIT)
    ids: list[list[str]] = field(default_factory=list)
    totals: list[int | None] = field(default_factory=list)


def time_pass(
    engines: Sequence[Engine],
    prepared: dict[str, list[str]],
    total: bool,
    seed: int = 0,
    warmup: dict[str, list[str]] | None = None,
) -> dict[str, Run]:
    """Warm each engine up on the ``warmup`` queries (not the timed ones: an engine that
    keeps recent terms would find the first timed queries' terms waiting), then time every
    query on every engine, interleaved by query in a seeded random order per query (see
    :func:`engine_orders`)."""
    for engine in engines:
        for query in (warmup or {}).get(engine.name, []):
            engine.search(query, total)
    runs = {engine.name: Run() for engine in engines}
    n = len(next(iter(prepared.values())))
    orders = engine_orders(engines, n, seed)
    clock = time.perf_counter_ns
    gc.collect()
    for i, order in enumerate(orders):
        for engine in order:
            query = prepared[engine.name][i]
            start = clock()
            hits, count = engine.search(query, total)
            elapsed = clock() - start
            run = runs[engine.name]
            run.ns.append(elapsed)
            run.counts.append(len(hits))
            run.ids.append([doc_id for doc_id, _ in hits])
            run.totals.append(count)
    return runs


def engine_orders(engines: Sequence[Engine], n: int, seed: int) -> list[list[Engine]]:
    """For each of ``n`` queries, the order in which the engines answer it: a seeded
    shuffle, so each engine follows every other about equally often, in which engines on
    the same index (same ``path``) are never neighbours when others can stand between
    them, also across queries (the last of one query, the first of the next). Rotating
    one fixed order would put each engine after the same one every time."""
    rng = random.Random(f"order-{seed}")

    def apart(order: list[Engine], before: Engine | None) -> bool:
        pairs = zip([before, *order], order) if before is not None else zip(order, order[1:])
        return all(a.path != b.path for a, b in pairs)

    orders: list[list[Engine]] = []
    for _ in range(n):
        order = list(engines)
        before = orders[-1][-1] if orders else None
        for _try in range(200):  # all of them apart, else within the query, else as drawn
            rng.shuffle(order)
            if apart(order, before):
                break
        else:
            for _try in range(200):
                rng.shuffle(order)
                if apart(order, None):
                    break
        orders.append(list(order))
    return orders


def fold_query_us(queries: Sequence[Query]) -> float:
    """Median time to fold one query for the peers, in microseconds (done before timing)."""
    times = []
    for q in queries:
        start = time.perf_counter_ns()
        fold_text(" ".join(q.words))
        times.append(time.perf_counter_ns() - start)
    return statistics.median(times) / 1e3


# --- figures ------------------------------------------------------------------------------


def percentiles(ns: Sequence[int]) -> dict[str, float]:
    """p50, p95, p99 and mean in milliseconds."""
    cuts = statistics.quantiles(ns, n=100, method="inclusive") if len(ns) > 1 else list(ns) * 99
    return {
        "p50": cuts[49] / 1e6,
        "p95": cuts[94] / 1e6,
        "p99": cuts[98] / 1e6,
        "mean": statistics.fmean(ns) / 1e6,
    }


def pass_figures(runs: dict[str, Run], queries: Sequence[Query]) -> dict[str, Any]:
    latency = {name: percentiles(run.ns) for name, run in runs.items()}
    by_kind = {name: _kind_medians(run, queries) for name, run in runs.items()}
    figures: dict[str, Any] = {"latency_ms": latency, "p50_by_kind_ms": by_kind, "ratios": {}}
    if "vnsearch" in latency and "vnsearch+snippets" in latency:
        figures["snippets_added_ms"] = {
            p: latency["vnsearch+snippets"][p] - latency["vnsearch"][p] for p in ("p50", "p95")
        }
        # the same query timed back to back on both: the median of the differences is
        # steadier than the difference of two medians when the machine is shared
        paired = [
            b - a for a, b in zip(runs["vnsearch"].ns, runs["vnsearch+snippets"].ns, strict=True)
        ]
        figures["snippets_added_ms"]["paired_median"] = statistics.median(paired) / 1e6
    if "vnsearch" in latency:
        for peer in ("whoosh", "tantivy"):
            if peer in latency:
                figures["ratios"][f"vnsearch/{peer}"] = {
                    p: latency["vnsearch"][p] / latency[peer][p] for p in ("p50", "p95")
                }
    return figures


def _kind_medians(run: Run, queries: Sequence[Query]) -> dict[str, float | None]:
    """Median latency (ms) of each kind of query; None for a kind the set does not have."""
    out: dict[str, float | None] = {}
    for kind in KINDS:
        ns = [ns for ns, q in zip(run.ns, queries) if q.kind == kind]
        out[kind] = statistics.median(ns) / 1e6 if ns else None
    return out


def hit_rates(run: Run, queries: Sequence[Query]) -> dict[str, float]:
    """Share of queries with at least one hit: keyword queries (both kinds), then each kind."""
    rates = {"keyword queries": _share(run, queries, KEYWORD_KINDS)}
    rates.update({kind: _share(run, queries, (kind,)) for kind in KINDS})
    return rates


def _share(run: Run, queries: Sequence[Query], kinds: Sequence[str]) -> float:
    counts = [c for c, q in zip(run.counts, queries) if q.kind in kinds]
    return sum(c > 0 for c in counts) / len(counts) if counts else 0.0


def overlap(run: Run, reference: Run) -> float:
    """Mean |top10 ∩ reference top10| / |reference top10| over queries the reference answers."""
    shares = [
        len(set(ids) & set(ref)) / len(ref) for ids, ref in zip(run.ids, reference.ids) if ref
    ]
    return statistics.fmean(shares) if shares else 0.0


def mean_total(run: Run) -> float | None:
    totals = [t for t in run.totals if t is not None]
    return statistics.fmean(totals) if totals else None


# --- report -------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    found = {"vnsearch": vnsearch.__version__, "sqlite": sqlite3.sqlite_version}
    for package in ("whoosh", "tantivy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def show_examples(queries: Sequence[Query]) -> Iterator[str]:
    for kind in KINDS:
        of_kind = [q for q in queries if q.kind == kind][:EXAMPLES]
        for q in of_kind:
            yield f"  {kind:<11} {q.text}   | peers: {' '.join(q.folded)}"


def build_table(builds: Sequence[Build]) -> Iterator[str]:
    yield f"{'engine':<9} {'status':<7} {'build s':>8} {'size MB':>8} {'size/text':>9}   where"
    for b in builds:
        status = "cached" if b.reused else "built"
        extra = f" ({b.info})" if b.info else ""
        yield (
            f"{b.engine:<9} {status:<7} {b.seconds:>8.1f} {b.megabytes:>8.1f} "
            f"{b.ratio:>8.2f}x   {b.path}{extra}"
        )


def latency_table(name: str, figures: dict[str, Any]) -> Iterator[str]:
    yield f"latency, {name} (ms)"
    w = max(9, *map(len, figures["latency_ms"]))
    yield f"{'engine':<{w}} {'p50':>8} {'p95':>8} {'p99':>8} {'mean':>8}   p50 by kind: " + (
        " ".join(f"{kind:>10}" for kind in KINDS)
    )
    for engine, lat in figures["latency_ms"].items():
        kinds = " ".join(_ms(figures["p50_by_kind_ms"][engine][k]) for k in KINDS)
        yield (
            f"{engine:<{w}} {lat['p50']:>8.2f} {lat['p95']:>8.2f} {lat['p99']:>8.2f} "
            f"{lat['mean']:>8.2f}                {kinds}"
        )
    if "snippets_added_ms" in figures:
        added = figures["snippets_added_ms"]
        yield (
            f"snippets of the top 10 bodies add: p50 {added['p50']:+.3f} ms, "
            f"p95 {added['p95']:+.3f} ms; median of per-query differences "
            f"{added['paired_median']:+.3f} ms"
        )
    for label, ratio in figures["ratios"].items():
        peer = label.split("/")[1]
        yield (
            f"ratio {label}: p50 {ratio['p50']:.2f}x, p95 {ratio['p95']:.2f}x "
            f"({peer} takes {1 / ratio['p50']:.1f}x vnsearch's time at p50, "
            f"{1 / ratio['p95']:.1f}x at p95)"
        )


def _ms(value: float | None) -> str:
    return f"{value:>10.2f}" if value is not None else f"{'-':>10}"


def sanity_lines(summary: dict[str, Any]) -> Iterator[str]:
    yield "queries with at least one hit (top-10 pass)"
    for engine, rates in summary["hit_rates"].items():
        verdict = "ok" if rates["keyword queries"] >= MIN_KEYWORD_HITS else "BELOW 95%"
        kinds = ", ".join(f"{k} {v:.1%}" for k, v in rates.items() if k != "keyword queries")
        yield f"  {engine:<9} keyword {rates['keyword queries']:.1%} [{verdict}]  ({kinds})"
    for engine, value in summary["overlap_with_whoosh"].items():
        yield f"  overlap@10 with stock Whoosh: {engine} {value:.2f}"
    totals = ", ".join(
        f"{engine} {value:,.0f}" for engine, value in summary["mean_total"].items() if value
    )
    yield f"  mean number of matching documents per query: {totals}"


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="VNTC .jsonl.gz")
    parser.add_argument("--docs", type=_positive, default=20000, help="first N documents")
    parser.add_argument(
        "--queries", type=_positive, default=DEFAULT_QUERIES, help="size of the query set"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the query set")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated subset of " + ",".join(ENGINES),
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached indexes")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument(
        "--snippets",
        action="store_true",
        help="also time vnsearch with hit.snippet('body') for each top-10 hit "
        "(engine row vnsearch+snippets)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.engines.split(",")) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    return args


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def open_engines(
    names: Sequence[str], docs: Sequence[Doc], corpus: Path, rebuild: bool, out: list[str]
) -> tuple[list[Engine], list[Build], float | None]:
    """Build or reuse each runnable engine's index; also the seconds spent folding, if any."""
    text_mb = text_megabytes(docs)
    engines, builds, folded, fold_seconds = [], [], None, None
    for name in names:
        reason = available(name)
        if reason:
            print(reason, file=sys.stderr, flush=True)
            out.append(reason)
            continue
        cls = ENGINES[name]
        engine = cls(cache_dir(cls, len(docs), corpus, cls.options()))
        needs_build = rebuild or not (engine.path / "build.json").is_file()
        if cls.folded and needs_build and folded is None:
            start = time.perf_counter()
            folded = fold_docs(docs)
            fold_seconds = time.perf_counter() - start
        build = ensure_built(engine, folded if cls.folded else docs, text_mb, rebuild)
        status = "cached" if build.reused else "built"
        print(f"{name}: {status} in {build.seconds:.1f} s", file=sys.stderr, flush=True)
        engines.append(engine)
        builds.append(build)
    return engines, builds, fold_seconds


def run(args: argparse.Namespace) -> tuple[list[str], dict[str, Any]]:
    out: list[str] = []
    docs = load_docs(args.corpus, args.docs)
    text_mb = text_megabytes(docs)
    queries = make_queries(docs, args.queries, args.seed)
    saved = query_file(args.seed, len(docs), args.queries)
    save_queries(queries, saved)
    engines, builds, fold_seconds = open_engines(
        args.engines.split(","), docs, args.corpus, args.rebuild, out
    )
    if args.snippets:
        engines += [VnsearchSnippetsEngine(e, docs) for e in engines if e.name == "vnsearch"]
    prepared = {e.name: [e.prepare(q) for q in queries] for e in engines}
    warm = make_queries(docs, WARMUP, args.seed + 1)  # drawn apart from the timed ones
    warmup = {e.name: [e.prepare(q) for q in warm] for e in engines}
    passes = {}
    for name, total in PASSES.items():
        print(f"timing pass {name} ...", file=sys.stderr, flush=True)
        passes[name] = time_pass(engines, prepared, total, args.seed, warmup)
    top10 = passes["top10"]
    summary: dict[str, Any] = {
        "machine": machine(),
        "versions": versions(),
        "corpus": str(args.corpus),
        "docs": len(docs),
        "text_mb": text_mb,
        "queries": len(queries),
        "seed": args.seed,
        "query_file": str(saved.relative_to(REPO)),
        "query_kinds": {k: sum(q.kind == k for q in queries) for k in KINDS},
        "fold_docs_s": fold_seconds,
        "fold_query_us": fold_query_us(queries),
        "builds": [asdict(b) for b in builds],
        "passes": {name: pass_figures(runs, queries) for name, runs in passes.items()},
        "hit_rates": {name: hit_rates(r, queries) for name, r in top10.items()},
        "overlap_with_whoosh": {
            name: overlap(r, top10["whoosh"])
            for name, r in top10.items()
            if name != "whoosh" and "whoosh" in top10
        },
        "mean_total": {name: mean_total(r) for name, r in passes["top10+total"].items()},
        "skipped": out,
    }
    return report(summary, queries), summary


def report(s: dict[str, Any], queries: Sequence[Query]) -> list[str]:
    m, v = s["machine"], s["versions"]
    kinds = ", ".join(f"{count} {kind}" for kind, count in s["query_kinds"].items())
    lines = [
        f"machine   {m['cpus']} CPUs, {m['cpu_model']} ({m['machine']}), Python {m['python']}",
        f"versions  whoosh {v['whoosh']}, tantivy {v['tantivy']}, sqlite {v['sqlite']}, "
        f"vnsearch {v['vnsearch']}",
        f"corpus    {s['docs']:,} documents (first in file order), {s['text_mb']:.1f} MB of "
        f"title+body text (UTF-8)",
        f"queries   {s['queries']:,} (seed {s['seed']}): {kinds}; saved to {s['query_file']}",
        *show_examples(queries),
        *s["skipped"],
        "",
        *build_table([Build(**b) for b in s["builds"]]),
    ]
    if s["fold_docs_s"] is not None:
        lines.append(
            f"folding the documents for the peers took {s['fold_docs_s']:.1f} s "
            "(not in tantivy's or fts5's build time)"
        )
    lines += [
        f"folding a query for the peers: median {s['fold_query_us']:.0f} µs, done before timing",
        "",
        "timed per query: parse + search + stored title of each top-10 hit; warm-up "
        f"{WARMUP} other queries; engines interleaved query by query, in a seeded random order "
        "per query (rows on one index never back to back)",
        "",
        *latency_table("top 10 only (no engine counts the total)", s["passes"]["top10"]),
        "",
        *latency_table(
            "top 10 + exact total (whoosh len(results), tantivy count=True, fts5 + count(*), "
            "vnsearch results.total)",
            s["passes"]["top10+total"],
        ),
        "",
        *sanity_lines(s),
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.corpus.is_file():
        print(corpus_missing(args.corpus), file=sys.stderr)
        return 2
    lines, summary = run(args)
    print("\n".join(lines))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
