"""Hangul syllables <-> jamo, by the Unicode arithmetic (The Unicode Standard, section 3.12).

A precomposed syllable (U+AC00..U+D7A3) is onset x vowel x coda: 19 onsets (U+1100..), 21 vowels (U+1161..) and
27 codas (U+11A8..) or none. The pronunciation rules work on these conjoining jamo, where an onset ㄱ (U+1100) and a
coda ㄱ (U+11A8) are different letters; the phone table uses the compatibility jamo (U+3131..), where both are ㄱ.
"""

import re
import unicodedata

_FIRST_SYLLABLE, _LAST_SYLLABLE = 0xAC00, 0xD7A3
_VOWELS, _CODAS = 21, 28  # 28: the 27 codas and "no coda"
_FIRST_ONSET, _FIRST_VOWEL, _CODA_BASE = 0x1100, 0x1161, 0x11A7  # coda k is _CODA_BASE + k, k = 1..27

_SYLLABLE = re.compile(f"[{chr(_FIRST_SYLLABLE)}-{chr(_LAST_SYLLABLE)}]")


def _syllable_to_jamo(match: re.Match) -> str:
    index = ord(match.group()) - _FIRST_SYLLABLE
    onset, rest = divmod(index, _VOWELS * _CODAS)
    vowel, coda = divmod(rest, _CODAS)
    jamo = chr(_FIRST_ONSET + onset) + chr(_FIRST_VOWEL + vowel)
    return jamo + chr(_CODA_BASE + coda) if coda else jamo


def decompose(text: str) -> str:
    """Every precomposed syllable -> its conjoining jamo (각 -> ᄀ ᅡ ᆨ); everything else unchanged."""
    return _SYLLABLE.sub(_syllable_to_jamo, text)


def last_jamo(char: str) -> str:
    """The coda of a syllable, or its vowel when it has none; any other character itself."""
    return decompose(char)[-1]


def _compatibility_table() -> dict[int, str]:
    # Each conjoining jamo that has a compatibility twin: "HANGUL CHOSEONG KIYEOK" -> "HANGUL LETTER KIYEOK". This is
    # the mapping of the `jamo` package's j2hcj (which the official front end uses) for the whole U+1100 block.
    table = {}
    for code in range(0x1100, 0x1200):
        name = unicodedata.name(chr(code), "")
        twin = re.sub(r"^HANGUL (CHOSEONG|JUNGSEONG|JONGSEONG) ", "HANGUL LETTER ", name)
        try:
            table[code] = unicodedata.lookup(twin)
        except KeyError:
            pass  # archaic jamo without a twin stay as they are
    return table


_COMPATIBILITY = _compatibility_table()


def to_compatibility_jamo(text: str) -> str:
    """Conjoining jamo -> compatibility jamo (ᄀ and ᆨ -> ㄱ); syllables are decomposed first."""
    return decompose(text).translate(_COMPATIBILITY)
