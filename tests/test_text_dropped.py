"""Words the front end leaves out (as the official one does) are named in a warning, and nothing spoken is."""

import pytest

from gpt_sovits.text import phonemize
from gpt_sovits.text.dropped import dropped_words


@pytest.mark.parametrize(
    "text, mode, dropped",
    [
        ("naïve café", "zh", ["naïve", "café"]),
        ("naïve café", "auto", ["naïve", "café"]),
        ("naïve café", "en", []),  # the English front end reads them without accents
        ("hello мир", "zh", ["мир"]),
        ("hello мир", "all_zh", ["hello", "мир"]),  # all_zh reads Chinese only
        ("😀 abc", "auto", []),  # emoji: validation.target_text_warnings notes them
        ("😀 abc", "all_zh", ["abc"]),
        ("résumé 很好", "zh", ["résumé"]),
        ("🖥️ PyTorch GPU 加速检测", "all_zh", ["PyTorch", "GPU"]),
    ],
)
def test_dropped_words_are_named(text, mode, dropped):
    assert dropped_words(text, phonemize(text, mode, "v2").runs) == dropped


@pytest.mark.parametrize(
    "text", ["今天是2024年3月5日，气温25℃。", "e.g. U.S.A. Mr. Smith", "Dr. Who met St. John.", "ＧＰＵ很快。",
             "Hello, world! It costs $5.", "你好，世界！《书》——“引号”…", "I don't know, 50% of 3/4."],
)  # fmt: skip
@pytest.mark.parametrize("mode", ["zh", "auto", "en"])
def test_nothing_spoken_is_reported(text, mode):
    assert dropped_words(text, phonemize(text, mode, "v2").runs) == []
