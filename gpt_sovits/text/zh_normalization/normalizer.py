"""Chinese text normalization: split into sentences, then spell out every non-standard word in Chinese characters.

The steps and their order are those of the normalizer GPT-SoVITS models were trained with (a port of
PaddleSpeech's zh_normalization). Order matters: earlier rules claim text that later ones would read
differently (a date before a range, arithmetic before a range, quantities before bare numbers, ...).
"""

import re

from . import dates_times, numbers, phone_numbers, units
from .characters import full_width_to_half_width, to_simplified

# Marks that end a sentence; a closing quote right after one stays with it.
_SENTENCE_END = re.compile(r"([：、，；。？！,;?!][”’]?)")
# Brackets, quotes and symbols dropped before anything else. Spaces go too: Chinese does not use them.
_DROPPED_BEFORE = re.compile(r"[—《》【】<>{}()（）#&@“”^_|\\]")
# The same after normalization, plus '-' (whatever minus signs no rule has consumed) and '='.
_DROPPED_AFTER = re.compile(r"[-—《》【】<=>{}()（）#&@“”^_|\\]")

_CIRCLED_NUMBERS = str.maketrans("①②③④⑤⑥⑦⑧⑨⑩", "一二三四五六七八九十")
_GREEK_LETTERS = {
    "α": "阿尔法", "β": "贝塔", "γ": "伽玛", "Γ": "伽玛", "δ": "德尔塔", "Δ": "德尔塔", "ε": "艾普西龙",
    "ζ": "捷塔", "η": "依塔", "θ": "西塔", "Θ": "西塔", "ι": "艾欧塔", "κ": "喀帕", "λ": "拉姆达",
    "Λ": "拉姆达", "μ": "缪", "ν": "拗", "ξ": "克西", "Ξ": "克西", "ο": "欧米克伦", "π": "派", "Π": "派",
    "ρ": "肉", "ς": "西格玛", "Σ": "西格玛", "σ": "西格玛", "τ": "套", "υ": "宇普西龙", "φ": "服艾",
    "Φ": "服艾", "χ": "器", "ψ": "普赛", "Ψ": "普赛", "ω": "欧米伽", "Ω": "欧米伽",
}  # fmt: skip
# Symbols left over after the number rules; '/' is "per" (km/h -> 千米每h), the operators are spoken.
_SYMBOL_WORDS = str.maketrans({"/": "每", "+": "加", "-": "减", "×": "乘", "÷": "除", "=": "等"} | _GREEK_LETTERS)


def split_sentences(text: str) -> list[str]:
    """Split after each sentence mark; the pieces keep their marks. An empty text gives ['']."""
    text = _DROPPED_BEFORE.sub("", text.replace(" ", ""))
    text = _SENTENCE_END.sub("\\1\n", text).strip()
    return [sentence.strip() for sentence in re.split(r"\n+", text)]


def normalize_sentence(sentence: str) -> str:
    sentence = full_width_to_half_width(to_simplified(sentence))

    sentence = dates_times.DATE.sub(dates_times.replace_date, sentence)
    sentence = dates_times.NUMERIC_DATE.sub(dates_times.replace_numeric_date, sentence)
    sentence = dates_times.TIME_RANGE.sub(dates_times.replace_time_range, sentence)
    sentence = dates_times.TIME.sub(dates_times.replace_time, sentence)

    sentence = numbers.TILDE_RANGE.sub(numbers.replace_tilde_range, sentence)
    sentence = units.TEMPERATURE.sub(units.replace_temperature, sentence)
    sentence = units.replace_units(sentence)

    # Each pass speaks one operator of a chain such as 1+2+3, so repeat until none is left.
    while numbers.ARITHMETIC.search(sentence):
        sentence = numbers.ARITHMETIC.sub(numbers.replace_arithmetic, sentence)
    sentence = numbers.POWER.sub(numbers.replace_power, sentence)

    sentence = numbers.FRACTION.sub(numbers.replace_fraction, sentence)
    sentence = numbers.PERCENTAGE.sub(numbers.replace_percentage, sentence)
    sentence = phone_numbers.MOBILE.sub(phone_numbers.replace_mobile, sentence)
    sentence = phone_numbers.LANDLINE.sub(phone_numbers.replace_landline, sentence)
    sentence = phone_numbers.SERVICE.sub(phone_numbers.replace_landline, sentence)

    sentence = numbers.RANGE.sub(numbers.replace_range, sentence)
    sentence = numbers.NEGATIVE_INTEGER.sub(numbers.replace_negative_integer, sentence)
    sentence = numbers.VERSION.sub(numbers.replace_version, sentence)
    sentence = numbers.DECIMAL.sub(numbers.replace_number, sentence)
    sentence = numbers.COUNTED.sub(numbers.replace_counted, sentence)
    sentence = numbers.LONG_INTEGER.sub(numbers.replace_long_integer, sentence)
    sentence = numbers.NUMBER.sub(numbers.replace_number, sentence)

    sentence = sentence.translate(_CIRCLED_NUMBERS).translate(_SYMBOL_WORDS)
    return _DROPPED_AFTER.sub("", sentence)


def normalize_sentences(text: str) -> list[str]:
    return [normalize_sentence(sentence) for sentence in split_sentences(text)]
