"""Any text at all gives a result or a TextError from the front end: never another exception.

Hypothesis feeds arbitrary Unicode (emoji, control characters, lone surrogates, mixed scripts, long strings).
Deterministic (derandomize) and bounded, so the suite stays fast and repeatable.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpt_sovits.errors import TextError
from gpt_sovits.text import (
    LANGUAGE_MODES,
    LANGUAGES,
    cut_text,
    phonemize,
    prepare_reference_text,
    prepare_target_segments,
)
from gpt_sovits.text.types import TextRun

SETTINGS = settings(
    derandomize=True, deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow]
)

# Pieces of the scripts and symbols the front end must cope with, glued together by hypothesis.
_PIECES = st.sampled_from(
    ["你好", "世界", "一百二十三", "2024年3月5日", "3.14", "50%", "¥12", "^", "￥", "Hello", "GPU", "iPhone",
     "don't", "A", "。", "，", "！", "...", "……", "——", "~", "～", "😀", "👏🏻", "\u200d", "ｗｏｒｌｄ", "かな", "한국",
     "\n", "\t", " ", "  ", "\x00", "\x1b", "\ud800", "\udfff", "Ω", "é", "𫫇", "(", "）", "“", "#", "3/4", "-5",
     "こんにちは", "東京タワー", "ｶﾀｶﾅ", "ゝ", "ヴ", "々", "ー", "「", "」", "・", "％", "ＧＰＵ", "안녕하세요", "ㄱ", "ᄀ",
     "嘅", "㗎", "𡃉", "佢哋", "※", "～", "•", "㎡", "\r", "\u3000", "\u0301"]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=60),
    st.lists(_PIECES, max_size=12).map("".join),
    st.lists(st.one_of(_PIECES, st.text(max_size=5)), min_size=1, max_size=8).map(lambda parts: "".join(parts) * 40),
)
MODES = st.sampled_from(tuple(LANGUAGE_MODES))
MODES_AND_VERSIONS = st.sampled_from(
    [(code, version) for code, mode in LANGUAGE_MODES.items() for version in mode.symbol_versions]
)
METHODS = st.sampled_from(["cut0", "cut1", "cut2", "cut3", "cut4", "cut5"])


@settings(SETTINGS, max_examples=160)  # every mode and symbol version: more cases
@given(text=TEXTS, mode_and_version=MODES_AND_VERSIONS)
def test_phonemize_gives_runs_or_a_text_error(text, mode_and_version):
    mode, version = mode_and_version
    try:
        result = phonemize(text, mode, version)
    except TextError as error:
        assert str(error)
        return
    assert result.runs and all(isinstance(run, TextRun) and run.phones for run in result.runs)
    assert all(run.language in LANGUAGES for run in result.runs)
    assert len(result.phones) == len(result.phone_ids) >= 1
    try:
        result.require_speech(text)
    except TextError as error:
        assert str(error)


@SETTINGS
@given(text=TEXTS, method=METHODS)
def test_cut_text_always_gives_pieces(text, method):
    pieces = cut_text(text, method)
    assert isinstance(pieces, list) and all(isinstance(piece, str) for piece in pieces)


@SETTINGS
@given(text=TEXTS, method=METHODS, mode=MODES)
def test_prepare_target_segments_gives_segments_or_a_text_error(text, method, mode):
    try:
        segments = prepare_target_segments(text, method, mode)
    except TextError:
        return
    assert segments and all(segment.strip() for segment in segments)


@SETTINGS
@given(text=TEXTS, mode=MODES)
def test_prepare_reference_text_gives_text_or_a_text_error(text, mode):
    try:
        prepared = prepare_reference_text(text, mode)
    except TextError:
        return
    assert prepared.strip()
