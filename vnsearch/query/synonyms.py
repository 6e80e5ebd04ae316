"""Synonym tables: forms that mean the same (``UBND`` and ``ủy ban nhân dân``), read from a
file or a mapping, and the runs of query words that read as one of them.

The file format (UTF-8, one group of equivalent forms a line)::

    # a comment: from ``#`` at the start of a line or after a space, to the end of it
    TP.HCM, TPHCM, HCM => thành phố Hồ Chí Minh
    ô tô, xe hơi

``a, b => c`` and ``a, b, c`` mean the same: all of ``a``, ``b`` and ``c`` are equivalent,
in both directions (the arrow only reads well). Groups that share a form are one group.
A malformed line is a :class:`~vnsearch.errors.SynonymsError` naming ``file:line``.

Forms are compared as the index reads text: normalized, lowercase, a compound cut into its
parts (``TP.HCM``, ``TP HCM`` and ``Tp-HCM`` are one form); a run of query words typed
without any accent is also compared folded (``thanh pho ho chi minh``), one typed with
accents only as typed (``tư`` is not ``TW``).

>>> t = Synonyms.parse("UBND => ủy ban nhân dân")
>>> t.matches(["UBND", "Hà", "Nội"])
[Match(start=0, end=1, alternatives=('uỷ ban nhân dân',))]
>>> t.matches(["uy", "ban", "nhan", "dan"])
[Match(start=0, end=4, alternatives=('ubnd',))]
>>> ABBREVIATIONS.matches(["tphcm"])[0].alternatives
('hcm', 'tp hồ chí minh', 'thành phố hồ chí minh')
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, TypeAlias

from vnsearch.analysis import syllables
from vnsearch.analysis.fold import fold
from vnsearch.errors import SynonymsError
from vnsearch.query.abbreviations import ABBREVIATIONS_TEXT

__all__ = ["ABBREVIATIONS", "Match", "Synonyms", "SynonymsOption", "as_synonyms", "form_key"]

MAX_FORM_SYLLABLES = 12
"""The most syllables a form may have (longer ones are refused: a form is a name, not a text)."""
MAX_ALTERNATIVES = 8
"""The most other forms one run of query words is also searched as (the first ones kept)."""

Key = tuple[str, ...]
_FIRST = re.compile(r"[^\W_]+")  # a word's first run of letters and digits: its first syllable


class Match(NamedTuple):
    """Query words ``start`` to ``end`` (excluded) read as a form of a group: the group's
    other forms, each its syllables joined by spaces (lowercase), to search as well."""

    start: int
    end: int
    alternatives: tuple[str, ...]


@lru_cache(maxsize=4096)
def form_key(text: str) -> tuple[Key, Key]:
    """The syllables of ``text`` as compared, lowercase, and the same folded; a compound is
    its parts (``TP.HCM`` -> ``('tp', 'hcm')``).

    >>> form_key("Tp.HCM"), form_key("Hà  Nội")
    ((('tp', 'hcm'), ('tp', 'hcm')), (('hà', 'nội'), ('ha', 'noi')))
    """
    tokens = syllables(text)
    words = [
        t.text.lower()
        for j, t in enumerate(tokens)
        if not (j + 1 < len(tokens) and tokens[j + 1].kind == "part" and t.kind != "part")
    ]
    exact = tuple(words)
    return exact, tuple(fold(w) for w in words)


class Synonyms:
    """A table of groups of equivalent forms (immutable). ``Synonyms()`` is empty; ``a | b``
    holds the groups of both (merged where they share a form).

    >>> t = Synonyms([["ô tô", "xe hơi"], ["xe hơi", "xe con"]])
    >>> print(t)
    ô tô, xe hơi, xe con
    >>> len(t | Synonyms.parse("HN => Hà Nội"))
    2
    """

    def __init__(self, groups: Iterable[Iterable[str]] = ()) -> None:
        merged: list[list[str]] = []
        at: dict[Key, int] = {}  # exact key -> its group in ``merged``
        for group in groups:
            forms = [f for f in dict.fromkeys(group) if form_key(f)[0]]
            joined = sorted({at[k] for f in forms if (k := form_key(f)[0]) in at})
            target = joined[0] if joined else len(merged)
            if not joined:
                merged.append([])
            for other in joined[1:]:  # a form in two groups: one group
                merged[target] += merged[other]
                for f in merged[other]:
                    at[form_key(f)[0]] = target
                merged[other] = []
            for f in forms:
                if form_key(f)[0] not in at:
                    merged[target].append(f)
                    at[form_key(f)[0]] = target
        self.groups: tuple[tuple[str, ...], ...] = tuple(tuple(g) for g in merged if len(g) > 1)
        self._exact: dict[Key, int] = {}
        self._folded: dict[Key, list[int]] = {}
        for n, group in enumerate(self.groups):
            for f in group:
                exact, folded = form_key(f)
                self._exact[exact] = n
                self._folded.setdefault(folded, []).append(n)
        self._firsts = {k[0] for k in self._folded}
        self._prefixes = {k[:n] for k in self._folded for n in range(1, len(k) + 1)}

    @classmethod
    def parse(cls, text: str, where: str = "<synonyms>") -> Synonyms:
        """The table written in ``text`` in the file format (``where`` names it in errors)."""
        groups = []
        for n, line in enumerate(text.splitlines(), 1):
            forms = _line_forms(line, f"{where}:{n}")
            if forms:
                groups.append(forms)
        return cls(groups)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Synonyms:
        """The table in the UTF-8 file ``path``."""
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SynonymsError(f"{path}: not UTF-8 (byte {exc.start})") from None
        except OSError as exc:
            raise SynonymsError(f"{path}: cannot read ({exc.strerror or exc})") from None
        return cls.parse(text, str(path))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str | Iterable[str]]) -> Synonyms:
        """The table of ``{form: other form or forms}`` (``{"HN": "Hà Nội"}``)."""
        groups = []
        for key, value in mapping.items():
            others = [value] if isinstance(value, str) else value
            if not isinstance(key, str) or not isinstance(others, Iterable):
                raise SynonymsError(f"synonyms: {key!r}: expected str keys and str values")
            group = [key, *others]
            for f in group:
                if not isinstance(f, str):
                    raise SynonymsError(f"synonyms: {key!r}: {f!r} is not a str")
                _check_form(f, f"synonyms: {key!r}")
            groups.append(group)
        return cls(groups)

    def matches(self, words: Sequence[str]) -> list[Match]:
        """The runs of ``words`` (query words side by side, as typed) that read as a form,
        longest first from the left, with the other forms of their groups."""
        found: list[Match] = []
        firsts = self._firsts
        # most words start no form: only those that do are analyzed, with the words after
        keys: list[tuple[Key, Key] | None] = [None] * len(words)
        start = 0
        while start < len(words):
            end = start
            if _first(words[start]) in firsts:
                end = self._longest_run(words, keys, start)
            if end > start:
                exact = tuple(s for w in words[start:end] for s in form_key(w)[0])
                alternatives = self._alternatives(exact)
                if alternatives:
                    found.append(Match(start, end, alternatives))
                start = end
            else:
                start += 1
        return found

    def _groups_of(self, exact: Key) -> list[int]:
        """The groups a run reads as: by its exact syllables, or, typed without any
        accent, by its folded ones."""
        n = self._exact.get(exact)
        if n is not None:
            return [n]
        folded = tuple(map(fold, exact))
        return self._folded.get(folded, []) if folded == exact else []

    def _longest_run(self, words: Sequence[str], keys: list, start: int) -> int:
        """Where the longest run of ``words`` from ``start`` that reads as a form ends
        (``start``: none does); ``keys`` holds the words' keys once worked out."""
        exact: list[str] = []
        folded: list[str] = []
        best = start
        for end in range(start + 1, len(words) + 1):
            key = keys[end - 1]
            if key is None:
                key = keys[end - 1] = form_key(words[end - 1])
            exact += key[0]
            folded += key[1]
            if tuple(folded) not in self._prefixes:
                break
            if self._groups_of(tuple(exact)):
                best = end
        return best

    def _alternatives(self, exact: Key) -> tuple[str, ...]:
        """The other forms of the groups ``exact`` reads as, each once; a form that holds
        another one (``TP HCM`` and ``HCM``) left out: the shorter finds it."""
        keys: dict[Key, None] = {}
        for n in self._groups_of(exact):
            for f in self.groups[n]:
                k = form_key(f)[0]
                if k != exact and tuple(map(fold, k)) != exact:
                    keys.setdefault(k)
        kept = [k for k in keys if not any(o != k and _holds(k, o) for o in keys)]
        if len(exact) == 1:  # a word matched on its own finds the forms that hold it
            kept = [k for k in kept if not _holds(k, exact)]
        return tuple(" ".join(k) for k in kept[:MAX_ALTERNATIVES])

    def __or__(self, other: Synonyms) -> Synonyms:
        return Synonyms([*self.groups, *other.groups])

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Synonyms) and self.groups == other.groups

    def __hash__(self) -> int:
        return hash(self.groups)

    def __str__(self) -> str:
        """The table in the file format, a group a line."""
        return "\n".join(", ".join(g) for g in self.groups)

    def __repr__(self) -> str:
        return f"<Synonyms: {len(self.groups)} groups>"


@lru_cache(maxsize=16384)
def _first(word: str) -> str:
    """The first syllable of ``word``, folded (what a form it starts begins with)."""
    m = _FIRST.search(word)
    return fold(m.group().lower()) if m is not None else ""


def _holds(key: Key, part: Key) -> bool:
    """Whether ``part`` stands in ``key``, syllable after syllable."""
    n = len(part)
    return any(key[i : i + n] == part for i in range(len(key) - n + 1))


def _check_form(form: str, where: str) -> None:
    if not form.strip():
        raise SynonymsError(f"{where}: an empty form (two commas, or a comma at an end)")
    exact = form_key(form)[0]
    if not exact:
        raise SynonymsError(f"{where}: {form!r} has no letter or digit to search")
    if len(exact) > MAX_FORM_SYLLABLES:
        raise SynonymsError(f"{where}: {form[:40]!r}… has over {MAX_FORM_SYLLABLES} syllables")


def _line_forms(line: str, where: str) -> list[str]:
    """The forms of one line of a synonym file (none: a blank line or a comment)."""
    cut = line.find("#")
    while cut > 0 and not line[cut - 1].isspace():
        cut = line.find("#", cut + 1)
    text = (line if cut < 0 else line[:cut]).strip()
    if not text:
        return []
    sides = text.split("=>")
    if len(sides) > 2:
        raise SynonymsError(f"{where}: more than one '=>'")
    forms = [f.strip() for side in sides for f in side.split(",")]
    for f in forms:
        _check_form(f, where)
    if len({form_key(f)[0] for f in forms}) < 2:
        raise SynonymsError(f"{where}: a line needs two different forms ('a, b' or 'a => b')")
    return forms


ABBREVIATIONS = Synonyms.parse(ABBREVIATIONS_TEXT, "vnsearch's built-in abbreviations")
"""The built-in table of common Vietnamese abbreviations (:mod:`.abbreviations`)."""

NO_SYNONYMS = Synonyms()


# What a ``synonyms=`` option takes (see :func:`as_synonyms`); None: the default.
SynonymsOption: TypeAlias = (
    Synonyms | bool | str | os.PathLike[str] | Mapping[str, str | Iterable[str]] | None
)


def as_synonyms(value: object) -> Synonyms:
    """The table a ``synonyms=`` option means: a :class:`Synonyms` as it is; ``True`` the
    built-in :data:`ABBREVIATIONS`; ``False`` none; a path (``str`` or ``PathLike``) or a
    mapping: its table and the built-in one.

    >>> len(as_synonyms(False)), len(as_synonyms({"ô tô": "xe hơi"})) - len(ABBREVIATIONS)
    (0, 1)
    """
    if isinstance(value, Synonyms):
        return value
    if isinstance(value, bool):
        return ABBREVIATIONS if value else NO_SYNONYMS
    if isinstance(value, (str, os.PathLike)):
        return ABBREVIATIONS | Synonyms.read(value)
    if isinstance(value, Mapping):
        return ABBREVIATIONS | Synonyms.from_mapping(value)
    raise TypeError(
        f"synonyms must be a Synonyms, True, False, a path or a mapping, not {type(value).__name__}"
    )
