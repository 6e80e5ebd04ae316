"""Schemas: which fields a document has, how each is indexed, saved with the index as JSON.

A ``TEXT`` field becomes one hidden Whoosh field per analysis view (``title.syllables``,
``title.folded``, ...), fed with tokens vnsearch analyzed once; the original text, if
stored, lives in a Whoosh ``STORED`` field of the field's own name.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from whoosh import columns as wc
from whoosh import fields as wf
from whoosh.formats import Frequency, Positions

from vnsearch.analysis import VIEWS
from vnsearch.analysis.user_words import WordList, check_words, word_list
from vnsearch.errors import IncompatibleIndex, SchemaError

__all__ = [
    "DATETIME",
    "FORMAT_VERSION",
    "ID",
    "KEYWORD",
    "NUMERIC",
    "ORDER_FIELD",
    "STORED",
    "TEXT",
    "FieldType",
    "RawPositions",
    "Schema",
    "SchemaError",
    "exact_term",
    "view_field",
    "view_postings",
]

# 2: postings blocks with a 12-byte head, segment files 64-byte aligned in the compound file
# 3: nothing pickled: vnsearch's table of contents, compound directory and stored fields
# 4: stored fields deflated a document at a time, against the segment's dictionary
# 5: no postings for the folded_bigrams views: derived from their variants' (bigrams)
# 6: documents of a list in most of a segment as a bitmap, where that is smaller
FORMAT_VERSION = 6
# The hidden field of a sharded index's shards (``Schema.with_order``): each document's
# place in the order documents were added over every shard, which orders tied hits as one
# index orders them (by document number). Not a name a user can give (it has a dot).
ORDER_FIELD = "shard.order"
# The column key of a NUMERIC or DATETIME document without a value (Whoosh's default for
# 64-bit ints; no float or datetime has it, only the int 2**63 - 1).
MISSING_KEY = (1 << 64) - 1
# The largest boost a TEXT field takes: far above any useful one (0.1 to 10), far below
# where a score times it would overflow to infinity.
MAX_BOOST = 1e6
# Views indexed with positions (phrase queries run on them).
POSITIONAL_VIEWS = frozenset({"syllables", "folded"})


def view_field(name: str, view: str) -> str:
    """The hidden Whoosh field that holds one view of a TEXT field."""
    return f"{name}.{view}"


class RawPositions(Positions):
    """Positions stored as raw ``uint32`` bytes (not Whoosh's pickled deltas): the format
    of a positional field's postings as Whoosh's per-posting interface passes them."""

    def encode(self, poslist: list[int]) -> bytes:
        return array("I", poslist).tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        out = array("I")
        out.frombytes(valuestring)
        return out.tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

    def combine(self, vs: list[bytes]) -> bytes:
        s: set[int] = set()
        for v in vs:
            s.update(self.decode_positions(v))
        return self.encode(sorted(s))


class ViewField(wf.FieldType):
    """A Whoosh field fed with pre-analyzed ``(term, position)`` pairs, not with text."""

    def __init__(self, positions: bool) -> None:
        self.positional = positions
        self.format = RawPositions() if positions else Frequency()
        self.analyzer = None
        self.scorable = True
        self.stored = False
        self.unique = False
        self.vector = None
        self.column_type = None

    def index(self, value: list[tuple[str, int]], **kwargs: Any):
        """Whoosh's indexing entry point (vnsearch's writer uses :func:`view_postings`)."""
        for _f, tbytes, _d, weight, vbytes, freq in sorted(view_postings("", self, value)):
            yield tbytes, freq, weight, vbytes


def view_postings(field: str, wfield: ViewField, pairs) -> list[tuple]:
    """``(field, term bytes, 0, weight, positions bytes, frequency)`` for each term of a
    view, from its ``(term, position)`` pairs (or tokens, whose [0] and [3] are those)."""
    positions: dict[str, list[int]] = {}
    pos = 1 if pairs and len(pairs[0]) == 2 else 3
    for t in pairs:
        p = positions.get(t[0])
        if p is None:
            positions[t[0]] = [t[pos]]
        else:
            p.append(t[pos])
    encode = wfield.format.encode if wfield.positional else None
    return [
        (field, term.encode("utf-8"), 0, float(len(p)), encode(p) if encode else b"", len(p))
        for term, p in positions.items()
    ]


@dataclass(frozen=True)
class FieldType:
    """Base of vnsearch's field types."""

    kind: ClassVar[str] = ""
    stored: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("bool", bool) and not isinstance(value, bool):
                raise SchemaError(f"{self.kind}: {f.name} must be True or False, got {value!r}")

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, **asdict(self)}


@dataclass(frozen=True)
class TEXT(FieldType):
    """Vietnamese text: analyzed into every view, ranked with BM25F, weighted by ``boost``.

    >>> TEXT(stored=True, boost=2.0).to_json()
    {'type': 'TEXT', 'stored': True, 'boost': 2.0}
    """

    kind: ClassVar[str] = "TEXT"
    boost: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        boost = self.boost
        if (
            isinstance(boost, bool)
            or not isinstance(boost, (int, float))
            or not 0 <= boost <= MAX_BOOST  # NaN fails too
        ):
            raise SchemaError(
                f"TEXT: boost must be a number from 0 to {MAX_BOOST:g}, got {boost!r}"
            )


@dataclass(frozen=True)
class ID(FieldType):
    """An exact value (not analyzed); ``unique=True`` makes it the document's identity.

    >>> ID(stored=True, unique=True).unique
    True
    """

    kind: ClassVar[str] = "ID"
    unique: bool = False


@dataclass(frozen=True)
class KEYWORD(FieldType):
    """Exact values for filtering (a string, or a list of strings), lowercased by default.

    >>> KEYWORD().lowercase
    True
    """

    kind: ClassVar[str] = "KEYWORD"
    lowercase: bool = True


@dataclass(frozen=True)
class NUMERIC(FieldType):
    """A number (``int`` or ``float``): filterable and sortable.

    >>> NUMERIC(numtype="float").numtype
    'float'
    """

    kind: ClassVar[str] = "NUMERIC"
    numtype: str = "int"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.numtype not in ("int", "float"):
            raise SchemaError(f"NUMERIC: numtype must be 'int' or 'float', got {self.numtype!r}")


@dataclass(frozen=True)
class DATETIME(FieldType):
    """A ``datetime.datetime``: filterable and sortable.

    >>> DATETIME(stored=True).stored
    True
    """

    kind: ClassVar[str] = "DATETIME"


@dataclass(frozen=True)
class STORED(FieldType):
    """Kept with the document and returned with hits, not indexed.

    >>> STORED().stored
    True
    """

    kind: ClassVar[str] = "STORED"
    stored: bool = True


def exact_term(ftype: FieldType, value: object) -> str:
    """The term an ID or KEYWORD field holds for ``value`` as a query or a filter gives it:
    a KEYWORD lowercases it (unless made with ``lowercase=False``), as it was indexed.

    >>> exact_term(KEYWORD(), "Thể_thao"), exact_term(ID(), "A1")
    ('thể_thao', 'A1')
    """
    text = str(value)
    return text.lower() if isinstance(ftype, KEYWORD) and ftype.lowercase else text


_TYPES: dict[str, type[FieldType]] = {
    t.kind: t for t in (TEXT, ID, KEYWORD, NUMERIC, DATETIME, STORED)
}


def _short(value: object) -> str:
    """A value for an error message: its type, and its text if short."""
    text = repr(value) if isinstance(value, (int, float, str, type(None))) else ""
    return text if 0 < len(text) <= 40 else f"a {type(value).__name__}"


def _field_from_json(name: str, spec: object) -> FieldType:
    """One field type from its JSON object (``{"type": "TEXT", "stored": true, ...}``)."""
    if not isinstance(spec, dict):
        raise SchemaError(f"field {_short(name)}: expected an object, got {_short(spec)}")
    spec = dict(spec)
    kind = spec.pop("type", None)
    ftype = _TYPES.get(kind) if isinstance(kind, str) else None
    if ftype is None:
        raise SchemaError(f"field {_short(name)}: unknown type {_short(kind)}")
    known = {f.name for f in fields(ftype)}
    unknown = sorted(k for k in spec if k not in known)
    if unknown:
        raise SchemaError(f"field {_short(name)}: {kind} has no {_short(unknown[0])}")
    try:
        return ftype(**spec)
    except SchemaError as exc:
        raise SchemaError(f"field {_short(name)}: {exc}") from None


class Schema(Mapping[str, FieldType]):
    """The fields of the documents of an index, and the index's own words.

    ``user_words``: words of several syllables (product names, ``"Thế Giới Di Động"``) that
    the TEXT fields' ``words`` view keeps whole, in documents and queries, wherever pyvi's
    segmentation would cut them; ``user_stopwords``: words (of one or more syllables) that
    queries drop as they drop the built-in stop words (:data:`vnsearch.STOPWORDS`). Both are
    saved with the index (``vnsearch.json``): changing them means indexing again into a
    new index. Neither can be a field's name.

    >>> s = Schema(id=ID(stored=True, unique=True), title=TEXT(stored=True, boost=2.0))
    >>> s.unique_field, s.text_fields
    ('id', ('title',))
    >>> Schema.from_json(s.to_json()) == s
    True
    >>> Schema(body=TEXT(), user_words=["Thế Giới Di Động"]).user_words
    ('thế giới di động',)
    """

    def __init__(
        self,
        /,
        *,
        user_words: Iterable[str] = (),
        user_stopwords: Iterable[str] = (),
        **fields: FieldType,
    ) -> None:
        try:
            self.user_words = check_words(user_words, "user_words")
            self.user_stopwords = check_words(user_stopwords, "user_stopwords")
        except ValueError as exc:
            raise SchemaError(str(exc)) from None
        if not fields:
            raise SchemaError("a schema needs at least one field")
        for name, ftype in fields.items():
            if not isinstance(ftype, FieldType):
                raise SchemaError(f"field {name!r}: {ftype!r} is not a vnsearch field type")
            if name == ORDER_FIELD and ftype == NUMERIC():
                continue  # the shards' own field (with_order)
            if not name.isidentifier() or name.startswith("_"):
                raise SchemaError(f"field name {name!r}: use letters, digits and _, not first")
        unique = [n for n, f in fields.items() if isinstance(f, ID) and f.unique]
        if len(unique) > 1:
            raise SchemaError(f"only one unique field is allowed, got {unique}")
        self._fields = dict(fields)
        self.unique_field: str | None = unique[0] if unique else None
        self.text_fields = tuple(n for n, f in fields.items() if isinstance(f, TEXT))

    def __getitem__(self, name: str) -> FieldType:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[object, ...]:
        return (tuple(self._fields.items()), self.user_words, self.user_stopwords)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={f!r}" for n, f in self._fields.items())
        for name in ("user_words", "user_stopwords"):
            if getattr(self, name):
                inner += f", {name}={list(getattr(self, name))!r}"
        return f"Schema({inner})"

    def with_order(self) -> Schema:
        """This schema and the field :data:`ORDER_FIELD` (an int column, not stored): the
        schema of a sharded index's shards.

        >>> Schema(id=ID(unique=True)).with_order().has_order
        True
        """
        options = {"user_words": self.user_words, "user_stopwords": self.user_stopwords}
        return Schema(**options, **{**self._fields, ORDER_FIELD: NUMERIC()})

    @property
    def has_order(self) -> bool:
        """Whether documents carry :data:`ORDER_FIELD` (a shard's schema)."""
        return ORDER_FIELD in self._fields

    def word_list(self) -> WordList:
        """:attr:`user_words` as a :class:`~vnsearch.analysis.user_words.WordList`."""
        return word_list(self.user_words)

    def stopword_list(self) -> WordList:
        """:attr:`user_stopwords` as a :class:`~vnsearch.analysis.user_words.WordList`."""
        return word_list(self.user_stopwords)

    def to_json(self) -> str:
        """The schema as JSON, with vnsearch's index format version (and the user's words
        and stop words, when there are any)."""
        data: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "fields": {n: f.to_json() for n, f in self._fields.items()},
        }
        if self.user_words:
            data["user_words"] = list(self.user_words)
        if self.user_stopwords:
            data["user_stopwords"] = list(self.user_stopwords)
        return json.dumps(data, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Schema:
        """Read a schema saved by :meth:`to_json`; checks the format version and every
        value: anything else is a :class:`SchemaError` (or :class:`IncompatibleIndex`)."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            reason = str(exc)[:100] or type(exc).__name__
            raise SchemaError(f"not a vnsearch schema: not JSON ({reason})") from None
        if not isinstance(data, dict) or "format" not in data or "fields" not in data:
            raise SchemaError("not a vnsearch schema: no 'format' and 'fields'")
        version = data["format"]
        if type(version) is not int:
            raise SchemaError(f"format: expected a whole number, got {_short(version)}")
        if version != FORMAT_VERSION:
            raise IncompatibleIndex(
                f"index format version {version}, this vnsearch reads version {FORMAT_VERSION}: "
                + (
                    "rebuild the index from its sources into a new folder "
                    "(vnsearch index SOURCE... --index NEW_FOLDER)"
                    if version < FORMAT_VERSION
                    else "written by a newer vnsearch; upgrade vnsearch to read it"
                )
            )
        specs = data["fields"]
        if not isinstance(specs, dict):
            raise SchemaError(f"fields: expected an object, got {_short(specs)}")
        fields = {name: _field_from_json(name, spec) for name, spec in specs.items()}
        for name in ("user_words", "user_stopwords"):
            if name in fields:
                raise SchemaError(f"field {name!r}: the name of a schema option, not a field")
        words = data.get("user_words", [])
        stops = data.get("user_stopwords", [])
        if not isinstance(words, list) or not isinstance(stops, list):
            raise SchemaError("user_words, user_stopwords: expected lists of words")
        return cls(user_words=words, user_stopwords=stops, **fields)

    def whoosh_schema_cached(self) -> wf.Schema:
        """:meth:`whoosh_schema`, built once per schema object."""
        cached = self.__dict__.get("_whoosh")
        if cached is None:
            cached = self.__dict__["_whoosh"] = self.whoosh_schema()
        return cached

    def whoosh_schema(self) -> wf.Schema:
        """The Whoosh schema that stores this one."""
        out: dict[str, wf.FieldType] = {}
        for name, f in self._fields.items():
            if isinstance(f, TEXT):
                if f.stored:
                    out[name] = wf.STORED()
                for view in VIEWS:
                    out[view_field(name, view)] = ViewField(view in POSITIONAL_VIEWS)
            elif isinstance(f, ID):
                out[name] = wf.ID(stored=f.stored, unique=f.unique)
            elif isinstance(f, KEYWORD):
                out[name] = wf.KEYWORD(stored=f.stored, lowercase=f.lowercase, commas=True)
            elif isinstance(f, NUMERIC):
                numtype = float if f.numtype == "float" else int
                field = wf.NUMERIC(numtype=numtype, bits=64, stored=f.stored, sortable=True)
                if numtype is float:
                    # Whoosh's float default (NaN) cannot be packed into its uint64 column
                    # (writing any float failed); use the largest key, as for ints
                    field.column_type = wc.NumericColumn("Q", default=MISSING_KEY)
                out[name] = field
            elif isinstance(f, DATETIME):
                out[name] = wf.DATETIME(stored=f.stored, sortable=True)
            else:
                out[name] = wf.STORED()
        return wf.Schema(**out)
