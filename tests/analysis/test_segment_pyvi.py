"""vnsearch's segmentation is pyvi's: same words on real news text, same CRF labels."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from vnsearch import normalize, segment
from vnsearch.analysis.crf import (
    SMALL,
    _crfsuite_bytes,
    emissions,
    emissions_small,
    load_pyvi_model,
    pyvi_model_dir,
    viterbi,
)
from vnsearch.analysis.segment import Segmenter

_WORD = re.compile(r"\w")


def pyvi_words(text: str) -> list[str]:
    """pyvi's words of ``normalize(text)``, punctuation dropped, syllables joined by a space.

    pyvi's output is its syllables joined by "_" (same word) or " " (new word); walking
    its own syllable list through the output recovers the words exactly, even when a
    syllable contains "_".
    """
    from pyvi.ViTokenizer import ViTokenizer

    norm = normalize(text)
    out = ViTokenizer.tokenize(norm)
    _, syllables = ViTokenizer.sylabelize(norm)
    groups: list[list[str]] = []
    pos = 0
    for i, syl in enumerate(syllables):
        if i == 0 or out[pos] == " ":
            groups.append([])
        if i:
            assert out[pos] in " _"
            pos += 1
        assert out[pos : pos + len(syl)] == syl
        pos += len(syl)
        groups[-1].append(syl)
    words = []
    for group in groups:
        kept = [s for s in group if _WORD.search(s)]
        if kept:
            words.append(" ".join(kept))
    return words


def test_same_words_as_pyvi_on_vntc(vntc_texts: list[str]) -> None:
    assert len(vntc_texts) == 300
    mismatches = [
        i for i, t in enumerate(vntc_texts) if [w.text for w in segment(t)] != pyvi_words(t)
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    "text",
    [
        "Ông Nguyễn Văn A. ThS. Lê Thị B, Tp. HCM ==> UBND... Mr. X -> Y >> email a.b@c.vn",
        "https://vnexpress.net/thoi-su 1.000.000 đồng, 3,5% và 29/6/2020 snake_case",
        "Thủy điện Hòa Bình khỏe uý\nxuống dòng\r\ncuối",
        "ĐẠI HỘI ĐẢNG TOÀN QUỐC LẦN THỨ XIII",
        "a",
        "!!!",
    ],
)
def test_same_words_as_pyvi_on_edge_cases(text: str) -> None:
    assert [w.text for w in segment(text)] == pyvi_words(text)


def test_labels_equal_python_crfsuite(vntc_texts: list[str]) -> None:
    """Our numpy decoding of pyvi's model gives CRFsuite's own labels."""
    pycrfsuite = pytest.importorskip("pycrfsuite")
    from pyvi.ViTokenizer import ViTokenizer

    model = load_pyvi_model()
    seg = Segmenter(model)
    with tempfile.NamedTemporaryFile(suffix=".crfsuite") as f:
        f.write(_crfsuite_bytes(pyvi_model_dir() / "pyvi3.pkl"))
        f.flush()
        tagger = pycrfsuite.Tagger()
        tagger.open(f.name)
        for text in vntc_texts[:60]:
            _, tokens = ViTokenizer.sylabelize(normalize(text))
            expected = tagger.tag(ViTokenizer.sent2features(tokens, False))
            feats = [seg._features(t) for t in tokens]
            lows, ids, upper, title, digit = zip(*[f[:5] for f in feats])
            labels = viterbi(model, emissions(model, ids, lows, upper, title, digit))
            assert [model.labels[x] for x in labels] == expected


def test_short_texts_score_bit_for_bit_as_with_numpy(vntc_texts: list[str]) -> None:
    """Queries and other short texts are scored with Python floats: the same scores, to
    the last bit, as the numpy path (and so the same labels, ties included)."""
    from pyvi.ViTokenizer import ViTokenizer

    model = load_pyvi_model()
    seg = Segmenter(model)
    checked = 0
    for text in vntc_texts[:40]:
        _, tokens = ViTokenizer.sylabelize(normalize(text))
        for start in range(0, max(1, len(tokens) - SMALL), 37):
            for n in (1, 2, 3, 5, 8, 13, SMALL):
                window = tokens[start : start + n]
                if not window:
                    continue
                lows, ids, upper, title, digit = zip(*[seg._features(t)[:5] for t in window])
                big = emissions(model, ids, lows, upper, title, digit)
                small = emissions_small(model, ids, lows, upper, title, digit)
                assert np.array_equal(np.array(small).T, big)
                assert viterbi(model, small) == viterbi(model, big)
                checked += 1
    assert checked > 500


def test_import_and_segment_do_not_import_scikit_learn() -> None:
    code = (
        "import sys, vnsearch; vnsearch.segment('Tổ chức Trung ương'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sklearn', 'sklearn_crfsuite', 'pycrfsuite', 'scipy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_model_unpickler_refuses_unexpected_code(tmp_path: Path) -> None:
    """pyvi's pickle is read with an allow-list: a pickle that calls os.system is refused."""
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "pyvi3.pkl"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(pickle.UnpicklingError, match="unexpected global"):
        _crfsuite_bytes(path)
