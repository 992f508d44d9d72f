"""Chinese front end: normalization, tone sandhi, erhua, and parity with the official implementation.

Every expected value is official output: the unit tests pin single rules (values checked by running the
official chinese.py / chinese2.py with jieba_fast 0.53 and pypinyin 0.55.0), and the parity test replays every
Chinese run of the reference records in tests/data/text/ (see the README there).
"""

import collections
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpt_sovits.errors import TextError
from gpt_sovits.text.chinese import g2p, normalize

VECTORS = Path(__file__).parent / "data" / "text" / "g2p.jsonl"


def phones(text: str, version: str = "v2") -> str:
    return " ".join(g2p(normalize(text), version)[0])


# --------------------------------------------------------------------------------------------------------------
# Normalization


@pytest.mark.parametrize(
    "text, expected",
    [
        # integers: with a measure word a cardinal (2 -> 两), otherwise 3+ digits are read one by one with 幺
        ("123个苹果", "一百二十三个苹果"),
        ("我有123", "我有幺二三"),
        ("2个人", "两个人"),
        ("3+年", "三多年"),
        ("第1名", "第一名"),
        ("共10005元", "共一万零五元"),
        ("12块5", "十二块五"),
        ("10,000人", "十,零人"),  # the thousands comma splits the sentence, as trained
        # decimals and negatives
        (".2", "零点二"),
        ("3.20", "三点二零"),
        ("-3.5", "负三零点五"),  # the integer rule runs before decimals, as trained
        ("零下-5", "零下负五"),
        # dates and times
        ("2024-05-01", "二零二四年五月一日"),
        ("1995年3月1日", "一九九五年三月一日"),
        ("86年8月18号", "八六年八月十八号"),
        ("12:05", "十二点零五分"),
        ("8:30", "八点半"),
        ("8:30-9:15", "八点半至九点半"),  # the end's 半 follows the start minute, as trained
        ("23:59:09", "二十三点五十九分零九秒"),
        # percentages, fractions, ranges, arithmetic, powers
        ("62%", "百分之六十二"),
        ("-0.5%", "负百分之零点五"),
        ("7/12", "十二分之七"),
        ("3~5", "三到五"),
        ("3-5个人", "三减五个人"),  # arithmetic beats range
        ("1+2=3", "一加二等于三"),
        ("x²+y²=1", "的二次方加的二次方等于一"),  # the letters go later
        ("6÷2×3", "六除二乘三"),
        # phone numbers
        ("+86 18544139121", "八六幺八五四四幺三九幺二幺"),
        ("电话01012345678", "电话零幺零幺二三四五六七八"),  # groups split only at "-", which arithmetic takes first
        ("400-123-4567", "四零零减幺二三减四五六七"),
        # units, temperature
        ("5kg", "五千克"),
        ("3cm²", "三平方厘米"),
        ("今天-10°C", "今天零下十度"),
        ("25摄氏度", "二十五度"),  # every temperature unit is said 度, as trained
        ("20~30℃", "二十…三十度"),
        ("10m/s", "十米每秒"),
        # characters: traditional, full width, circled numbers, Greek letters
        ("頭髮", "头发"),
        ("ＡＢＣ１２３", "幺二三"),
        ("①号", "一号"),
        ("α粒子", "阿尔法粒子"),
        # punctuation
        ("你好，世界！", "你好,世界!"),
        ("真的？对：好；嗯、行。", "真的?对,好,恩,行."),
        ("我们——走吧……好的", "我们走吧…好的"),
        ("哈哈~~~", "哈哈…"),
        ("你好!!!???", "你好!"),
        ("《原神》“开放”【世界】", "原神开放世界"),
        ("A股大涨", "股大涨"),
        ("他在Office里", "他在里"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_normalize_reads_non_ascii_digits_instead_of_failing():
    # The official normalizer raises KeyError here; we read the digit by value.
    assert normalize("٣个") == "三个"


# --------------------------------------------------------------------------------------------------------------
# g2p


def test_phones_and_word2ph():
    assert g2p("你好.", "v2") == (["n", "i2", "h", "ao3", "."], [2, 2, 1])
    assert g2p("", "v2") == ([], [])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("烟", "y En1"),
        ("也", "y E3"),
        ("二", "EE er4"),
        ("安", "AA an1"),
        ("哦", "OO o5"),
        ("女", "n v3"),
        ("雨", "y v3"),
        ("桌子", "zh uo1 z i05"),
        ("嗯", "EE en1"),  # 嗯 is read as 恩
    ],
)
def test_syllable_table(text, expected):
    assert phones(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # 不: bu2 before a fourth tone, neutral inside X不Y
        ("不是", "b u2 sh ir4"),
        ("不好", "b u4 h ao3"),
        ("看不懂", "k an4 b u5 d ong3"),
        # 一: yi4 before tones 1-3, yi2 before tone 4, yi5 in V一V, yi1 as an ordinal or in numbers
        ("一天", "y i4 t ian1"),
        ("一个", "y i2 g e5"),
        ("看一看", "k an4 y i5 k an4"),
        ("第一", "d i4 y i1"),
        ("一零一", "y i1 l ing2 y i1"),
        # neutral tone: reduplications, suffixes, particles, the word list
        ("奶奶", "n ai3 n ai5"),
        ("我们", "w o3 m en5"),
        ("好的", "h ao3 d e5"),
        ("东西", "d ong1 x i5"),
        # third-tone chains
        ("你好", "n i2 h ao3"),
        ("展览馆", "zh an2 l an2 g uan3"),
        ("手表厂", "sh ou2 b iao2 ch ang3"),
    ],
)
def test_tone_sandhi(text, expected):
    assert phones(text) == expected


def test_word_split_follows_jieba_fast():
    # Third-tone sandhi splits 蚂蚂錅 with jieba's search cut. jieba_fast (official) keeps the unknown word whole,
    # so no syllable changes; jieba's Python HMM would split it and turn the first ma3 into ma2.
    assert phones("蚂蚂錅") == "m a3 m a3 l i2"


def test_erhua_only_in_v2():
    # v2 gives a final 儿 the tone of the syllable before it; v1 keeps pypinyin's er2.
    assert phones("那儿", "v2") == "n a4 EE er4"
    assert phones("那儿", "v1") == "n a4 EE er2"
    # Words like 女儿 keep a full 儿 in both.
    assert phones("女儿", "v2") == phones("女儿", "v1") == "n v3 EE er2"


def test_word2ph_matches_normalized_text():
    text = normalize("2024年，我们一起去看了3场电影！真不错……")
    sequence, word2ph = g2p(text, "v2")
    assert len(word2ph) == len(text)
    assert sum(word2ph) == len(sequence)


def test_deterministic():
    text = normalize("重庆的长城很长，银行行长说了一会儿话。")
    assert g2p(text, "v2") == g2p(text, "v2")


def test_pinyin_resolver_can_be_replaced():
    class AllFirstTone:
        def initials_and_finals(self, sentence, words):
            return [(["h"] * len(word), ["ao1"] * len(word)) for word, _ in words]

    # Sandhi still applies on top of the resolver's readings (一/不 are untouched here: no such characters).
    assert g2p("好好", "v1", resolver=AllFirstTone())[0] == ["h", "ao1", "h", "ao1"]


def test_bad_input_raises_text_error():
    with pytest.raises(TextError):
        g2p("你好", "v3")
    with pytest.raises(TextError):
        g2p("123", "v2")  # not normalized: digits have no reading
    for syllabic_nasal in ("呣", "噷"):  # m, hm: not in the phone table (normalize turns 呣 into 母)
        with pytest.raises(TextError):
            g2p(syllabic_nasal, "v2")
    with pytest.raises(TextError):
        normalize(None)


_PIECES = list("一不儿个了的你好我们是看長髮0123456789.-+×÷=/%:~～，。！？、；：“”《》（）…—·$￥^ abcmsxyzＡ１２αβ①²℃")
_PIECES += ["cm", "kg", "年", "月", "日", "号", "元", "\n", "\u3000", "噷", "呣", "嗯", "٣"]
_MIXED_TEXT = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_MIXED_TEXT)
def test_any_text_gives_aligned_phones_or_text_error(text):
    normalized = normalize(text)
    assert all("\u4e00" <= char <= "\u9fa5" or char in "!?…,.-" for char in normalized)
    try:
        sequence, word2ph = g2p(normalized, "v2")
    except TextError:
        return  # only 噷 (hm) is unreadable here
    assert len(word2ph) == len(normalized)
    assert sum(word2ph) == len(sequence)


# --------------------------------------------------------------------------------------------------------------
# Parity with the official front end


def _official_records():
    """(mode, reliable, [(run text, version, expected)]) for every reference record that has Chinese runs."""
    for line in VECTORS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["error"] or not record["segments"]:
            continue
        runs = [
            (segment["text"], record["version"], (segment["norm_text"], segment["phones"], segment["word2ph"]))
            for segment in record["segments"]
            if segment["lang"] == "zh"
        ]
        if runs:
            yield record["language_mode"], record["reliable"], runs


def _run_like_official(text: str, version: str):
    # The official cleaner turns ￥ and ^ into a comma and then every comma phone into a silence (SP2 / SP3).
    for mark, silence in (("￥", "SP2"), ("^", "SP3")):
        if mark in text:
            normalized = normalize(text.replace(mark, ","))
            sequence, word2ph = g2p(normalized, version)
            return normalized, [silence if phone == "," else phone for phone in sequence], word2ph
    normalized = normalize(text)
    return (normalized, *g2p(normalized, version))


def test_parity_with_official_front_end():
    """A record counts as identical when every Chinese run in it has the same normalized text, phones, word2ph."""
    cache = {}

    def ours(text, version):
        if (text, version) not in cache:
            try:
                cache[text, version] = tuple(_run_like_official(text, version))
            except TextError as error:
                cache[text, version] = ("TextError", str(error), None)
        return cache[text, version]

    totals = collections.Counter()
    matches = collections.Counter()
    mismatches = []
    for mode, reliable, runs in _official_records():
        differing = [(text, version, expected, ours(text, version)) for text, version, expected in runs]
        differing = [run for run in differing if run[2] != run[3]]
        totals[mode, reliable] += 1
        matches[mode, reliable] += not differing
        if reliable:
            mismatches += differing

    for (mode, reliable), total in sorted(totals.items()):
        label = "reliable" if reliable else "unreliable"
        print(f"records with Chinese runs, mode {mode} ({label}): {matches[mode, reliable]}/{total} identical")
    for mismatch in mismatches[:10]:
        print("differs:", mismatch)

    def rate(mode):
        return matches[mode, True] / totals[mode, True]

    assert totals["all_zh", True] > 700
    assert rate("all_zh") >= 0.995
    assert rate("zh") >= 0.98
