"""The languages this app speaks and the language modes a user picks from: the one table of both.

    LANGUAGES[code] -> Language          zh, en, ja, ko, yue
    LANGUAGE_MODES[code] -> LanguageMode  all_zh, en, all_ja, all_yue, all_ko, zh, ja, yue, ko, auto, auto_yue
    language_mode(code) -> LanguageMode   (TextError for an unknown code, naming the choices)
    language_choices(symbol_version) -> [(label_key, mode code)]   what a language menu offers, in upstream's order
    modes_for(symbol_version) -> tuple of mode codes
    uses_bert(language_code) -> bool      whether runs of that language get BERT features (upstream: Chinese only)

The front end (splitting, normalizing, G2P), validation, the CLI and the UI all read these tables. Adding a
language is one `Language` entry here, its modes, and one `gpt_sovits/text/<language>/` package with

    normalize(text: str) -> str
    g2p(normalized: str, symbol_version: str) -> tuple[list[str], list[int] | None]   phones, word2ph (or None)

Symbol versions. The v1 phone table has Chinese, English and Japanese phones only, and the official app offers v1
models the modes that need no others (its `dict_language_v1`); Korean and Cantonese need v2 or later. In the auto
mode a v1 model still meets Korean text: the official cleaner then turns it into a pause (English " "), which
phonemize reproduces and synthesis refuses with a message (`PhonemizedText.require_speech`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from gpt_sovits.errors import TextError
from gpt_sovits.text.symbols import SYMBOL_VERSIONS

ALL_VERSIONS = SYMBOL_VERSIONS  # ("v1", "v2"): v2 is also the table of v2Pro, v2ProPlus, v3 and v4 models
V2_ONWARDS = ("v2",)


@dataclass(frozen=True)
class Language:
    """One language: its names, where its front end lives, and what the official pipeline does with it."""

    code: str
    english_name: str
    chinese_name: str
    own_name: str  # the language's name for itself
    normalize: Callable[[str], str]
    g2p: Callable[[str, str], tuple[list[str], list[int] | None]]  # (normalized, symbol_version) -> phones, word2ph
    symbol_versions: tuple[str, ...]
    uses_bert: bool  # upstream computes BERT features for Chinese text only; every other language gets zeros
    final_mark: str  # what the official app appends to a sentence that ends without a mark
    splitter_label: str  # what the official language splitter calls text of this language
    # Characters that mean a pause in this language, and the silence phone that replaces the pause's "," phone
    # (official `clean_special`: Chinese only, first one found only).
    silence_marks: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LanguageMode:
    """A choice in the language menu: how the official `get_phones_and_bert` splits and labels the text.

    splitting:
        "whole"  the whole text is one run of `language` (official "en")
        "single" everything but chunks of ASCII letters is `language` (the all_* modes)
        "mixed"  English chunks are English, everything else `language` (zh, ja, ko, yue)
        "auto"   every run keeps the language the splitter found; Chinese runs are read as `chinese_as`
    """

    code: str
    label_key: str  # key of the menu label in gpt_sovits/i18n.py
    english_name: str
    chinese_name: str  # the official web UI's label
    splitting: str
    language: str | None  # the main language; None for auto
    symbol_versions: tuple[str, ...]
    chinese_as: str = "zh"  # auto modes: the language of text the splitter calls Chinese

    @property
    def final_mark(self) -> str:
        """The mark the official app appends to a sentence of this mode that ends without one."""
        return LANGUAGES[self.language].final_mark if self.language else "。"


def _lazy(module: str, function: str) -> Callable:
    """`module.function`, imported on the first call (the front ends load dictionaries and models)."""

    def call(*args):
        return getattr(import_module(module), function)(*args)

    call.__qualname__ = f"{module}.{function}"
    return call


def _english_g2p(normalized_text: str, symbol_version: str) -> tuple[list[str], None]:
    # english.g2p predates the contract: no symbol version (its phones are in both tables), no word2ph.
    from gpt_sovits.text import english

    return english.g2p(normalized_text), None


def _front_end(module: str) -> dict[str, Callable]:
    return {"normalize": _lazy(module, "normalize"), "g2p": _lazy(module, "g2p")}


LANGUAGES = {
    language.code: language
    for language in (
        Language("zh", "Chinese", "中文", "中文", **_front_end("gpt_sovits.text.chinese"),
                 symbol_versions=ALL_VERSIONS, uses_bert=True, final_mark="。", splitter_label="zh",
                 silence_marks=(("￥", "SP2"), ("^", "SP3"))),
        Language("en", "English", "英文", "English", _lazy("gpt_sovits.text.english", "normalize"), _english_g2p,
                 symbol_versions=ALL_VERSIONS, uses_bert=False, final_mark=".", splitter_label="en"),
        Language("ja", "Japanese", "日文", "日本語", **_front_end("gpt_sovits.text.japanese"),
                 symbol_versions=ALL_VERSIONS, uses_bert=False, final_mark="。", splitter_label="ja"),
        Language("ko", "Korean", "韩文", "한국어", **_front_end("gpt_sovits.text.korean"),
                 symbol_versions=V2_ONWARDS, uses_bert=False, final_mark="。", splitter_label="ko"),
        Language("yue", "Cantonese", "粤语", "粵語", **_front_end("gpt_sovits.text.cantonese"),
                 symbol_versions=V2_ONWARDS, uses_bert=False, final_mark="。", splitter_label="zh"),
    )
}  # fmt: skip

# In the official web UI's order (`dict_language_v2`); v1 models get the ones whose symbol versions include v1.
LANGUAGE_MODES = {
    mode.code: mode
    for mode in (
        LanguageMode("all_zh", "language_all_zh", "Chinese", "中文", "single", "zh", ALL_VERSIONS),
        LanguageMode("en", "language_en", "English", "英文", "whole", "en", ALL_VERSIONS),
        LanguageMode("all_ja", "language_all_ja", "Japanese", "日文", "single", "ja", ALL_VERSIONS),
        LanguageMode("all_yue", "language_all_yue", "Cantonese", "粤语", "single", "yue", V2_ONWARDS),
        LanguageMode("all_ko", "language_all_ko", "Korean", "韩文", "single", "ko", V2_ONWARDS),
        LanguageMode("zh", "language_zh", "Chinese-English mix", "中英混合", "mixed", "zh", ALL_VERSIONS),
        LanguageMode("ja", "language_ja", "Japanese-English mix", "日英混合", "mixed", "ja", ALL_VERSIONS),
        LanguageMode("yue", "language_yue", "Cantonese-English mix", "粤英混合", "mixed", "yue", V2_ONWARDS),
        LanguageMode("ko", "language_ko", "Korean-English mix", "韩英混合", "mixed", "ko", V2_ONWARDS),
        LanguageMode("auto", "language_auto", "multilingual, auto-detected", "多语种混合", "auto", None, ALL_VERSIONS),
        LanguageMode("auto_yue", "language_auto_yue", "multilingual with Cantonese, auto-detected",
                     "多语种混合(粤语)", "auto", None, V2_ONWARDS, chinese_as="yue"),
    )
}  # fmt: skip


def language_mode(code: str) -> LanguageMode:
    """The mode called `code`; TextError naming the choices when there is none."""
    if code not in LANGUAGE_MODES:
        raise TextError(f"Unknown language mode {code!r}. Choose one of: {describe_modes(LANGUAGE_MODES)}.")
    return LANGUAGE_MODES[code]


def modes_for(symbol_version: str) -> tuple[str, ...]:
    """The mode codes a model with this phone-symbol table can speak, in menu order."""
    return tuple(code for code, mode in LANGUAGE_MODES.items() if symbol_version in mode.symbol_versions)


def language_choices(symbol_version: str | None = None) -> list[tuple[str, str]]:
    """(i18n label key, mode code) for a language menu: every mode, or those of one symbol version."""
    codes = LANGUAGE_MODES if symbol_version is None else modes_for(symbol_version)
    return [(LANGUAGE_MODES[code].label_key, code) for code in codes]


def uses_bert(language_code: str) -> bool:
    """Whether runs of this language get real BERT features (upstream: Chinese only; others get zeros)."""
    return LANGUAGES[language_code].uses_bert


def describe_modes(codes) -> str:
    """"all_zh (Chinese), en (English), ..." for messages and help texts."""
    return ", ".join(f"{code} ({LANGUAGE_MODES[code].english_name})" for code in codes)
