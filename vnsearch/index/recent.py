"""Which decoded postings does a snapshot keep at hand? The most recently used terms'.

Decoding a long postings list costs far more than keeping it, and common words come back
query after query; but kept without a bound, the long lists of a large index would fill
memory. :class:`Recent` is a least-recently-used map bounded both in entries and in bytes.

>>> cache = Recent(size=2, budget=100, weigh=len)
>>> cache.put("a", "x" * 60); cache.put("b", "y" * 60)  # over budget: "a" goes
>>> cache.get("a") is MISSING, cache.get("b") == "y" * 60, cache.nbytes
(True, True, 60)
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["ENTRY_BYTES", "MISSING", "RECENT_BYTES", "RECENT_TERMS", "Recent", "cache_bytes"]

# The terms whose postings a snapshot keeps at hand, most recently used: common words come
# back query after query, and decoding a long list costs far more than keeping it. At most
# this many terms, holding at most this many bytes of decoded arrays (documents,
# frequencies, and positions once a phrase decoded them): without the bound, long lists
# of a large index would fill memory (the 84k-document VNTC index: 1,200 queries read
# 15,685 terms, 266 MB; three copies of it, 252k documents: 790 MB).
RECENT_TERMS = 16384
RECENT_BYTES = 512 << 20  # ``Index.open(path, cache_mb=...)`` sets another
ENTRY_BYTES = 256  # what an entry costs beyond its arrays (key, objects): about

MISSING: Any = object()  # what ``get`` returns for a key it does not hold


def cache_bytes(cache_mb: float | None) -> int:
    """The budget of ``cache_mb`` megabytes (None: :data:`RECENT_BYTES`), checked.

    >>> cache_bytes(64), cache_bytes(None) == RECENT_BYTES
    (67108864, True)
    >>> cache_bytes(-1)
    Traceback (most recent call last):
    ...
    ValueError: cache_mb must be a number of megabytes from 0, got -1
    """
    if cache_mb is None:
        return RECENT_BYTES
    if (
        isinstance(cache_mb, bool)
        or not isinstance(cache_mb, (int, float))
        or not (0 <= cache_mb < math.inf)
    ):
        raise ValueError(f"cache_mb must be a number of megabytes from 0, got {cache_mb!r}")
    return int(cache_mb * (1 << 20))


class Recent:
    """The postings of the most recently used terms, shared by the threads searching a
    snapshot: at most ``size`` of them, of at most ``budget`` bytes in all.

    An entry weighs its arrays' bytes (``weigh(value)``) when it is put, and again when it
    is used (a phrase may have decoded its positions since): the bound holds but for the
    positions decoded since an entry was last put or got."""

    def __init__(self, size: int, budget: int, weigh: Callable[[Any], int]) -> None:
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._size = size
        self._budget = budget
        self._weigh = weigh
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return MISSING
            value, weight = found
            now = self._weigh(value)
            if now != weight:
                self._items[key] = (value, now)
                self._used += now - weight
            self._items.move_to_end(key)
            self._evict()
            return value

    def put(self, key: Any, value: Any) -> None:
        weight = self._weigh(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._used -= old[1]
            self._items[key] = (value, weight)
            self._used += weight
            self._evict()

    def _evict(self) -> None:
        items = self._items
        while len(items) > self._size or (self._used > self._budget and len(items) > 1):
            _key, (_value, weight) = items.popitem(last=False)
            self._used -= weight

    @property
    def nbytes(self) -> int:
        """The bytes its entries weighed when last put or got."""
        return self._used

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._used = 0

    def __len__(self) -> int:
        return len(self._items)
