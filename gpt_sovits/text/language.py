"""Splitting mixed-language text into runs of one language each, as the official front end does.

The official front end (`LangSegmenter.getTexts`) calls the `split-lang` package, which cuts the text by script,
cuts kanji/kana into phrases with BudouX, labels every phrase and word with a fastText language detector (a
126 MB download), merges the labels with a cascade of rules, and then applies its own rules on top. This module
follows the same steps with the same rules, but labels with character classes instead of the detector:

- kanji/kana phrase: "ja" when it holds kana (split-lang's own rule), else "zh" (a phrase of spaces: unknown);
- other word: "en" when it is English by the official `full_en` rule; "zh" when it holds a rare ideograph
  (CJK extensions: 㗎, 𡃉); for symbols without letters (•, ㎡, →) what the detector answers for text it has no
  evidence on, its prior "en" (a few symbols typical of Chinese or Japanese text excepted); else (accented or
  other alphabets, emoji) "x", unknown, which the merging rules resolve from the neighbours.

The detector's real say is then on kanji-only phrases: the official app can call one Japanese where we always
say "zh". That matters only in the auto modes (auto, auto_yue); the reference vectors mark the records whose
result depends on such a call (`detector_sensitive`), and on the others this module gives the official runs.

Steps (each a function below):
1. `_sections`: the text is cut by script into sections: kanji/kana, Hangul, digits, punctuation (one
   section per mark), line breaks (one per break) and "other" (Latin letters, symbols, emoji, ...). Spaces and
   an apostrophe inside a word stay in the section they are in.
2. `_labelled_pieces`: kanji/kana sections become BudouX phrases (`_kanji_kana_phrases`), other sections words,
   each labelled as above; labels are smoothed within the section (split-lang's "smart merge").
3. `_attach`: punctuation, then line breaks, join the section before them (at the very start: the one after
   them); sections of one kind that meet are joined, and so are their pieces of one label.
4. `_merge_kanji_kana_labels`: within kanji/kana text, short pieces between two of one language take it, and
   text that is nearly all Japanese becomes all Japanese (split-lang's "special merge").
5. `detected_runs`: the official LangSegmenter rules on top: English by `full_en`, kana and Hangul runs pulled
   out of other text, digits and unknowns given a neighbour's language.
6. `split_by_language`: what each official language mode makes of that.
"""

import re
from dataclasses import dataclass
from functools import cache

from gpt_sovits.text import languages

# ---------------------------------------------------------------------------------------------------------------
# Character classes (split-lang's, and LangSegmenter's)

_KANJI_KANA = re.compile(r"[\u4e00-\u9fff\u3040-\u30ff々]")  # what split-lang treats as Chinese/Japanese
_HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7af]")
_ANY_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")  # syllables and jamo
_KANA = re.compile(r"[\u3040-\u30ff々]")  # split-lang's test for "this phrase is Japanese"
# split-lang's punctuation: each of these is a section of its own.
_PUNCTUATION = frozenset(r"""〜~,.;:!?，。！？；：、·([{<（【《〈「『“‘)]}>）】》〉」』”’"-_——#$%&……￥'*+<=>?@[\]^_`{|}~""")

# Official `full_en`: at least one Latin letter, and only ASCII, general punctuation, CJK punctuation and
# full-width forms.
_ENGLISH = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9\s\u0020-\u007E\u2000-\u206F\u3000-\u303F\uFF00-\uFFEF]+$")

# Runs of kana (or Hangul) that LangSegmenter pulls out of text labelled otherwise; marks, digits and spaces
# between two such runs stay inside ("、-〜" is the range U+3001..U+301C, brackets included).
_BETWEEN_RUNS = "[0-9、-〜。！？.!?… ]+"
_KANA_RUN = re.compile(f"[\u3041-\u3096\u3099\u309a\u30a1-\u30fa\u30fc]+(?:{_BETWEEN_RUNS}[\u3041-\u3096\u3099\u309a\u30a1-\u30fa\u30fc]*)*")
_HANGUL_RUN = re.compile(f"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]+(?:{_BETWEEN_RUNS}[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]*)*")

# CJK ideograph blocks (official `full_cjk`), and the other characters that rule keeps.
_IDEOGRAPH_BLOCKS = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DB5), (0x20000, 0x2A6DD), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF), (0x2CEB0, 0x2EBEF), (0x30000, 0x3134A), (0x31350, 0x323AF), (0x2EBF0, 0x2EE5D),
)
_KEPT_WITH_IDEOGRAPHS = re.compile(r"[0-9、-〜。！？.!?… /]")
_EMOJI = re.compile("[\U0001f000-\U0001faff]")
# Symbols the detector attributes to a language (full-width tilde in Chinese chat, Japanese reference marks).
_SYMBOL_LANGUAGES = {"～": "zh", "※": "ja", "〒": "ja", "＜": "ja"}

_SENTENCE_MARKS = frozenset(",.!?，。！？")

# Piece labels besides the languages.
_UNKNOWN, _DIGIT, _MARK, _LINE_BREAK = "x", "digit", "punctuation", "newline"


def is_english(text: str) -> bool:
    """The official `full_en` rule: a Latin letter, and nothing outside ASCII and the punctuation/width blocks."""
    return _ENGLISH.match(text) is not None


def _is_ideograph(char: str) -> bool:
    return any(low <= ord(char) <= high for low, high in _IDEOGRAPH_BLOCKS)


def _keep_ideographs(text: str) -> str:
    """Only the CJK ideographs, digits, spaces and sentence marks of `text` (official `full_cjk`)."""
    return "".join(char for char in text if _is_ideograph(char) or _KEPT_WITH_IDEOGRAPHS.match(char))


# ---------------------------------------------------------------------------------------------------------------
# 1.-4. split-lang


@dataclass
class _Piece:
    label: str
    text: str


@dataclass
class _Section:
    kind: str  # "kanji_kana", "hangul", "digit", "punctuation", "newline" or "other"
    text: str
    pieces: list[_Piece]


def _sections(text: str) -> list[_Section]:
    """Step 1: sections of `text` by script (no pieces yet)."""
    sections: list[_Section] = []
    kind, start = "other", 0
    for index, char in enumerate(text):
        if _KANJI_KANA.match(char):
            char_kind = "kanji_kana"
        elif _HANGUL_SYLLABLE.match(char):
            char_kind = "hangul"
        elif char.isdigit():
            char_kind = _DIGIT
        elif char in _PUNCTUATION:
            # An apostrophe right after a letter is part of the word ("don't"); every other mark starts a section.
            if char == "'" and index > 0 and not text[index - 1].isspace():
                continue
            char_kind = _MARK
        elif char in "\n\r":
            char_kind = _LINE_BREAK
        elif char.isspace():
            continue
        else:
            char_kind = "other"
        if char_kind != kind or char_kind in (_MARK, _LINE_BREAK):
            if index > start:
                sections.append(_Section(kind, text[start:index], []))
            kind, start = char_kind, index
    if len(text) > start:
        sections.append(_Section(kind, text[start:], []))
    return sections


@cache
def _budoux_parsers():
    import budoux

    return budoux.load_default_japanese_parser(), budoux.load_default_simplified_chinese_parser()


def _kanji_kana_phrases(text: str) -> list[str]:
    """BudouX phrases of kanji/kana text as split-lang makes them: the Japanese model's phrases cut again by the
    Chinese model, then kana phrases that meet joined, a lone kanji joined to the kanji phrase before it, and a
    one-character first phrase joined to the second."""
    japanese, chinese = _budoux_parsers()
    phrases: list[str] = []
    for part in (piece for phrase in japanese.parse(text) for piece in chinese.parse(phrase)):
        if phrases:
            left_kana, kana = bool(_KANA.search(phrases[-1])), bool(_KANA.search(part))
            if left_kana == kana and (kana or len(part) == 1):
                phrases[-1] += part
                continue
        phrases.append(part)
    if len(phrases) >= 2 and len(phrases[0]) == 1:
        phrases[1] = phrases[0] + phrases[1]
        phrases.pop(0)
    return phrases


def _words(text: str) -> list[str]:
    """Words of a non-CJK section, each with the spaces after it."""
    return re.findall(r"\S+\s*", text)  # a section never starts with a space


def _detect(text: str, kind: str) -> str:
    """Our stand-in for the detector (see the module doc): the label of a phrase or word."""
    if kind == "kanji_kana":
        if _KANA.search(text):
            return "ja"
        # A phrase of spaces only tells the detector nothing (its prior, English, is no label here): unknown.
        return "zh" if _KANJI_KANA.search(text) else _UNKNOWN
    if any(_is_ideograph(char) for char in text):  # rare ideographs (e.g. Cantonese 㗎 𡃉) are Chinese
        return "zh"
    if is_english(text):
        return "en"
    if not any(char.isalpha() for char in text) and not _EMOJI.search(text):
        # Symbols without letters: a few are typical of Chinese or Japanese text, the rest (•, ㎡, →) tell the
        # detector nothing, and it answers with its prior, English.
        return next((_SYMBOL_LANGUAGES[char] for char in text if char in _SYMBOL_LANGUAGES), "en")
    return _UNKNOWN  # letters of other alphabets (é, ü, Cyrillic) and emoji: a neighbour decides


def _may_be(label: str, text: str, kind: str) -> bool:
    """Whether the detector would list `label` among the likely languages of `text` (split-lang asks for the
    top five above 1 %; "unknown" is never among them). We answer with our single label."""
    return label != _UNKNOWN and label == _detect(text, kind)


def _join_same_labels(pieces: list[_Piece]) -> list[_Piece]:
    joined: list[_Piece] = []
    for piece in pieces:
        if joined and joined[-1].label == piece.label:
            joined[-1].text += piece.text
        else:
            joined.append(piece)
    return joined


def _nearest_label(pieces: list[_Piece], index: int, leftwards: bool) -> str:
    """The label of the nearest piece in one direction that is neither unknown nor a number (else its own)."""
    others = reversed(pieces[:index]) if leftwards else pieces[index + 1 :]
    return next((piece.label for piece in others if piece.label not in (_UNKNOWN, _DIGIT)), pieces[index].label)


def _relabel_middles(pieces: list[_Piece], kind: str) -> None:
    """A piece between two pieces of one language takes it when it may be that language, is unknown, or is short
    (at most 4 characters, 6 or more on the two sides together) and has no kana. In place, left to right."""
    for left, middle, right in zip(pieces, pieces[1:], pieces[2:]):
        if left.label != right.label or left.label in (_UNKNOWN, _LINE_BREAK):
            continue
        no_kana = not _KANA.search(middle.text)
        if (
            (no_kana and _may_be(left.label, middle.text, kind))
            or middle.label == _UNKNOWN
            or (len(middle.text) <= 4 and len(left.text) + len(right.text) >= 6 and no_kana)
        ):
            middle.label = left.label


def _fill_unknown(pieces: list[_Piece]) -> None:
    """An unknown piece takes the label of the nearest known piece, looking towards its longer neighbour."""
    for index, piece in enumerate(pieces):
        if piece.label == _UNKNOWN:
            if index == 0:
                leftwards = False
            elif index == len(pieces) - 1:
                leftwards = True
            else:
                leftwards = len(pieces[index - 1].text) >= len(pieces[index + 1].text)
            piece.label = _nearest_label(pieces, index, leftwards)


def _short_beside_long(piece: _Piece, near: _Piece, kind: str) -> bool:
    """Neither has kana, and the neighbour is a longer Chinese piece (6+ characters) or may be the same language."""
    if _KANA.search(piece.text) or _KANA.search(near.text):
        return False
    long_chinese = len(near.text) > len(piece.text) and len(near.text) >= 6 and near.label == "zh"
    return long_chinese or _may_be(near.label, piece.text, kind)


def _relabel_ends(pieces: list[_Piece], kind: str) -> None:
    """The first and the last piece take their neighbour's language when unknown, short beside a long one, or
    when the neighbour is short (at most 5 characters) and the piece may be in its language."""
    for index, near_index, leftwards in ((0, 1, False), (len(pieces) - 1, len(pieces) - 2, True)):
        piece = pieces[index]
        relabel = piece.label == _UNKNOWN
        if len(pieces) >= 2:
            near = pieces[near_index]
            relabel = (
                relabel
                or _short_beside_long(piece, near, kind)
                or (_may_be(near.label, piece.text, kind) and len(near.text) <= 5)
            )
        if relabel:
            piece.label = _nearest_label(pieces, index, leftwards)


def _merge_within_section(pieces: list[_Piece], kind: str) -> list[_Piece]:
    """Step 2's label smoothing, in split-lang's order."""
    pieces = _join_same_labels(pieces)
    _relabel_middles(pieces, kind)
    pieces = _join_same_labels(pieces)
    _relabel_middles(pieces, kind)
    pieces = _join_same_labels(pieces)
    _fill_unknown(pieces)
    _relabel_ends(pieces, kind)
    pieces = _join_same_labels(pieces)
    _relabel_middles(pieces, kind)
    return _join_same_labels(pieces)


def _labelled_pieces(section: _Section) -> list[_Piece]:
    """Step 2: the labelled pieces of one section."""
    if section.kind in (_MARK, _DIGIT, _LINE_BREAK):
        return [_Piece(section.kind, section.text)]
    if section.kind == "hangul":
        pieces = [_Piece("ko", section.text)]
    else:
        parts = _kanji_kana_phrases(section.text) if section.kind == "kanji_kana" else _words(section.text)
        pieces = [_Piece(_detect(part, section.kind), part) for part in parts]
    return _merge_within_section(pieces, section.kind)


def _join_same_kinds(sections: list[_Section]) -> list[_Section]:
    joined: list[_Section] = []
    for section in sections:
        if joined and joined[-1].kind == section.kind:
            joined[-1].text += section.text
            joined[-1].pieces.extend(section.pieces)
        else:
            joined.append(section)
    return joined


def _join_across(pieces: list[_Piece], separator: str) -> list[_Piece]:
    """Pieces labelled `separator` join the piece before them; a piece joins the one before when the piece before
    it had its label (split-lang compares with the previous *input* piece, so a separator in between keeps two
    pieces of one language apart)."""
    joined: list[_Piece] = []
    previous_label = None
    for piece in pieces:
        if joined and piece.label == separator:
            joined[-1].text += piece.text
        elif joined and piece.label == previous_label:
            joined[-1].text += piece.text
            if joined[-1].label == separator:
                joined[-1].label = piece.label
        else:
            joined.append(piece)
        previous_label = piece.label
    return joined


def _attach(sections: list[_Section], separator: str) -> list[_Section]:
    """Step 3: each `separator` section (punctuation, or a line break) joins the section before it; leading ones
    join the first section after them. Marks are glued to the text of the piece they meet (leading marks take that
    piece's label); a line break stays a piece of its own. Then sections of one kind that meet are joined, and so
    are their pieces across the separators."""
    attached = sections[:1]
    for section in sections[1:]:
        previous = attached[-1]
        if previous.kind != separator and section.kind != separator:
            attached.append(section)
            continue
        pieces = section.pieces
        if separator == _MARK:
            previous.pieces[-1].text += pieces[0].text
            if previous.kind == _MARK:
                previous.pieces[-1].label = pieces[0].label
            pieces = pieces[1:]
        if previous.kind == separator:
            previous.kind = section.kind
        previous.text += section.text
        previous.pieces.extend(pieces)
    attached = _join_same_kinds(attached)
    for section in attached:
        section.pieces = _join_across(section.pieces, separator)
    return attached


def _merge_kanji_kana_labels(pieces: list[_Piece]) -> list[_Piece]:
    """Step 4 (split-lang's `_special_merge_for_zh_ja`), for the pieces of one kanji/kana section.

    A piece less than a tenth as long as its neighbours (the first or last piece: as its one neighbour) is
    absorbed into them when they are Chinese or Japanese. Unknown pieces then take the label with the most
    characters, and if Japanese has at least ten times the characters of Chinese, Chinese pieces become Japanese.
    The character counts skip pieces that were absorbed, as split-lang's do.
    """
    if len(pieces) == 1:
        return pieces
    counts = dict.fromkeys(("zh", "ja", _UNKNOWN, _DIGIT, _MARK, _LINE_BREAK), 0)
    merged: list[_Piece] = []
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        counts[piece.label] = counts.get(piece.label, 0) + len(piece.text)
        is_cjk = piece.label in ("zh", "ja", _UNKNOWN)
        if index == 0:
            after = pieces[1]
            if after.label in ("zh", "ja") and is_cjk and len(piece.text) * 10 < len(after.text):
                merged.append(_Piece(after.label, piece.text + after.text))
                index += 1
            else:
                merged.append(piece)
        elif index == len(pieces) - 1:
            before = merged[-1]
            if before.label in ("zh", "ja") and is_cjk and len(piece.text) * 10 < len(before.text):
                before.text += piece.text
            else:
                merged.append(piece)
        else:
            before, after = merged[-1], pieces[index + 1]
            if (
                before.label == after.label
                and before.label in ("zh", "ja")
                and piece.label != "en"
                and len(piece.text) * 10 < len(before.text) + len(after.text)
            ):
                before.text += piece.text + after.text
                index += 1
            else:
                merged.append(piece)
        index += 1
    if counts[_UNKNOWN] > 0:
        most = max(counts, key=counts.get)
        for piece in merged:
            if piece.label == _UNKNOWN:
                piece.label = most
    if counts["ja"] >= counts["zh"] * 10:
        for piece in merged:
            if piece.label == "zh":
                piece.label = "ja"
    return _join_same_labels(merged)


def split_lang_pieces(text: str) -> list[tuple[str, str]]:
    """(label, text) pieces as split-lang's `LangSplitter.split_by_lang` returns them, with our labels: "zh",
    "ja", "ko", "en", "x" (unknown), "digit", and rarely "punctuation" / "newline" (text of marks only, a
    line break right after leading marks). Leading and trailing whitespace is dropped."""
    sections = _sections(text.strip())
    if not sections:
        return []
    for section in sections:
        section.pieces = _labelled_pieces(section)
    sections = _attach(_attach(sections, _MARK), _LINE_BREAK)
    pieces = []
    for section in sections:
        if section.kind == "kanji_kana":
            section.pieces = _merge_kanji_kana_labels(section.pieces)
        pieces.extend((piece.label, piece.text) for piece in section.pieces)
    return pieces


# ---------------------------------------------------------------------------------------------------------------
# 5. LangSegmenter


def _append(runs: list[list[str]], language: str, text: str) -> None:
    if runs and runs[-1][0] == language:
        runs[-1][1] += text
    else:
        runs.append([language, text])


def _pull_out(pattern: re.Pattern, language: str, label: str, text: str) -> list[tuple[str, str]]:
    """The runs of `pattern` in `text` as `language`, the text around them keeping `label`."""
    parts, end = [], 0
    for match in pattern.finditer(text):
        if match.start() > end:
            parts.append((label, text[end : match.start()]))
        parts.append((language, match.group()))
        end = match.end()
    if end < len(text):
        parts.append((label, text[end:]))
    return parts


def _kana_and_hangul_apart(label: str, text: str) -> list[tuple[str, str]]:
    """Kana runs out of non-Japanese text, then Hangul runs out of non-Korean parts (official `split_jako`)."""
    parts = _pull_out(_KANA_RUN, "ja", label, text) if label != "ja" else [(label, text)]
    return [
        split
        for part_label, part in parts
        for split in (_pull_out(_HANGUL_RUN, "ko", part_label, part) if part_label != "ko" else [(part_label, part)])
    ]


def _resolve_digits(runs: list[list[str]]) -> list[list[str]]:
    """Give each digit run a language from its neighbours (the official rules, in their order)."""
    resolved: list[list[str]] = []
    for index, (language, text) in enumerate(runs):
        if language == _DIGIT:
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
    """An unknown run takes the language of the run before it, else of the run after it, else Chinese."""
    resolved: list[list[str]] = []
    for language, text in runs:
        if language == _UNKNOWN:
            if resolved:
                language = resolved[-1][0]
            elif len(runs) > 1:
                language = runs[1][0]
            else:
                language = "zh"
        _append(resolved, language, text)
    return resolved


def detected_runs(text: str, default_language: str | None = None) -> list[tuple[str, str]]:
    """(language, text) runs of `text` as the official `LangSegmenter.getTexts(text, default_language)` gives them.

    With a default language ("zh", "ja" or "ko": the all_* modes) every run that is not English by `full_en` is
    in that language. Without one, the labels are "en", "zh", "ja", "ko", and rarely "punctuation" or "newline"
    (see `split_lang_pieces`; the official code passes those on too). Leading and trailing whitespace is dropped.
    """
    runs: list[list[str]] = []
    has_digits = False
    for label, piece in split_lang_pieces(text):
        if label == _DIGIT:
            if default_language:
                label = default_language
            else:
                has_digits = True
            _append(runs, label, piece)
        elif is_english(piece):
            _append(runs, "en", piece)
        elif default_language:
            _append(runs, default_language, piece)
        else:
            for part_label, part in _kana_and_hangul_apart(label, piece):
                if part_label == _UNKNOWN:  # unknown text keeps only its CJK characters, if it has any
                    part_label, part = ("zh", _keep_ideographs(part)) if _keep_ideographs(part) else (part_label, part)
                _append(runs, part_label, part)
    if has_digits:
        runs = _resolve_digits(runs)
    return [(language, piece) for language, piece in _resolve_unknown(runs)]


# ---------------------------------------------------------------------------------------------------------------
# 6. Language modes


def split_by_language(text: str, language_mode: str) -> list[tuple[str, str]]:
    """(language, text) runs of `text` in a language mode, as the official `get_phones_and_bert` makes them.

    The languages are registry codes ("zh", "en", "ja", "ko", "yue"), except that in the auto modes text of
    marks only can come back as "punctuation" or "newline" (the official code hands such labels on, and its
    cleaner then reads the text as a pause).
    """
    mode = languages.language_mode(language_mode)
    if mode.splitting == "whole":
        return [(mode.language, text)]
    if mode.splitting == "single":
        label = languages.LANGUAGES[mode.language].splitter_label
        return [(mode.language if found == label else found, piece) for found, piece in detected_runs(text, label)]
    runs: list[list[str]] = []
    for found, piece in detected_runs(text):
        if mode.splitting == "mixed":
            _append(runs, "en" if found == "en" else mode.language, piece)
        else:  # auto: every run as found, one after another (not joined)
            runs.append([mode.chinese_as if found == "zh" else found, piece])
    return [(found, piece) for found, piece in runs]


def scripts_in(text: str) -> list[str]:
    """Codes of the languages whose own script `text` shows: "ja" (kana), "ko" (Hangul); for messages."""
    return [code for code, script in (("ja", _KANA), ("ko", _ANY_HANGUL)) if script.search(text)]
