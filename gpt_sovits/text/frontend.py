"""The text front end's public API: text -> language runs -> phones and phone ids, and the text preparation the
official app does around it.

    phonemize(text, language_mode, symbol_version)      one piece of text -> PhonemizedText (one run per language)
    prepare_target_segments(text, method, language_mode) the pieces to synthesize, one after another
    prepare_reference_text(text, language_mode)          the reference (prompt) transcript as the model wants it

The language modes and languages are those of the registry (`languages.py`): all_zh, en, all_ja, all_yue,
all_ko, zh, ja, yue, ko, auto, auto_yue. `language.split_by_language` cuts the text into runs as the official
`get_phones_and_bert` does; each run then goes through its language's normalizer and G2P (the official
`clean_text`).
"""

import re
from dataclasses import dataclass

from gpt_sovits.errors import TextError
from gpt_sovits.text import language, languages, symbols
from gpt_sovits.text.cutting import SENTENCE_ENDS, cut_text, split_long_segment
from gpt_sovits.text.types import TextRun

# Official short-text rule: a text that gives fewer phones than this is phonemized again with "." in front
# (very short targets otherwise make the T2S model stop at once and repeat the reference).
MIN_PHONES = 6

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
        """Self, or TextError when part of the text cannot be spoken or nothing is left to speak (what synthesis
        needs; parity does not)."""
        for run in self.runs:
            if self.symbol_version not in languages.LANGUAGES[run.language].symbol_versions:
                name = languages.LANGUAGES[run.language].english_name
                raise TextError(
                    f"{name} text cannot be spoken by a {self.symbol_version} model (its phone table has no "
                    f"{name} phones), and the official app would silently skip it. Load a v2 or later model, or "
                    f"remove the {name} text."
                )
        if not self.has_speech:
            mode = languages.LANGUAGE_MODES[self.language_mode]
            written_in = [code for code in language.scripts_in(text) if code != mode.language]
            hint = (
                f" It looks like {languages.LANGUAGES[written_in[0]].english_name}: choose that language or auto."
                if written_in
                else " Choose the language the text is written in."
            )
            raise TextError(
                f"Nothing to pronounce in {_preview(text)} in the {self.language_mode!r} ({mode.english_name}) "
                f"language mode: this mode finds no words in it that it can read.{hint}"
            )
        return self

    @property
    def word2ph(self) -> tuple[int, ...] | None:
        """Phones per character of `normalized_text` when every run has them (Chinese and Cantonese runs), else
        None (as upstream)."""
        if not all(run.word2ph is not None for run in self.runs):
            return None
        return tuple(count for run in self.runs for count in run.word2ph)


def _clean_input(text) -> str:
    """The text with lone surrogates removed (they cannot be encoded); rejects non-strings and blank text."""
    if not isinstance(text, str):
        raise TextError("The text must be a string.")
    text = "".join(char for char in text if not "\ud800" <= char <= "\udfff")
    if not text.strip():
        raise TextError("The text is empty: type something to speak.")
    return text


def _run(run_language: str, text: str, symbol_version: str) -> TextRun:
    """One run through its language's front end (the official `clean_text`)."""
    speaks = languages.LANGUAGES.get(run_language)
    if speaks is None or symbol_version not in speaks.symbol_versions:
        # Text the official cleaner has no front end for (Korean or Cantonese with v1 symbols, a run of marks the
        # splitter did not label) is read as English " ": a pause.
        speaks, text = languages.LANGUAGES["en"], " "
        if run_language not in languages.LANGUAGES:
            run_language = "en"
    silence = next(((mark, token) for mark, token in speaks.silence_marks if mark in text), None)
    if silence:
        text = text.replace(silence[0], ",")
    normalized = speaks.normalize(text)
    phones, word2ph = speaks.g2p(normalized, symbol_version)
    if silence:
        phones = [silence[1] if phone == "," else phone for phone in phones]
    phones = symbols.known_or_unknown(phones, symbol_version)
    return TextRun(
        run_language,
        normalized,
        tuple(phones),
        symbols.phones_to_ids(phones, symbol_version),
        tuple(word2ph) if word2ph is not None else None,
    )


def _phonemize_runs(text: str, language_mode: str, symbol_version: str) -> list[TextRun]:
    return [
        _run(run_language, run_text, symbol_version)
        for run_language, run_text in language.split_by_language(text, language_mode)
    ]


def phonemize(text: str, language_mode: str, symbol_version: str) -> PhonemizedText:
    """Phones of one piece of text, per language run, as the official `get_phones_and_bert` computes them.

    Runs of two or more spaces count as one. If the text gives fewer than 6 phones it is phonemized once more
    with "." in front (official short-text retry). Runs that become no phones at all are left out.

    Like upstream, text with nothing to pronounce (only punctuation or emoji, Chinese in English mode) still
    gives its punctuation phones, so the result is the official one; synthesis refuses such text through
    `require_speech`. Raises TextError for empty text, an unknown mode or version, and a mode the symbol
    version lacks (Korean and Cantonese need v2 or later).
    """
    mode = languages.language_mode(language_mode)
    symbols.check_symbol_version(symbol_version)
    if symbol_version not in mode.symbol_versions:
        raise TextError(
            f"The {language_mode!r} ({mode.english_name}) language mode needs a v2 or later model: {symbol_version} "
            f"models have no phones for it. Choose one of: {languages.describe_modes(languages.modes_for(symbol_version))}."
        )
    text = re.sub(" {2,}", " ", _clean_input(text))
    runs = _phonemize_runs(text, language_mode, symbol_version)
    if sum(len(run.phones) for run in runs) < MIN_PHONES:
        runs = _phonemize_runs("." + text, language_mode, symbol_version)
    runs = [run for run in runs if run.phones]
    if not runs:
        raise TextError(f"Nothing to pronounce in {_preview(text)}: it gives no phones at all.")
    return PhonemizedText(tuple(runs), language_mode, symbol_version)


def _preview(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


# ---------------------------------------------------------------------------------------------------------------
# Preparing the target and the reference text (what the official app does before phonemizing).
# ---------------------------------------------------------------------------------------------------------------

_REPEATABLE_MARKS = "!?…,.-"
_REPEATED_MARKS = re.compile(f"([{re.escape(_REPEATABLE_MARKS)}])[{re.escape(_REPEATABLE_MARKS)}]+")
_FIRST_CLAUSE = re.compile("[" + re.escape("".join(sorted(SENTENCE_ENDS))) + "]")


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
    3. If the text does not start with a mark and its first clause has fewer than 4 characters, the mode's
       final mark (registry: "." in English mode, "。" in every other) is put in front: a very short first sentence is otherwise often swallowed.
    4. The text is cut with `method` (cut0..cut5, see cutting.py); a line break always starts a new piece.
    5. Pieces shorter than 5 characters are joined to the next (a short tail to the previous one).
    6. Blank pieces and pieces with no letter, digit or CJK character (punctuation only) are dropped.
    7. A piece that does not end with a sentence mark gets the mode's final mark, so every piece ends
       like a sentence and the model stops cleanly.
    8. A piece longer than 510 characters is split at sentence marks into chunks of at most 510.

    Raises TextError when nothing speakable is left.
    """
    final_mark = languages.language_mode(language_mode).final_mark
    text = _clean_input(text)
    text = _REPEATED_MARKS.sub(r"\1", text).strip("\n")
    if not text:
        raise TextError("The text is empty: type something to speak.")
    if text[0] not in SENTENCE_ENDS and len(_FIRST_CLAUSE.split(text)[0].strip()) < 4:
        text = final_mark + text
    pieces = "\n".join(cut_text(text, method))
    while "\n\n" in pieces:
        pieces = pieces.replace("\n\n", "\n")
    pieces = [piece for piece in pieces.split("\n") if piece not in ("", " ")]
    segments = []
    for piece in _merge_short_segments(pieces):
        if not piece.strip() or not re.sub(r"\W+", "", piece):
            continue
        if piece[-1] not in SENTENCE_ENDS:
            piece += final_mark
        segments.extend(split_long_segment(piece) if len(piece) > _MAX_SEGMENT_CHARACTERS else [piece])
    if not segments:
        raise TextError(f"Nothing to speak in {_preview(text)}: it has only punctuation or blank lines.")
    return segments


def prepare_reference_text(text: str, language_mode: str) -> str:
    """The reference (prompt) transcript as the official app feeds it: line breaks at both ends removed, and
    the mode's final mark ("." in English mode, "。" in every other) added when it does not end with a sentence mark, so the reference ends like a
    finished sentence and the model does not run on from it."""
    final_mark = languages.language_mode(language_mode).final_mark
    text = _clean_input(text).strip("\n")
    if not text:
        raise TextError("The reference text is empty: type what the reference audio says.")
    if text[-1] not in SENTENCE_ENDS:
        text += final_mark
    return text
