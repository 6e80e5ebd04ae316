"""Shared test helpers: where the public data sets are, the repository root, the bundled
seed articles, and the schema and indexes most index and ranking tests start from.

Fixtures here: ``vntc_texts``, ``schema``, ``seed_docs``, ``seeded_index``, ``corpus``
and ``private_tempdir``; plain functions for code that cannot take a fixture (module-level
tables, hypothesis tests, module-scoped fixtures): :func:`news_schema`,
:func:`read_seeds`. The news corpus the ``corpus`` fixture holds is in ``tests/helpers.py``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from vnsearch import DATETIME, ID, KEYWORD, TEXT, Index, Schema

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VNSEARCH_DATA", ROOT.parent / "shared" / "data"))
VNTC = DATA / "vntc" / "vntc_10topics.jsonl.gz"
SEEDS = ROOT / "seeds"


def require_data(path: Path) -> Path:
    """Return ``path``; skip when it is missing, except in CI (CI=true), where that fails."""
    if path.exists():
        return path
    message = f"data set not found: {path} (set VNSEARCH_DATA, see benchmarks/README.md)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError  # unreachable


@pytest.fixture(scope="session")
def vntc_texts() -> list[str]:
    """A fixed, evenly spread sample of 300 VNTC news articles (all ten topics)."""
    import gzip
    import json

    with gzip.open(require_data(VNTC), "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for i, line in enumerate(f) if i % 280 == 0]
    return texts[:300]


# -- the news schema and the bundled seed articles ---------------------------------------


def news_schema() -> Schema:
    """A news site's schema: a unique id, a title (boost 2) and a body, a topic, a date."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True, boost=2.0),
        body=TEXT(stored=True),
        topic=KEYWORD(stored=True),
        published=DATETIME(stored=True),
    )


def read_seeds() -> list[dict]:
    """The five bundled seed articles (``seeds/*.txt``, in name order) as documents:
    ``id`` the file's stem, ``title`` its first line, ``body`` the rest, as written (not
    stripped). A new list of new dicts at every call."""
    docs = []
    for path in sorted(SEEDS.glob("*.txt")):
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        docs.append({"id": path.stem, "title": title, "body": body})
    assert len(docs) == 5
    return docs


@pytest.fixture
def schema() -> Schema:
    """:func:`news_schema`: id, title (boost 2), body, topic, published."""
    return news_schema()


@pytest.fixture
def seed_docs() -> list[dict]:
    """:func:`read_seeds`: the five seed articles, ``{"id", "title", "body"}`` each."""
    return read_seeds()


@pytest.fixture(params=["memory", "disk"])
def seeded_index(request, tmp_path, schema, seed_docs) -> Index:
    """The seed articles in a new index of :func:`news_schema`, one commit: once in memory
    (``Index.in_memory``), once on disk (``Index.create``). Each test gets its own."""
    if request.param == "memory":
        ix = Index.in_memory(schema)
    else:
        ix = Index.create(tmp_path / "seeds.idx", schema)
    with ix.writer() as w:
        for doc in seed_docs:
            w.add(doc)
    yield ix
    ix.close()


# -- the news corpus (tests/helpers.py) -----------------------------------------------------


@pytest.fixture
def private_tempdir(tmp_path_factory, monkeypatch):
    """Whoosh's RamStorage writes its temporary files to ``<tempdir>/MAIN.tmp``, one folder
    shared by every in-memory index (see ``test_two_in_memory_indexes_write_independently``):
    a private tempdir keeps other processes' in-memory writers out of this test's way."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tempdir")))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Index:
    """Seeds plus hand-written documents, on disk, over several commits, with a deletion."""
    from tests.helpers import ALL_DOCS, build

    ix = build(Index.create(tmp_path_factory.mktemp("corpus") / "ix", news_schema()))
    assert ix.doc_count == len(ALL_DOCS)
    yield ix
    ix.close()
