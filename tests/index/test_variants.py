"""The folded view's positions are not stored: read from its variants' in the syllables
view, they equal the positions the analyzer gives the folded view."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

import numpy as np
import pytest

from vnsearch.analysis import analyze
from vnsearch.index.terms import terms_reader
from vnsearch.index.variants import union_postings


def _folded_positions(docs: list[dict], field: str) -> dict[str, dict[int, list[int]]]:
    """term -> document number -> positions, from the analyzer's folded view."""
    found: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for number, doc in enumerate(docs):
        for token in analyze(doc[field]).views["folded"]:
            found[token.text][number].append(token.position)
    return found


def test_folded_positions_read_from_the_syllables_are_the_analyzers(seeded_index, seed_docs):
    snap = seeded_index.snapshot()
    (reader, _base), *rest = snap.segments
    assert not rest
    terms = terms_reader(reader)
    assert terms.field_terms("body.folded").positions_from == "body.syllables"
    expected = _folded_positions(seed_docs, "body")
    assert len(expected) > 300
    for term, per_doc in expected.items():
        arrays = terms.arrays("body.folded", term.encode())
        assert arrays is not None and arrays.has_positions
        offsets, flat = arrays.all_positions()
        assert flat.dtype == np.uint16  # kept in 2 bytes: short documents
        got = {
            int(d): flat[a:b].tolist()
            for d, a, b in zip(arrays.docs, offsets[:-1].tolist(), offsets[1:].tolist())
        }
        assert got == {d: sorted(p) for d, p in per_doc.items()}, term


def test_a_phrase_without_accents_finds_what_the_accented_one_does(seeded_index, seed_docs):
    """Across segments and after a merge, an unaccented phrase (folded view, positions
    from the syllables) matches the documents whose folded text holds it."""
    ix = seeded_index
    with ix.writer() as w:  # a second segment with the same texts under new ids
        for doc in seed_docs:
            w.add({**doc, "id": doc["id"] + "-2"})
    texts = [
        [
            " " + " ".join(t.text for t in analyze(d[f]).views["folded"]) + " "
            for f in ("title", "body")
        ]
        for d in seed_docs
    ]
    # a pair of folded syllables in some documents but not all
    pairs = {" ".join(t.split()[i : i + 2]) for ts in texts for t in ts for i in range(40)}
    phrase = next(
        p for p in sorted(pairs) if 1 < sum(any(f" {p} " in t for t in ts) for ts in texts) < 5
    )
    want = {d["id"] for d, ts in zip(seed_docs, texts) if any(f" {phrase} " in t for t in ts)}
    for optimize in (False, True):
        if optimize:
            ix.optimize()
        hits = {h.id for h in ix.search(f'"{phrase}"', limit=100)}
        assert hits == want | {i + "-2" for i in want}, phrase


@pytest.mark.parametrize("long", [False, True])  # sorted together; or inserted into the longest
def test_a_union_sums_frequencies_past_their_parts_type(long):
    """The frequencies of a folded term are its variants' summed: two variants' 200 and
    100 in one document give 300, however narrow the parts' frequencies are kept."""
    size = 2000 if long else 3
    big = SimpleNamespace(docs=np.arange(size, dtype=np.uint32), freqs=np.ones(size, np.uint8))
    big.freqs[1] = 200
    small = SimpleNamespace(
        docs=np.array([1, size + 5], np.uint32), freqs=np.array([100, 255], np.uint8)
    )
    docs, freqs = union_postings([big, small])
    assert docs.tolist() == [*range(size), size + 5]
    assert freqs.tolist() == [1, 300, *[1] * (size - 2), 255]
    assert freqs.dtype == np.uint16


@pytest.mark.parametrize("bigrams", [False, True])
def test_the_variants_table_is_the_same_folded_a_few_keys_at_a_time(monkeypatch, bigrams):
    """A segment's accented keys are folded a bounded number at a time: the table of
    each folded term's variants does not depend on where the chunks end."""
    from vnsearch.index import variants

    words = ["hòa", "hoà", "hoa", "hóa", "Đường", "đường", "duong", "nội", "noi", "nỗi", "x"]
    keys = [f"{a} {b}" if bigrams else a + b for a in words for b in words]
    accented = sorted({k.lower().encode() for k in keys})
    folded = sorted(set(variants._folds(accented, bigrams)) - {accented[0]})  # one missing
    whole = variants._table(accented, folded, bigrams)
    monkeypatch.setattr(variants, "_FOLD_KEYS", 7)
    parts = variants._table(accented, folded, bigrams)
    assert [a.tolist() for a in parts] == [a.tolist() for a in whole]
    starts, order = whole
    assert len(order) < len(accented)  # the key whose fold is missing has no folded term
    for i, f in enumerate(folded):  # each folded term's variants are the keys folding to it
        got = {accented[j] for j in order[starts[i] : starts[i + 1]].tolist()}
        assert got == {a for a, g in zip(accented, variants._folds(accented, bigrams)) if g == f}
