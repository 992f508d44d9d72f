"""Character-level conversions: traditional to simplified, full-width ASCII to half-width."""

from functools import cache
from importlib import resources
import string

# Full-width letters and digits sit 0xFEE0 above their ASCII forms; U+3000 is the ideographic space.
_FULL_TO_HALF_WIDTH = {ord(c) + 0xFEE0: c for c in string.ascii_letters + string.digits} | {0x3000: " "}


@cache
def _traditional_to_simplified_table() -> dict[int, str]:
    table = {}
    data = resources.files("gpt_sovits.text") / "data" / "zh_traditional_to_simplified.tsv"
    for line in data.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            traditional, simplified = line.split("\t")
            table[ord(traditional)] = simplified
    return table


def to_simplified(text: str) -> str:
    return text.translate(_traditional_to_simplified_table())


def full_width_to_half_width(text: str) -> str:
    """Only letters, digits and the space: full-width punctuation is handled later, mark by mark."""
    return text.translate(_FULL_TO_HALF_WIDTH)
