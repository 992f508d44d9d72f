"""The language registry (`gpt_sovits/text/languages.py`) and what reads it: menus, i18n labels, symbol versions,
BERT, final marks, and the splitting of mixed text per language mode."""

import pytest

from gpt_sovits import i18n
from gpt_sovits.errors import TextError
from gpt_sovits.text import LANGUAGE_MODES, LANGUAGES, language_choices, phonemize, prepare_target_segments, uses_bert
from gpt_sovits.text.language import split_by_language


def test_menus_follow_the_official_ones():
    # Official dict_language_v1 / dict_language_v2, in their order.
    assert [mode for _, mode in language_choices("v1")] == ["all_zh", "en", "all_ja", "zh", "ja", "auto"]
    assert [mode for _, mode in language_choices("v2")] == [
        "all_zh", "en", "all_ja", "all_yue", "all_ko", "zh", "ja", "yue", "ko", "auto", "auto_yue"
    ]  # fmt: skip
    assert language_choices() == language_choices("v2")


def test_every_label_key_has_english_and_chinese_text():
    for label_key, mode in language_choices():
        assert label_key == f"language_{mode}"
        assert i18n.ENGLISH[label_key] and i18n.CHINESE[label_key], label_key
    for code in ("ja", "ko", "yue"):  # each language's own name appears in its single-language label
        own_name = LANGUAGES[code].own_name
        mode = next(mode for mode in LANGUAGE_MODES.values() if mode.splitting == "single" and mode.language == code)
        assert own_name in i18n.ENGLISH[mode.label_key] and own_name in i18n.CHINESE[mode.label_key]


def test_only_chinese_gets_bert_features():
    assert [code for code in LANGUAGES if uses_bert(code)] == ["zh"]  # Cantonese too gets zeros upstream


def test_every_mode_speaks_languages_of_its_symbol_versions():
    for mode in LANGUAGE_MODES.values():
        if mode.language:
            assert set(mode.symbol_versions) <= set(LANGUAGES[mode.language].symbol_versions), mode.code
    assert LANGUAGES["ko"].symbol_versions == LANGUAGES["yue"].symbol_versions == ("v2",)


@pytest.mark.parametrize(
    "text, mode, runs",
    [
        # (with its fastText detector the official app may call 吗 Japanese here: kanji alone cannot tell)
        ("MyGO?,你也喜欢まいご吗？", "auto", [("en", "MyGO?,"), ("zh", "你也喜欢"), ("ja", "まいご"), ("zh", "吗？")]),
        ("MyGO?,你也喜欢まいご吗？", "ja", [("en", "MyGO?,"), ("ja", "你也喜欢まいご吗？")]),
        ("MyGO?,你也喜欢まいご吗？", "all_yue", [("en", "MyGO?,"), ("yue", "你也喜欢まいご吗？")]),
        ("今日はGPUの話。", "all_ja", [("ja", "今日は"), ("en", "GPU"), ("ja", "の話。")]),
        ("我们안녕하세요。", "auto", [("zh", "我们"), ("ko", "안녕하세요。")]),
        ("我们안녕하세요。", "ko", [("ko", "我们안녕하세요。")]),
        ("我哋去飲茶 OK？", "auto_yue", [("yue", "我哋去飲茶 "), ("en", "OK？")]),
        ("Hello 世界", "en", [("en", "Hello 世界")]),
    ],
)
def test_modes_split_as_the_official_app(text, mode, runs):
    assert split_by_language(text, mode) == runs


def test_final_mark_per_mode():
    assert prepare_target_segments("今日はいい天気ですね", "cut0", "all_ja") == ["今日はいい天気ですね。"]
    assert prepare_target_segments("What a day", "cut0", "en") == ["What a day."]


def test_unknown_mode_names_the_choices():
    with pytest.raises(TextError, match="Unknown language mode 'jp'.*all_ja \\(Japanese\\)"):
        phonemize("こんにちは", "jp", "v2")
