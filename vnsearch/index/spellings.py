"""How a segment spells things: for each folded syllable and bigram, its accented forms.

Unaccented queries have their accents restored from the index's own vocabulary
(:mod:`vnsearch.ranking.accents`): ``nha nuoc`` -> ``nhà nước``, the spelling the indexed
text uses most. A segment's answer is read from its term dictionaries: the folded term's
variants (:mod:`vnsearch.index.variants`) are its accented terms, with their document
frequencies summed over the TEXT fields, most frequent first (:class:`SegmentSpellings`).

:func:`accent_tables` answers for the segments of a snapshot: their spellings, merged
(:class:`MergedSpellings`), or, when a segment has no variants file, tables built from
every term of the term dictionaries (:func:`dictionary_tables`, also the tests' oracle).

>>> _forms_table([([b"ha", "hà".encode()], np.array([1, 5])), ([b"ha"], np.array([3]))])
{'ha': (('hà', 5), ('ha', 4))}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from vnsearch.analysis.fold import fold
from vnsearch.errors import DamagedFile
from vnsearch.index.files import MappedFile, buffer_of, mapped_range, open_mapped
from vnsearch.index.schema import TEXT, Schema, view_field
from vnsearch.index.variants import VARIANTS_EXT, Variants, read_variants

__all__ = [
    "TOP_FORMS",
    "MergedSpellings",
    "SegmentSpellings",
    "Table",
    "accent_tables",
    "dictionary_tables",
    "read_spellings",
]

TOP_FORMS = 4  # accented forms kept per folded term
# In a segment with more bigram terms than this, those found in one document (most of
# them, and they say little about how people spell a pair) are left out.
_LARGE = 500_000
# Answers of ``SegmentSpellings.forms`` kept per segment (a few tuples each)
RECENT_FORMS = 4096
_VIEWS = ("syllables", "bigrams")

Forms = tuple[tuple[str, int], ...]  # accented forms and their document frequencies
Table = dict[str, Forms]  # folded term -> its most frequent accented forms


def _forms_table(
    columns: Iterable[tuple[list[bytes], np.ndarray]], top: int | None = TOP_FORMS
) -> Table:
    """The one builder of accent tables: each folded term's accented forms with their
    document frequencies summed over ``columns`` (terms as UTF-8, and their dfs), at most
    ``top`` (:data:`TOP_FORMS`; None: all), most frequent first (ties in code point order).

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
        key: tuple(f if len(f) == 1 else sorted(f, key=_most_frequent)[:top])
        for key, f in forms.items()
    }


def _most_frequent(form: tuple[str, int]) -> tuple[int, str]:
    return -form[1], form[0]


class SegmentSpellings:
    """A segment's accented forms, read from its term dictionaries through its variants."""

    def __init__(
        self, variants: dict[str, Variants], fields: dict[str, Any], pages: Any, span: Any
    ) -> None:
        # per view, each TEXT field's (variants, accented terms, folded terms)
        self._pairs: dict[str, list[tuple[Variants, Any, Any]]] = {v: [] for v in _VIEWS}
        for name, table in sorted(variants.items()):
            view = name.rpartition(".")[2]
            accented, folded = fields.get(name), fields.get(table.folded)
            if view in self._pairs and accented is not None and folded is not None:
                if accented.n != table.m or folded.n != table.n:
                    raise DamagedFile("variants file: tables of other dictionaries")
                self._pairs[view].append((table, accented, folded))
        self._by_folded = {
            table.folded: (table, accented)
            for pairs in self._pairs.values()
            for table, accented, _folded in pairs
        }
        # in a large segment, a bigram found in one document (most of them) says little
        # about how people spell a pair
        bigrams = sum(table.m for table, _a, _f in self._pairs["bigrams"])
        self._min_df = {"syllables": 1, "bigrams": 2 if bigrams > _LARGE else 1}
        # with checksums: the segment file's page checks, and the file's bytes in it
        self._pages = pages
        self.span = span
        # the answers for recently asked terms: queries come back to common syllables and
        # pairs, and a lookup reads scattered pages of the dictionaries
        self.forms = lru_cache(maxsize=RECENT_FORMS)(self._forms)
        self.all_forms = lru_cache(maxsize=RECENT_FORMS)(self._all_forms)

    @property
    def checks_reads(self) -> bool:
        """Whether reads are still checked against the segment file's checksums."""
        return self._pages is not None

    def stop_checking_reads(self) -> None:
        """Read without checking pages against the checksums (every page of the file
        matched, or checks were turned off)."""
        self._pages = None

    def variants(self, folded_field: str, j: int) -> tuple[Any, list[int]]:
        """The accented dictionary of the hidden field ``folded_field``'s variants and the
        numbers in it of folded term ``j``'s."""
        found = self._by_folded.get(folded_field)
        if found is None:
            raise DamagedFile(f"variants file: no table for {folded_field}")
        table, accented = found
        return accented, self._of(table, j)

    def table(self, folded_field: str) -> Variants:
        """The whole variants table of the hidden field ``folded_field`` (checked)."""
        found = self._by_folded.get(folded_field)
        if found is None:
            raise DamagedFile(f"variants file: no table for {folded_field}")
        pages = self._pages
        if pages is not None and not pages.all_checked(*self.span):
            pages.check(*self.span)
        return found[0]

    def _of(self, table: Variants, j: int) -> list[int]:
        pages = self._pages
        if pages is not None and not pages.all_checked(*self.span):
            pages.check(*self.span)
        return table.of(j)

    def _forms(self, view: str, folded: str) -> Forms:
        """The most frequent accented forms of ``folded`` in ``view``, with their df
        summed over the TEXT fields (``forms``, the same through a cache of recent
        answers)."""
        forms = self._all_forms(view, folded)
        return forms if len(forms) <= TOP_FORMS else forms[:TOP_FORMS]

    def _all_forms(self, view: str, folded: str) -> Forms:
        """Every accented form of ``folded`` in ``view`` (most frequent first): what
        tables summed over several indexes (shards) need before they keep the best."""
        key = folded.encode("utf-8")
        min_df = self._min_df.get(view, 1)
        counts: dict[str, int] = {}
        for table, accented, terms in self._pairs.get(view, ()):
            j = terms.find(key)
            if j < 0:
                continue
            found = [(i, df) for i in self._of(table, j) if (df := accented.count(i)) >= min_df]
            if not found:
                continue
            # the keys read a block at a time: a syllable's variants sit in a few blocks
            forms = accented.key_list(np.array([i for i, _df in found], np.int64))
            for raw, (_i, df) in zip(forms, found):
                form = raw.decode("utf-8")
                counts[form] = counts.get(form, 0) + df
        if len(counts) == 1:
            return tuple(counts.items())
        return tuple(sorted(counts.items(), key=_most_frequent))


def read_spellings(
    storage: Any, segment: Any, fields: dict[str, Any], pages: Any = None
) -> SegmentSpellings | None:
    """The segment's spellings over its term dictionaries ``fields`` (by hidden field
    name), or None for a segment without a variants file; with ``pages`` (the mapped
    segment file's :class:`~vnsearch.index.checksums.PageChecks`) the file is checked
    before it is read."""
    name = segment.make_filename(VARIANTS_EXT)
    if not storage.file_exists(name):
        return None
    f = open_mapped(storage, name)
    mapped = mapped_range(storage, name) if isinstance(f, MappedFile) else None
    buf = buffer_of(f) if isinstance(f, MappedFile) else f.read()
    if mapped is None:
        pages = None
    span = (mapped[1], mapped[1] + mapped[2]) if mapped is not None else (0, 0)
    if pages is not None:
        pages.check(span[0], min(span[1], span[0] + 8 + 4096))  # the header
    tables = read_variants(buf, f"segment {segment.segid}: variants file")
    return SegmentSpellings(tables, fields, pages, span)


class MergedSpellings:
    """One view's accented forms, read from the segments' spellings files (summed over
    segments when there are several): a table looked up term by term."""

    __slots__ = ("_segments", "_summed", "_view")

    def __init__(self, segments: list[SegmentSpellings], view: str) -> None:
        self._segments = segments
        self._view = view
        # not one segment: the sums for recently asked terms (each costs a lookup in
        # every segment, and queries come back to common syllables and pairs)
        self._summed = lru_cache(maxsize=RECENT_FORMS)(self._sum) if len(segments) != 1 else None

    def get(self, folded: str, default: Any = ()) -> Forms:
        if self._summed is None:
            return self._segments[0].forms(self._view, folded) or default
        return self._summed(folded) or default

    def _sum(self, folded: str) -> Forms:
        counts: dict[str, int] = {}
        for seg in self._segments:
            for form, df in seg.forms(self._view, folded):
                counts[form] = counts.get(form, 0) + df
        return tuple(sorted(counts.items(), key=_most_frequent)[:TOP_FORMS])

    def all_forms(self, folded: str) -> Forms:
        """Every accented form of ``folded`` (not only the best :data:`TOP_FORMS`), with
        its df summed over the segments, most frequent first."""
        if len(self._segments) == 1:
            return self._segments[0].all_forms(self._view, folded)
        counts: dict[str, int] = {}
        for seg in self._segments:
            for form, df in seg.all_forms(self._view, folded):
                counts[form] = counts.get(form, 0) + df
        return tuple(sorted(counts.items(), key=_most_frequent))


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


def dictionary_tables(
    readers: Sequence[Any], schema: Schema, top: int | None = TOP_FORMS
) -> tuple[Table, Table]:
    """``(bigrams, syllables)`` of :func:`accent_tables`, built from every term of the
    segments' term dictionaries (at most ``top`` forms each; None: all)."""
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
        _forms_table(_dictionary_columns(readers, text, "bigrams", min_df), top),
        _forms_table(_dictionary_columns(readers, text, "syllables", 1), top),
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
