"""pyvi's word-segmentation CRF, read without scikit-learn and decoded with numpy.

pyvi ships its model as a pickled ``sklearn_crfsuite.CRF`` whose state holds the binary
CRFsuite model file. Unpickling it the ordinary way imports scikit-learn (~0.9 s), so
:func:`load_pyvi_model` reads the pickle with a restricted unpickler that builds no class
of scikit-learn's, takes the CRFsuite bytes out of it, and parses the CRFsuite ``FOMC``
format (header, feature table, attribute dictionary) itself. The weights are then arranged
by pyvi's feature templates, so a whole document's state scores are a handful of numpy
operations instead of one Python dict of features per syllable.

Scores are summed in the order CRFsuite sums them (attribute by attribute, in pyvi's
template order) and Viterbi breaks ties the way CRFsuite does, so the labels are the
ones pyvi computes, bit for bit (tests/analysis/test_segment_pyvi.py checks this against
python-crfsuite and against pyvi itself).
"""

from __future__ import annotations

import codecs
import importlib.util
import pickle
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from vnsearch.errors import ModelError

__all__ = ["CrfModel", "load_pyvi_model", "pyvi_model_dir"]

# pyvi's templates, in the order pyvi's word2features inserts them into its feature dict.
UNIGRAM_TEMPLATES = ("word.lower()", "-1:word.lower()", "+1:word.lower()")
FLAG_TEMPLATES = (
    "bias",
    "word.isupper()",
    "word.istitle()",
    "word.isdigit()",
    "-1:word.istitle()",
    "-1:word.isupper()",
    "-1:word.bi_gram()",
    "-2:word.tri_gram()",
    "+1:word.istitle()",
    "+1:word.isupper()",
    "+1:word.bi_gram()",
    "+2:word.tri_gram()",
)


@dataclass(frozen=True)
class CrfModel:
    """The weights of a two-label (``B_W``/``I_W``) segmentation CRF, by template.

    ``vocab`` maps a lowercased syllable to a row of ``unigram[template]`` (shape
    ``(len(vocab) + 1, 2)``; the last row is zeros for unknown syllables). ``flags[name]``
    is the weight pair of a boolean template. ``transitions[i][j]`` scores label ``i``
    followed by label ``j``. ``bigrams``/``trigrams`` are pyvi's dictionary of words.

    >>> model = load_pyvi_model()
    >>> model.labels
    ('B_W', 'I_W')
    """

    labels: tuple[str, ...]
    vocab: dict[str, int]
    unigram: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]
    transitions: tuple[tuple[float, float], tuple[float, float]]
    bigrams: frozenset[str]
    trigrams: frozenset[str]

    @cached_property
    def flag_floats(self) -> dict[str, list[float]]:
        """``flags`` as Python floats (what :func:`emissions_small` sums)."""
        return {name: w.tolist() for name, w in self.flags.items()}

    @cached_property
    def neighbour_rows(self) -> np.ndarray:
        """Per syllable id: the unigram weights of the syllable itself, as the one before
        and as the one after (``(len(vocab) + 1, 6)``; one gather for a short text)."""
        return np.hstack([self.unigram[t] for t in UNIGRAM_TEMPLATES])


def pyvi_model_dir() -> Path:
    """The ``models`` folder of the installed pyvi package (pyvi itself is not imported)."""
    spec = importlib.util.find_spec("pyvi")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("pyvi is not installed: pip install pyvi")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class _State:
    """Stands in for every class in pyvi's pickle: keeps the state, runs no code."""

    def __init__(self, *args: object) -> None:
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("_codecs", "encode"):
            return codecs.encode
        if module.startswith(("sklearn_crfsuite", "pycrfsuite", "numpy")):
            return _State
        raise pickle.UnpicklingError(f"unexpected global {module}.{name} in pyvi's model")


def _crfsuite_bytes(pickle_path: Path) -> bytes:
    with open(pickle_path, "rb") as f:
        crf = _ModelUnpickler(f).load()
    try:
        return crf.state["modelfile"].state["__FILE_RESOURCE_DATA__"]
    except (AttributeError, KeyError, TypeError) as exc:
        raise ModelError(f"{pickle_path} does not hold a CRFsuite model") from exc


def _cqdb_strings(data: bytes, offset: int) -> list[str]:
    """The id -> string table of a CRFsuite CQDB chunk."""
    chunk, _size, _flag, _order, count, bwd = struct.unpack_from("<4sIIIII", data, offset)
    if chunk != b"CQDB":
        raise ModelError("bad CQDB chunk in CRFsuite model")
    out = []
    for i, rec in enumerate(struct.unpack_from(f"<{count}I", data, offset + bwd)):
        rid, size = struct.unpack_from("<II", data, offset + rec)
        if rid != i:
            raise ModelError("bad CQDB record order in CRFsuite model")
        out.append(data[offset + rec + 8 : offset + rec + 7 + size].decode("utf-8"))
    return out


def parse_crfsuite(data: bytes) -> tuple[list[str], list[str], np.ndarray]:
    """Parse a CRFsuite ``FOMC`` model: labels, attributes and the feature table.

    The feature table is a structured array of ``type`` (0 state, 1 transition),
    ``src`` (attribute or label id), ``dst`` (label id) and ``weight``.
    """
    head = struct.unpack_from("<4sI4sIIIIIIIII", data, 0)
    if head[0] != b"lCRF" or head[2] != b"FOMC":
        raise ModelError("not a CRFsuite FOMC model")
    off_features, off_labels, off_attrs = head[7], head[8], head[9]
    chunk, _size, count = struct.unpack_from("<4sII", data, off_features)
    if chunk != b"FEAT":
        raise ModelError("bad feature chunk in CRFsuite model")
    dtype = np.dtype([("type", "<u4"), ("src", "<u4"), ("dst", "<u4"), ("weight", "<f8")])
    features = np.frombuffer(data, dtype=dtype, count=count, offset=off_features + 12)
    return _cqdb_strings(data, off_labels), _cqdb_strings(data, off_attrs), features


def _read_words(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    bigrams, trigrams = set(), set()
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            n = line.count(" ")
            if n == 1:
                bigrams.add(line)
            elif n == 2:
                trigrams.add(line)
    return frozenset(bigrams), frozenset(trigrams)


def build_model(crfsuite: bytes, words_path: Path) -> CrfModel:
    """Arrange a CRFsuite model's weights by pyvi's templates."""
    labels, attrs, features = parse_crfsuite(crfsuite)
    if labels != ["B_W", "I_W"]:
        raise ModelError(f"expected labels B_W, I_W; the model has {labels}")
    trans = [[0.0, 0.0], [0.0, 0.0]]
    state: dict[str, np.ndarray] = {}
    for ftype, src, dst, weight in features.tolist():
        if ftype == 1:
            trans[src][dst] = weight
        else:
            state.setdefault(attrs[src], np.zeros(2))[dst] = weight
    vocab: dict[str, int] = {}
    by_template: dict[str, dict[str, np.ndarray]] = {t: {} for t in UNIGRAM_TEMPLATES}
    flags = {name: np.zeros(2) for name in FLAG_TEMPLATES}
    for attr, weights in state.items():
        if attr in flags:
            flags[attr] = weights
            continue
        template, sep, value = attr.partition(":")
        if template in ("-1", "+1"):
            rest, sep, value = value.partition(":")
            template = f"{template}:{rest}"
        if not sep or template not in by_template:
            raise ModelError(f"unknown attribute {attr!r} in pyvi's model")
        by_template[template][value] = weights
        vocab.setdefault(value, len(vocab))
    unigram = {}
    for template, table in by_template.items():
        rows = np.zeros((len(vocab) + 1, 2))
        for value, weights in table.items():
            rows[vocab[value]] = weights
        unigram[template] = rows
    bigrams, trigrams = _read_words(words_path)
    return CrfModel(
        labels=tuple(labels),
        vocab=vocab,
        unigram=unigram,
        flags=flags,
        transitions=((trans[0][0], trans[0][1]), (trans[1][0], trans[1][1])),
        bigrams=bigrams,
        trigrams=trigrams,
    )


_lock = threading.Lock()
_cache: dict[Path, CrfModel] = {}


def load_pyvi_model(model_dir: Path | None = None) -> CrfModel:
    """Load (once per process, thread-safely) pyvi's Python 3 segmentation model."""
    directory = model_dir or pyvi_model_dir()
    model = _cache.get(directory)
    if model is None:
        with _lock:
            model = _cache.get(directory)
            if model is None:
                try:
                    data = _crfsuite_bytes(directory / "pyvi3.pkl")
                    model = build_model(data, directory / "words.txt")
                except OSError as exc:
                    raise ModelError(f"cannot read pyvi's model: {exc}") from exc
                _cache[directory] = model
    return model


def emissions(
    model: CrfModel,
    ids: Sequence[int],
    lows: Sequence[str],
    upper: Sequence[bool],
    title: Sequence[bool],
    digit: Sequence[bool],
) -> np.ndarray:
    """State scores, shape ``(n, 2)``, summed in CRFsuite's order over pyvi's templates.

    ``lows`` are the lowercased syllables, ``ids`` their rows in ``model.vocab``; ``upper``,
    ``title`` and ``digit`` are ``str.isupper()``, ``istitle()`` and ``isdigit()`` of each.
    """
    n = len(lows)
    flags = model.flags
    f64 = np.float64
    upper = np.array(upper, dtype=f64)
    title = np.array(title, dtype=f64)
    digit = np.array(digit, dtype=f64)
    big, tri = model.bigrams, model.trigrams
    bi = np.zeros(n + 1)
    tr = np.zeros(n + 2)
    if n > 1:
        pairs = [f"{a} {b}" for a, b in zip(lows, lows[1:])]
        bi[1:n] = [p in big for p in pairs]
        if n > 2:
            tr[2:n] = [f"{p} {c}" in tri for p, c in zip(pairs, lows[2:])]
    idx = np.array(ids, dtype=np.intp)
    outer = np.multiply.outer
    s = np.zeros((n, 2))
    s += flags["bias"]
    s += model.unigram["word.lower()"][idx]
    s += outer(upper, flags["word.isupper()"])
    s += outer(title, flags["word.istitle()"])
    s += outer(digit, flags["word.isdigit()"])
    if n > 1:
        prev = s[1:]
        prev += model.unigram["-1:word.lower()"][idx[:-1]]
        prev += outer(title[:-1], flags["-1:word.istitle()"])
        prev += outer(upper[:-1], flags["-1:word.isupper()"])
        prev += outer(bi[1:n], flags["-1:word.bi_gram()"])
        if n > 2:
            s[2:] += outer(tr[2:n], flags["-2:word.tri_gram()"])
        nxt = s[:-1]
        nxt += model.unigram["+1:word.lower()"][idx[1:]]
        nxt += outer(title[1:], flags["+1:word.istitle()"])
        nxt += outer(upper[1:], flags["+1:word.isupper()"])
        nxt += outer(bi[1:n], flags["+1:word.bi_gram()"])
        if n > 2:
            s[:-2] += outer(tr[2:n], flags["+2:word.tri_gram()"])
    return s


# Up to this many syllables, state scores are summed with Python floats: numpy's fixed cost
# per operation is larger than the work for a short text such as a query.
SMALL = 24


def emissions_small(
    model: CrfModel,
    ids: Sequence[int],
    lows: Sequence[str],
    upper: Sequence[bool],
    title: Sequence[bool],
    digit: Sequence[bool],
) -> list[list[float]]:
    """:func:`emissions` as two columns of Python floats, bit for bit: every score adds
    the same products in the same order (IEEE addition and multiplication as numpy's)."""
    n = len(lows)
    f = model.flag_floats
    rows = model.neighbour_rows[list(ids)].tolist()  # per syllable: as itself, -1, +1
    up = [float(x) for x in upper]
    ti = [float(x) for x in title]
    di = [float(x) for x in digit]
    big, tri = model.bigrams, model.trigrams
    pairs = [f"{a} {b}" for a, b in zip(lows, lows[1:])]
    bi = [0.0, *(float(p in big) for p in pairs), 0.0]  # bi[i]: syllables i - 1, i
    tr = [0.0, 0.0, *(float(f"{p} {c}" in tri) for p, c in zip(pairs, lows[2:])), 0.0, 0.0]
    columns = []
    for c in (0, 1):
        col = []
        for i in range(n):
            x = 0.0 + f["bias"][c]
            x += rows[i][c]
            x += up[i] * f["word.isupper()"][c]
            x += ti[i] * f["word.istitle()"][c]
            x += di[i] * f["word.isdigit()"][c]
            if i >= 1:
                x += rows[i - 1][2 + c]
                x += ti[i - 1] * f["-1:word.istitle()"][c]
                x += up[i - 1] * f["-1:word.isupper()"][c]
                x += bi[i] * f["-1:word.bi_gram()"][c]
            if i >= 2:
                x += tr[i] * f["-2:word.tri_gram()"][c]
            if i <= n - 2:
                x += rows[i + 1][4 + c]
                x += ti[i + 1] * f["+1:word.istitle()"][c]
                x += up[i + 1] * f["+1:word.isupper()"][c]
                x += bi[i + 1] * f["+1:word.bi_gram()"][c]
            if i <= n - 3:
                x += tr[i + 2] * f["+2:word.tri_gram()"][c]
            col.append(x)
        columns.append(col)
    return columns


def viterbi(model: CrfModel, scores: np.ndarray | list[list[float]]) -> bytearray:
    """Best label sequence (0 = ``B_W``, 1 = ``I_W``), ties broken as CRFsuite does.

    ``scores`` is :func:`emissions`' array or :func:`emissions_small`'s two columns."""
    if isinstance(scores, np.ndarray):
        col_b, col_i = scores[:, 0].tolist(), scores[:, 1].tolist()
    else:
        col_b, col_i = scores
    n = len(col_b)
    if n == 0:
        return bytearray()
    (t00, t01), (t10, t11) = model.transitions
    a0, a1 = col_b[0], col_i[0]
    back0 = bytearray(n)  # best previous label when the current label is B
    back1 = bytearray(n)  # ... when it is I
    for t in range(1, n):
        s0, s1 = a0 + t00, a1 + t10
        if s0 < s1:
            b0, back0[t] = s1, 1
        else:
            b0 = s0
        s0, s1 = a0 + t01, a1 + t11
        if s0 < s1:
            b1, back1[t] = s1, 1
        else:
            b1 = s0
        a0, a1 = b0 + col_b[t], b1 + col_i[t]
    labels = bytearray(n)
    label = 1 if a0 < a1 else 0
    labels[-1] = label
    for t in range(n - 1, 0, -1):
        label = back1[t] if label else back0[t]
        labels[t - 1] = label
    return labels
