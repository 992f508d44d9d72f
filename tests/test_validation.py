"""Input checks: each user mistake gets its own clear message; long references are trimmed at a pause."""

import numpy as np
import pytest

from gpt_sovits import validation
from gpt_sovits.errors import AudioError, TextError

RATE = 32000


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise bursts shaped like syllables (about 4 per second), level around -15 dBFS."""
    rng = np.random.default_rng(seed)
    time = np.arange(int(seconds * RATE)) / RATE
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * time)
    return (0.2 * envelope * rng.standard_normal(len(time))).astype(np.float32)


def test_reference_within_range_is_returned_unchanged():
    samples = speech_like(5.0)
    checked, notes = validation.check_reference_audio(samples, RATE)
    assert notes == []
    np.testing.assert_array_equal(checked, samples)


@pytest.mark.parametrize("seconds", [0.5, 2.99])
def test_short_reference_is_refused(seconds):
    with pytest.raises(AudioError, match=r"at least 3 s.*3-10 seconds"):
        validation.check_reference_audio(speech_like(seconds), RATE)


def test_silent_reference_is_refused():
    quiet = np.full(5 * RATE, 1e-5, dtype=np.float32)
    with pytest.raises(AudioError, match="silent"):
        validation.check_reference_audio(quiet, RATE)


def test_invalid_samples_are_refused():
    samples = speech_like(4.0)
    samples[100] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        validation.check_reference_audio(samples, RATE)


def test_long_reference_is_trimmed_at_the_pause():
    samples = speech_like(14.0)
    pause = slice(int(7.5 * RATE), int(8.0 * RATE))
    samples[pause] = 0.0
    checked, notes = validation.check_reference_audio(samples, RATE)
    # The window ends inside the only pause before 10 s, so no syllable is cut.
    assert 7.5 <= len(checked) / RATE <= 8.0
    assert len(notes) == 1 and "14.0 s long" in notes[0] and "ending at a pause" in notes[0]


def test_long_reference_skips_leading_silence_and_stays_within_limits():
    samples = np.concatenate([np.zeros(4 * RATE, np.float32), speech_like(9.0)])
    checked, notes = validation.check_reference_audio(samples, RATE)
    duration = len(checked) / RATE
    assert validation.MIN_REFERENCE_SECONDS <= duration <= validation.MAX_REFERENCE_SECONDS
    assert "used 3.9-" in notes[0]  # speech starts at 4.0 s; 0.1 s of lead-in is kept


def test_long_reference_with_speech_only_at_the_end_still_gives_three_seconds():
    samples = np.concatenate([np.zeros(10 * RATE, np.float32), speech_like(2.0)])
    checked, _ = validation.check_reference_audio(samples, RATE)
    assert len(checked) / RATE == pytest.approx(3.0, abs=0.02)


def test_clipped_reference_gets_a_warning_note():
    samples = np.clip(speech_like(5.0) * 10, -1, 1)
    checked, notes = validation.check_reference_audio(samples, RATE)
    assert len(checked) == len(samples)
    assert len(notes) == 1 and "clipped" in notes[0]


def test_target_text_is_stripped():
    assert validation.check_target_text("  你好，世界。\n") == "你好，世界。"


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("   \n", "empty"), ("。，!?", "only punctuation"), ("a" * 1001, "1001 characters")],
)
def test_bad_target_text(text, message):
    with pytest.raises(TextError, match=message):
        validation.check_target_text(text)


def test_target_text_at_the_limit_is_accepted():
    assert len(validation.check_target_text("字" * validation.MAX_TARGET_CHARACTERS)) == 1000


@pytest.mark.parametrize(
    "text, seconds",
    [("", 5.0), ("今天天气很好，我们一起去公园散步吧。", 4.5), ("The quick brown fox jumps over the lazy dog.", 3.0)],
)
def test_plausible_reference_text_has_no_warning(text, seconds):
    assert validation.check_reference_text(text, seconds) == []


def test_reference_text_too_short_for_the_clip():
    (warning,) = validation.check_reference_text("你好", 8.0)
    assert "too short" in warning and "8.0 s" in warning


def test_reference_text_too_long_for_the_clip():
    (warning,) = validation.check_reference_text("这是一段很长很长的文字，" * 6, 3.0)
    assert "too long" in warning


def test_syllable_estimate():
    assert validation.estimate_syllables("你好") == 2
    assert validation.estimate_syllables("hello world") == 3  # hel-lo, world
    assert validation.estimate_syllables("2024年") == 5
    assert validation.estimate_syllables("こんにちは、今日は") == 8  # morae, kanji
    assert validation.estimate_syllables("안녕하세요") == 5


@pytest.mark.parametrize("mode", ["all_zh", "zh", "en", "auto", "all_ja", "ja"])
@pytest.mark.parametrize("symbol_version", ["v1", "v2"])
def test_supported_languages(mode, symbol_version):
    validation.check_language(mode, symbol_version)


@pytest.mark.parametrize("mode", ["all_ko", "ko", "all_yue", "yue", "auto_yue"])
def test_korean_and_cantonese_need_v2_symbols(mode):
    validation.check_language(mode, "v2")
    with pytest.raises(TextError, match=r"v1 symbols\) cannot speak .*all_ja \(Japanese\).*v2 or later model"):
        validation.check_language(mode, "v1")


def test_unknown_language():
    with pytest.raises(TextError, match="Unknown language mode 'klingon'.*all_yue \\(Cantonese\\)"):
        validation.check_language("klingon", "v2")


def test_language_the_model_cannot_speak():
    with pytest.raises(TextError, match="v3 symbols"):
        validation.check_language("en", "v3")


def test_reference_text_length_is_limited_before_any_processing():
    limit = validation.MAX_REFERENCE_CHARACTERS
    assert validation.check_reference_text("好" * 30, 5.0) == []
    with pytest.raises(TextError, match=f"{limit + 1} characters long; the limit is {limit}"):
        validation.check_reference_text("1" * (limit + 1), 5.0)


@pytest.mark.parametrize(
    ("text", "mode", "expected"),
    [
        ("こんにちは、元気ですか", "all_zh", ["Japanese characters", "set to Chinese"]),
        ("你好 world", "en", ["Chinese characters", "set to English"]),
        ("안녕하세요", "zh", ["Korean characters"]),
        ("你好😀👍", "all_zh", ["not spoken and were left out: 😀 👍"]),
        ("今日はいい天気", "all_ja", []),
        ("Hello 你好 こんにちは", "auto", []),
        ("你好，世界。", "all_zh", []),
    ],
)
def test_target_text_warnings(text, mode, expected):
    notes = " ".join(validation.target_text_warnings(text, mode))
    assert all(part in notes for part in expected) and bool(notes) == bool(expected), notes
