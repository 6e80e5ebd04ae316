"""Coverage-guided fuzzing of the analyzer, the query parser and search, with atheris.

Complements the hypothesis fuzz tests in ``tests/test_reliability.py`` (which run in CI):
atheris (libFuzzer for Python) mutates inputs towards new code paths for as long as it is
let run. Each input is decoded as text (any code point, controls and lone surrogates
included) and

* analyzed (``vnsearch.analyze``): no exception; every token's offsets lie in the text;
* searched on a small in-memory index (``Index.search`` with snippets, ``Index.explain``):
  no exception but the documented ones, a consistent page of hits, at most
  ``--max-seconds`` per input (a guard against pathological blowups).

A failing input is written by libFuzzer as ``crash-<sha1>`` in the current folder. Run::

    pip install atheris            # optional, not a vnsearch dependency
    python benchmarks/fuzz_atheris.py -max_total_time=300 -rss_limit_mb=4096

(libFuzzer's own options, such as ``-runs=N`` or a corpus folder, pass through.)
"""

from __future__ import annotations

import sys
import time
import warnings

import atheris

with atheris.instrument_imports(include=["vnsearch"]):
    import vnsearch
    import vnsearch.highlight
    import vnsearch.query.parser
    import vnsearch.ranking.accents
    import vnsearch.ranking.match
    import vnsearch.ranking.plan
    import vnsearch.ranking.query_text
    import vnsearch.ranking.search
    import vnsearch.ranking.topk
    from vnsearch import ID, KEYWORD, NUMERIC, TEXT, Index, Schema

MAX_SECONDS = 2.0
SCHEMA = Schema(
    id=ID(stored=True, unique=True),
    title=TEXT(stored=True, boost=2.0),
    body=TEXT(stored=True),
    topic=KEYWORD(stored=True),
    n=NUMERIC(stored=True),
)
DOCS = [
    {"id": "1", "title": "Thủy điện Hòa Bình", "body": "Nhà máy thủy điện lớn", "topic": "kt"},
    {"id": "2", "title": "Hà Nội mùa thu", "body": "Phố cổ Hà Nội, hồ Gươm", "topic": "dl"},
    {"id": "3", "title": "OR AND NOT", "body": '+-"((OR" title: body: ""', "topic": "x"},
    {"id": "4", "title": "Thuỷ điện Hoà Bình", "body": "hoà bình, hòa bình, HOÀ BÌNH", "n": 4},
]
INDEX = Index.in_memory(SCHEMA)
with INDEX.writer(jobs=1) as _w:
    for _doc in DOCS:
        _w.add(_doc)
slowest = [0.0, ""]


def check_analysis(text: str) -> None:
    analysis = vnsearch.analyze(text)
    for view, tokens in analysis.items():
        for token in tokens:
            assert 0 <= token.start <= token.end <= len(text), (view, token, len(text))


def check_search(query: str, fields: list[str] | None, limit: int) -> None:
    start = time.perf_counter()
    results = INDEX.search(query, limit=limit, fields=fields)
    hits = list(results)
    for hit in hits:
        snippet = hit.snippet("body")
        for a, b in snippet.spans:
            assert 0 <= a < b <= len(snippet.text), (snippet, query)
    if hits:
        INDEX.explain(query, hits[0].id)
    elapsed = time.perf_counter() - start
    if elapsed > slowest[0]:  # each new record, so a run's slowest is its last line
        slowest[:] = [elapsed, query[:80]]
        print(f"slowest search so far: {elapsed * 1000:.1f} ms for {query[:80]!r}", flush=True)
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f} s for {query[:80]!r}"
    assert len(hits) == min(limit, results.total) <= len(DOCS)
    assert {h.id for h in hits} <= {d["id"] for d in DOCS}
    assert all(h.score >= 0 for h in hits)


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    choice = fdp.ConsumeIntInRange(0, 3)
    limit = fdp.ConsumeIntInRange(0, 12)
    text = fdp.ConsumeUnicode(fdp.remaining_bytes())
    fields = [None, ["title"], ["body"], ["title", "body"]][choice]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unidecode warns on lone surrogates
        check_analysis(text)
        check_search(text, fields, limit)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
