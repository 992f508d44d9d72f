"""The text front end does work linear in its input, and its linear-time patterns give the official outputs.

Three kinds of check:

- the rewritten patterns against the official ones they replace, match by match, on generated text (hypothesis);
- both normalizers against outputs recorded from the code before the rewrite (tests/record_normalization_cases.py);
- time: 20,000 digits (and other long runs) normalize in well under a second, and a seeded fuzz of `phonemize`
  stays within a time budget per text. Bounds are generous (CI machines are slow and shared): they catch
  super-linear work, which at these lengths takes minutes, not a slow machine.
"""

import gzip
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt_sovits.errors import TextError
from gpt_sovits.text import chinese, english, phonemize

ZH_EN_MODES = ("all_zh", "zh", "en", "auto")  # the modes whose normalisers were rewritten
from gpt_sovits.text.zh_normalization import numbers, units

CASES = Path(__file__).parent / "data" / "text" / "normalization_cases.jsonl.gz"

# -------------------------------------------------------------------------------------------------------------
# The official patterns and the ones that replace them

_OPERAND = r"((-?)((\d+)(\.\d+)?[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*)|(\.\d+[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*)|([A-Za-z][⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*))"
_UNIT = r"(%|°C|℃|度|摄氏度|cm2|cm²|cm3|cm³|cm|db|ds|kg|km|m2|m²|m³|m3|ml|m|mm|s)"
_VALUE = r"((-?)((\d+)(\.\d+)?)|(\.(\d+)))"
OFFICIAL_PATTERNS = {
    "en arithmetic": (_OPERAND + r"\s+([\+\-\×÷=])\s+" + _OPERAND, english._ARITHMETIC),
    "en negative": (r"(?:^|\s+)(-)(\d+)", english._NEGATIVE),
    "en pounds after": (r"([0-9\.\,]*[0-9]+)£", english._POUNDS_AFTER),
    "en dollars after": (r"([(0-9\.\,]*[0-9]+)\$", english._DOLLARS_AFTER),
    "en decimal": (r"([0-9]+\.\s*[0-9]+)", english._DECIMAL),
    "en fraction": (r"([0-9]+/[0-9]+)", english._FRACTION),
    "en ordinal": (r"[0-9]+(st|nd|rd|th)", english._ORDINAL),
    "zh fraction": (r"(-?)(\d+)/(\d+)", numbers.FRACTION),
    "zh percentage": (r"(-?)(\d+(\.\d+)?)%", numbers.PERCENTAGE),
    "zh arithmetic": (_OPERAND + r"([\+\-\×÷=])" + _OPERAND, numbers.ARITHMETIC),
    "zh decimal": (r"(-?)((\d+)(\.\d+))|(\.(\d+))", numbers.DECIMAL),
    "zh tilde range": (_VALUE + _UNIT + r"[~]" + _VALUE + _UNIT, numbers.TILDE_RANGE),
    "zh version": (r"((\d+)(\.\d+)(\.\d+)?(\.\d+)+)", numbers.VERSION),
    "zh counted": (r"(\d+)([多余几\+])?" + numbers._MEASURE_WORDS, numbers.COUNTED),
    "zh temperature": (r"(-?)(\d+(\.\d+)?)(°C|℃|度|摄氏度)", units.TEMPERATURE),
}

# Characters and pieces these patterns react to, in the mixes that made the old ones backtrack.
_PIECES = st.sampled_from(
    list("0123456789.,-+~/%£$( \t=×÷²ˣax") + ["١", "st", "nd", "th", "m", "m2", "m3", "cm3", "°C", "℃", "度", "个",
                                              "多", "12", "000", "1.5", " - ", "-1"]
)  # fmt: skip
_TEXTS = st.lists(st.one_of(_PIECES, st.lists(_PIECES, max_size=3).map(lambda p: "".join(p) * 10)), max_size=16)


def _describe(match: re.Match) -> str:
    return f"<{match.span()} {match.groups()}>"


@pytest.mark.parametrize("name", OFFICIAL_PATTERNS)
@settings(derandomize=True, deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=_TEXTS)
def test_rewritten_pattern_finds_the_official_matches(name, pieces):
    official, ours = OFFICIAL_PATTERNS[name]
    text = "".join(pieces)
    assert ours.sub(_describe, text) == re.sub(official, _describe, text)


def test_normalizers_give_the_outputs_recorded_before_the_rewrite():
    with gzip.open(CASES, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    assert len(records) >= 3000
    for record in records:
        for expected, normalize in ((record["en"], english.normalize), (record["zh"], chinese.normalize)):
            if isinstance(expected, dict):  # the old code raised (ValueError on amounts such as "£,5"): now a result
                assert isinstance(normalize(record["text"]), str)
            else:
                assert normalize(record["text"]) == expected, record["text"]


@pytest.mark.parametrize(
    "text, normalized",
    [
        ("£,5", "five pounds"),  # the official code raises ValueError on these amounts
        ("(5$", "five dollars"),
        ("1" * 37, " ".join(["one"] * 37)),  # beyond inflect's range: digit by digit, as the official fallback
        ("0" * 5000 + "1st", "first"),  # leading zeros beyond Python's 4300-digit int limit change nothing
        ("9" * 36, english._number_words().number_to_words("9" * 36, andword="")),
    ],
)
def test_english_numbers_of_any_length(text, normalized):
    assert english.normalize(text) == normalized


# -------------------------------------------------------------------------------------------------------------
# Time

# name -> (text, seconds allowed). One run of 20,000 digits, or thousands of numbers and marks in a row.
LONG_RUNS = {
    "digits": ("1" * 20000, 1.0),
    "digits then £": ("1" * 20000 + "£", 1.0),
    "$ then digits": ("$" + "1" * 20000, 1.0),
    "decimal": ("1" * 20000 + ".5", 1.0),
    "fraction": ("1" * 20000 + "/3", 1.0),
    "ordinal": ("1" * 20000 + "st", 1.0),
    "counted": ("1" * 20000 + "个", 1.0),
    "percent": ("1" * 20000 + "%", 1.0),
    "tabs": ("\t" * 20000 + "-1", 1.0),
    "dotted digits": ("1." * 5000, 3.0),
    "grouped digits": ("1," * 5000, 3.0),
    "dashes": ("1-" * 5000, 3.0),
    "tilde units": ("1m2~" * 2500, 3.0),
}


@pytest.mark.parametrize("name", LONG_RUNS)
def test_long_runs_normalize_in_linear_time(name):
    text, allowed_seconds = LONG_RUNS[name]
    for normalize in (english.normalize, chinese.normalize):
        started = time.perf_counter()
        normalize(text)
        elapsed = time.perf_counter() - started
        # Linear work takes a few hundredths of a second here; 2,000 digits took 50 s in the official English pattern.
        assert elapsed < allowed_seconds, (name, normalize.__module__, elapsed)


_FUZZ_PIECES = st.sampled_from(
    ["你好", "世界", "一百二十三", "2024年3月5日", "3.14", "50%", "¥12", "$5", "£3", "Hello", "world", "GPU", "iPhone",
     "don't", "A", "。", "，", "！", "...", "——", "~", "😀", "Ω", "é", "(", "）", "#", "3/4", "-5", "1", "22", "x",
     " ", "  ", "\t", "\n", "+", "=", "²", "℃", "km", "m2", "个", ":", "-", ".", ","]
)  # fmt: skip
FUZZ_TEXTS = st.one_of(
    st.lists(_FUZZ_PIECES, max_size=60).map("".join),
    # One piece repeated: long runs of digits, symbols, punctuation, spaces, letters or one script. 600 characters is
    # more than one piece of a target text (segments are cut at 510) or a whole reference text (500) can have.
    st.tuples(st.lists(_FUZZ_PIECES, min_size=1, max_size=3).map("".join), st.integers(20, 300)).map(
        lambda pair: (pair[0] * pair[1])[:600]
    ),
)
# CPU seconds per text. Linear work stays under about 0.5 s even for 600 characters of one Chinese syllable run
# (jieba's part-of-speech HMM, about 1 ms a character); the official cubic pattern took 6 s for 1,000 digits.
FUZZ_BUDGET_SECONDS = 2.0


@pytest.fixture(scope="module")
def loaded_front_end():
    """Load the dictionaries (jieba, pypinyin, CMUdict: seconds, once) before anything is timed."""
    for mode in ZH_EN_MODES:
        phonemize("你好 hello 1", mode, "v2")


@settings(derandomize=True, deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(text=FUZZ_TEXTS, mode=st.sampled_from(ZH_EN_MODES))
def test_phonemize_time_per_text_is_bounded(loaded_front_end, text, mode):
    started = time.process_time()
    try:
        phonemize(text, mode, "v2")
    except TextError:
        pass
    elapsed = time.process_time() - started
    assert elapsed < FUZZ_BUDGET_SECONDS, (text[:80], mode, elapsed)


# -------------------------------------------------------------------------------------------------------------
# Compound words: our loop against wordsegment's recursive search

_LETTER_PIECES = st.sampled_from(["the", "cat", "a", "i", "deep", "learning", "m", "two", "km", "don", "t", "x", "q",
                                  "hello", "zz", "one", "e", "s"])  # fmt: skip


@settings(derandomize=True, deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789'", max_size=40),
        st.lists(_LETTER_PIECES, max_size=120).map("".join),  # up to ~400 letters: two pieces of 250
    )
)
def test_compound_split_is_wordsegments(text):
    import sys

    import wordsegment

    english._english_g2p()  # loads wordsegment's counts
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)  # wordsegment recurses once per word; ours does not
    try:
        expected = wordsegment.segment(text)
    finally:
        sys.setrecursionlimit(limit)
    assert english._segment_compound(text) == expected
