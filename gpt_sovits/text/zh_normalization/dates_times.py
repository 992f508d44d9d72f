"""Dates and clock times read out in Chinese."""

import re

from .numbers import DIGIT_WORDS, read_cardinal, read_digits, read_number

# 2024年5月1日 / 86年8月18号: the year is read digit by digit, month and day as cardinals.
DATE = re.compile(
    r"(\d{4}|\d{2})年"
    r"((0?[1-9]|1[0-2])月)?"
    r"(((0?[1-9])|((1|2)[0-9])|30|31)([日号]))?"
)


def replace_date(match: re.Match) -> str:
    year, month, day, day_word = match.group(1), match.group(3), match.group(5), match.group(9)
    words = f"{read_digits(year)}年"
    if month:
        words += f"{read_cardinal(month)}月"
    if day:
        words += f"{read_cardinal(day)}{day_word}"
    return words


# 2024-05-01, 2024/05/01, 2024.05.01, 2024 05 01 (the same separator twice)
NUMERIC_DATE = re.compile(r"(\d{4})([- /.])(0[1-9]|1[012])\2(0[1-9]|[12][0-9]|3[01])")


def replace_numeric_date(match: re.Match) -> str:
    year, month, day = match.group(1), match.group(3), match.group(4)
    return f"{read_digits(year)}年{read_cardinal(month)}月{read_cardinal(day)}日"


_CLOCK = r"([0-1]?[0-9]|2[0-3]):([0-5][0-9])(:([0-5][0-9]))?"
TIME = re.compile(_CLOCK)
TIME_RANGE = re.compile(_CLOCK + r"(~|-)" + _CLOCK)


def _minutes_or_seconds(digits: str) -> str:
    """'05' -> '零五', '15' -> '十五'."""
    words = read_number(digits.lstrip("0"))
    return DIGIT_WORDS[0] + words if digits.startswith("0") else words


def _clock_words(hour: str, minute: str, second: str | None, half_hour: bool) -> str:
    words = f"{read_number(hour)}点"
    if minute.lstrip("0"):
        words += "半" if half_hour else f"{_minutes_or_seconds(minute)}分"
    if second and second.lstrip("0"):
        words += f"{_minutes_or_seconds(second)}秒"
    return words


def replace_time(match: re.Match) -> str:
    """8:30 -> 八点半, 12:05:09 -> 十二点零五分零九秒."""
    hour, minute, second = match.group(1), match.group(2), match.group(4)
    return _clock_words(hour, minute, second, half_hour=int(minute) == 30)


def replace_time_range(match: re.Match) -> str:
    """8:30-12:00 -> 八点半至十二点."""
    hour, minute, second = match.group(1), match.group(2), match.group(4)
    end_hour, end_minute, end_second = match.group(6), match.group(7), match.group(9)
    start = _clock_words(hour, minute, second, half_hour=int(minute) == 30)
    # As trained: whether the end time says 半 depends on the *start* minute (8:30-9:15 -> 八点半至九点半).
    end = _clock_words(end_hour, end_minute, end_second, half_hour=int(minute) == 30)
    return f"{start}至{end}"
