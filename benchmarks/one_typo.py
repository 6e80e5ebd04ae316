"""Questions with one slip of the fingers: one word of each question mistyped, seeded.

In each question (normalized first), one word of at least 4 letters, chosen at random,
gets one slip, of one of four kinds chosen at random (each 1/4):

* ``drop``: one of its letters left out (``thành`` -> ``thnh``, ``tháng`` -> ``thág``);
* ``near``: one letter replaced by a key next to it on a QWERTY keyboard (its base letter's
  neighbour: ``thành`` -> ``tjành``, ``đường`` -> ``đườnh``; an accented letter replaced
  loses its accent with it);
* ``insert``: a key next to one of its letters typed before or after it (``thành`` ->
  ``thàmnh``);
* ``swap``: two neighbouring letters swapped (``chiếm`` -> ``chimế``).

A letter's neighbours are the keys around it on the same row and the rows above and below
(``h``: ``y u g j b n``). Every choice is drawn from ``random.Random(f"{seed}:typo:{key}")``
(``key``: the question's id), so a question reads the same in any subset. A question with
no word of 4 letters or more is left as it is. Case is kept: a slip in a capitalized word
keeps the capital where the letter stays.

>>> typo_question("Ai chiếm được thành Troy?", "q1")
'Ai chiếm đợưc thành Troy?'
"""

from __future__ import annotations

import random
import re

from vnsearch.analysis import normalize
from vnsearch.analysis.fold import fold

__all__ = ["KINDS", "NEIGHBOURS", "typo_question"]

KINDS = ("drop", "near", "insert", "swap")
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    """Per letter, the keys next to it: left and right on its row, and the keys that touch
    it on the rows above and below (QWERTY's stagger: a row's key ``i`` touches ``i`` and
    ``i + 1`` of the row above, ``i - 1`` and ``i`` of the row below)."""
    out: dict[str, str] = {}
    for r, row in enumerate(_ROWS):
        for i, c in enumerate(row):
            near = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            if r > 0:
                near += [_ROWS[r - 1][j] for j in (i, i + 1) if j < len(_ROWS[r - 1])]
            if r < len(_ROWS) - 1:
                near += [_ROWS[r + 1][j] for j in (i - 1, i) if 0 <= j < len(_ROWS[r + 1])]
            out[c] = "".join(near)
    return out


NEIGHBOURS = _neighbours()
_WORD = re.compile(r"[^\W\d_]{4,}")


def _near(rng: random.Random, c: str) -> str:
    """A key next to letter ``c`` (its base letter's; case kept); ``c`` itself when its
    base letter is not on the keyboard."""
    base = fold(c).lower()
    keys = NEIGHBOURS.get(base)
    if not keys:
        return c
    k = rng.choice(keys)
    return k.upper() if c.isupper() else k


def _slip(rng: random.Random, word: str, kind: str) -> str:
    n = len(word)
    if kind == "drop":
        i = rng.randrange(n)
        return word[:i] + word[i + 1 :]
    if kind == "near":
        i = rng.randrange(n)
        return word[:i] + _near(rng, word[i]) + word[i + 1 :]
    if kind == "insert":
        i = rng.randrange(n)
        at = i + rng.randrange(2)  # before or after the letter
        return word[:at] + _near(rng, word[i]).lower() + word[at:]
    i = rng.randrange(n - 1)  # swap
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def typo_question(text: str, key: str, seed: int = 42) -> str:
    """``text`` with one slip in one word of 4 letters or more (``key``: the question id)."""
    text = normalize(text)
    words = list(_WORD.finditer(text))
    if not words:
        return text
    rng = random.Random(f"{seed}:typo:{key}")
    m = rng.choice(words)
    kind = rng.choice(KINDS)
    return text[: m.start()] + _slip(rng, m.group(), kind) + text[m.end() :]
