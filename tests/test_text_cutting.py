"""Cutting and target/reference preparation against the official pipeline (tests/data/text/cut.jsonl)."""

import json
from pathlib import Path

import pytest

from gpt_sovits.errors import TextError
from gpt_sovits.text import cut_text, prepare_reference_text, prepare_target_segments

VECTORS = Path(__file__).parent / "data" / "text" / "cut.jsonl"


def _records():
    with VECTORS.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_every_official_cut_is_reproduced():
    mismatches = []
    for record in _records():
        pieces = cut_text(record["text"], record["method"])
        if record["error"]:
            # Upstream cut1/cut2 raise IndexError on an empty paragraph; we return one empty piece, like cut3.
            assert pieces == [""], record["id"]
        elif pieces != record["segments"]:
            mismatches.append(record["id"])
    assert not mismatches


def test_target_segments_match_the_official_preprocessing():
    mismatches = []
    for record in _records():
        expected = record["pre_seg_texts"]
        if record["pre_seg_error"] or not expected:
            # Upstream raises ValueError("Please enter valid text.") or returns nothing (then plays 1 s of
            # silence); we raise a TextError either way.
            with pytest.raises(TextError):
                prepare_target_segments(record["text"], record["method"], record["pipeline_language_mode"])
            continue
        segments = prepare_target_segments(record["text"], record["method"], record["pipeline_language_mode"])
        if segments != expected:
            mismatches.append((record["id"], segments[:2], expected[:2]))
    assert not mismatches


def test_cut_methods_on_a_small_paragraph():
    text = "你好，我是小明。今天天气不错！我们去公园吧？好的。走吧……3.14是圆周率。"
    assert cut_text(text, "cut0") == [text]
    assert cut_text(text, "cut3") == ["你好，我是小明", "今天天气不错！我们去公园吧？好的", "走吧……3.14是圆周率"]
    assert cut_text(text, "cut5")[:3] == ["你好，", "我是小明。", "今天天气不错！"]
    assert "3.14是圆周率。" in cut_text(text, "cut5")  # a decimal point does not cut
    assert cut_text("one. two 3.5 three.", "cut4") == ["one", " two 3.5 three"]


def test_unknown_method_is_a_text_error():
    with pytest.raises(TextError, match="cut0"):
        cut_text("你好", "cut9")


def test_target_rules():
    # Short first clause gets a leading mark; a missing final mark is added; repeated marks collapse.
    assert prepare_target_segments("你好", "cut0", "all_zh") == ["。你好。"]
    assert prepare_target_segments("hi, there", "cut0", "en") == [".hi, there."]
    assert prepare_target_segments("今天天气真不错...", "cut0", "zh") == ["今天天气真不错."]
    assert prepare_target_segments("今天天气真不错。。。", "cut0", "zh") == ["今天天气真不错。。。"]  # ASCII marks only
    assert prepare_target_segments("今天天气真不错!!!", "cut0", "zh") == ["今天天气真不错!"]
    # A line break starts a new segment; a punctuation-only line is dropped.
    assert prepare_target_segments("今天天气真不错\n。。。。。。\n我们出去走走吧", "cut0", "zh") == ["今天天气真不错。", "我们出去走走吧。"]
    # Over 510 characters: split at sentence marks.
    long_text = "这是一个很长的句子，" * 80
    segments = prepare_target_segments(long_text, "cut0", "zh")
    assert len(segments) > 1 and all(len(segment) <= 510 for segment in segments)
    assert "".join(segments) == long_text


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "。。。", "!?…"])
def test_target_without_speech_is_a_text_error(text):
    with pytest.raises(TextError):
        prepare_target_segments(text, "cut1", "zh")


def test_reference_text_rule():
    assert prepare_reference_text("这是参考音频的文本", "zh") == "这是参考音频的文本。"
    assert prepare_reference_text("this is the reference\n", "en") == "this is the reference."
    assert prepare_reference_text("已经有句号了！", "all_zh") == "已经有句号了！"
    with pytest.raises(TextError):
        prepare_reference_text("\n", "zh")
    assert prepare_reference_text("こんにちは", "ja") == "こんにちは。"
    with pytest.raises(TextError, match="Unknown language mode"):
        prepare_reference_text("你好", "jp")
