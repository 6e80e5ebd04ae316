"""``vnsearch shards serve``: a sharded index served by Ray Serve, with ``vnsearch serve``'s
JSON API (:mod:`vnsearch.cli.serve_api`).

One deployment per shard (``shard-000``, ...; ``replicas`` replicas each): a
:class:`ShardSearcher` opens its shard's :class:`~vnsearch.Index` read-only and ranks with
the merged statistics of every shard, read from the folder's ``stats.json.gz``
(:mod:`vnsearch.shards.stats_file`), so that its scores are those of one index over every
document. The ingress deployment, :class:`Router`, parses a request as ``vnsearch serve``
does, asks every shard at once (``asyncio.gather`` over the deployment handles, each
within ``timeout`` seconds) and merges their hits by (clauses matched, score, document
number in the shard, shard; or by ``sort``'s keys, then score), and sums their facet
counts, as :class:`~vnsearch.ShardedIndex` does in one process (:mod:`vnsearch.shards.merge`).
``/doc/<id>`` goes to the shard of the id. Each answer says which shards answered:
``"shards": {"answered": [0, 1, 3], "failed": [{"shard": 2, "error": "..."}]}``; the hits
of a failed shard are missing, the others' are returned.

``/suggest`` sums the shards' completions (each shard's best, counted in it): close to one
index's, not exact.
Ray is imported only when an application is made (``pip install 'vnsearch[cluster]'``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from vnsearch.cli import serve_api
from vnsearch.errors import IncompatibleIndex, IndexNotFound, VnsearchError
from vnsearch.index import Index
from vnsearch.ranking.facets import facet_specs
from vnsearch.ranking.sorting import SortKey
from vnsearch.shards.manifest import read_manifest, shard_folder, shard_of
from vnsearch.shards.merge import merge_facets, shard_facets
from vnsearch.shards.merge import merge_hits as merge_ranked
from vnsearch.shards.stats_file import STATS_FILE, read_stats_file, shard_states

__all__ = [
    "APP",
    "Router",
    "ShardSearcher",
    "gather_shards",
    "make_app",
    "merge_hits",
    "merge_suggestions",
    "start",
]

log = logging.getLogger("vnsearch.serve")

APP = "vnsearch-shards"  # the Ray Serve application's name
TIMEOUT = 10.0  # seconds a shard has to answer


class ShardSearcher:
    """A replica of shard ``shard`` of the sharded index in ``folder``: its index, opened
    read-only, and the merged statistics of all shards (which must have been taken from
    this shard's last commit: else :class:`~vnsearch.IncompatibleIndex`, naming it)."""

    def __init__(self, folder: str, shard: int) -> None:
        top = Path(folder)
        count, self.schema = read_manifest(top)
        where = shard_folder(top, shard)
        if not where.is_dir():
            raise IndexNotFound(f"{top}: shard {shard} of {count} is missing ({where})")
        found = read_stats_file(top)
        if found is None:
            raise IndexNotFound(f"{top}: no {STATS_FILE} (run vnsearch shards serve again)")
        self.index = Index.open(where, self.schema.with_order())
        states, self.stats = found
        if len(states) != count or states[shard] != shard_states([self.index])[0]:
            self.index.close()
            raise IncompatibleIndex(
                f"{where}: committed since {STATS_FILE} was saved (restart the service)"
            )
        self.shard = shard

    def search(
        self,
        q: str,
        depth: int,
        fields: Any = None,
        filter: Any = None,
        sort: Any = None,
        facets: Any = None,
    ) -> dict:
        """The shard's best ``depth`` hits as JSON-able data, each with its ``clauses``,
        ``order`` and ``sort_values`` (what the merge orders by), the shard's ``total``
        and, with ``facets``, its counts of every value (summed by the router)."""
        if facets:
            facets = shard_facets(facet_specs(facets))
        results = self.index.search(
            q, depth, fields=fields, filter=filter, sort=sort, facets=facets or None,
            stats=self.stats,
        )  # fmt: skip
        names = serve_api.snippet_fields(self.schema, fields)
        hits = [
            {
                **serve_api.hit_json(h, names),
                "clauses": h.clauses,
                "order": h.order,
                "sort_values": h.sort_values,
            }
            for h in results
        ]
        corrected = getattr(results, "corrected", None)
        return {
            "hits": hits,
            "total": results.total,
            "notes": list(results.notes),
            "corrected": None if corrected is None else serve_api.plain(corrected),
            "facets": results.facets,  # its own values: Ray carries them, JSON comes last
        }

    def document(self, doc_id: str) -> dict | None:
        """The stored fields of document ``doc_id`` (None if the shard has none)."""
        fields = self.index.get(doc_id)
        return None if fields is None else serve_api.plain(fields)

    def suggest(self, params: dict[str, list[str]]) -> dict:
        """``vnsearch serve``'s ``/suggest`` answer over this shard (a refused request as
        ``{"error", "status"}``: plain data crosses processes)."""
        try:
            return serve_api.suggest(self.index, params)
        except serve_api.ApiError as exc:
            return {"error": str(exc), "status": exc.status}

    def info(self) -> dict:
        """Which shard, its live documents, and the replica's process id."""
        return {"shard": self.shard, "documents": self.index.doc_count, "pid": os.getpid()}


def _why(exc: BaseException) -> str:
    """One line on why a shard failed (a Ray task error's cause, not its traceback)."""
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    cause = getattr(exc, "cause", None)
    err = cause if isinstance(cause, BaseException) else exc
    first = (str(err).strip().splitlines() or [""])[0][:300]
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


async def gather_shards(
    calls: Sequence[Callable[[], Awaitable[Any]]], timeout: float
) -> tuple[dict[int, Any], list[dict[str, Any]]]:
    """Await ``calls[i]()`` for every shard ``i`` at once, each within ``timeout``
    seconds: the answers by shard, and the shards that failed (``{"shard", "error"}``).

    >>> async def ok(): return "hits"
    >>> async def down(): raise ConnectionError("replica died")
    >>> asyncio.run(gather_shards([ok, down], 1.0))
    ({0: 'hits'}, [{'shard': 1, 'error': 'ConnectionError: replica died'}])
    """

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        return await asyncio.wait_for(call(), timeout)

    found = await asyncio.gather(*(one(c) for c in calls), return_exceptions=True)
    answers, failed = {}, []
    for shard, answer in enumerate(found):
        if isinstance(answer, BaseException):
            if not isinstance(answer, Exception):  # KeyboardInterrupt, cancellation
                raise answer
            failed.append({"shard": shard, "error": _why(answer)})
        else:
            answers[shard] = answer
    return answers, failed


class _Ranked:
    """A shard's hit as JSON-able data, with what :func:`vnsearch.shards.merge.merge_hits`
    orders by."""

    __slots__ = ("clauses", "hit", "order", "score", "shard", "sort_values")

    def __init__(self, hit: dict, shard: int) -> None:
        self.hit, self.shard = hit, shard
        self.clauses, self.score, self.order = hit["clauses"], hit["score"], hit["order"]
        self.sort_values = tuple(tuple(v) for v in hit.get("sort_values", ()))


def merge_hits(answers: dict[int, dict], offset: int, limit: int, keys: tuple = ()) -> list[dict]:
    """The hits ``offset`` to ``offset + limit`` of the shards' ``answers``, in
    :class:`~vnsearch.ShardedIndex`'s order (:func:`vnsearch.shards.merge.merge_hits`: by
    clauses and score, or by the sort ``keys`` and score; then the order documents were
    added, then shard). Each hit keeps ``clauses`` and gets its ``shard``.

    >>> a = {0: {"hits": [{"id": "x", "score": 2.0, "clauses": 1, "order": 5}]},
    ...      1: {"hits": [{"id": "y", "score": 2.0, "clauses": 1, "order": 0},
    ...                   {"id": "z", "score": 9.0, "clauses": 0, "order": 1}]}}
    >>> [(h["id"], h["shard"]) for h in merge_hits(a, 0, 10)]
    [('y', 1), ('x', 0), ('z', 1)]
    """
    found = [[_Ranked(h, shard) for h in answers[shard]["hits"]] for shard in sorted(answers)]
    out = []
    for ranked in merge_ranked(found, keys, offset, limit):  # type: ignore[arg-type]
        shown = {k: v for k, v in ranked.hit.items() if k not in ("order", "sort_values")}
        shown["shard"] = ranked.shard
        out.append(shown)
    return out


def merge_suggestions(answers: dict[int, dict]) -> list[dict]:
    """The shards' completions with their counts summed, most first (ties by text), as
    many as the longest shard's list.

    >>> merge_suggestions({0: {"suggestions": [{"text": "a", "count": 1, "query": "a"}]},
    ...                    1: {"suggestions": [{"text": "b", "count": 1, "query": "b"},
    ...                                        {"text": "a", "count": 1, "query": "a"}]}})
    [{'text': 'a', 'count': 2, 'query': 'a'}, {'text': 'b', 'count': 1, 'query': 'b'}]
    """
    counts: dict[tuple[str, str], int] = {}
    for answer in answers.values():
        for s in answer["suggestions"]:
            key = (s["text"], s["query"])
            counts[key] = counts.get(key, 0) + int(s["count"])
    longest = max((len(a["suggestions"]) for a in answers.values()), default=0)
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:longest]
    return [{"text": t, "count": n, "query": q} for (t, q), n in best]


class Router:
    """The ingress: ``vnsearch serve``'s ``/search``, ``/suggest`` and ``/doc/<id>`` over
    the shard deployments' ``handles`` (shard ``i`` is ``handles[i]``)."""

    def __init__(self, folder: str, timeout: float, *handles: Any) -> None:
        self.count, self.schema = read_manifest(Path(folder))
        if len(handles) != self.count:
            raise ValueError(f"{folder}: {self.count} shards, {len(handles)} deployments")
        self.handles = handles
        self.timeout = timeout

    async def __call__(self, request: Any) -> Any:
        from starlette.responses import Response

        path = request.url.path
        params = parse_qs(request.url.query, keep_blank_values=True)
        status = 200
        try:
            data = await self.answer(path, params)
        except serve_api.ApiError as exc:
            status, data = exc.status, {"error": str(exc)}
        except (VnsearchError, ValueError, TypeError) as exc:  # the request's parameters
            status, data = 400, {"error": str(exc).splitlines()[0][:300]}
        except Exception as exc:  # a bug: logged here, one line to the client
            log.error("%s: %s: %s", path, type(exc).__name__, exc)
            status, data = 500, {"error": "internal error (see the replica's log)"}
        if "error" in data and status == 200:
            status = 503  # no shard answered
        body = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        return Response(body, status, headers, "application/json; charset=utf-8")

    async def answer(self, path: str, params: dict[str, list[str]]) -> dict[str, Any]:
        """The JSON answer to ``GET path?params`` (an :class:`ApiError` if refused)."""
        if path == "/search":
            return await self.search(params)
        if path == "/suggest":
            return await self.suggest(params)
        if path.startswith("/doc/") and len(path) > len("/doc/"):
            return await self.document(unquote(path[len("/doc/") :]))
        raise serve_api.ApiError(404, f"no such page: {path[:100]}")

    @staticmethod
    def _keys(sort: Sequence[str] | None) -> tuple[SortKey, ...]:
        """The sort keys of ``sort=`` (checked by ``serve_api``): name and direction."""
        return tuple(SortKey(k.removeprefix("-"), k.startswith("-")) for k in sort or ())

    async def search(self, params: dict[str, list[str]]) -> dict[str, Any]:
        options = serve_api.search_options(self.schema, params)
        q, offset, limit = options["q"], options["offset"], options["limit"]
        sort, facets = options["sort"], options["facets"]
        args = (q, offset + limit, options["fields"], options["filter"], sort, facets)
        answers, failed = await gather_shards(
            [lambda h=h: h.search.remote(*args) for h in self.handles], self.timeout
        )
        shards = {"answered": sorted(answers), "failed": failed}
        if not answers:
            return {"error": "no shard answered", "shards": shards}
        first = answers[min(answers)]
        out: dict[str, Any] = {
            "query": q,
            "total": sum(a["total"] for a in answers.values()),
            "offset": offset,
            "limit": limit,
            "hits": merge_hits(answers, offset, limit, self._keys(sort)),
            "notes": first["notes"],
        }
        if first["corrected"] is not None:
            out["corrected"] = first["corrected"]
        specs = facet_specs(facets) if facets else {}
        counted = merge_facets([a["facets"] for a in answers.values()], specs)
        out["facets"] = serve_api.plain(counted)
        out["shards"] = shards
        return out

    async def suggest(self, params: dict[str, list[str]]) -> dict[str, Any]:
        answers, failed = await gather_shards(
            [lambda h=h: h.suggest.remote(params) for h in self.handles], self.timeout
        )
        refused = [a for a in answers.values() if "error" in a]
        if refused:
            raise serve_api.ApiError(refused[0]["status"], refused[0]["error"])
        shards = {"answered": sorted(answers), "failed": failed}
        if not answers:
            return {"error": "no shard answered", "shards": shards}
        prefix = answers[min(answers)]["prefix"]
        return {"prefix": prefix, "suggestions": merge_suggestions(answers), "shards": shards}

    async def document(self, doc_id: str) -> dict[str, Any]:
        shard = shard_of(doc_id, self.count)
        handle = self.handles[shard]
        answers, failed = await gather_shards(
            [lambda: handle.document.remote(doc_id)], self.timeout
        )
        if failed:
            raise serve_api.ApiError(503, f"shard {shard} did not answer: {failed[0]['error']}")
        if answers[0] is None:
            raise serve_api.ApiError(404, f"no document with id {doc_id[:100]!r}")
        return {"id": doc_id, "fields": answers[0], "shard": shard}


def make_app(
    folder: str | Path,
    replicas: int = 1,
    timeout: float = TIMEOUT,
    pin: bool = False,
) -> Any:
    """The Ray Serve application over the sharded index ``folder``: a deployment per
    shard of ``replicas`` replicas (with ``pin``, shard ``i``'s replicas run only on
    nodes started with the custom resource ``vnsearch-shard-<i>``) and the router."""
    from ray import serve

    top = str(Path(folder).resolve())
    count, _schema = read_manifest(Path(top))
    shards = []
    for i in range(count):
        options: dict[str, Any] = {"num_cpus": 0}
        if pin:
            options["resources"] = {f"vnsearch-shard-{i}": 0.001}
        deployment = serve.deployment(ShardSearcher).options(
            name=f"shard-{i:03d}",
            num_replicas=replicas,
            ray_actor_options=options,
            max_ongoing_requests=8,
        )
        shards.append(deployment.bind(top, i))
    router = serve.deployment(Router).options(
        name="router",
        num_replicas=1,
        ray_actor_options={"num_cpus": 0},
        max_ongoing_requests=64,
    )
    return router.bind(top, timeout, *shards)


def start(
    folder: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    replicas: int = 1,
    timeout: float = TIMEOUT,
    pin: bool = False,
) -> tuple[str, bool]:
    """Serve the sharded index ``folder`` on ``host:port`` in the Ray cluster this
    process is connected to: the folder checked first (a missing or damaged shard is its
    own error, naming it), its ``stats.json.gz`` made anew if a shard committed since it
    was saved, then Serve's HTTP proxy and the application started. Returns the URL and
    whether the statistics were made anew."""
    from ray import serve

    from vnsearch.shards.sharded import ShardedIndex
    from vnsearch.shards.stats_file import current_stats

    with ShardedIndex.open(folder) as ix:
        _stats, made = current_stats(ix)
    serve.start(http_options={"host": host, "port": port})
    serve.run(make_app(folder, replicas, timeout, pin), name=APP, route_prefix="/")
    return f"http://{host}:{port}/", made
