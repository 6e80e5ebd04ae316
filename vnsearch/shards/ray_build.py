"""Build a sharded index with every shard written in parallel: Ray tasks, or local processes.

:func:`build_shards` routes documents to their shards (:func:`~vnsearch.shards.shard_of`,
in the order given), builds each shard in a task of its own (``Index.create``, one writer,
``add`` — ``update`` for an id seen before in the run —, one commit: the same shard as
:class:`~vnsearch.ShardedIndex`'s writer makes in one process), merges the shards'
:class:`~vnsearch.Stats` into ``stats.json.gz`` (:mod:`vnsearch.shards.stats_file`) and
writes the manifest last: a folder without it is no index. A task that fails stops the
build, and the folder is left as it was (absent or empty).

Ray is optional (``pip install 'vnsearch[cluster]'``) and imported only here, when asked
for; ``runner="processes"`` builds the shards in local processes without it. A task writes
its shard into ``folder``: on several machines ``folder`` must be a filesystem every node
shares.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vnsearch.errors import DocumentError
from vnsearch.index import Index, Schema
from vnsearch.index.schema import ORDER_FIELD
from vnsearch.index.storage import check_new_folder
from vnsearch.ranking.global_stats import Stats
from vnsearch.shards.manifest import (
    MANIFEST,
    check_shards,
    shard_folder,
    shard_of,
    write_manifest,
)
from vnsearch.shards.stats_file import STATS_FILE, commit_state, save_stats

__all__ = [
    "BATCH",
    "MISSING",
    "BuildSummary",
    "build_shard",
    "build_shards",
    "import_ray",
    "ray_session",
]

MISSING = "Ray is not installed: pip install 'vnsearch[cluster]'"
BATCH = 1000  # documents per object sent to a task
ERRORS_KEPT = 5

Item = tuple[str, dict[str, Any]]  # where a document was read (file:line), the document


@dataclass
class BuildSummary:
    """What :func:`build_shards` did: documents per shard, records skipped (with the
    first errors), seconds, the statistics file's size."""

    documents: list[int] = field(default_factory=list)
    skipped: int = 0
    first_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    stats_bytes: int = 0
    runner: str = ""


def import_ray() -> Any:
    """The ``ray`` module; an ``ImportError`` saying how to install it when it is missing."""
    try:
        import ray
    except ImportError:
        raise ImportError(MISSING) from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, cpus: int | None = None) -> Iterator[Any]:
    """Ray, connected: to the cluster at ``address``, or to a new local one of ``cpus``
    CPUs listening on 127.0.0.1 only (no dashboard), shut down on leaving. Inside a
    session already open (a test's, an application's) it is used as it is."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(num_cpus=cpus, include_dashboard=False, _node_ip_address="127.0.0.1", **quiet)
    try:
        yield ray
    finally:
        ray.shutdown()


def build_shard(
    path: str,
    schema_json: str,
    batches: Sequence[Sequence[Item]],
    max_text_mb: float | None = 10.0,
    skip_errors: bool = False,
) -> dict[str, Any]:
    """Create the index ``path`` and add the documents of ``batches`` in one commit (an
    id seen before in the run replaces the earlier document). A document the writer
    refuses is a :class:`~vnsearch.DocumentError` naming where it was read, or skipped and
    counted with ``skip_errors``. Returns plain data: ``documents``, ``skipped``,
    ``errors``, ``state`` (generation, documents) and ``stats`` (:meth:`Stats.to_json`)."""
    schema = Schema.from_json(schema_json)
    ix = Index.create(path, schema)
    unique = schema.unique_field
    seen: set[Any] = set()
    skipped, errors = 0, []
    try:
        with ix.writer(jobs=1, max_text_mb=max_text_mb) as w:
            for batch in batches:
                for where, doc in batch:
                    replace = doc.get(unique) in seen
                    try:
                        (w.update if replace else w.add)(doc)
                    except ValueError as exc:  # DocumentError, a text over max_text_mb
                        if not skip_errors:
                            raise DocumentError(f"{where}: {exc}") from None
                        skipped += 1
                        if len(errors) < ERRORS_KEPT:
                            errors.append(f"{where}: {exc}")
                        continue
                    seen.add(doc.get(unique))
        state = commit_state(ix)
        return {
            "documents": state["documents"],
            "skipped": skipped,
            "errors": errors,
            "state": state,
            "stats": ix.ranking_stats().to_json(),
        }
    finally:
        ix.close()


def _ray_build_shard(path: str, schema_json: str, refs: list[Any], *options: Any) -> Any:
    """:func:`build_shard` in a Ray task: the batches fetched from the object store."""
    import ray

    return build_shard(path, schema_json, [ray.get(r) for r in refs], *options)


def _batches(items: list[Item]) -> list[list[Item]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def _run_ray(jobs: list[tuple[Any, ...]], address: str | None, cpus: int | None) -> list[Any]:
    with ray_session(address, cpus) as ray:
        task = ray.remote(num_cpus=1, max_retries=0)(_ray_build_shard)
        refs = [
            task.remote(path, schema_json, [ray.put(b) for b in _batches(items)], *options)
            for path, schema_json, items, *options in jobs
        ]
        pending = list(refs)
        try:
            while pending:  # the first failure at once, not after the others
                done, pending = ray.wait(pending, num_returns=1)
                ray.get(done[0])
        except ray.exceptions.RayTaskError as exc:
            for ref in pending:
                ray.cancel(ref, force=True)
            cause = getattr(exc, "cause", None)
            raise (cause if isinstance(cause, BaseException) else exc) from None
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        return [ray.get(r) for r in refs]


def _run_processes(jobs: list[tuple[Any, ...]], cpus: int | None) -> list[Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=cpus or None, mp_context=context) as pool:
        futures = [
            pool.submit(build_shard, path, schema_json, _batches(items), *options)
            for path, schema_json, items, *options in jobs
        ]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for f in done:
            if f.exception() is not None:
                for other in futures:
                    other.cancel()
                raise f.exception()  # type: ignore[misc]
        return [f.result() for f in futures]


def build_shards(
    folder: str | Path,
    schema: Schema,
    documents: Iterable[dict[str, Any] | Item],
    shards: int = 4,
    *,
    runner: str = "ray",
    address: str | None = None,
    jobs: int | None = None,
    max_text_mb: float | None = 10.0,
    skip_errors: bool = False,
) -> BuildSummary:
    """Build the sharded index ``folder`` (new or empty) of ``schema`` from
    ``documents`` (dicts, or ``(where, dict)`` pairs whose ``where`` errors name), each of
    the ``shards`` shards in a task of its own: ``runner="ray"`` (a Ray cluster at
    ``address``, else a local one of ``jobs`` CPUs) or ``"processes"`` (``jobs`` local
    processes). An :class:`ImportError` saying how to install Ray when it is missing."""
    started = time.perf_counter()
    shards = check_shards(shards)
    if runner not in ("ray", "processes"):
        raise ValueError(f"runner must be 'ray' or 'processes', got {runner!r}")
    if runner == "ray":
        import_ray()  # before reading anything
    unique = schema.unique_field
    if unique is None:
        raise DocumentError("a sharded index needs a unique field: ID(unique=True)")
    routed: list[list[Item]] = [[] for _ in range(shards)]
    for n, item in enumerate(documents, 1):
        where, doc = item if isinstance(item, tuple) else (f"document {n}", item)
        value = doc.get(unique) if isinstance(doc, dict) else None
        if value is None:
            raise DocumentError(f"{where}: no {unique!r} value (the document's id)")
        # numbered in the order given, as ShardedWriter numbers them (the order of ties)
        routed[shard_of(value, shards)].append((where, {**doc, ORDER_FIELD: n}))
    target = Path(folder).absolute()  # tasks run in other folders, on other machines
    check_new_folder(target)
    existed = target.exists()
    target.mkdir(parents=True, exist_ok=True)
    schema_json = schema.with_order().to_json()
    work = [
        (str(shard_folder(target, i)), schema_json, items, max_text_mb, skip_errors)
        for i, items in enumerate(routed)
    ]
    try:
        if runner == "ray":
            built = _run_ray(work, address, jobs)
        else:
            built = _run_processes(work, jobs)
        stats = Stats.merge(Stats.from_json(b["stats"]) for b in built)
        saved = save_stats(target, stats, [b["state"] for b in built])
        write_manifest(target, shards, schema)  # last: a folder without it is no index
    except BaseException:
        _remove_built(target, shards, existed)
        raise
    summary = BuildSummary([b["documents"] for b in built], runner=runner)
    for b in built:
        summary.skipped += b["skipped"]
        summary.first_errors.extend(b["errors"][: ERRORS_KEPT - len(summary.first_errors)])
    summary.stats_bytes = saved.stat().st_size
    summary.seconds = time.perf_counter() - started
    return summary


def _remove_built(target: Path, shards: int, existed: bool) -> None:
    """Leave ``target`` as it was before a failed build: absent, or empty."""
    if not existed:
        shutil.rmtree(target, ignore_errors=True)
        return
    for i in range(shards):
        shutil.rmtree(shard_folder(target, i), ignore_errors=True)
    for name in (STATS_FILE, STATS_FILE + ".tmp", MANIFEST, MANIFEST + ".tmp"):
        with contextlib.suppress(FileNotFoundError):
            (target / name).unlink()
