"""A schema's own words (kept whole by segmentation, in documents and queries) and its own
stop words (dropped from queries), saved with the index."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import vnsearch
from vnsearch.index.schema import KEYWORD, TEXT, Schema
from vnsearch.query import Synonyms
from vnsearch.ranking.plan import plan_text
from vnsearch.ranking.scoring import DEFAULT_RANKING

SHOP = "Thế Giới Di Động"
TEXT_WITH_SHOP = "Tôi mua điện thoại ở thế giới di động hôm qua"


def words(text: str, **options: object) -> list[str]:
    return vnsearch.analyze(text, **options).terms("words")  # type: ignore[arg-type]


def test_a_users_word_is_one_word_where_pyvi_cuts_it() -> None:
    assert "thế giới di động" not in words(TEXT_WITH_SHOP)  # pyvi: thế giới | di động
    assert words(TEXT_WITH_SHOP, user_words=[SHOP]) == [
        "tôi", "mua", "điện thoại", "ở", "thế giới di động", "hôm qua",
    ]  # fmt: skip
    word = vnsearch.analyze(TEXT_WITH_SHOP, user_words=[SHOP])["words"][4]
    assert TEXT_WITH_SHOP[word.start : word.end] == "thế giới di động"
    # the longest from the left; other text as before
    assert words("thế giới di động", user_words=["thế giới", "thế giới di động"]) == [
        "thế giới di động"
    ]
    assert words("Kinh tế thế giới", user_words=[SHOP]) == words("Kinh tế thế giới")


def test_a_users_word_is_found_as_one_word_at_indexing_and_query_time(tmp_path: Path) -> None:
    schema = Schema(id=vnsearch.ID(stored=True, unique=True), body=TEXT(), user_words=[SHOP])
    ix = vnsearch.Index.create(tmp_path / "ix", schema)
    docs = [
        {"id": "shop", "body": TEXT_WITH_SHOP},
        {"id": "apart", "body": "thế giới đang thay đổi, điện thoại di động rẻ hơn"},
    ]
    for jobs in (1, 2):  # analyzed in this process, then in worker processes
        with ix.writer(jobs=jobs) as w:
            for _ in range(40):  # more than a batch: the workers analyze some
                for doc in docs:
                    w.update(doc)
    ix = vnsearch.Index.open(tmp_path / "ix")  # the words come back with the schema
    assert ix.schema.user_words == ("thế giới di động",)
    assert json.loads((tmp_path / "ix" / "vnsearch.json").read_text())["user_words"] == [
        "thế giới di động"
    ]
    snap = ix.snapshot()
    assert snap.postings("body.words", "thế giới di động").docs.size == 1
    assert snap.postings("body.words", "di động") is None  # not cut in two
    query = "thế giới di động"
    plan = plan_text(query, ix.schema, None, DEFAULT_RANKING, None, synonyms=Synonyms())
    assert ("body.words", "thế giới di động") in {(s.field, s.term) for s in plan.bonus}
    assert ix.search("thế giới di động")[0].id == "shop"
    ix.close()


def test_own_stop_words_are_dropped_from_a_long_querys_plan() -> None:
    fields = {"body": TEXT(), "topic": KEYWORD()}
    query = "bài viết về giá xăng dầu tuần này"
    ranking = dataclasses.replace(DEFAULT_RANKING, stopwords=True)

    def scored(schema: Schema) -> set[str]:
        p = plan_text(query, schema, None, ranking, None, synonyms=Synonyms())
        return {s.term for u in p.units for s in u.scoring}

    before = scored(Schema(**fields))
    assert {"bài", "viết", "tuần"} <= before
    after = scored(Schema(**fields, user_stopwords=["bài viết", "tuần"]))
    assert not {"bài", "viết", "tuần"} & after
    assert {"giá", "xăng", "dầu"} <= after
    assert "này" not in before  # a built-in stop word, dropped either way


@pytest.mark.parametrize(
    "option",
    [
        {"user_words": "thế giới"},  # one string, not a list
        {"user_words": [""]},
        {"user_words": [3]},
        {"user_stopwords": ["a " * 40]},
    ],
)
def test_bad_user_words_are_a_schema_error(option: dict[str, object]) -> None:
    with pytest.raises(vnsearch.SchemaError, match="user_"):
        Schema(body=TEXT(), **option)  # type: ignore[arg-type]


def test_user_words_are_part_of_the_schema_and_its_json() -> None:
    plain = Schema(body=TEXT())
    own = Schema(body=TEXT(), user_words=["iPhone 15"], user_stopwords=["bài viết"])
    assert own != plain and Schema.from_json(own.to_json()) == own
    assert "user_words" not in plain.to_json()  # older indexes' schema file unchanged
    data = json.loads(own.to_json())
    data["user_words"] = "iphone"
    with pytest.raises(vnsearch.SchemaError, match="user_words"):
        Schema.from_json(json.dumps(data))
