"""Korean spelling -> pronunciation: the rules of g2pK as packaged in g2pk2 0.0.3, which the official front end runs.

    pronounce(text) -> the text as pronounced, in conjoining jamo (읽다 -> ᄋ ᅵ ᆨ ᄄ ᅡ)

Steps (g2pk2's, in its order):
    spelling rules         whole-word respellings (의견란 -> 의견난, % -> 퍼센트, 10월 -> 시월)
    morpheme marks         MeCab-ko (mecab-ko-dic) tags the words; marks go after the syllables that rules depend on:
                           /J particle 의, /E ending in ㄹ, /P verb stem ending in ㄴ ㄵ ㅁ ㄻ ㄺ ㄼ ㄾ, /B counter
    numbers                digits before a counter read as a number (3개 -> 세개, 3분 -> 삼분), other digits one by one
    jamo rules             on the decomposed text: special rules of the Standard Pronunciation, the coda x onset
                           table (assimilation, tensing, aspiration), then linking a coda into a following ᄋ
    silent onset           a vowel without an onset gets ᄋ (g2pK adds it when it assembles syllables again)

g2pk2 itself cannot be used: it downloads NLTK's cmudict and may pip-install MeCab when it is imported. Its rules are
carried as data (data/g2pk2_rules.tsv, Apache-2.0, see data/SOURCES.md) and applied here the way g2pk2 applies them.
Two g2pk2 steps are left out because they cannot change the official front end's output:
- English words (CMUdict): the front end has spelled every ASCII letter out in Hangul before, so only runs of
  apostrophes could reach the lookup, and CMUdict has no such word.
- assembling jamo into syllables: the front end takes them apart again at once (only the silent ᄋ survives).
"""

import re
from functools import cache
from importlib import resources

from ...errors import TextError
from .hangul import decompose, last_jamo

# ---------------------------------------------------------------------------------------------------------------
# Rules


@cache
def _rules(stage: str) -> tuple[tuple[re.Pattern, str], ...]:
    """The (pattern, replacement) rewrites of one stage ("spelling" or "jamo"), in the order they apply."""
    table = resources.files(__package__) / "data" / "g2pk2_rules.tsv"
    rules = []
    for line in table.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        rule_stage, pattern, replacement, _source = line.split("\t")
        if rule_stage == stage:
            rules.append((re.compile(pattern), replacement))
    return tuple(rules)


def _rewrite(text: str, stage: str) -> str:
    for pattern, replacement in _rules(stage):
        text = pattern.sub(replacement, text)
    return text


# ---------------------------------------------------------------------------------------------------------------
# Morpheme marks


@cache
def _tagger():
    try:
        import mecab  # python-mecab-ko, with the mecab-ko-dic dictionary of python-mecab-ko-dic
    except ImportError as error:
        raise TextError(
            "Korean needs the package python-mecab-ko (pip install python-mecab-ko==1.3.7), "
            "which has no wheel for Python 3.13 or later yet."
        ) from error
    return mecab.MeCab()


def _mark(char: str, tag: str) -> str:
    if tag == "J" and char == "의":
        return "/J"
    if tag == "E" and last_jamo(char) == "ᆯ":
        return "/E"
    if tag == "V" and last_jamo(char) in "ᆫᆬᆷᆱᆰᆲᆴ":
        return "/P"
    if tag == "B":
        return "/B"
    return ""


def _add_morpheme_marks(text: str) -> str:
    morphemes = _tagger().pos(text)
    if "".join(surface for surface, _ in morphemes) != text.replace(" ", ""):
        return text  # MeCab left characters out (tabs, line breaks, after a NUL ...): g2pk2 then adds no marks
    # A morpheme's tag belongs to its last character: the last of a compound tag (VV+EP -> EP), shortened to its
    # first letter (NNG -> N, JKS -> J), except the counter tag NNBC -> B.
    tags = []
    for surface, tag in morphemes:
        last_tag = tag.split("+")[-1]
        tags += [""] * (len(surface) - 1) + ["B" if last_tag == "NNBC" else last_tag[:1]]
    tags_of_letters = iter(tags)
    return "".join(char if char == " " else char + _mark(char, next(tags_of_letters)) for char in text)


# ---------------------------------------------------------------------------------------------------------------
# Numbers

_SINO_DIGITS = dict(zip("123456789", "일이삼사오육칠팔구"))
_NATIVE_ONES = dict(zip("123456789", "한 두 세 네 다섯 여섯 일곱 여덟 아홉".split()))  # the forms before a counter
_NATIVE_TENS = dict(zip("123456789", "열 스물 서른 마흔 쉰 예순 일흔 여든 아흔".split()))
# Place (digits counted from the right, 0 = ones) -> its unit, from the hundreds up. A 1 before 십 백 천 만 is
# silent up to place 7 (백, not 일백), but said from place 8 on (일억, 일십억), as g2pK has it.
_UNITS = {2: "백", 3: "천", 4: "만", 5: "십", 6: "백", 7: "천", 8: "억", 9: "십", 10: "백", 11: "천", 12: "조",
          13: "십", 14: "백", 15: "천"}  # fmt: skip
_LAST_PLACE = max(_UNITS)
# Counters read with native Korean numbers (세 개, 두 마리); any other counter takes Sino-Korean ones (삼 분).
# g2pK tests `counter in this string`, so a counter that is part of one (마 of 마리) counts too.
_NATIVE_COUNTERS = "군데 권 개 그루 닢 대 두 마리 모 모금 뭇 발 발짝 방 번 벌 보루 살 수 술 시 쌈 움큼 정 짝 채 척 첩 축 켤레 톨 통"
_NUMBER_BEFORE_COUNTER = re.compile(r"(\d[\d,]*)([ㄱ-힣]+)/B")  # \d: any Unicode digit, as in g2pK
_DIGIT_NAMES = str.maketrans(dict(zip("0123456789", "영일이삼사오육칠팔구")))


def _place_name(digit: str, place: int, native: bool) -> str:
    if place == 0:
        return (_NATIVE_ONES if native else _SINO_DIGITS).get(digit, "")
    if place == 1 and native:
        return _NATIVE_TENS.get(digit, "")
    unit = "십" if place == 1 else _UNITS[place]
    return unit if digit == "1" and place <= 7 else _SINO_DIGITS.get(digit, "") + unit


def spell_number(number: str, native: bool) -> str | None:
    """Digits (commas allowed) as a Korean number word, as g2pK reads them; None past 10^16 (g2pK fails there)."""
    digits = number.replace(",", "")
    if digits == "0":
        return "영"
    if native and digits == "20":
        return "스무"
    if any(digit != "0" for digit in digits[: -_LAST_PLACE - 1]):
        return None
    words = []
    for place, digit in reversed(list(enumerate(reversed(digits[-_LAST_PLACE - 1 :])))):
        # A zero is silent, except that the unit of 만/억/조 is still said when one of the three places above it
        # was not zero (1,230,000 -> 백이십삼만).
        if digit == "0" and (place % 4 != 0 or not any(words[-3:])):
            words.append("")
        else:
            words.append(_place_name(digit, place, native))
    return "".join(words)


def _spell_counted_number(match: re.Match) -> str:
    number, counter = match.groups()
    words = spell_number(number, native=counter in _NATIVE_COUNTERS)
    return match.group() if words is None else f"{words}{counter}/B"


def _spell_numbers(text: str) -> str:
    # g2pK replaces each distinct number-and-counter string everywhere, in the order of a Python set, which gives a
    # different result when one is the end of another (1개 in 11개) depending on PYTHONHASHSEED; reading each
    # occurrence once, as here, is what g2pK gives in its lucky order.
    text = _NUMBER_BEFORE_COUNTER.sub(_spell_counted_number, text)
    return text.translate(_DIGIT_NAMES)


# ---------------------------------------------------------------------------------------------------------------

_BARE_VOWEL = re.compile("(^|[^\u1100-\u1112])([\u1161-\u1175])")  # a vowel not after an onset; see pronounce()


def pronounce(text: str) -> str:
    """Korean text (no ASCII letters: the caller spells them out) -> its pronunciation in conjoining jamo.

    Characters that are not Hangul pass through unchanged (or as the spelling rules rewrite them: % -> 퍼센트).
    """
    text = _rewrite(text, "spelling")
    text = _add_morpheme_marks(text)
    text = _spell_numbers(text)
    jamo = _rewrite(decompose(text), "jamo")
    # g2pK's syllable assembly first puts the silent onset ᄋ before each vowel that has no onset; in a run of such
    # vowels its pattern skips every second one (the vowel before was used up as context), and so does this.
    return _BARE_VOWEL.sub("\\1\u110b\\2", jamo)
