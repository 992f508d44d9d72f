"""Telephone numbers, read digit by digit with 幺 for 1; groups are separated by a pause (，)."""

import re

from .numbers import read_digits

# Mainland mobile numbers, optionally with +86 / 86 and a space: +86 13812345678
MOBILE = re.compile(r"(?<!\d)((\+?86 ?)?1([38]\d|5[0-35-9]|7[678]|9[89])\d{8})(?!\d)")
# Landlines with an optional area code: 010-12345678, 0421-3344112
LANDLINE = re.compile(r"(?<!\d)((0(10|2[1-3]|[3-9]\d{2})-?)?[1-9]\d{6,7})(?!\d)")
# Service numbers: 400-123-4567
SERVICE = re.compile(r"(400)(-)?\d{3}(-)?\d{4}")


def replace_mobile(match: re.Match) -> str:
    groups = match.group(0).strip("+").split()
    return "，".join(read_digits(group, one_as_yao=True) for group in groups)


def replace_landline(match: re.Match) -> str:
    groups = match.group(0).split("-")
    return "，".join(read_digits(group, one_as_yao=True) for group in groups)
