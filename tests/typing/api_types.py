"""What a type checker sees of vnsearch's public API: each name a real type, not ``Any``.

Checked by ``mypy --strict`` in ``tests/test_typing.py`` (``assert_type`` fails on ``Any``);
never imported by pytest (it has no tests), but it runs: every call is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from typing_extensions import assert_type

import vnsearch

schema = vnsearch.Schema(
    id=vnsearch.ID(stored=True, unique=True),
    body=vnsearch.TEXT(stored=True),
    topic=vnsearch.KEYWORD(),
    year=vnsearch.NUMERIC(),
    user_words=["Thế Giới Di Động"],
    user_stopwords=["bài viết"],
)
assert_type(schema, vnsearch.Schema)
assert_type(schema.unique_field, str | None)
assert_type(schema["body"], vnsearch.FieldType)
ix = vnsearch.Index.in_memory(schema, synonyms={"ô tô": "xe hơi"})
assert_type(ix, vnsearch.Index)
with ix.writer(jobs=1) as w:
    assert_type(w, vnsearch.Writer)
    w.add({"id": "a", "body": "Thế Giới Di Động ở Hà Nội", "topic": "shop", "year": 2024})
    w.update({"id": "b", "body": "ô tô Hà Nội", "topic": "xe", "year": 2023})
results = ix.search(
    "ha noi", limit=5, offset=0, filter={"year": vnsearch.Range(2020, None)},
    sort=["-year", "score"], facets=["topic"], ranking=vnsearch.DEFAULT_RANKING,
    limits=vnsearch.QueryLimits(max_chars=200), synonyms=False,
)  # fmt: skip
assert_type(results, vnsearch.Results)
assert_type(results.total, int)
assert_type(results.facets, dict[str, dict[Any, int]])
assert_type(results.corrected, str | None)
hit = results[0]
assert_type(hit, vnsearch.Hit)
assert_type(hit.score, float)
assert_type(hit.fields, Mapping[str, Any])
snippet = hit.snippet("body")
assert_type(snippet, vnsearch.Snippet)
assert_type(snippet.spans, tuple[tuple[int, int], ...])
assert_type(snippet.to_html(), str)
assert_type(ix.search(vnsearch.ALL), vnsearch.Results)
assert_type(ix.count("ha noi", filter={"topic": ["shop", "xe"]}), int)
assert_type(ix.get("a"), dict[str, Any] | None)
assert_type(ix.doc_count, int)
assert_type(ix.suggest("ha n"), list[vnsearch.Suggestion])
explanation = ix.explain("ha noi", "a")
assert_type(explanation, vnsearch.Explanation)
assert_type(explanation.terms, tuple[vnsearch.TermContribution, ...])
assert_type(ix.stats(), vnsearch.IndexStats)
assert_type(ix.verify(), dict[str, int])
assert_type(vnsearch.analyze("Hà Nội"), vnsearch.Analysis)
assert_type(vnsearch.segment("Hà Nội"), list[vnsearch.Token])
assert_type(vnsearch.fold("Hà Nội"), str)
assert_type(vnsearch.from_telex("vieetj"), str | None)
assert_type(vnsearch.Ranking(k1=1.2), vnsearch.Ranking)
ix.close()
