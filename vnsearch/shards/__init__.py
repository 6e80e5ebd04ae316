"""Sharded indexes: one collection in several vnsearch indexes that rank as one.

:class:`ShardedIndex` is a folder with a manifest (``shards.json``) and S shard indexes;
documents go to the shard of a stable hash of their unique id (:func:`shard_of`), and a
search asks every shard with the statistics of them all
(:mod:`vnsearch.ranking.global_stats`), then merges their hits in vnsearch's own order.
"""

from vnsearch.shards.manifest import MANIFEST, SHARDS_FORMAT, shard_of
from vnsearch.shards.sharded import ShardedIndex, ShardedWriter

__all__ = ["MANIFEST", "SHARDS_FORMAT", "ShardedIndex", "ShardedWriter", "shard_of"]
