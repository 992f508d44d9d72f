"""Korean text -> phones, as the official GPT-SoVITS front end does it (v2 symbol table and later only).

    normalize(text) -> text                           the official front end has no Korean normalizer
    g2p(text, symbol_version) -> (phones, None)       no word2ph: only Chinese gets BERT features

g2p:
    ASCII letters -> their Korean names        (GPU -> 지피유)
    -> pronunciation.pronounce                 (g2pK's rules on MeCab-ko's analysis, numbers read out)
    -> compatibility jamo, compound vowels split into two phones (ㅘ -> ㅗ ㅏ, ㅕ -> ㅣ ㅓ)
    -> the official front end's fix of a g2pK slip, and a "." after a final jamo
    -> one phone per character: jamo as they are, a space -> 空, CJK punctuation -> ASCII, anything else
       that is not in the phone table (Hanja, emoji, compound codas ...) -> 停

Every phone is one character of the converted text, so the output needs no mapping to "UNK".
"""

import re

from ...errors import TextError
from ..symbols import check_symbol_version, symbol_to_id
from .hangul import to_compatibility_jamo
from .pronunciation import pronounce

# The official front end replaces each letter by a case-insensitive regular expression; in Python that also matches
# four look-alikes: İ and ı (for i), the Kelvin sign K (for k) and the long s ſ (for s).
_LETTER_NAMES = dict(zip("abcdefghijklmnopqrstuvwxyz", (
    "에이 비 시 디 이 에프 지 에이치 아이 제이 케이 엘 엠 엔 오 피 큐 아르 에스 티 유 브이 더블유 엑스 와이 제트".split()
)))  # fmt: skip
_SPELL_LETTERS = str.maketrans(
    _LETTER_NAMES
    | {letter.upper(): name for letter, name in _LETTER_NAMES.items()}
    | {"İ": _LETTER_NAMES["i"], "ı": _LETTER_NAMES["i"], "\u212a": _LETTER_NAMES["k"], "ſ": _LETTER_NAMES["s"]}
)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

_SPLIT_VOWELS = str.maketrans({
    "ㅘ": "ㅗㅏ", "ㅙ": "ㅗㅐ", "ㅚ": "ㅗㅣ", "ㅝ": "ㅜㅓ", "ㅞ": "ㅜㅔ", "ㅟ": "ㅜㅣ", "ㅢ": "ㅡㅣ",
    "ㅑ": "ㅣㅏ", "ㅒ": "ㅣㅐ", "ㅕ": "ㅣㅓ", "ㅖ": "ㅣㅔ", "ㅛ": "ㅣㅗ", "ㅠ": "ㅣㅜ",
})  # fmt: skip
# g2pK reads the ㄹ that starts a word after 을/를 as ㄹ; the official front end makes it ㄴ (을 래 -> 을 내).
_RIEUL_AFTER_OBJECT_PARTICLE = re.compile("([ㅇㄹ]ㅡㄹ )ㄹ")
# A "." after a jamo at the very end (`$` also matches before a final line break, which then becomes "." too).
_FINAL_JAMO = re.compile("([\u3131-\u3163])$")
_MARKS = {"：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?", "\n": ".", "·": ",", "、": ",", " ": "空"}
_PAUSE = "停"  # the phone of every character the table lacks


def normalize(text: str) -> str:
    """The text as it is: the official front end has no Korean text normalizer (numbers are read in g2p)."""
    if not isinstance(text, str):
        raise TextError("The text to speak must be a string.")
    return text


def g2p(normalized: str, symbol_version: str) -> tuple[list[str], None]:
    """Korean text -> phones of the v2 symbol table (jamo, 空, 停, punctuation); word2ph is None."""
    check_symbol_version(symbol_version)
    if symbol_version == "v1":
        raise TextError("Korean needs a v2 model or later (v2, v2Pro, v3, v4): v1 models have no Korean phones.")
    # MeCab takes UTF-8, which a lone surrogate is not; it is no letter and would become 停 in any case.
    text = _LONE_SURROGATE.sub("\ufffd", normalized.translate(_SPELL_LETTERS))
    jamo = to_compatibility_jamo(pronounce(text)).translate(_SPLIT_VOWELS)
    jamo = _RIEUL_AFTER_OBJECT_PARTICLE.sub("\\1ㄴ", jamo)
    jamo = _FINAL_JAMO.sub("\\1.", jamo)
    table = symbol_to_id(symbol_version)
    return [phone if (phone := _MARKS.get(char, char)) in table else _PAUSE for char in jamo], None
