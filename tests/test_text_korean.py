"""The Korean front end (gpt_sovits.text.korean) against the official one, segment by segment, and its own rules.

tests/data/text-multilingual/g2p.jsonl (README there) holds what the official front end gave for Korean, Cantonese,
Japanese and mixed sentences; each record lists the segments it handed to `clean_text`. For every v2 segment
labelled `ko` we check normalize(text) == norm_text and the phones of g2p (after the mapping to UNK) == its phones.
GPT_SOVITS_EXTRA_TEXT_VECTORS may name a directory of the same layout whose records are checked too.
Required: >= 99.5 % identical segments of reliable records; unreliable ones are reported.
"""


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from text_vectors import check_v2_segments

from gpt_sovits.errors import TextError
from gpt_sovits.text import korean
from gpt_sovits.text.korean.hangul import decompose, to_compatibility_jamo
from gpt_sovits.text.korean.pronunciation import spell_number
from gpt_sovits.text.symbols import symbol_to_id

def test_segments_match_the_official_front_end():
    check_v2_segments("ko", korean, "Korean", at_least=700)


# ---------------------------------------------------------------------------------------------------------------
# Rules, one at a time


def _phones(text: str) -> str:
    return "".join(korean.g2p(korean.normalize(text), "v2")[0])


def test_normalize_is_the_text_itself():
    assert korean.normalize(" 3개, ABC! ") == " 3개, ABC! "
    with pytest.raises(TextError):
        korean.normalize(None)


def test_pronunciation_rules_and_phones():
    assert _phones("안녕하세요") == "ㅇㅏㄴㄴㅣㅓㅇㅎㅏㅅㅔㅇㅣㅗ."  # compound vowels split; "." after a final jamo
    assert _phones("읽다") == "ㅇㅣㄱㄸㅏ."  # coda cluster + tensing
    assert _phones("같이") == "ㄱㅏㅊㅣ."  # palatalization
    assert _phones("국물 ") == "ㄱㅜㅇㅁㅜㄹ空"  # nasalization; a space is 空, no "." after it
    assert _phones("漢字。") == "停停."  # not in the phone table -> 停; CJK marks -> ASCII


def test_latin_letters_are_spelled_out_by_name():
    assert _phones("GPU") == _phones("지피유")
    assert _phones("\u212a") == _phones("k") == _phones("케이")  # the Kelvin sign matches k, as upstream's regex


def test_numbers_before_counters():
    assert _phones("3개") == _phones("세개")  # native Korean before 개
    assert _phones("3분") == _phones("삼분")  # Sino-Korean before other counters
    assert _phones("1개와 11개") == _phones("한개와 열한개")  # each occurrence read once (no PYTHONHASHSEED luck)
    assert _phones("3.5") == _phones("삼.오")  # other digits one by one


def test_spell_number():
    assert spell_number("123,456,789", native=False) == "일억이천삼백사십오만육천칠백팔십구"
    assert spell_number("123,456,789", native=True) == "일억이천삼백사십오만육천칠백여든아홉"
    assert spell_number("20", native=True) == "스무"
    assert spell_number("0", native=True) == "영"
    assert spell_number("1200000", native=False) == "백이십만"
    assert spell_number("100000000", native=False) == "일억"
    assert spell_number("1" + "0" * 16, native=False) is None  # upstream fails here: read digit by digit
    assert spell_number("0" * 20 + "7", native=False) == "칠"


def test_hangul_arithmetic():
    assert decompose("각a") == "\u1100\u1161\u11a8a"
    assert to_compatibility_jamo("각\u1100\u11a8ᆪ") == "ㄱㅏㄱㄱㄱㄳ"
    assert to_compatibility_jamo("\ua960") == "\ua960"  # Jamo Extended-A has no twin (the jamo package fails)


def test_empty_text_and_v1():
    assert korean.g2p("", "v2") == ([], None)
    with pytest.raises(TextError, match="v2 model"):
        korean.g2p("안녕", "v1")
    with pytest.raises(TextError, match="v1, v2"):
        korean.g2p("안녕", "v3")


def test_long_input_with_long_digit_runs():
    text = ("제 번호는 " + "1" * 2_000 + "번이고 오늘 3개를 샀다. ") * 8  # 20,000+ characters
    phones, _ = korean.g2p(text, "v2")
    assert len(phones) > len(text)


# ---------------------------------------------------------------------------------------------------------------
# Any text at all: phones of the table or a TextError

_PIECES = st.sampled_from(
    ["안녕", "하세요", "읽다", "닭", "값이", "을 ", "라면", "3", "11", "1,000", "12345678901234567890", "개", "마리", "분",
     "%", "GPU", "k", "\u212a", "ı", " ", "\n", "\t", "\x00", "\ud800", "。", "！", "...", "·", "漢字", "😀", "ㄱ", "ㅘ",
     "\u1100", "\u1161", "\u11a8", "\ua960", "\ud7b0", "٣", "'"]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=60),
    st.lists(_PIECES, max_size=12).map("".join),
    st.lists(st.one_of(_PIECES, st.text(max_size=5)), min_size=1, max_size=8).map(lambda parts: "".join(parts) * 40),
)


@settings(derandomize=True, deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_any_text_gives_table_phones_or_a_text_error(text):
    try:
        phones, word2ph = korean.g2p(korean.normalize(text), "v2")
    except TextError as error:
        assert str(error)
        return
    assert word2ph is None
    assert all(phone in symbol_to_id("v2") for phone in phones)
