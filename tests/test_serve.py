"""``vnsearch serve``'s JSON API over HTTP: a server started in a thread on 127.0.0.1 (any
free port) over the news corpus, asked with ``urllib``; and the command itself, Ctrl-C.
The search page in a real browser is ``test_serve_browser.py``."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest

from tests.helpers import DOCS_BY_ID
from vnsearch import ID, TEXT, Index, Schema
from vnsearch.cli.serve import SearchServer, make_server


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(index)`` starts a server on a free port in a thread; each is stopped after."""
    started: list[tuple[SearchServer, threading.Thread]] = []

    def start(ix: Index) -> SearchServer:
        server = make_server(ix, "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread))
        return server

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def url(serve, corpus) -> str:
    return serve(corpus).url


def get(url: str, path: str, **params: Any) -> tuple[int, Any]:
    """``(status, parsed JSON)`` of ``GET url + path?params`` (lists repeat a parameter)."""
    query = urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(url + path + ("?" + query if query else ""), timeout=30) as r:
            assert r.headers["Content-Type"] == "application/json; charset=utf-8"
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        assert exc.headers["Content-Type"] == "application/json; charset=utf-8"
        return exc.code, json.load(exc)


def test_search_answers_hits_with_highlighted_snippets(url, corpus) -> None:
    status, data = get(url, "search", q="ha noi")
    assert status == 200
    assert data["total"] == corpus.count("ha noi") > 0
    assert (data["query"], data["offset"], data["limit"], data["notes"]) == ("ha noi", 0, 10, [])
    hit = next(h for h in data["hits"] if h["id"] == "hanoi")
    assert hit["fields"]["title"] == DOCS_BY_ID["hanoi"]["title"]
    body = hit["snippets"]["body"]
    assert "<mark>Hà Nội</mark>" in body["html"]
    assert [body["text"][a:b] for a, b in body["spans"]] == ["Hà Nội"]
    assert [h["id"] for h in data["hits"]] == [h.id for h in corpus.search("ha noi")]


def test_pages_are_slices_of_one_order(url, corpus) -> None:
    whole = get(url, "search", q="ha noi du lich", limit=100)[1]
    assert whole["total"] > 5
    ids = [h["id"] for h in whole["hits"]]
    paged = []
    for offset in range(0, whole["total"], 3):
        page = get(url, "search", q="ha noi du lich", limit=3, offset=offset)[1]
        assert page["total"] == whole["total"]
        paged += [h["id"] for h in page["hits"]]
    assert paged == ids


def test_filters_sort_and_listing(url, corpus) -> None:
    data = get(url, "search", q="", filter=["topic:du-lich", "topic:am-thuc"], limit=100)[1]
    expected = {i for i, d in DOCS_BY_ID.items() if d["topic"] in ("du-lich", "am-thuc")}
    assert {h["id"] for h in data["hits"]} == expected and data["total"] == len(expected)
    data = get(url, "search", q="ha noi", filter="topic:du-lich")[1]
    assert data["hits"] and {h["fields"]["topic"] for h in data["hits"]} == {"du-lich"}
    assert data["total"] == corpus.count("ha noi", filter={"topic": "du-lich"})
    data = get(url, "search", q="", filter="published:..2020-01-02T23:00", sort="-published")[1]
    assert [h["id"] for h in data["hits"]] == ["seed1", "seed0"]
    data = get(url, "search", q="ha noi", sort="topic,-score", limit=100)[1]
    want = [h.id for h in corpus.search("ha noi", sort=["topic", "-score"], limit=100)]
    assert [h["id"] for h in data["hits"]] == want and len(want) > 2


def test_limit_is_capped_and_bad_parameters_are_400_with_one_line(url) -> None:
    assert get(url, "search", q="ha", limit=100_000)[1]["limit"] == 100
    bad = {
        "limit must be a whole number": {"limit": "ten"},
        "limit must be 1 or more": {"limit": "0"},
        "offset must be 0 or more": {"offset": "-1"},
        "offset + limit must be at most 10,000": {"offset": "9995"},
        "filter must be field:value": {"filter": "du-lich"},
        "filter: no field 'title' to filter by": {"filter": "title:x"},
        "filter published: not a date": {"filter": "published:hôm qua"},
        "sort: no field 'title' to sort by": {"sort": "title"},
        "field: no TEXT field 'topic'": {"field": "topic"},
        "parameter 'q' given 2 times": {"q": ["a", "b"]},
    }
    for message, params in bad.items():
        status, data = get(url, "search", **{"q": "ha noi", **params})
        assert status == 400, params
        assert data["error"].startswith(message), data
        assert "\n" not in data["error"] and "Traceback" not in data["error"]


def test_a_query_over_the_limits_is_cut_with_a_note(url) -> None:
    status, data = get(url, "search", q="hà nội " * 2000)
    assert status == 200 and data["hits"]
    assert data["notes"] and "max_chars=4,000" in data["notes"][0]


def test_document_suggest_and_unknown_paths(url) -> None:
    status, data = get(url, "doc/hanoi")
    assert status == 200 and data["fields"]["body"] == DOCS_BY_ID["hanoi"]["body"]
    assert get(url, "doc/" + quote("không có")) == (
        404,
        {"error": "no document with id 'không có'"},
    )
    assert get(url, "nowhere")[0] == 404
    status, data = get(url, "suggest", q="ha n")
    assert status == 200 and "hà nội" in [s["text"] for s in data["suggestions"]]
    assert get(url, "suggest", q="")[1]["suggestions"] == []


def test_other_methods_and_a_failing_search_answer_json_without_traceback(
    serve, corpus, monkeypatch
) -> None:
    url = serve(corpus).url
    request = urllib.request.Request(url + "search?q=a", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 501 and "error" in json.load(caught.value)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug\nwith lines")

    monkeypatch.setattr(corpus, "search", broken)
    assert get(url, "search", q="ha noi") == (
        500,
        {"error": "internal error (see the server's log)"},
    )


def test_answers_on_a_kept_alive_connection_do_not_wait_for_an_ack(url) -> None:
    """Headers and body go out in two writes: with Nagle's algorithm on, each answer's
    body waited for the client's delayed ACK (~40 ms on Linux), so 10 answers on one
    connection took ~0.45 s. Without it they take a few ms each."""
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        conn.request("GET", "/doc/hanoi")
        conn.getresponse().read()  # connected, warmed up
        start = time.perf_counter()
        for _ in range(10):
            conn.request("GET", "/doc/hanoi")
            answer = conn.getresponse()
            assert answer.status == 200 and json.loads(answer.read())["id"] == "hanoi"
        assert time.perf_counter() - start < 0.35  # 10 x ~40 ms when an answer waits
    finally:
        conn.close()


def test_requests_from_many_threads_share_one_index(url, corpus) -> None:
    queries = ["ha noi", "tổ chức", "du lich", "pho bo", "song hong", "thuy dien"]
    expected = {q: get(url, "search", q=q)[1]["hits"] for q in queries}
    failures: list[str] = []

    def ask(k: int) -> None:
        for i in range(15):
            q = queries[(k + i) % len(queries)]
            status, data = get(url, "search", q=q)
            if status != 200 or data["hits"] != expected[q]:
                failures.append(q)

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures


def test_the_page_is_one_file_with_its_config_escaped(serve, tmp_path) -> None:
    ix = Index.create(
        tmp_path / "<b>tin&tuc", Schema(id=ID(stored=True, unique=True), title=TEXT(stored=True))
    )
    try:
        with urllib.request.urlopen(serve(ix).url, timeout=30) as r:
            page = r.read().decode("utf-8")
            csp = r.headers["Content-Security-Policy"]
    finally:
        ix.close()
    assert "\\u003cb\\u003etin\\u0026tuc" in page and "<b>tin" not in page
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert page.count(f'nonce="{nonce}"') == 2  # the style and the script
    assert '<meta name="viewport"' in page


def _command(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "vnsearch", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a background job's SIGINT may be ignored (inherited): Ctrl-C as at a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")
def test_the_command_serves_until_ctrl_c_then_prints_one_line(tmp_path: Path) -> None:
    ix = Index.create(
        tmp_path / "ix", Schema(id=ID(stored=True, unique=True), body=TEXT(stored=True))
    )
    with ix.writer() as w:
        w.add({"id": "hn", "body": "Thủ đô Hà Nội"})
    ix.close()
    proc = _command("--index", str(tmp_path / "ix"), "--port", "0", "--quiet")
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"vnsearch: serving {tmp_path / 'ix'} at http://127.0.0.1:")
        url = line.split(" at ")[1].split()[0]
        status, data = get(url, "search", q="ha noi")
        assert (status, [h["id"] for h in data["hits"]]) == (200, ["hn"])
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (proc.returncode, err, out) == (130, "vnsearch: interrupted\n", "")


def test_the_command_refuses_a_port_in_use_in_one_line(tmp_path: Path) -> None:
    Index.create(tmp_path / "ix", Schema(body=TEXT())).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _command("--index", str(tmp_path / "ix"), "--port", str(port))
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3 and out == ""
    assert err.startswith(f"vnsearch: error: cannot listen on 127.0.0.1:{port}: ")
    assert len(err.splitlines()) == 1


def test_the_command_opens_the_index_with_the_cache_asked_for(tmp_path, monkeypatch, capsys):
    """``--cache-mb`` bounds the decoded postings the served index keeps; a size that is
    not a number of megabytes is a one-line usage error."""
    from vnsearch.cli import main
    from vnsearch.cli import serve as serve_module

    Index.create(tmp_path / "ix", Schema(body=TEXT())).close()
    budgets = []

    def refuse(index: Index, host: str, port: int) -> SearchServer:
        budgets.append(index.snapshot()._recent._budget)
        raise OSError(98, "Address already in use")

    monkeypatch.setattr(serve_module, "make_server", refuse)
    for extra, budget in (([], 512 << 20), (["--cache-mb", "1.5"], 3 << 19)):
        assert main(["serve", "--index", str(tmp_path / "ix"), *extra]) == 3
        assert budgets.pop() == budget
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--index", str(tmp_path / "ix"), "--cache-mb", "-1"])
    assert exc.value.code == 2 and "--cache-mb: must be a number above 0, got -1" in (
        capsys.readouterr().err
    )
