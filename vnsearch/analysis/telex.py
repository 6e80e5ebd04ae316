"""Telex and VNI typed raw: the syllable that keystrokes spell when the input method is off.

``from_telex("vieetj")`` -> ``"việt"``, ``from_vni("d9u7o7ng2")`` -> ``"đường"``: the
keys are read the way an input method reads them (Telex ``aa ee oo`` circumflex, ``aw``
breve, ``ow uw`` horn, ``w`` alone ``ư``, ``uow`` ``ươ``, ``dd`` ``đ``, tones ``s f r x j``,
``z`` none; VNI ``6 8 7 9`` and tones ``1``-``5``, ``0`` none), a tone key right after its
vowel or anywhere after it. The result is returned only when it is one valid Vietnamese
syllable: a known onset and rhyme (``k``/``gh``/``ngh`` only before ``i e ê y``), a rhyme
ending in ``p t c ch`` only with sắc or nặng, at most one tone key. So English words and
codes mostly read as nothing (``Weimar``, ``COVID``, ``iPhone``, ``fox``), and the few
common English words that do spell a syllable (``sex`` -> ``sẽ``, ``its`` -> ``ít``) are
listed in :data:`ENGLISH` and refused too. The tone goes where :func:`normalize` puts it
(the new style: ``hoà``), capitals are kept (``DDaij`` -> ``Đại``), the result is NFC.

:func:`to_telex` and :func:`to_vni` go the other way (a syllable to keystrokes), for tests
and for benchmarks that type questions raw.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = [
    "ENGLISH",
    "from_telex",
    "from_vni",
    "is_syllable",
    "syllable_forms",
    "to_telex",
    "to_vni",
]

_ONSETS = (
    "ngh ng nh ch gh gi kh ph qu th tr b c d đ g h k l m n p r s t v x".split()
)  # fmt: skip
_RHYMES = frozenset(
    """
    a ac ach ai am an ang anh ao ap at au ay ăc ăm ăn ăng ăp ăt âc âm ân âng âp ât âu ây
    e ec em en eng eo ep et ê êch êm ên ênh êp êt êu
    i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
    o oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt
    oc oe oen oeo oet oi om on ong op ot ô ôc ôi ôm ôn ông ôp ôt ơ ơi ơm ơn ơp ơt
    u ua uân uâng uât uây uc ui um un ung up ut uê uêch uênh uy uya uych uyên uyêt uyn
    uynh uyp uyt uyu uơ uôc uôi uôm uôn uông uôt
    ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu
    y yêm yên yêt yêu ych ynh yt
    """.split()
)
_FRONT = "ieêy"  # vowels that take k, gh, ngh (and not c, g, ng)
_VOWELS = "aăâeêioôơuưy"
_PLAIN = {"ă": "a", "â": "a", "ê": "e", "ô": "o", "ơ": "o", "ư": "u"}
_MARKED = frozenset("ăâêôơư")
_STOPS = ("p", "t", "c", "ch")
# tone numbers: 0 none, 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng (VNI's digits)
_TONE_MARKS = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
_TELEX_TONES = {"z": 0, "s": 1, "f": 2, "r": 3, "x": 4, "j": 5}
_TELEX_KEYS = "zsfrxj"
_TELEX_SHAPES = {"ă": "aw", "â": "aa", "ê": "ee", "ô": "oo", "ơ": "ow", "ư": "uw", "đ": "dd"}
_VNI_SHAPES = {"ă": "a8", "â": "a6", "ê": "e6", "ô": "o6", "ơ": "o7", "ư": "u7", "đ": "d9"}

#: Common English words (and loans) that Telex or VNI would read as a syllable: refused.
ENGLISH = frozenset(
    """
    air as bar bats bias bits bow box bus car cats cow cuts does dots gas goes has
    hats her hex his hits how is its lax lets lots low lux mats max mix nets nix nor now
    of or per pets pix row sax sets sex sir sits six sox tar tax these this those thus toes
    tow us vow was wax
    """.split()
)


def _split(base: str) -> tuple[str, str] | None:
    """``base`` (lowercase, no tone) as (onset, rhyme), or None if it is no syllable."""
    for onset in ("", *_ONSETS):
        if not base.startswith(onset):
            continue
        rhymes = [base[len(onset) :]]
        if onset == "gi":
            rhymes.append("i" + rhymes[0])  # gìn, giếng: the i is shared
        for rhyme in rhymes:
            if rhyme not in _RHYMES:
                continue
            first = rhyme[0]
            if onset in ("k", "gh", "ngh") and first not in _FRONT:
                continue
            if onset in ("c", "ng") and first in _FRONT:
                continue
            if onset == "g" and first in "eê":
                continue
            if first == "y" and len(rhyme) > 1 and onset not in ("", "qu"):
                continue  # yêu, quyết, quỳnh; not tyên
            if first == "y" and rhyme[1:2] != "ê" and len(rhyme) > 1 and onset != "qu":
                continue
            return onset, rhyme
    return None


def _tone_index(rhyme: str) -> int:
    """Where the tone mark goes in ``rhyme``, in the new style (``hoà``, ``thuỷ``)."""
    n = 0
    while n < len(rhyme) and rhyme[n] in _VOWELS:
        n += 1
    marked = [i for i in range(n) if rhyme[i] in _MARKED]
    if marked:
        return marked[-1]  # ươ, uô, iê, uyê: the second; ưa, ưu: the ư
    if n < len(rhyme) or n == 1:
        return n - 1  # a final consonant: the last vowel (hoàn, tuýp)
    if n == 2:
        return 1 if rhyme in ("oa", "oe", "uy") else 0
    return 1  # oai, oay, uya, uyu, oeo: the middle one


def _compose(base: str, tone: int) -> str | None:
    """``base`` (lowercase, no tone) with ``tone``, or None if not a valid syllable."""
    parts = _split(base)
    if parts is None:
        return None
    onset, rhyme = parts
    if tone not in (0, 1, 5) and rhyme.endswith(_STOPS):
        return None
    if onset == "gi" and rhyme != base[2:]:
        onset, rhyme = "g", rhyme  # gìn: g + ìn
    i = _tone_index(rhyme)
    rhyme = rhyme[: i + 1] + _TONE_MARKS[tone] + rhyme[i + 1 :]
    return unicodedata.normalize("NFC", onset + rhyme)


def is_syllable(word: str) -> bool:
    """Whether ``word`` is one valid Vietnamese syllable (any case, any tone placement).

    >>> is_syllable("Việt"), is_syllable("hòa"), is_syllable("tích"), is_syllable("sẹt")
    (True, True, True, True)
    >>> is_syllable("Weimar"), is_syllable("ngi"), is_syllable("mảt")
    (False, False, False)
    """
    parts = _base_and_tone(word.lower())
    return parts is not None and _compose(*parts) is not None


def syllable_forms() -> frozenset[str]:
    """Every valid Vietnamese syllable (lowercase, NFC, new tone style): onset, rhyme, tone.

    >>> forms = syllable_forms()
    >>> "việt" in forms, "hoà" in forms, "hòa" in forms, "mảt" in forms
    (True, True, False, False)
    """
    return _all_forms()


def _base_and_tone(word: str) -> tuple[str, int] | None:
    tone, letters = 0, []
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONE_MARKS[1:]:
            if tone:
                return None
            tone = _TONE_MARKS.index(ch)
        else:
            letters.append(ch)
    return unicodedata.normalize("NFC", "".join(letters)), tone


@lru_cache(maxsize=1)
def _all_forms() -> frozenset[str]:
    forms = set()
    for onset in ("", *_ONSETS):
        for rhyme in _RHYMES:
            for tone in range(6):
                form = _compose(onset + rhyme, tone)
                if form is not None:
                    forms.add(form)
    return frozenset(forms)


def _case(word: str) -> str | None:
    """``lower``, ``title`` or ``upper``: how ``word``'s letters are capitalized (None for
    other mixes, ``iPhone``, and for capitals without a vowel letter, ``TW``)."""
    letters = "".join(c for c in word if c.isalpha())
    if letters.islower():
        return "lower"
    if letters.isupper():
        if len(letters) == 1:
            return "title"
        return "upper" if any(c in "AEIOUY" for c in letters) else None
    head = 2 if letters[:2] in ("DD", "Dd") else 1
    if letters[:head].isupper() and letters[head:].islower():
        return "title"
    return None


def _recase(text: str, case: str) -> str:
    if case == "upper":
        return text.upper()
    return text[:1].upper() + text[1:] if case == "title" else text


def _horn(out: list[str]) -> bool:
    """The Telex ``w`` (VNI ``7``): ``uo`` -> ``ươ``, else the last ``a o u`` -> ``ă ơ ư``."""
    for j in range(len(out) - 1):
        if out[j] in "uư" and out[j + 1] == "o" and (j == 0 or out[j - 1] != "q"):
            out[j], out[j + 1] = "ư", "ơ"
            return True
    for j in range(len(out) - 1, -1, -1):
        if out[j] in "aou":
            out[j] = {"a": "ă", "o": "ơ", "u": "ư"}[out[j]]
            return True
    return False


def _finish(out: list[str], tone: int, case: str, word: str) -> str | None:
    base = "".join(out).replace("ưo", "ươ")  # dwong, uwong: ư then o is ươ
    if base.endswith("ươ"):
        base = base[:-2] + "uơ"  # thuở, huơ: no ươ without a final
    result = _compose(base, tone)
    if result is None and "uo" in base and base != word.lower():
        # duong92, duongf: the horns left out of keys typed (not of a plain "duong")
        result = _compose(base.replace("uo", "ươ"), tone)
    if result is None or word.lower() in ENGLISH:
        return None
    return _recase(result, case)


def from_telex(word: str) -> str | None:
    """The syllable ``word`` spells as Telex keystrokes, or None.

    >>> from_telex("vieejt"), from_telex("vieetj"), from_telex("DDaij"), from_telex("dwong")
    ('việt', 'việt', 'Đại', 'dương')
    >>> from_telex("nguwowif"), from_telex("tinhr"), from_telex("hoaf"), from_telex("nam")
    ('người', 'tỉnh', 'hoà', 'nam')
    >>> from_telex("Weimar"), from_telex("COVID"), from_telex("sex"), from_telex("iOS")
    (None, None, None, None)
    """
    if not word.isascii() or not word.isalpha():
        return None
    case = _case(word)
    if case is None:
        return None
    out: list[str] = []
    tone: int | None = None
    for c in word.lower():
        vowel_seen = any(ch in _VOWELS for ch in out)
        if c == "d" and out == ["d"]:
            out[0] = "đ"
        elif c in "aeo" and out and out[-1] == c:
            out[-1] = {"a": "â", "e": "ê", "o": "ô"}[c]
        elif c == "w":
            if not vowel_seen:
                out.append("ư")
            elif not _horn(out):
                return None
        elif c in _TELEX_KEYS and vowel_seen:
            if tone is not None:
                return None
            tone = _TELEX_TONES[c]
        else:
            out.append(c)
    return _finish(out, tone or 0, case, word)


def from_vni(word: str) -> str | None:
    """The syllable ``word`` spells as VNI keystrokes, or None.

    >>> from_vni("Vie65t"), from_vni("d9u7o7ng2"), from_vni("duong92"), from_vni("hoa2")
    ('Việt', 'đường', 'đường', 'hoà')
    >>> from_vni("205"), from_vni("iPhone"), from_vni("COVID19")
    (None, None, None)
    """
    if not word.isascii() or not word.isalnum() or not word[0].isalpha():
        return None
    case = _case(word)
    if case is None or (case != "lower" and word.upper() == word):
        return None  # A1, G7, H5N1: codes are written in capitals
    out: list[str] = []
    tone: int | None = None
    for c in word.lower():
        if not c.isdigit():
            out.append(c)
            continue
        if c == "9":
            if out[:1] != ["d"]:
                return None
            out[0] = "đ"
            continue
        if not any(ch in _VOWELS for ch in out):
            return None
        if c in "012345":
            if tone is not None:
                return None
            tone = int(c)
        elif c == "7":
            if not _horn(out):
                return None
        else:
            target = "a" if c == "8" else "aeo"
            j = max((k for k, ch in enumerate(out) if ch in target), default=-1)
            if j < 0:
                return None
            out[j] = {"a": "ă" if c == "8" else "â", "e": "ê", "o": "ô"}[out[j]]
    return _finish(out, tone or 0, case, word)


def _keys(syllable: str, shapes: dict[str, str], tones: str, at_end: bool) -> str:
    base, tone = _base_and_tone(syllable) or (syllable, 0)
    lower = base.lower()
    parts = _split(lower)
    if parts is None:
        raise ValueError(f"not a Vietnamese syllable: {syllable!r}")
    onset, rhyme = parts
    if onset == "gi" and rhyme != lower[2:]:
        onset = "g"
    where = len(onset) + _tone_index(rhyme)
    keys = []
    for i, (ch, low) in enumerate(zip(base, lower)):
        shape = shapes.get(low, low)
        if ch.isupper():
            shape = shape.upper() if low == "đ" else shape.capitalize()
        keys.append(shape)
        if i == where and tone and not at_end:
            keys.append(tones[tone])
    if tone and at_end:
        keys.append(tones[tone])
    text = "".join(keys)
    return text.upper() if base.isupper() and len(base) > 1 else text


def to_telex(syllable: str, tone_at_end: bool = False) -> str:
    """The Telex keystrokes of ``syllable``: the tone key after its vowel or at the end.

    >>> to_telex("việt"), to_telex("việt", tone_at_end=True), to_telex("Đường")
    ('vieejt', 'vieetj', 'DDuwowfng')
    """
    return _keys(syllable, _TELEX_SHAPES, " sfrxj", tone_at_end)


def to_vni(syllable: str, tone_at_end: bool = False) -> str:
    """The VNI keystrokes of ``syllable``: the tone digit after its vowel or at the end.

    >>> to_vni("việt"), to_vni("đường", tone_at_end=True)
    ('vie65t', 'd9u7o7ng2')
    """
    return _keys(syllable, _VNI_SHAPES, " 12345", tone_at_end)
