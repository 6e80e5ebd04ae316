"""The LangChain and LlamaIndex retrievers (``vnsearch.integrations``): the same documents
in the same order as ``Index.search``, with ids, scores and stored fields; ``k`` and
``search_kwargs`` passed through; and the core package never importing either framework.

The frameworks are optional extras (``pip install '.[langchain,llamaindex]'``, which the
README's test command installs): without one its tests are skipped, saying so, except in CI
(``CI`` set), where that fails.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest

import vnsearch
from tests.conftest import ROOT

QUERY = "ha noi"  # no accents: finds Hà Nội


def need(module: str, extra: str) -> None:
    """Skip (fail in CI) when ``module`` of the optional ``extra`` is not installed."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        found = False
    if not found:
        message = f"{module} is not installed (the '{extra}' extra: pip install '.[{extra}]')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def langchain_retriever():
    need("langchain_core", "langchain")
    from vnsearch.integrations.langchain import VnsearchRetriever

    return VnsearchRetriever


@pytest.fixture
def llamaindex_retriever():
    need("llama_index.core", "llamaindex")
    from vnsearch.integrations.llamaindex import VnsearchRetriever

    return VnsearchRetriever


def expected(ix: vnsearch.Index, query: str, k: int, **kwargs) -> list[tuple[str, float]]:
    return [(h.id, h.score) for h in ix.search(query, limit=k, **kwargs)]


# -- LangChain ---------------------------------------------------------------------------------


def test_langchain_gives_the_search_order_with_metadata(corpus, langchain_retriever) -> None:
    from langchain_core.documents import Document

    docs = langchain_retriever(index=corpus, k=4).invoke(QUERY)
    want = expected(corpus, QUERY, 4)
    assert len(want) == 4 and corpus.count(QUERY) > 4  # k, not every match
    assert all(isinstance(d, Document) for d in docs)
    assert [(d.metadata["id"], d.metadata["score"]) for d in docs] == want
    assert [d.id for d in docs] == [i for i, _ in want]
    hits = list(corpus.search(QUERY, limit=4))
    for doc, hit in zip(docs, hits, strict=True):
        assert doc.page_content == hit.fields["body"]  # the body field by default
        assert doc.metadata["title"] == hit.fields["title"]
        assert doc.metadata["topic"] == hit.fields["topic"]
        assert "body" not in doc.metadata
    top = (docs[0].metadata["title"] + docs[0].page_content).lower()
    assert "hà nội" in top  # typed without accents


def test_langchain_passes_k_and_search_kwargs(corpus, langchain_retriever) -> None:
    options = {"filter": {"topic": "to-chuc"}, "fields": ["body"]}
    retriever = langchain_retriever(index=corpus, k=2, search_kwargs=options)
    docs = retriever.invoke(QUERY)
    assert [(d.metadata["id"], d.metadata["score"]) for d in docs] == expected(
        corpus, QUERY, 2, **options
    )
    assert len(docs) == 2 and {d.metadata["topic"] for d in docs} == {"to-chuc"}
    assert expected(corpus, QUERY, 2) != expected(corpus, QUERY, 2, **options)  # it matters


def test_langchain_content_field_and_its_checks(corpus, langchain_retriever) -> None:
    docs = langchain_retriever(index=corpus, k=1, content_field="title").invoke(QUERY)
    assert docs[0].page_content == next(iter(corpus.search(QUERY, limit=1))).fields["title"]
    assert "body" in docs[0].metadata and "title" not in docs[0].metadata
    with pytest.raises(vnsearch.SchemaError, match="'nope' is not a stored field"):
        langchain_retriever(index=corpus, content_field="nope").invoke(QUERY)
    with pytest.raises(TypeError, match="as k, not limit"):
        langchain_retriever(index=corpus, search_kwargs={"limit": 3}).invoke(QUERY)


def test_langchain_without_a_body_uses_the_first_stored_text_field(langchain_retriever) -> None:
    ix = vnsearch.Index.in_memory(
        vnsearch.Schema(
            code=vnsearch.ID(stored=True, unique=True),
            ghi_chu=vnsearch.TEXT(),  # not stored: cannot be the content
            noi_dung=vnsearch.TEXT(stored=True),
        )
    )
    with ix.writer() as w:
        w.add({"code": "a", "ghi_chu": "phở", "noi_dung": "Phở bò Hà Nội"})
    (doc,) = langchain_retriever(index=ix).invoke("pho bo")
    assert doc.page_content == "Phở bò Hà Nội"
    assert doc.metadata["id"] == "a" and doc.metadata["code"] == "a"


# -- LlamaIndex --------------------------------------------------------------------------------


def test_llamaindex_gives_the_search_order_with_metadata(corpus, llamaindex_retriever) -> None:
    from llama_index.core.schema import NodeWithScore, TextNode

    nodes = llamaindex_retriever(corpus, k=4).retrieve(QUERY)
    want = expected(corpus, QUERY, 4)
    assert all(isinstance(n, NodeWithScore) and isinstance(n.node, TextNode) for n in nodes)
    assert [(n.node.id_, n.score) for n in nodes] == want
    hits = list(corpus.search(QUERY, limit=4))
    for node, hit in zip(nodes, hits, strict=True):
        assert node.node.text == hit.fields["body"]
        assert node.node.metadata["id"] == hit.id and node.node.metadata["score"] == hit.score
        assert node.node.metadata["topic"] == hit.fields["topic"]


def test_llamaindex_passes_k_and_search_kwargs(corpus, llamaindex_retriever) -> None:
    options = {"filter": {"topic": "to-chuc"}}
    nodes = llamaindex_retriever(corpus, k=3, search_kwargs=options).retrieve(QUERY)
    assert [(n.node.id_, n.score) for n in nodes] == expected(corpus, QUERY, 3, **options)
    assert len(nodes) == 3 and {n.node.metadata["topic"] for n in nodes} == {"to-chuc"}
    with pytest.raises(TypeError, match="as k, not limit"):
        llamaindex_retriever(corpus, search_kwargs={"limit": 3})


# -- the core install ----------------------------------------------------------------------------


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_import_vnsearch_imports_no_framework() -> None:
    code = (
        "import sys, vnsearch\n"
        "ix = vnsearch.Index.in_memory(vnsearch.Schema(body=vnsearch.TEXT(stored=True)))\n"
        "ix.search('ha noi')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules"
        " if m.split('.')[0] in ('langchain_core', 'llama_index', 'pydantic')}))\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [("langchain", "langchain_core", "langchain"), ("llamaindex", "llama_index", "llamaindex")],
)
def test_a_missing_extra_is_an_import_error_naming_it(module, blocked, extra) -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] == {blocked!r}:\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"import vnsearch.integrations.{module} as m\n"  # tools that import it still can
        "try:\n"
        f"    from vnsearch.integrations.{module} import VnsearchRetriever\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert f"pip install 'vnsearch[{extra}]'" in done.stdout


# -- the README's example ----------------------------------------------------------------------


def test_readme_rag_example_runs(tmp_path, monkeypatch, capsys, langchain_retriever) -> None:
    """The README's "Retrieval for RAG" code, run as written (the seeds index built in a
    temporary cache), prints what the README shows (a title holds a no-break space)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Retrieval for RAG", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```py\n(.*?)```", section, re.S)[0]
    shown = re.findall(r"```text\n(.*?)```", section, re.S)[0]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md (Retrieval for RAG)", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.count("\n") == 3
    assert printed.split() == shown.split()  # white space as doctest's NORMALIZE_WHITESPACE
