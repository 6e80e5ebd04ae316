"""``vnsearch serve``: a JSON HTTP API and one search page, on the standard library only.

``GET /`` is the search page (``search_page.html``: inline CSS and JavaScript, no outside
resource); ``GET /search``, ``/suggest`` and ``/doc/<id>`` answer JSON (see
:mod:`vnsearch.cli.serve_api`), errors too: ``{"error": "one line"}`` with a 4xx or 5xx
status, never a traceback. One :class:`~vnsearch.Index` is opened at the start and shared
by the request threads (its searches are thread-safe, and each sees the last commit, so
documents ``vnsearch index`` adds meanwhile show up); the server never writes.

>>> import threading, urllib.request, json, vnsearch
>>> ix = vnsearch.Index.in_memory(vnsearch.Schema(id=vnsearch.ID(stored=True, unique=True),
...     body=vnsearch.TEXT(stored=True)))
>>> with ix.writer() as w:
...     w.add({"id": "hn", "body": "Thủ đô Hà Nội"})
>>> server = make_server(ix, "127.0.0.1", 0)
>>> thread = threading.Thread(target=server.serve_forever, daemon=True); thread.start()
>>> with urllib.request.urlopen(f"{server.url}search?q=ha+noi") as r:
...     found = json.load(r)
>>> found["total"], found["hits"][0]["snippets"]["body"]["html"]
(1, 'Thủ đô <mark>Hà Nội</mark>')
>>> server.shutdown(); server.server_close()
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from vnsearch.cli import serve_api
from vnsearch.cli.errors import UserError
from vnsearch.errors import IndexCorrupted, IndexNotFound, VnsearchError
from vnsearch.index import Index
from vnsearch.index.schema import KEYWORD

__all__ = ["MAX_BUSY", "SearchServer", "make_server", "serve"]

log = logging.getLogger("vnsearch.serve")

MAX_BUSY = 8  # requests answered at once; more wait their turn
PAGE = "search_page.html"
CONFIG_MARK = "/*CONFIG*/null"
NONCE_MARK = "NONCE"


class SearchServer(ThreadingHTTPServer):
    """A threading HTTP server over one open index (``server.index``)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], index: Index) -> None:
        super().__init__(address, _Handler)
        self.index = index
        self.busy = threading.BoundedSemaphore(MAX_BUSY)
        self.page = _page_template()

    @property
    def url(self) -> str:
        """``http://host:port/``, the port the system gave when asked for port 0."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def make_server(index: Index, host: str = "127.0.0.1", port: int = 8000) -> SearchServer:
    """A server for ``index`` listening on ``host:port`` (0: any free port); call
    ``serve_forever()``, then ``shutdown()`` and ``server_close()``."""
    return SearchServer((host, port), index)


def _page_template() -> str:
    return resources.files("vnsearch.cli").joinpath(PAGE).read_text(encoding="utf-8")


def _page_config(index: Index) -> str:
    """What the page needs to know of the index, as JSON safe inside a ``<script>``."""
    schema = index.schema
    config = {
        "name": str(index.path.name) if index.path is not None else "index",
        "documents": index.doc_count,
        "title": "title" if "title" in schema.text_fields and schema["title"].stored else None,
        "text_fields": [n for n in schema.text_fields if schema[n].stored],
        "facets": [n for n, f in schema.items() if isinstance(f, KEYWORD)],
    }
    text = json.dumps(config, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Handler(BaseHTTPRequestHandler):
    server: SearchServer
    server_version = "vnsearch"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: with Nagle's algorithm the body of an answer
    # on a kept-alive connection waited for the client's delayed ACK (~45 ms each)
    disable_nagle_algorithm = True
    timeout = 30  # an idle or slow client's connection is closed after this

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        try:
            with self.server.busy:
                self._route(url.path, parse_qs(url.query, keep_blank_values=True))
        except serve_api.ApiError as exc:
            self._json({"error": str(exc)}, exc.status)
        except (IndexCorrupted, IndexNotFound) as exc:
            log.error("%s: %s", url.path, exc)
            self._json({"error": str(exc)}, HTTPStatus.INTERNAL_SERVER_ERROR)
        except (VnsearchError, ValueError, TypeError) as exc:  # the request's parameters
            self._json({"error": str(exc).splitlines()[0][:300]}, HTTPStatus.BAD_REQUEST)
        except Exception as exc:  # a bug: logged here, one line to the client
            log.error("%s: %s: %s", url.path, type(exc).__name__, exc)
            log.debug("traceback", exc_info=True)
            self._json({"error": "internal error (see the server's log)"}, 500)

    def do_HEAD(self) -> None:
        self._json({"error": "use GET"}, HTTPStatus.METHOD_NOT_ALLOWED)

    def _route(self, path: str, params: dict[str, list[str]]) -> None:
        ix = self.server.index
        if path == "/":
            self._page()
        elif path == "/search":
            self._json(serve_api.search(ix, params))
        elif path == "/suggest":
            self._json(serve_api.suggest(ix, params))
        elif path.startswith("/doc/") and len(path) > len("/doc/"):
            self._json(serve_api.document(ix, unquote(path[len("/doc/") :])))
        else:
            raise serve_api.ApiError(404, f"no such page: {path[:100]}")

    def _page(self) -> None:
        nonce = secrets.token_urlsafe(16)
        page = self.server.page.replace(CONFIG_MARK, _page_config(self.server.index))
        body = page.replace(NONCE_MARK, nonce).encode("utf-8")
        csp = (
            f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
            "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'"
        )
        self._send(200, "text/html; charset=utf-8", body, {"Content-Security-Policy": csp})

    def _json(self, data: Any, status: int = 200) -> None:
        body = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
        self._send(status, "application/json; charset=utf-8", body)

    def _send(
        self, status: int, kind: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a malformed request, an unknown method) as JSON."""
        try:
            reason = message or HTTPStatus(code).phrase
        except ValueError:
            reason = message or "error"
        self.close_connection = True
        body = json.dumps({"error": reason}).encode("utf-8")
        self.send_response(code, reason)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def serve(args: argparse.Namespace) -> int:
    """``vnsearch serve``: answer until Ctrl-C (then ``main`` prints one line, exit 130)."""
    from vnsearch.cli.default_index import resolve_index
    from vnsearch.cli.locate import open_index

    path = resolve_index(args.index)
    ix = open_index(path, cache_mb=args.cache_mb)
    try:
        try:
            server = make_server(ix, args.host, args.port)
        except OSError as exc:
            raise UserError(
                f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}"
            ) from None
        if not args.quiet:  # one line per request on stderr
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
            log.addHandler(handler)
            log.setLevel(logging.INFO)
        print(f"vnsearch: serving {path} at {server.url} (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()
    finally:
        ix.close()
    return 0
