"""How a segment spells things: for each folded syllable and bigram, its accented forms.

Unaccented queries have their accents restored from the index's own vocabulary
(:mod:`vnsearch.ranking.accents`): ``nha nuoc`` -> ``nhà nước``, the spelling the indexed
text uses most. Reading every term of a large index to learn that took seconds and half a
gigabyte at the first unaccented query of each process, so the writer computes it with
the segment: a ``.vna`` file with two dictionaries in the term dictionary's format (see
:mod:`vnsearch.index.dictionary`), ``syllables`` and ``bigrams``, keyed by the folded term;
each entry points to its most frequent accented forms and their document frequencies
(summed over the TEXT fields). A lookup is a hash probe in the mapped file.

:func:`accent_tables` answers for the segments of a snapshot: their spellings files,
merged (:class:`MergedSpellings`), or, when a segment was written before those existed,
tables built from every term of the term dictionaries, by the same function that builds
a segment's file.

>>> entry = _encode([("nhà nước", 9), ("nhà nuốc", 1)])
>>> _decode(entry)
(('nhà nước', 9), ('nhà nuốc', 1))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from vnsearch.analysis.fold import fold
from vnsearch.errors import DamagedFile
from vnsearch.index.dictionary import DictionaryField, dictionary_chunks
from vnsearch.index.field_terms import read_dictionary
from vnsearch.index.files import MappedFile, buffer_of, mapped_range, open_mapped
from vnsearch.index.schema import TEXT, Schema, view_field

__all__ = [
    "TOP_FORMS",
    "MergedSpellings",
    "SegmentSpellings",
    "Table",
    "accent_tables",
    "dictionary_tables",
    "read_spellings",
    "write_spellings",
]

SPELLINGS_EXT = ".vna"
TOP_FORMS = 4  # accented forms kept per folded term
# In a segment with more bigram terms than this, those found in one document (most of
# them, and they say little about how people spell a pair) are left out.
_LARGE = 500_000
# Answers of ``SegmentSpellings.forms`` kept per segment (a few tuples each)
RECENT_FORMS = 4096
_VIEWS = ("syllables", "bigrams")

Forms = tuple[tuple[str, int], ...]  # accented forms and their document frequencies
Table = dict[str, Forms]  # folded term -> its most frequent accented forms


def _encode(forms: Sequence[tuple[str, int]]) -> bytes:
    return "\n".join(f"{form}\t{df}" for form, df in forms).encode("utf-8")


def _decode(raw: bytes) -> Forms:
    out = []
    try:
        for line in raw.decode("utf-8").split("\n"):
            form, _, df = line.rpartition("\t")
            out.append((form, int(df)))
    except ValueError as exc:  # UnicodeDecodeError too
        raise DamagedFile(f"spellings file: bad entry {bytes(raw)[:40]!r}") from exc
    return tuple(out)


def _forms_table(columns: Iterable[tuple[list[bytes], np.ndarray]]) -> Table:
    """The one builder of accent tables: each folded term's accented forms with their
    document frequencies summed over ``columns`` (terms as UTF-8, and their dfs), at most
    :data:`TOP_FORMS`, most frequent first (ties in code point order).

    >>> _forms_table([([b"ha", "hà".encode()], np.array([1, 5])), ([b"ha"], np.array([3]))])
    {'ha': (('hà', 5), ('ha', 4))}
    """
    counts: dict[bytes, int] = {}
    for keys, dfs in columns:
        if not counts:  # a dictionary's keys are distinct
            counts = dict(zip(keys, dfs.tolist()))
            continue
        for key, df in zip(keys, dfs.tolist()):
            counts[key] = counts.get(key, 0) + df
    terms = b"\n".join(counts).decode("utf-8").split("\n") if counts else []
    forms: dict[str, list[tuple[str, int]]] = {}
    for term, key, df in zip(terms, fold("\n".join(terms)).split("\n"), counts.values()):
        found = forms.get(key)
        if found is None:
            forms[key] = [(term, df)]
        else:
            found.append((term, df))
    return {
        key: tuple(f if len(f) == 1 else sorted(f, key=_most_frequent)[:TOP_FORMS])
        for key, f in forms.items()
    }


def _most_frequent(form: tuple[str, int]) -> tuple[int, str]:
    return -form[1], form[0]


def _table(fields: list[DictionaryField], view: str) -> tuple[list[bytes], list[bytes], list[int]]:
    """For one view of a segment being written, sorted: each folded term (bytes), its
    encoded accented forms (most frequent first), and how many forms it has."""
    mine = [fb for fb in fields if fb.name.endswith("." + view) and len(fb.keys)]
    min_df = 2 if view == "bigrams" and sum(len(fb.keys) for fb in mine) > _LARGE else 1
    table = _forms_table(_field_columns(mine, min_df))
    keys = sorted(table)  # code point order is UTF-8 byte order
    return (
        [k.encode("utf-8") for k in keys],
        [_encode(table[k]) for k in keys],
        [len(table[k]) for k in keys],
    )


def _field_columns(
    fields: list[DictionaryField], min_df: int
) -> Iterator[tuple[list[bytes], np.ndarray]]:
    for fb in fields:
        dfs = fb.counts()
        if min_df > 1:
            keep = np.flatnonzero(dfs >= min_df)
            yield [fb.keys[i] for i in keep.tolist()], dfs[keep]
        else:
            yield fb.keys, dfs


def write_spellings(storage: Any, segment: Any, fields: list[Any]) -> None:
    """Write the segment's ``.vna`` file from its field buffers (term bytes and infos)."""
    buffers = []
    blobs: list[bytes] = []
    at = 0
    for view in _VIEWS:
        keys, encoded, sizes = _table(fields, view)
        lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        starts = np.zeros(len(keys), dtype=np.int64)
        if len(keys):
            np.cumsum(lengths[:-1], out=starts[1:])
        starts += at
        fb = DictionaryField.from_arrays(view, keys, starts, lengths, np.array(sizes))
        blobs.append(b"".join(encoded))
        at += int(lengths.sum())
        buffers.append(fb)
    f = segment.create_file(storage, SPELLINGS_EXT)
    for chunk in dictionary_chunks(buffers, b"".join(blobs)):
        f.write(chunk)
    f.close()


class SegmentSpellings:
    """A segment's ``.vna`` file, read in place."""

    def __init__(self, buf: Any, pages: Any = None, at: int = 0) -> None:
        self._buf = buf
        # with checksums: the segment file's page checks, and where this file starts in it
        self._pages = pages
        self._at = at
        self.span = (at, at + len(buf))  # its bytes in the segment file
        self._tables, extra = read_dictionary(buf, "spellings file", pages, at)
        self._blob = extra or 0
        # the answers for recently asked terms: queries come back to common syllables and
        # pairs, and a lookup reads scattered pages of the dictionary
        self.forms = lru_cache(maxsize=RECENT_FORMS)(self._forms)

    @property
    def checks_reads(self) -> bool:
        """Whether reads are still checked against the segment file's checksums."""
        return self._pages is not None

    def stop_checking_reads(self) -> None:
        """Read without checking pages against the checksums (every page of the file
        matched, or checks were turned off)."""
        self._pages = None
        for ft in self._tables.values():
            ft.stop_checking_reads()

    def _forms(self, view: str, folded: str) -> Forms:
        """The most frequent accented forms of ``folded`` in ``view``, with their df
        (``forms``, the same through a cache of recent answers)."""
        ft = self._tables.get(view)
        i = ft.find(folded.encode("utf-8")) if ft is not None else -1
        if i < 0:
            return ()
        offset, length = ft.extent(i)
        start = self._blob + offset
        pages = self._pages  # read once: a thread checking ahead may switch checks off
        if pages is not None:
            pages.check(self._at + start, self._at + start + length)
        return _decode(bytes(self._buf[start : start + length]))


def read_spellings(storage: Any, segment: Any, pages: Any = None) -> SegmentSpellings | None:
    """The segment's spellings, or None for a segment written before they existed; with
    ``pages`` (the mapped segment file's :class:`~vnsearch.index.checksums.PageChecks`)
    every read is checked first."""
    name = segment.make_filename(SPELLINGS_EXT)
    if not storage.file_exists(name):
        return None
    f = open_mapped(storage, name)
    if isinstance(f, MappedFile):
        mapped = mapped_range(storage, name)
        at = mapped[1] if mapped is not None else 0
        return SegmentSpellings(buffer_of(f), pages if mapped is not None else None, at)
    return SegmentSpellings(f.read())


class MergedSpellings:
    """One view's accented forms, read from the segments' spellings files (summed over
    segments when there are several): a table looked up term by term."""

    __slots__ = ("_segments", "_view")

    def __init__(self, segments: list[SegmentSpellings], view: str) -> None:
        self._segments = segments
        self._view = view

    def get(self, folded: str, default: Any = ()) -> Forms:
        if len(self._segments) == 1:
            return self._segments[0].forms(self._view, folded) or default
        counts: dict[str, int] = {}
        for seg in self._segments:
            for form, df in seg.forms(self._view, folded):
                counts[form] = counts.get(form, 0) + df
        best = sorted(counts.items(), key=_most_frequent)[:TOP_FORMS]
        return tuple(best) or default


def accent_tables(readers: Sequence[Any], schema: Schema) -> tuple[Any, Any]:
    """``(bigrams, syllables)``: each folded term's most frequent accented forms in the
    segments of ``readers`` (their :class:`~vnsearch.index.terms.VnTermsReader`), with
    their document frequencies summed over the TEXT fields. Looked up in the segments'
    spellings files (:class:`MergedSpellings`), or, when a segment was written before
    those existed, built from the term dictionaries (:func:`dictionary_tables`)."""
    segments = [reader.spellings for reader in readers]
    if all(s is not None for s in segments):
        return MergedSpellings(segments, "bigrams"), MergedSpellings(segments, "syllables")
    return dictionary_tables(readers, schema)


def dictionary_tables(readers: Sequence[Any], schema: Schema) -> tuple[Table, Table]:
    """``(bigrams, syllables)`` of :func:`accent_tables`, built from every term of the
    segments' term dictionaries."""
    text = [name for name, ftype in schema.items() if isinstance(ftype, TEXT)]
    bigrams = sum(
        ft.n
        for name in text
        for reader in readers
        if (ft := reader.field_terms(view_field(name, "bigrams"))) is not None
    )
    # in a large index, a bigram found in one document (most of them) says little about
    # how people spell it, and would double the table
    min_df = 2 if bigrams > _LARGE else 1
    return (
        _forms_table(_dictionary_columns(readers, text, "bigrams", min_df)),
        _forms_table(_dictionary_columns(readers, text, "syllables", 1)),
    )


def _dictionary_columns(
    readers: Sequence[Any], text: list[str], view: str, min_df: int
) -> Iterator[tuple[list[bytes], np.ndarray]]:
    """Each segment's terms of ``view`` of each TEXT field in at least ``min_df`` of its
    documents, and their document frequencies."""
    for name in text:
        for reader in readers:
            ft = reader.field_terms(view_field(name, view))
            if ft is not None and ft.n:
                dfs = ft.counts()
                keep = np.flatnonzero(dfs >= min_df)
                yield ft.key_list(keep), dfs[keep]
