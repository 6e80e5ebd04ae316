"""``Index.suggest``: completions of the last word from the index's vocabulary, checked
against counts made by hand from the documents' analyses (an oracle), and
``FieldTerms.prefix_range`` against a scan of every key."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache

import numpy as np
import pytest

from tests.conftest import news_schema
from tests.helpers import ALL_DOCS, HAND, build, hand
from vnsearch import TEXT, Index, Schema, Suggestion, analyze, fold
from vnsearch.index import suggest as suggest_module
from vnsearch.index.terms import terms_reader

TEXT_FIELDS = ("title", "body")
TMP = hand("tmp", "Tạm thời", "Văn bản tạm thời sẽ bị xoá, Hà Nội Đà Nẵng phở bò.", "x")
# the segments ``build`` commits: three batches, then ``tmp`` (deleted, still counted)
_SIZE = -(-len(ALL_DOCS) // 3)
NEWS = [ALL_DOCS[i : i + _SIZE] for i in range(0, len(ALL_DOCS), _SIZE)] + [[TMP]]


@pytest.fixture(scope="module")
def news() -> Index:
    """The news corpus in four segments, with a deleted document (``tmp``)."""
    return build(Index.in_memory(news_schema()))


@cache
def terms_of(text: str, view: str) -> frozenset[str]:
    return frozenset(t.text for t in analyze(text)[view])


def folded(term: str) -> str:
    return " ".join(fold(w) for w in term.split())


def expected(
    segments: list[list[dict]], typed: list[str], limit: int = 10, fields=TEXT_FIELDS
) -> list[tuple[str, int]]:
    """The completions of ``typed`` (one word, or the word before and the one typed)
    counted from the documents' analyses, segment by segment: per TEXT field, a document
    counts once. Typed without accents, a completion is spelled as most often (ties: in
    code point order) in the segment and field that hold it most (ties: the first)."""
    pair = len(typed) == 2
    view = "bigrams" if pair else "syllables"
    accented = any(fold(w) != w for w in typed)
    prefix = " ".join(typed) if accented else folded(" ".join(typed))
    counts: Counter[str] = Counter()
    parts = []  # per segment and field, its terms' counts
    for docs in segments:
        for name in (f for f in TEXT_FIELDS if f in fields):
            part: Counter[str] = Counter()
            keys: Counter[str] = Counter()
            for doc in docs:
                terms = terms_of(doc[name], view)
                part.update(terms)
                keys.update(terms if accented else {folded(t) for t in terms})
            parts.append((part, keys))
            counts.update({k: n for k, n in keys.items() if k.startswith(prefix)})
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].encode()))[:limit]
    if accented:
        return best

    def spelled(key: str) -> str:
        part = max(parts, key=lambda p: p[1][key])[0]  # the first of the largest
        forms = [t for t in part if folded(t) == key]
        return min(forms, key=lambda f: (-part[f], f))

    return [(spelled(k), n) for k, n in best]


def got(ix: Index, prefix: str, limit: int = 10, **kw) -> list[tuple[str, int]]:
    return [(s.text, s.count) for s in ix.suggest(prefix, limit, **kw)]


def test_unaccented_prefix_completes_through_the_folded_views(news: Index) -> None:
    assert len(news.snapshot().segments) == len(NEWS)
    # counts include the deleted document ``tmp`` (the dictionaries' do, until a merge)
    docs = NEWS
    assert got(news, "ha") == expected(docs, ["ha"])
    first = news.suggest("ha n")[0]
    assert first == Suggestion("hà nội", first.count, "hà nội")
    assert got(news, "ha n") == expected(docs, ["ha", "n"])
    assert got(news, "Thuy d") == expected(docs, ["thuy", "d"])  # thủy/thuỷ: one spelling


def test_accented_prefix_completes_only_as_typed(news: Index) -> None:
    docs = NEWS
    assert got(news, "đư") == expected(docs, ["đư"])
    assert all(text.startswith("đư") for text, _ in got(news, "đư"))
    assert "dương" not in [t for t, _ in got(news, "đư")]
    assert "dương" in [t for t, _ in got(news, "dư")]
    # without accents: d and đ alike, each folded word spelled as most often
    assert {t[0] for t, _ in got(news, "du", 50)} == {"d", "đ"}
    assert got(news, "hà n") == expected(docs, ["hà", "n"])
    assert got(news, "Sông H") == expected(docs, ["sông", "h"])


def test_every_prefix_of_every_word_matches_the_oracle(news: Index) -> None:
    docs = NEWS
    words = sorted({t.text for d in HAND[-12:] for t in analyze(d["body"])["syllables"]})
    for word in words[:40]:
        for cut in range(1, len(word) + 1):
            for typed in (word[:cut], fold(word[:cut])):
                assert got(news, typed, 5) == expected(docs, [typed], 5), typed


@pytest.mark.parametrize("read_whole", [0, 64])
def test_short_prefixes_take_the_best_of_long_ranges(news: Index, monkeypatch, read_whole) -> None:
    """One letter matches more keys than are read: the best few are still exact (with
    ``_ALL = 0`` every range is one whose best keys only are read)."""
    monkeypatch.setattr(suggest_module, "_ALL", read_whole)
    docs = NEWS
    for letter in "bcdhmnt":
        for limit in (1, 3):
            want = expected(docs, [letter], limit)
            assert got(news, letter, limit) == want, letter  # kept per snapshot
            assert got(news, letter, limit, fields=TEXT_FIELDS) == want, letter  # not kept
    for typed in (["cua", "c"], ["của", "c"], ["va", "t"]):
        assert got(news, " ".join(typed), 2) == expected(docs, typed, 2), typed


def test_pair_completion_fits_the_word_before(news: Index) -> None:
    texts = [t for t, _ in got(news, "song h")]
    assert texts and all(t.startswith("sông h") for t in texts)
    # the word before is kept in the query as typed, the completion joins it
    s = news.suggest("ve song h")[0]
    assert s.query == f"ve {s.text}" and s.text.startswith("sông h")
    # a pair the index never saw: the last word alone
    assert news.suggest("xyz ha")[0].query == f"xyz {news.suggest('ha')[0].text}"
    # after a space: the words that follow
    assert {t for t, _ in got(news, "song ")} >= {"sông hồng", "sông đà"}


def test_ranked_by_count_then_bytes_and_cut_at_limit(news: Index) -> None:
    full = got(news, "t", 1000)
    counts = [n for _, n in full]
    assert counts == sorted(counts, reverse=True) and len(full) > 5
    assert got(news, "t", 3) == full[:3]
    with pytest.raises(ValueError):
        news.suggest("t", 0)


def test_fields_limit_the_counts(news: Index) -> None:
    docs = NEWS
    assert got(news, "ha", fields=["title"]) == expected(docs, ["ha"], fields=("title",))
    with pytest.raises(ValueError, match="nope"):
        news.suggest("ha", fields=["nope"])


def test_deleted_documents_count_until_a_merge(tmp_path) -> None:
    ix = build(Index.create(tmp_path / "ix", news_schema()))
    before = dict(got(ix, "phở"))
    ix.optimize()
    after = dict(got(ix, "phở"))
    assert after["phở"] == before["phở"] - 1  # ``tmp`` said "phở bò" once
    assert after == dict(expected([ALL_DOCS], ["phở"]))
    assert got(ix, "pho") == expected([ALL_DOCS], ["pho"])


def test_several_segments_sum_their_counts() -> None:
    ix = Index.in_memory(news_schema())
    for i in range(3):
        with ix.writer() as w:
            w.add(hand(str(i), "Hà Nội", "Hà Nội mùa thu", "x"))
    assert len(ix.snapshot().segments) == 3
    assert got(ix, "ha n") == [("hà nội", 6)]  # three documents, two fields each
    assert got(ix, "h") == [("hà", 6)]
    with ix.writer() as w:  # a new commit: nothing kept from the last snapshot
        w.add(hand("3", "Huế", "Huế", "x"))
    assert got(ix, "h") == [("hà", 6), ("huế", 2)]


def test_empty_index_blank_prefix_and_no_match(news: Index) -> None:
    empty = Index.in_memory(news_schema())
    assert empty.suggest("ha") == []
    for blank in ("", "   ", "\t\n", "!!", "..."):
        assert news.suggest(blank) == []
    assert news.suggest("qqzz") == []
    assert news.suggest("ha qqzz") == []


def test_prefix_is_normalized_like_queries(news: Index) -> None:
    # NFD input, capitals, the old tone style: the index's spellings
    assert got(news, "HÒA B") == got(news, "hoà b") != []
    assert got(news, "ho\u0300a b") == got(news, "hoà b")


def test_prefix_range_is_the_keys_that_start_with_it(news: Index) -> None:
    for reader, _base in news.snapshot().segments:
        ft = terms_reader(reader).field_terms("body.folded_bigrams")
        keys = ft.key_list()
        counts = ft.counts()
        for prefix in [b"", b"h", b"ha", b"ha n", b"z", b"\x00", b"\xff", b"zzzz", *keys[:50]]:
            start, end = ft.prefix_range(prefix)
            assert [k for k in keys if k.startswith(prefix)] == keys[start:end], prefix
            assert np.array_equal(ft.counts_range(start, end), counts[start:end])


def test_cli_suggest(tmp_path, capsys) -> None:
    from vnsearch.cli import main

    ix = Index.create(tmp_path / "ix", Schema(body=TEXT()))
    with ix.writer() as w:
        for body in ["Thủ tướng ký", "Thủ tướng nói", "thủ tục hành chính"]:
            w.add({"body": body})
    assert main(["suggest", "thu tu", "--index", str(tmp_path / "ix")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["thủ tướng\t2", "thủ tục\t1"]
    # the whole prefix completed: "ký thu" is no pair of the index, "thu" alone is
    assert main(["suggest", "ký thu", "--index", str(tmp_path / "ix")]) == 0
    assert capsys.readouterr().out.splitlines() == ["ký thủ\t3"]
    assert main(["suggest", "thu", "tu", "--index", str(tmp_path / "ix"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["prefix"] == "thu tu"
    assert out["suggestions"][0] == {"text": "thủ tướng", "count": 2, "query": "thủ tướng"}
    assert main(["suggest", "thu", "--index", str(tmp_path / "nope")]) == 3
    assert "nope" in capsys.readouterr().err
