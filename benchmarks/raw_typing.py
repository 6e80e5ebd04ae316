"""Questions as typed with the input method off: raw Telex and raw VNI keystrokes, seeded.

Every word of the question (normalized first) that is a valid Vietnamese syllable is
replaced by its keystrokes (``vnsearch.analysis.telex.to_telex``/``to_vni``): ``Việt``
-> ``Vieejt`` or ``Vieetj``, the tone key right after its vowel or at the end of the word,
chosen at random per word (probability 1/2) with a generator seeded by the seed, the form
and the question's id, so a question is converted the same way in any subset. Capitals
are kept (``Đường`` -> ``DDuwowfng``, ``D9u7o7ng2``); numbers, codes, punctuation and words
that are no Vietnamese syllable (names such as ``Weimar``) are left as written.

>>> telex_question("Việt Nam ở đâu?", "q1"), vni_question("Việt Nam ở đâu?", "q1")
('Vieetj Nam owr ddaau?', 'Vie6t5 Nam o73 d9a6u?')
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from vnsearch.analysis import normalize
from vnsearch.analysis.telex import is_syllable, to_telex, to_vni

__all__ = ["telex_question", "vni_question"]

_WORD = re.compile(r"[^\W\d_]+")


def _convert(text: str, key: str, seed: int, to: Callable[..., str]) -> str:
    rng = random.Random(f"{seed}:{key}")

    def word(m: re.Match[str]) -> str:
        w = m.group()
        at_end = rng.random() < 0.5  # drawn for every word, so choices do not shift
        return to(w, tone_at_end=at_end) if is_syllable(w) else w

    return _WORD.sub(word, normalize(text))


def telex_question(text: str, key: str, seed: int = 42) -> str:
    """``text`` typed in Telex with the input method off (``key``: e.g. the question id)."""
    return _convert(text, f"telex:{key}", seed, to_telex)


def vni_question(text: str, key: str, seed: int = 42) -> str:
    """``text`` typed in VNI with the input method off (``key``: e.g. the question id)."""
    return _convert(text, f"vni:{key}", seed, to_vni)
