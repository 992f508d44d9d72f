"""The text front end's public API: text -> language runs -> phones and phone ids, and the text preparation the
official app does around it.

    phonemize(text, language_mode, symbol_version)      one piece of text -> PhonemizedText (runs of zh / en)
    prepare_target_segments(text, method, language_mode) the pieces to synthesize, one after another
    prepare_reference_text(text, language_mode)          the reference (prompt) transcript as the model wants it

Language modes (the official web UI's, internal names):
    all_zh  Chinese (中文): everything is Chinese except chunks made only of ASCII letters, which stay English
    zh      Chinese-English mix (中英混合)
    en      English (英文): the whole text is English
    auto    multilingual (多语种混合): like zh here, since we speak only Chinese and English; text with kana or
            Hangul is rejected (the official app would need Japanese or Korean G2P for it)
"""

import re
from dataclasses import dataclass

from gpt_sovits.errors import TextError
from gpt_sovits.text import english, language, symbols
from gpt_sovits.text.cutting import SENTENCE_ENDS, cut_text, split_long_segment
from gpt_sovits.text.types import TextRun

SUPPORTED_LANGUAGE_MODES = ("all_zh", "zh", "en", "auto")

# Official short-text rule: a text that gives fewer phones than this is phonemized again with "." in front
# (very short targets otherwise make the T2S model stop at once and repeat the reference).
MIN_PHONES = 6

# Characters the Chinese path turns into a silence: the text gets a "," there and that "," phone becomes the
# silence token (official `clean_special`; only the first one found counts).
_SILENCE_MARKS = (("￥", "SP2"), ("^", "SP3"))

# Phones that are not speech. A text that becomes only these has nothing to say.

_MAX_SEGMENT_CHARACTERS = 510  # BERT's limit, in characters (official `split_big_text`)


@dataclass(frozen=True)
class PhonemizedText:
    """A text as phones: one `TextRun` per language run, in order."""

    runs: tuple[TextRun, ...]
    language_mode: str
    symbol_version: str

    @property
    def phones(self) -> tuple[str, ...]:
        return tuple(phone for run in self.runs for phone in run.phones)

    @property
    def phone_ids(self) -> tuple[int, ...]:
        return tuple(phone_id for run in self.runs for phone_id in run.phone_ids)

    @property
    def normalized_text(self) -> str:
        return "".join(run.normalized_text for run in self.runs)

    @property
    def has_speech(self) -> bool:
        """False when every phone is punctuation or silence: nothing that could be spoken."""
        return any(phone not in symbols.NOT_SPEECH for phone in self.phones)

    def require_speech(self, text: str) -> "PhonemizedText":
        """Self, or TextError when there is nothing to speak (what synthesis needs; parity does not)."""
        if not self.has_speech:
            unsupported = language.find_unsupported_script(text)
            if unsupported:
                raise TextError(f"{unsupported} text cannot be spoken: only Chinese and English are supported.")
            raise TextError(
                f"Nothing to pronounce in {_preview(text)} in the {self.language_mode!r} language mode: this mode "
                "finds no words in it that it can read. Type Chinese or English words, or choose the language the "
                "text is written in."
            )
        return self

    @property
    def word2ph(self) -> tuple[int, ...] | None:
        """Phones per character of `normalized_text` when every run is Chinese, else None (as upstream)."""
        if not all(run.word2ph is not None for run in self.runs):
            return None
        return tuple(count for run in self.runs for count in run.word2ph)


def _check_mode(language_mode: str) -> None:
    if language_mode not in SUPPORTED_LANGUAGE_MODES:
        raise TextError(
            f"Unsupported language mode {language_mode!r}; choose one of {', '.join(SUPPORTED_LANGUAGE_MODES)}."
        )


def _clean_input(text) -> str:
    """The text with lone surrogates removed (they cannot be encoded); rejects non-strings and blank text."""
    if not isinstance(text, str):
        raise TextError("The text must be a string.")
    text = "".join(char for char in text if not "\ud800" <= char <= "\udfff")
    if not text.strip():
        raise TextError("The text is empty: type something to speak.")
    return text


def _chinese_run(text: str, symbol_version: str) -> TextRun:
    from gpt_sovits.text import chinese  # imported on first use: jieba and pypinyin take a while to load

    silence = next(((mark, token) for mark, token in _SILENCE_MARKS if mark in text), None)
    if silence:
        text = text.replace(silence[0], ",")
    normalized = chinese.normalize(text)
    phones, word2ph = chinese.g2p(normalized, symbol_version)
    if silence:
        phones = [silence[1] if phone == "," else phone for phone in phones]
    phones = symbols.known_or_unknown(phones, symbol_version)
    return TextRun("zh", normalized, tuple(phones), symbols.phones_to_ids(phones, symbol_version), tuple(word2ph))


def _english_run(text: str, symbol_version: str) -> TextRun:
    normalized = english.normalize(text)
    phones = symbols.known_or_unknown(english.g2p(normalized), symbol_version)
    return TextRun("en", normalized, tuple(phones), symbols.phones_to_ids(phones, symbol_version))


def _phonemize_runs(text: str, language_mode: str, symbol_version: str) -> list[TextRun]:
    runs = []
    for run_language, run_text in language.split_by_language(text, language_mode):
        make_run = _chinese_run if run_language == "zh" else _english_run
        runs.append(make_run(run_text, symbol_version))
    return runs


def phonemize(text: str, language_mode: str, symbol_version: str) -> PhonemizedText:
    """Phones of one piece of text, per language run, as the official `get_phones_and_bert` computes them.

    Runs of two or more spaces count as one. If the text gives fewer than 6 phones it is phonemized once more
    with "." in front (official short-text retry). Runs that become no phones at all are left out.

    Like upstream, text with nothing to pronounce (only punctuation or emoji, Chinese in English mode) still
    gives its punctuation phones, so the result is the official one; synthesis refuses such text through
    `require_speech`. Raises TextError for empty text, an unknown mode or version, and kana or Hangul in auto mode
    (upstream would hand it to Japanese / Korean front ends, which we do not have).
    """
    _check_mode(language_mode)
    symbols.check_symbol_version(symbol_version)
    text = re.sub(" {2,}", " ", _clean_input(text))
    unsupported = language.find_unsupported_script(text)
    if unsupported and language_mode == "auto":
        raise TextError(
            f"{unsupported} text cannot be spoken: only Chinese and English are supported. "
            "Choose the Chinese (all_zh) or Chinese-English (zh) language mode to skip it."
        )
    runs = _phonemize_runs(text, language_mode, symbol_version)
    if sum(len(run.phones) for run in runs) < MIN_PHONES:
        runs = _phonemize_runs("." + text, language_mode, symbol_version)
    runs = [run for run in runs if run.phones]
    if not runs:
        raise TextError(f"Nothing to pronounce in {_preview(text)}: it has no Chinese or English words.")
    return PhonemizedText(tuple(runs), language_mode, symbol_version)


def _preview(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


# ---------------------------------------------------------------------------------------------------------------
# Preparing the target and the reference text (what the official app does before phonemizing).
# ---------------------------------------------------------------------------------------------------------------

_REPEATABLE_MARKS = "!?…,.-"
_REPEATED_MARKS = re.compile(f"([{re.escape(_REPEATABLE_MARKS)}])[{re.escape(_REPEATABLE_MARKS)}]+")
_FIRST_CLAUSE = re.compile("[" + re.escape("".join(sorted(SENTENCE_ENDS))) + "]")


def _final_mark(language_mode: str) -> str:
    return "." if language_mode == "en" else "。"


def _merge_short_segments(segments: list[str], min_length: int = 5) -> list[str]:
    """Join neighbours until each segment has at least `min_length` characters; a short tail joins the last."""
    if len(segments) < 2:
        return segments
    merged, current = [], ""
    for segment in segments:
        current += segment
        if len(current) >= min_length:
            merged.append(current)
            current = ""
    if current:
        if merged:
            merged[-1] += current
        else:
            merged.append(current)
    return merged


def prepare_target_segments(text: str, method: str, language_mode: str) -> list[str]:
    """The pieces of a target text to synthesize one after another, as the official pipeline makes them
    (`TextPreprocessor.preprocess` of the fast web UI and api_v2). In order:

    1. A run of the marks ! ? … , . - is reduced to its first mark ("！！！" stays, "..." -> ".").
       Repeated punctuation made the model repeat the reference audio.
    2. Line breaks at both ends are removed.
    3. If the text does not start with a mark and its first clause has fewer than 4 characters, "。" ("." in
       English mode) is put in front: a very short first sentence is otherwise often swallowed.
    4. The text is cut with `method` (cut0..cut5, see cutting.py); a line break always starts a new piece.
    5. Pieces shorter than 5 characters are joined to the next (a short tail to the previous one).
    6. Blank pieces and pieces with no letter, digit or CJK character (punctuation only) are dropped.
    7. A piece that does not end with a sentence mark gets "。" ("." in English mode), so every piece ends
       like a sentence and the model stops cleanly.
    8. A piece longer than 510 characters is split at sentence marks into chunks of at most 510.

    Raises TextError when nothing speakable is left.
    """
    _check_mode(language_mode)
    text = _clean_input(text)
    text = _REPEATED_MARKS.sub(r"\1", text).strip("\n")
    if not text:
        raise TextError("The text is empty: type something to speak.")
    if text[0] not in SENTENCE_ENDS and len(_FIRST_CLAUSE.split(text)[0].strip()) < 4:
        text = _final_mark(language_mode) + text
    pieces = "\n".join(cut_text(text, method))
    while "\n\n" in pieces:
        pieces = pieces.replace("\n\n", "\n")
    pieces = [piece for piece in pieces.split("\n") if piece not in ("", " ")]
    segments = []
    for piece in _merge_short_segments(pieces):
        if not piece.strip() or not re.sub(r"\W+", "", piece):
            continue
        if piece[-1] not in SENTENCE_ENDS:
            piece += _final_mark(language_mode)
        segments.extend(split_long_segment(piece) if len(piece) > _MAX_SEGMENT_CHARACTERS else [piece])
    if not segments:
        raise TextError(f"Nothing to speak in {_preview(text)}: it has only punctuation or blank lines.")
    return segments


def prepare_reference_text(text: str, language_mode: str) -> str:
    """The reference (prompt) transcript as the official app feeds it: line breaks at both ends removed, and
    "。" ("." in English mode) added when it does not end with a sentence mark, so the reference ends like a
    finished sentence and the model does not run on from it."""
    _check_mode(language_mode)
    text = _clean_input(text).strip("\n")
    if not text:
        raise TextError("The reference text is empty: type what the reference audio says.")
    if text[-1] not in SENTENCE_ENDS:
        text += _final_mark(language_mode)
    return text
