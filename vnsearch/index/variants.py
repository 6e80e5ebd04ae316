"""Which accented terms fold to each folded term: a segment's ``.vna`` file.

A TEXT field's ``folded`` view holds, at each position, the fold of the ``syllables``
view's term there (``folded_bigrams`` and ``bigrams`` likewise). The writer records, for
each folded term of a segment, the numbers of its accented terms in their dictionary
(``hà``, ``hạ``, ``ha``… for ``ha``): a CSR table per pair of views, ``starts`` (one per
folded term, and one past the last) into ``order`` (accented term numbers), both
bit-packed at one width. It serves two readers:

* spellings (:mod:`vnsearch.index.spellings`): a folded term's most frequent accented
  forms are its variants' keys and document frequencies, read from the term dictionary
  (not copied into a table of their own);
* positions of the ``folded`` view: not stored, they are the positions of its variants
  in the ``syllables`` view (:func:`variant_positions`), read by the phrases that need
  them;
* postings of the ``folded_bigrams`` view (format 5): not stored either, a folded
  bigram's documents and frequencies are the union of its variants' in the ``bigrams``
  view, frequencies summed per document (:func:`union_postings` for a term,
  :func:`~vnsearch.index.pieces.derived_pieces` for a whole field); the dictionary keeps
  its document frequency.

>>> from vnsearch.index.dictionary import DictionaryField
>>> syl = DictionaryField.from_arrays("body.syllables", ["ha".encode(), "hà".encode(),
...     "nội".encode()], [0, 1, 2], [1, 1, 1], [1, 2, 1])
>>> fol = DictionaryField.from_arrays("body.folded", [b"ha", b"noi"], [0, 1], [1, 1], [3, 1])
>>> v = read_variants(b"".join(variant_chunks([syl, fol])), "example")["body.syllables"]
>>> v.of(0), v.of(1)
([0, 1], [2])
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from vnsearch.analysis.fold import fold
from vnsearch.errors import DamagedFile
from vnsearch.index.bitpack import bit_lengths, pack, unpack, word_view
from vnsearch.index.postings import compact_freqs, narrow_positions

__all__ = [
    "FOLDED",
    "VARIANTS_EXT",
    "Variants",
    "positions_of",
    "positions_source",
    "postings_source",
    "read_variants",
    "summed_by",
    "union_postings",
    "variant_chunks",
    "variant_positions",
]

VARIANTS_EXT = ".vna"
_MAGIC = b"VNA3"
# accented view -> its folded view
FOLDED = {"syllables": "folded", "bigrams": "folded_bigrams"}
# folded view whose postings are not stored -> the view its postings are read from
DERIVED = {"folded_bigrams": "bigrams"}


def _folds(keys: list[bytes], bigrams: bool) -> list[bytes]:
    """Each key's folded term, as the analyzer folds a syllable (``fold`` without the
    spaces unidecode may add), and a bigram syllable by syllable."""
    if not keys:
        return []
    if not bigrams:
        text = b"\n".join(keys).decode("utf-8")
        return [f.replace(" ", "").encode("utf-8") for f in fold(text).split("\n")]
    halves = b"\n".join(k.replace(b" ", b"\n", 1) for k in keys).decode("utf-8")
    parts = [f.replace(" ", "") for f in fold(halves).split("\n")]
    return [f"{a} {b}".encode() for a, b in zip(parts[::2], parts[1::2])]


_FOLD_KEYS = 1 << 16  # keys folded at once by ``_table``


def _table(accented: list[bytes], folded: list[bytes], bigrams: bool) -> tuple[np.ndarray, ...]:
    number = {key: i for i, key in enumerate(folded)}
    of = np.empty(len(accented), np.int64)
    # folded a bounded number of keys at a time: a field's keys folded at once made one
    # string of them all and an object per syllable (the commit's peak at 84k articles)
    for a in range(0, len(accented), _FOLD_KEYS):
        part = _folds(accented[a : a + _FOLD_KEYS], bigrams)
        of[a : a + len(part)] = [number.get(f, -1) for f in part]
    order = np.argsort(of, kind="stable")
    order = order[of[order] >= 0]  # terms whose fold is no term of the folded view
    starts = np.searchsorted(of[order], np.arange(len(folded) + 1))
    return starts, order


def variant_chunks(fields: Sequence[Any]) -> list[bytes]:
    """The ``.vna`` file of a segment from its dictionary fields (``DictionaryField``s
    named ``<field>.<view>``): magic, JSON header, then each pair's two bit-packed
    arrays (8-aligned)."""
    by_name = {f.name: f for f in fields}
    header: dict[str, Any] = {}
    chunks: list[bytes] = []
    at = 0
    for name, field in sorted(by_name.items()):
        base, _, view = name.rpartition(".")
        target = by_name.get(f"{base}.{FOLDED.get(view, '')}")
        if view not in FOLDED or target is None or not field.keys:
            continue
        starts, order = _table(field.keys, target.keys, view == "bigrams")
        width = max(1, int(bit_lengths(np.array([len(field.keys)]))[0]))
        spec: dict[str, Any] = {"folded": target.name, "n": len(target.keys)}
        spec["m"], spec["width"] = len(field.keys), width
        for part, values in (("starts", starts), ("order", order)):
            raw = pack(values, np.full(len(values), width))
            spec[part] = at
            chunks.append(raw + b"\0" * (8 + (-len(raw)) % 8))  # 8 spare bytes: reads of 5
            at += len(chunks[-1])
        header[name] = spec
    head = json.dumps(header).encode("utf-8")
    pad = (-(8 + len(head))) % 8
    return [_MAGIC + struct.pack("<I", len(head) + pad) + head + b" " * pad, *chunks]


def positions_source(field: str) -> str | None:
    """The hidden field whose positions a field's are, when they are not stored: a TEXT
    field's ``folded`` view holds the fold of its ``syllables`` view's term at each
    position, so its positions are its variants' there (:mod:`vnsearch.index.variants`).

    >>> positions_source("body.folded"), positions_source("body.syllables")
    ('body.syllables', None)
    """
    base, _, view = field.rpartition(".")
    return f"{base}.syllables" if base and view == "folded" else None


def postings_source(field: str) -> str | None:
    """The hidden field whose postings a field's are derived from, when they are not
    stored: a TEXT field's ``folded_bigrams`` view holds the fold of its ``bigrams``
    view's term at each position, so a folded bigram's documents and frequencies are
    those of its variants there, merged.

    >>> postings_source("body.folded_bigrams"), postings_source("body.bigrams")
    ('body.bigrams', None)
    """
    base, _, view = field.rpartition(".")
    source = DERIVED.get(view)
    return f"{base}.{source}" if base and source else None


# a part longer than this, with the others together under 1/16 of it, takes their union
# into it (a search and an insert: about a copy of it) rather than sorting all together
_INSERT_INTO = 512


def union_postings(parts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(docs, freqs)`` of the union of postings ``parts`` (``PostingArrays`` or
    anything with sorted ``docs`` and ``freqs``): each document once, ascending, with
    its frequencies summed. One part is its own arrays (no copy); else they are
    concatenated and sorted stably (sorted runs: timsort merges them), equal documents'
    frequencies summed, or a long part takes the union of the others (:func:`_into`).

    >>> class P:
    ...     def __init__(self, d, f):
    ...         self.docs, self.freqs = np.array(d, "<u4"), np.array(f, "<u1")
    >>> docs, freqs = union_postings([P([1, 5], [1, 2]), P([2, 5], [1, 1])])
    >>> docs.tolist(), freqs.tolist()
    ([1, 2, 5], [1, 1, 3])
    """
    if len(parts) == 1:
        return parts[0].docs, parts[0].freqs
    sizes = [len(p.docs) for p in parts]
    longest = max(range(len(parts)), key=sizes.__getitem__)
    if sizes[longest] > _INSERT_INTO and 16 * (sum(sizes) - sizes[longest]) < sizes[longest]:
        rest = union_postings([p for n, p in enumerate(parts) if n != longest])
        return _into(parts[longest], *rest)
    docs = np.concatenate([p.docs for p in parts])
    # summed wide, then kept in the smallest type that holds the sums
    docs, freqs = summed_by(docs, np.concatenate([p.freqs for p in parts], dtype=np.int64))
    return docs, compact_freqs(freqs)


def summed_by(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``keys`` sorted, each once, and the ``values`` of equal keys summed (sorted runs:
    the stable sort merges them)."""
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    first = np.empty(len(keys), bool)
    first[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    if first.all():
        return keys, values[order]
    at = np.flatnonzero(first)
    return keys[at], np.add.reduceat(values[order], at).astype(values.dtype)


def _into(big: Any, docs: np.ndarray, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of postings ``big`` and the (shorter, sorted, distinct) ``docs`` with
    their ``freqs``: those ``big`` holds added to its frequencies, the others inserted."""
    where = big.docs.searchsorted(docs)
    held = big.docs.take(where, mode="clip") == docs
    summed = big.freqs.astype(np.int64)
    summed[where[held]] += freqs[held]
    new = ~held
    if not new.any():
        return big.docs, compact_freqs(summed)
    summed = np.insert(summed, where[new], freqs[new])
    return np.insert(big.docs, where[new], docs[new]), compact_freqs(summed)


def positions_of(arrays: Any, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, flat positions) of ``arrays``' postings (a ``PostingArrays``) from the
    sorted ``doc << 32 | position`` keys of the same occurrences; keys that disagree with
    the postings' documents and frequencies are damage."""
    counts = arrays.freqs.astype(np.int64)
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    if len(keys) != offsets[-1] or not np.array_equal(
        keys >> 32, np.repeat(arrays.docs.astype(np.int64) - arrays.base, counts)
    ):
        raise DamagedFile("positions of a folded term disagree with its postings")
    return offsets.astype("<u4"), narrow_positions((keys & 0xFFFFFFFF).astype("<u4"))


def variant_positions(terms: Any, fieldname: str, i: int, arrays: Any) -> tuple:
    """Term ``i`` of ``fieldname``'s positions (its postings ``arrays``), from its
    variants' in the field they fold from; ``terms`` is the segment's terms reader."""
    if terms.spellings is None:
        raise DamagedFile(f"no variants file: positions of {fieldname} cannot be read")
    accented, found = terms.spellings.variants(fieldname, i)
    keys = []
    for v in found:
        offset, length, df = accented.entry(v)
        source = terms.postings(offset, length, df, True)
        offsets, flat = source.all_positions()
        docs = np.repeat(source.docs.astype(np.int64), np.diff(offsets.astype(np.int64)))
        keys.append((docs << 32) | flat)
    # each variant's keys are sorted: a stable sort merges the runs (~3x a quicksort's speed)
    merged = np.sort(np.concatenate(keys), kind="stable") if keys else np.empty(0, np.int64)
    return positions_of(arrays, merged)


class Variants:
    """The accented terms of each folded term of one pair of views, read in place."""

    __slots__ = ("_buf", "_mask", "_order", "_starts", "_width", "accented", "folded", "m", "n")

    def __init__(self, buf: Any, base: int, accented: str, spec: dict[str, Any]) -> None:
        self.accented, self.folded = accented, str(spec["folded"])
        self.n, self.m, self._width = int(spec["n"]), int(spec["m"]), int(spec["width"])
        if not (0 < self._width <= 32 and self.n >= 0 and self.m >= 0):
            raise ValueError("bad sizes")
        self._mask = (1 << self._width) - 1
        self._starts, self._order = base + int(spec["starts"]), base + int(spec["order"])
        for start, count in ((self._starts, self.n + 1), (self._order, self.m)):
            if not base <= start or start + (count * self._width + 7) // 8 + 5 > len(buf):
                raise ValueError("arrays past the end of the file")
        self._buf = buf

    def _at(self, array: int, k: int) -> int:
        bit = k * self._width
        at = array + (bit >> 3)
        return (int.from_bytes(self._buf[at : at + 5], "little") >> (bit & 7)) & self._mask

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole table, ``(starts, order)`` as ``int64`` arrays (a merge's)."""
        w = self._width

        def read(at: int, count: int) -> np.ndarray:
            words = word_view(self._buf, at, at + (count * w + 7) // 8)
            return unpack(words, 0, np.full(count, w)).astype(np.int64)

        starts = read(self._starts, self.n + 1)
        if (np.diff(starts) < 0).any() or int(starts[-1]) > self.m:
            raise DamagedFile("variants file: a table out of order")
        order = read(self._order, int(starts[-1]))
        if len(order) and int(order.max()) >= self.m:
            raise DamagedFile("variants file: a term past the dictionary's end")
        return starts, order

    def of(self, j: int) -> list[int]:
        """The accented term numbers of folded term ``j``, in the accented dictionary."""
        a, b = self._at(self._starts, j), self._at(self._starts, j + 1)
        if not a <= b <= self.m:
            raise DamagedFile("variants file: a table out of order")
        found = [self._at(self._order, k) for k in range(a, b)]
        if found and max(found) >= self.m:
            raise DamagedFile("variants file: a term past the dictionary's end")
        return found


def read_variants(buf: Any, what: str) -> dict[str, Variants]:
    """The tables of a ``.vna`` file, by accented field name."""
    if len(buf) < 8 or bytes(buf[:4]) != _MAGIC:
        raise DamagedFile(f"bad {what}")
    (hlen,) = struct.unpack_from("<I", buf, 4)
    try:
        header = json.loads(bytes(buf[8 : 8 + hlen]).decode("utf-8"))
        return {name: Variants(buf, 8 + hlen, name, spec) for name, spec in header.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DamagedFile(f"bad {what}: {exc}") from None
