"""Splitting a mixed Chinese/English text into runs of one language each.

The official front end does this with the `split-lang` package and a fastText language detector (a 126 MB
download). For the two languages we speak the detector hardly matters, so this module reproduces the outcome
with plain character classes:

1. The text is cut into pieces by script: Chinese/Japanese characters, Hangul, digits, and everything else
   ("other": Latin letters, emoji, ...). Spaces stay with the piece they follow. Punctuation and line breaks join
   the piece before them (or, at the very start, the piece after them).
2. An "other" piece is English when it holds a Latin letter and nothing outside ASCII and the general/CJK/
   full-width punctuation blocks (the official `full_en` rule: "Hello，" is English, "café" and "🔥 GPU" are
   not). A piece of printable ASCII symbols without letters ("/" in "3/4") also counts as English, as the
   detector says.
3. Per language mode:
   - all_zh: English pieces are English, everything else (digits included) is Chinese.
   - zh / auto: as above, but a digit piece takes the language of its neighbours (official rules in
     `_resolve_digits`), and a piece that is neither English nor Chinese keeps only its CJK characters, digits
     and sentence marks (the official handling of the detector's "unknown" label).
   Then neighbouring runs of the same language are joined.

Kana and Hangul are not languages we can speak. In all_zh and zh they go to the Chinese run, where the Chinese
normalizer drops them (as the official app does); in auto mode, where the official app would hand them to a
Japanese or Korean G2P, they are rejected (`find_unsupported_script`).
"""

import re

# Official split-lang punctuation set: these join the piece before them.
_PUNCTUATION = frozenset(r"""〜~,.;:!?，。！？；：、·([{<（【《〈「『“‘)]}>）】》〉」』”’"-_——#$%&……￥'*+<=>?@[\]^_`{|}~""")
_CJK = re.compile(r"[\u4e00-\u9fff\u3040-\u30ff々]")  # what split-lang treats as Chinese/Japanese
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_ANY_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")

# Official `full_en`: at least one Latin letter, and only ASCII, general punctuation, CJK punctuation and
# full-width forms.
_ENGLISH = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9\s\u0020-\u007E\u2000-\u206F\u3000-\u303F\uFF00-\uFFEF]+$")

# CJK ideograph blocks (official `full_cjk`), and the other characters that rule keeps.
_IDEOGRAPH_BLOCKS = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DB5), (0x20000, 0x2A6DD), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF), (0x2CEB0, 0x2EBEF), (0x30000, 0x3134A), (0x31350, 0x323AF), (0x2EBF0, 0x2EE5D),
)
_KEPT_WITH_IDEOGRAPHS = re.compile(r"[0-9、-〜。！？.!?… /]")

_SENTENCE_MARKS = frozenset(",.!?，。！？")


def is_english(text: str) -> bool:
    return _ENGLISH.match(text) is not None


def _keep_chinese(text: str) -> str:
    """Only the CJK ideographs, digits, spaces and sentence marks of `text`."""
    return "".join(
        char
        for char in text
        if any(low <= ord(char) <= high for low, high in _IDEOGRAPH_BLOCKS) or _KEPT_WITH_IDEOGRAPHS.match(char)
    )


def _script_of(char: str, previous: str | None) -> str | None:
    """The piece kind a character starts, "mark" for punctuation/line breaks, None to stay in the current piece."""
    if _CJK.match(char):
        return "cjk"
    if _HANGUL.match(char):
        return "hangul"
    if char.isdigit():
        return "digit"
    if char in _PUNCTUATION:
        # An apostrophe right after a letter is part of the word ("don't").
        if char == "'" and previous is not None and not previous.isspace():
            return None
        return "mark"
    if char in "\n\r":
        return "mark"
    if char.isspace():
        return None
    return "other"


def _pieces(text: str) -> list[list[str]]:
    """[kind, text] pieces of `text` (already stripped), with marks attached as described in the module doc."""
    pieces: list[list[str]] = []
    leading_marks = ""
    kind = None
    for index, char in enumerate(text):
        char_kind = _script_of(char, text[index - 1] if index else None)
        if char_kind is None:  # space or in-word apostrophe: stays where it is
            if pieces:
                pieces[-1][1] += char
            else:
                leading_marks += char
        elif char_kind == "mark":
            if pieces:
                pieces[-1][1] += char
            else:
                leading_marks += char
            kind = "mark"
        else:
            if char_kind != kind or not pieces:
                pieces.append([char_kind, leading_marks + char])
                leading_marks = ""
            else:
                pieces[-1][1] += char
            kind = char_kind
    if leading_marks:  # nothing but marks
        pieces.append(["mark", leading_marks])
    return pieces


def _labelled(pieces: list[list[str]]) -> list[list[str]]:
    """[language, text] for each piece: "en", "zh", "ja", "ko", "digit" or "x" (unknown); same labels joined."""
    runs: list[list[str]] = []
    for kind, text in pieces:
        if kind == "cjk":
            language = "ja" if _KANA.search(text) else "zh"
        elif kind == "hangul":
            language = "ko"
        elif kind == "digit":
            language = "digit"
        elif kind == "other":
            # Printable ASCII without letters ("/" in "3/4") is what the detector calls English.
            language = "en" if is_english(text) or (text.isascii() and text.isprintable()) else "x"
        else:
            language = "zh"
        if runs and runs[-1][0] == language:
            runs[-1][1] += text
        else:
            runs.append([language, text])
    return runs


def _append(runs: list[list[str]], language: str, text: str) -> None:
    if runs and runs[-1][0] == language:
        runs[-1][1] += text
    else:
        runs.append([language, text])


def _resolve_digits(runs: list[list[str]]) -> list[list[str]]:
    """Give each digit run a language from its neighbours (the official rules, in their order)."""
    resolved: list[list[str]] = []
    for index, (language, text) in enumerate(runs):
        if language == "digit":
            is_last = index == len(runs) - 1
            if resolved and is_last:
                language = resolved[-1][0]
            elif not resolved and not is_last:
                language = runs[index + 1][0]
            elif resolved:
                before, after = resolved[-1], runs[index + 1]
                if before[0] == after[0]:
                    language = before[0]
                elif before[1][-1] in _SENTENCE_MARKS:  # a sentence ended before the number
                    language = after[0]
                elif after[1][0] in _SENTENCE_MARKS:  # a sentence ends after the number
                    language = before[0]
                elif text[-1] in "。.":
                    language = before[0]
                elif len(before[1]) >= len(after[1]):  # otherwise the longer neighbour wins
                    language = before[0]
                else:
                    language = after[0]
            else:
                language = "zh"
        _append(resolved, language, text)
    return resolved


def _resolve_unknown(runs: list[list[str]]) -> list[list[str]]:
    """An unknown ("x") run takes the language of the run before it, else of the run after it, else Chinese."""
    resolved: list[list[str]] = []
    for language, text in runs:
        if language == "x":
            if resolved:
                language = resolved[-1][0]
            elif len(runs) > 1:
                language = runs[1][0]
            else:
                language = "zh"
        _append(resolved, language, text)
    return resolved


def detected_runs(text: str, chinese_only: bool) -> list[tuple[str, str]]:
    """(language, text) runs of `text`, as the official LangSegmenter labels them.

    `chinese_only` is the all_zh behaviour (everything that is not an English piece is Chinese). Otherwise the
    labels are "en", "zh", "ja" (contains kana) or "ko" (Hangul). Leading and trailing whitespace is dropped.
    """
    runs: list[list[str]] = []
    for language, piece in _labelled(_pieces(text.strip())):
        if chinese_only:
            _append(runs, "en" if language == "en" and is_english(piece) else "zh", piece)
        elif language == "x":
            chinese = _keep_chinese(piece)
            _append(runs, "zh" if chinese else "x", chinese or piece)
        else:
            _append(runs, language, piece)
    if not chinese_only:
        runs = _resolve_unknown(_resolve_digits(runs))
    return [(language, piece) for language, piece in runs]


def split_by_language(text: str, language_mode: str) -> list[tuple[str, str]]:
    """(language, text) runs for a language mode: "all_zh", "zh", "auto" or "en"; languages are "zh" / "en".

    "en" is one English run. "zh" and "auto" join everything that is not English into Chinese runs (auto
    callers first reject kana and Hangul with `find_unsupported_script`).
    """
    if language_mode == "en":
        return [("en", text)]
    runs: list[tuple[str, str]] = []
    for language, piece in detected_runs(text, chinese_only=language_mode == "all_zh"):
        language = "en" if language == "en" else "zh"
        if runs and runs[-1][0] == language:
            runs[-1] = (language, runs[-1][1] + piece)
        else:
            runs.append((language, piece))
    return runs


def find_unsupported_script(text: str) -> str | None:
    """"Japanese" or "Korean" when `text` holds kana or Hangul, else None."""
    if _KANA.search(text):
        return "Japanese"
    if _ANY_HANGUL.search(text):
        return "Korean"
    return None
