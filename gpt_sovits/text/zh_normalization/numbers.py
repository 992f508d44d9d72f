"""Numbers read out in Chinese: cardinals, digit strings, decimals, and the number patterns built on them.

Every function here turns a matched piece of text into Chinese characters. The patterns and their quirks follow
the normalizer GPT-SoVITS models were trained with (a PaddleSpeech port), because a model reads whatever that
normalizer produced during training; see `normalizer.py` for the order in which they run.

Where an original pattern starts with a run of digits, it carries a look-behind `(?<!\d)` so that a match can only
start where the run starts (written `(-|(?<!\d))` where the original had an optional minus sign `(-?)`). The
matches are the same: a match that fails from the first digit of a run fails from every later digit too (the same
text follows), and no match of these patterns ends inside a run of digits, so no later search starts inside one.
Without it Python's regex engine retries from every digit of a long run and reads to the run's end each time,
which is quadratic in the run's length (a 20,000-digit run took minutes).
"""

import re
import unicodedata

DIGIT_WORDS = "零一二三四五六七八九"
# Powers of ten that have their own word, largest last. Between them, words repeat: 十万, 千万, 万亿 ...
UNIT_WORDS = {1: "十", 2: "百", 3: "千", 4: "万", 8: "亿"}


def _digit_word(digit: str) -> str:
    # `\d` in the patterns also matches non-ASCII decimal digits (Arabic-Indic, Devanagari, ...); read them by value.
    return DIGIT_WORDS[unicodedata.digit(digit)]


def read_digits(digits: str, one_as_yao: bool = False) -> str:
    """'2024' -> '二零二四'. Phone numbers and long serials say 幺 for 1 so it is not confused with 七."""
    words = "".join(_digit_word(d) for d in digits)
    return words.replace("一", "幺") if one_as_yao else words


def _cardinal_words(digits: str) -> list[str]:
    """Words for an integer string that may carry leading zeros; a dropped zero run is said once as 零."""
    # Peel off eight-digit groups from the right while more than eight significant digits are left: everything above
    # them is counted in 亿.
    first_significant = len(digits) - len(digits.lstrip("0"))
    end = len(digits)
    while end - first_significant > 8:
        end -= 8
    words = _small_cardinal_words(digits[:end])
    for start in range(end, len(digits), 8):
        words += [UNIT_WORDS[8]] + _small_cardinal_words(digits[start : start + 8])
    return words


def _small_cardinal_words(digits: str) -> list[str]:
    """Same as `_cardinal_words` for at most eight significant digits."""
    significant = digits.lstrip("0")
    if not significant:
        return []
    if len(significant) == 1:
        zero = [DIGIT_WORDS[0]] if len(significant) < len(digits) else []
        return zero + [_digit_word(significant)]
    power = max(p for p in UNIT_WORDS if p < len(significant))
    return _small_cardinal_words(digits[:-power]) + [UNIT_WORDS[power]] + _small_cardinal_words(digits[-power:])


def read_cardinal(digits: str) -> str:
    """'10' -> '十', '105' -> '一百零五', '000' -> '零', '' -> ''."""
    if not digits:
        return ""
    digits = digits.lstrip("0")
    if not digits:
        return DIGIT_WORDS[0]
    words = _cardinal_words(digits)
    if words[:2] == ["一", "十"]:  # 10-19 are said 十, 十一 ..., not 一十, 一十一
        words = words[1:]
    return "".join(words)


def read_number(number: str) -> str:
    """An unsigned integer or decimal: '12' -> '十二', '3.14' -> '三点一四', '.5' -> '零点五'.

    As trained, trailing zeros of the decimal part collapse to a single 零 ('3.200' -> '三点二零') instead of
    being dropped.
    """
    integer, _, decimal = number.partition(".")
    words = read_cardinal(integer)
    if decimal.endswith("0"):
        decimal = decimal.rstrip("0") + "0"
    if decimal:
        words = (words or DIGIT_WORDS[0]) + "点" + read_digits(decimal)
    return words


def _sign(minus: str, word: str = "负") -> str:
    return word if minus else ""


# 3/4 -> 四分之三
FRACTION = re.compile(r"(-|(?<!\d))(\d+)/(\d+)")


def replace_fraction(match: re.Match) -> str:
    minus, numerator, denominator = match.groups()
    return f"{_sign(minus)}{read_number(denominator)}分之{read_number(numerator)}"


# 12.5% -> 百分之十二点五
PERCENTAGE = re.compile(r"(-|(?<!\d))(\d+(\.\d+)?)%")


def replace_percentage(match: re.Match) -> str:
    return f"{_sign(match.group(1))}百分之{read_number(match.group(2))}"


# -12 -> 负十二. Runs before decimals, so '-3.5' becomes 负三 + '.5' (负三零点五), as trained.
NEGATIVE_INTEGER = re.compile(r"(-)(\d+)")


def replace_negative_integer(match: re.Match) -> str:
    return f"负{read_number(match.group(2))}"


# Any remaining integer of three or more digits is a code or serial, read digit by digit: 123 -> 幺二三.
LONG_INTEGER = re.compile(r"\d{3}\d*")


def replace_long_integer(match: re.Match) -> str:
    return read_digits(match.group(0), one_as_yao=True)


# One operand of an arithmetic expression: a number, a bare decimal, or a single letter, each with a superscript.
_OPERAND = r"((-|(?<!\d))((\d+)(\.\d+)?[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*)|(\.\d+[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*)|([A-Za-z][⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*))"
# a+b, a-b, a×b, a÷b, a=b: only the operator is spoken here; the operands are read by later steps.
ARITHMETIC = re.compile(_OPERAND + r"([\+\-\×÷=])" + _OPERAND)
_OPERATOR_WORDS = {"+": "加", "-": "减", "×": "乘", "÷": "除", "=": "等于"}


def replace_arithmetic(match: re.Match) -> str:
    return match.group(1) + _OPERATOR_WORDS[match.group(8)] + match.group(9)


# x² -> x的2次方 (the exponent's digits are read later)
POWER = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]+")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ", "0123456789xyn")


def replace_power(match: re.Match) -> str:
    return "的" + match.group(0).translate(_SUPERSCRIPTS) + "次方"


DECIMAL = re.compile(r"(-|(?<!\d))((\d+)(\.\d+))|(\.(\d+))")
NUMBER = re.compile(r"(-?)((\d+)(\.\d+)?)|(\.(\d+))")


def replace_number(match: re.Match) -> str:
    bare_decimal = match.group(5)
    if bare_decimal:  # '.5': the sign group cannot match in this branch
        return read_number(bare_decimal)
    return _sign(match.group(1)) + read_number(match.group(2))


# 3-5 / 3~5 -> 三到五, unless an operator or digit touches either end (then it is arithmetic).
RANGE = re.compile(
    r"(?<![\d\+\-\×÷=])"
    r"((-?)((\d+)(\.\d+)?))"
    r"[-~]"
    r"((-?)((\d+)(\.\d+)?))"
    r"(?![\d\+\-\×÷=])"
)


def replace_range(match: re.Match) -> str:
    first = NUMBER.sub(replace_number, match.group(1))
    second = NUMBER.sub(replace_number, match.group(6))
    return f"{first}到{second}"


# 20~30℃ -> 20至30℃: a tilde between two measured values is 至 (the values are read later).
_UNIT = r"(%|°C|℃|度|摄氏度|cm2|cm²|cm3|cm³|cm|db|ds|kg|km|m2|m²|m³|m3|ml|m|mm|s)"
# The units m2 and m3 end in a digit, so a search may resume right after one: a match may start there too.
_VALUE = r"((-|(?<!\d)|(?<=m[23]))((\d+)(\.\d+)?)|(\.(\d+)))"
TILDE_RANGE = re.compile(_VALUE + _UNIT + r"[~]" + _VALUE + _UNIT)


def replace_tilde_range(match: re.Match) -> str:
    return match.group(0).replace("~", "至")


# 1.2.3 -> 一点二点三 (three or more dotted parts)
VERSION = re.compile(r"(?<!\d)((\d+)(\.\d+)(\.\d+)?(\.\d+)+)")


def replace_version(match: re.Match) -> str:
    return "".join("点" if c == "." else read_number(c) for c in match.group(1))


# Counted things: a number followed by a measure word is a cardinal, and 2 is 两: 2个 -> 两个, 3+年 -> 三多年.
_MEASURE_WORDS = (
    "(处|台|架|枚|趟|幅|平|方|堵|间|床|株|批|项|例|列|篇|栋|注|亩|封|艘|把|目|套|段|人|所|朵|匹|张|座|回|场|尾|条|个|首|阙|阵|"
    "网|炮|顶|丘|棵|只|支|袭|辆|挑|担|颗|壳|窠|曲|墙|群|腔|砣|座|客|贯|扎|捆|刀|令|打|手|罗|坡|山|岭|江|溪|钟|队|单|双|对|出|"
    "口|头|脚|板|跳|枝|件|贴|针|线|管|名|位|身|堂|课|本|页|家|户|层|丝|毫|厘|分|钱|两|斤|担|铢|石|钧|锱|忽|(千|毫|微)克|毫|厘|"
    "(公)分|分|寸|尺|丈|里|寻|常|铺|程|(千|分|厘|毫|微)米|米|撮|勺|合|升|斗|石|盘|碗|碟|叠|桶|笼|盆|盒|杯|钟|斛|锅|簋|篮|盘|"
    "桶|罐|瓶|壶|卮|盏|箩|箱|煲|啖|袋|钵|年|月|日|季|刻|时|周|天|秒|分|小时|旬|纪|岁|世|更|夜|春|夏|秋|冬|代|伏|辈|丸|泡|粒|"
    "颗|幢|堆|条|根|支|道|面|片|张|颗|块|元|(亿|千万|百万|万|千|百)|(亿|千万|百万|万|千|百|美|)元|(亿|千万|百万|万|千|百|十|)吨|"
    "(亿|千万|百万|万|千|百|)块|角|毛|分)"
)
COUNTED = re.compile(r"(?<!\d)(\d+)([多余几\+])?" + _MEASURE_WORDS)


def replace_counted(match: re.Match) -> str:
    number, approx, measure_word = match.group(1), match.group(2), match.group(3)
    approx = "多" if approx == "+" else (approx or "")
    words = read_number(number)
    if words == "二":
        words = "两"
    return f"{words}{approx}{measure_word}"
