"""Temperatures and units of measure."""

import re

from .numbers import read_number

# -3℃ -> 零下三度. Every unit, 摄氏度 included, is said 度, as trained.
TEMPERATURE = re.compile(r"(-|(?<!\d))(\d+(\.\d+)?)(°C|℃|度|摄氏度)")  # (?<!\d): see numbers.py


def replace_temperature(match: re.Match) -> str:
    below_zero = "零下" if match.group(1) else ""
    return f"{below_zero}{read_number(match.group(2))}度"


# Replaced as plain substrings, in this order, wherever they occur -- so any lone 'm' or 's' left in the text
# becomes 米 or 秒 (and 'mm' is already 米米 by the time its own entry comes). Models were trained on this.
UNIT_WORDS = {
    "cm2": "平方厘米",
    "cm²": "平方厘米",
    "cm3": "立方厘米",
    "cm³": "立方厘米",
    "cm": "厘米",
    "db": "分贝",
    "ds": "毫秒",
    "kg": "千克",
    "km": "千米",
    "m2": "平方米",
    "m²": "平方米",
    "m³": "立方米",
    "m3": "立方米",
    "ml": "毫升",
    "m": "米",
    "mm": "毫米",
    "s": "秒",
}


def replace_units(sentence: str) -> str:
    for unit, words in UNIT_WORDS.items():
        sentence = sentence.replace(unit, words)
    return sentence
