"""The Cantonese front end (gpt_sovits.text.cantonese) against the official one, segment by segment, and its rules.

For every v2 segment labelled `yue` in tests/data/text-multilingual/g2p.jsonl (and in GPT_SOVITS_EXTRA_TEXT_VECTORS,
a directory of the same layout, when set) we check normalize(text) == norm_text, and g2p's phones (after the mapping
to UNK) and word2ph against the segment's. Required: >= 99.5 % identical segments of reliable records.
"""


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from text_vectors import check_v2_segments

from gpt_sovits.errors import TextError
from gpt_sovits.text import cantonese
from gpt_sovits.text.symbols import known_or_unknown

def test_segments_match_the_official_front_end():
    check_v2_segments("yue", cantonese, "Cantonese", at_least=500)


# ---------------------------------------------------------------------------------------------------------------
# Rules, one at a time


def test_normalize():
    assert cantonese.normalize("佢話：「我哋1999年去過」～") == "佢话,我哋一九九九年去过-"  # simplified; quotes dropped
    assert cantonese.normalize("係咪㗎？ OK...") == "系咪?…"  # Extension A (㗎), Latin and spaces dropped
    assert cantonese.normalize("") == ""
    with pytest.raises(TextError):
        cantonese.normalize(b"bytes")


def test_g2p_initials_finals_and_word2ph():
    assert cantonese.g2p("佢啊,唔", "v2") == (["Yk", "Yeoi5", "Yaa", "Ya3", ",", "Ym", "Ym4"], [2, 2, 1, 2])
    assert cantonese.g2p("银行", "v2")[0] == ["Yng", "Yan4", "Yh", "Yong4"]  # word readings: 行 is hong4 here
    assert cantonese.g2p("五", "v2")[0] == ["Yng", "Yg5"]  # ng5: nothing after the onset, the final is its last letter
    assert known_or_unknown(cantonese.g2p("瓮", "v2")[0], "v2") == ["UNK", "Yg3"]  # ung3 -> Yung (not in the table)
    assert cantonese.g2p("卅", "v2") == (["Ys", "Yaa1 aa6"], [2])  # a two-syllable character, split as upstream does
    assert cantonese.g2p("", "v2") == ([], [])


def test_errors():
    with pytest.raises(TextError, match="No Cantonese reading"):
        cantonese.g2p("艹", "v2")  # a radical ToJyutping has no reading for (upstream raises too)
    with pytest.raises(TextError, match="v2 model"):
        cantonese.g2p("你好", "v1")


def test_long_input():
    # Short numbers only: the shared Chinese normalizer is still super-linear on long digit runs (being fixed there).
    text = ("我嘅号码系123，今日買咗3個。" * 1_300)[:20_000]
    normalized = cantonese.normalize(text)
    phones, word2ph = cantonese.g2p(normalized, "v2")
    assert len(word2ph) == len(normalized) and sum(word2ph) == len(phones) > len(text)


# ---------------------------------------------------------------------------------------------------------------
# Any text at all: phones or a TextError

_PIECES = st.sampled_from(
    ["佢", "哋", "唔該", "銀行", "㗎", "𡃉", "卅", "艹", "1999年", "3.14", "50%", "10:30", "2024年3月5日", "-5", "1+2", "~",
     "～", "“", "」", "（", "...", "……", "——", "。", "，", "！", "?", "Hello", "ＡＢ", "😀", " ", "\n", "\t", "\x00",
     "\ud800", "α", "①", "한국", "かな", "$"]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=60),
    st.lists(_PIECES, max_size=12).map("".join),
    st.lists(st.one_of(_PIECES, st.text(max_size=5)), min_size=1, max_size=8).map(lambda parts: "".join(parts) * 40),
)


@settings(derandomize=True, deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_any_text_gives_phones_or_a_text_error(text):
    try:
        normalized = cantonese.normalize(text)
        phones, word2ph = cantonese.g2p(normalized, "v2")
    except TextError as error:
        assert str(error)
        return
    assert all(isinstance(phone, str) and phone for phone in phones)
    assert len(word2ph) == len(normalized) and sum(word2ph) == len(phones)
