"""Subtitles for a result: timed cues from the sentence timings, written as SRT or WebVTT.

    cues = subtitle_cues(result.sentences)    # [Cue(start_seconds, end_seconds, text)], in order
    to_srt(cues)                              # "1\\n00:00:00,000 --> 00:00:01,840\\n你好，你是谁。\\n..."
    to_vtt(cues)                              # "WEBVTT\\n\\n00:00:00.000 --> 00:00:01.840\\n你好，你是谁。\\n\\n..."
    write_subtitles(cues, "out.srt")          # the format from the file name (.srt or .vtt)

Where the times come from. The engine knows, for every segment it spoke, where its speech starts and ends in the
output (`SentenceReport.start_seconds` / `end_seconds`; the pause after it is not part of the cue). A segment is
often several sentences (the default cut joins four), too long for one subtitle, so each segment's cue is split:
at every sentence end, and within a sentence at clause marks (，、；：, ; :) wherever the text so far exceeds
`MAX_CUE_CHARACTERS`. The segment's time is shared among its pieces in proportion to how long each takes to say,
estimated from syllables (one per Chinese character, kana or Hangul block, vowel groups for a Latin word, one per
digit). The models give no finer alignment: T2S produces sound tokens without saying which word each belongs to,
and token streaming cuts its pieces by token count, not at words, so it carries no text boundaries either. Both
streaming levels therefore give the same cues, from the same segment timings.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MAX_CUE_CHARACTERS = 42  # the usual subtitle guideline: what reads comfortably on one or two lines
SUBTITLE_FORMATS = ("srt", "vtt")

# A sentence ends after 。！？!?… (or '.' before a space or the end, so "3.14" stays whole), with any closing
# quotes or brackets that follow; a clause ends after ，、；：,;: likewise.
_CLOSERS = "\"'”’」』）)】》"
_SENTENCE_END = re.compile(rf"(?:[。！？!?…]+|\.(?=\s|$|[{_CLOSERS}]))[{_CLOSERS}]*")
_CLAUSE_END = re.compile(rf"[，、；：,;:]+[{_CLOSERS}]*")
_SPOKEN = re.compile(r"(?P<word>[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ']*)|\d|[^\W\d_]")
_VOWEL_GROUPS = re.compile(r"[aeiouyà-öø-ÿ]+")
_PUNCTUATION = "。！？!?…，、；：,;:.·～~—-\"'“”‘’「」『』（）()【】《》 "


@dataclass(frozen=True)
class Cue:
    start_seconds: float
    end_seconds: float
    text: str


def subtitle_cues(sentences: Iterable, max_characters: int = MAX_CUE_CHARACTERS) -> list[Cue]:
    """Cues for the spoken segments (anything with `text`, `start_seconds` and `end_seconds`, such as the
    `SentenceReport`s of a result), each split into readable pieces timed by their syllables."""
    cues = []
    for sentence in sentences:
        pieces = _pieces(_displayed(sentence.text), max_characters)
        weights = [spoken_weight(piece) for piece in pieces]
        start, duration, total = sentence.start_seconds, sentence.end_seconds - sentence.start_seconds, sum(weights)
        if not pieces or total == 0 or duration <= 0:
            continue
        done = 0
        for piece, weight in zip(pieces, weights):
            cue_start = start + duration * done / total
            done += weight
            cues.append(Cue(cue_start, start + duration * done / total, piece))
    return cues


def spoken_weight(text: str) -> int:
    """About how many syllables `text` has: what its share of a segment's time is measured in."""
    weight = 0
    for unit in _SPOKEN.finditer(text):
        word = unit["word"]
        if word:  # vowel groups, a final silent e not counted ("there", "are"); at least one
            word = word.lower()
            weight += max(1, len(_VOWEL_GROUPS.findall(word[:-1] if word.endswith("e") else word)))
        else:
            weight += 1
    return weight


def to_srt(cues: list[Cue]) -> str:
    """SubRip: numbered cues, times as hh:mm:ss,mmm; no cues gives an empty file."""
    blocks = [
        f"{number}\n{_timestamp(cue.start_seconds, ',')} --> {_timestamp(cue.end_seconds, ',')}\n"
        f"{_one_line(cue.text).replace('-->', '->')}\n"
        for number, cue in enumerate(_playable(cues), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: list[Cue]) -> str:
    """WebVTT: a header, then cues with times as hh:mm:ss.mmm; &, < and > escaped (cue text is markup there)."""
    blocks = [
        f"{_timestamp(cue.start_seconds, '.')} --> {_timestamp(cue.end_seconds, '.')}\n{_vtt_text(cue.text)}\n"
        for cue in _playable(cues)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def subtitles_text(cues: list[Cue], subtitle_format: str) -> str:
    """The cues as `subtitle_format` ("srt" or "vtt")."""
    writers = {"srt": to_srt, "vtt": to_vtt}
    if subtitle_format not in writers:
        raise ValueError(f"unknown subtitle format {subtitle_format!r}; one of {SUBTITLE_FORMATS}")
    return writers[subtitle_format](cues)


def write_subtitles(cues: list[Cue], path: Path) -> None:
    """Write the cues to `path`, as SRT or VTT by its suffix (UTF-8, as both formats are read)."""
    Path(path).write_text(subtitles_text(cues, Path(path).suffix.lstrip(".").lower()), encoding="utf-8")


# ----- the pieces of a segment --------------------------------------------------------------------------------


def _displayed(text: str) -> str:
    """The segment as a reader should see it: the front end's leading mark (cut segments start with one) and
    runs of white space removed."""
    return " ".join(text.split()).lstrip(_PUNCTUATION)


def _pieces(text: str, max_characters: int) -> list[str]:
    """The segment cut at every sentence end, and long sentences at clause marks; punctuation-only bits join the
    piece before them."""
    pieces = []
    for sentence in _split_after(text, _SENTENCE_END):
        current = ""
        for clause in _split_after(sentence, _CLAUSE_END):
            if current and len(current) + len(clause) > max_characters:
                pieces.append(current)
                current = ""
            current += clause
        pieces.append(current)
    joined = []
    for piece in (piece.strip() for piece in pieces):
        if joined and not spoken_weight(piece):
            joined[-1] += piece
        elif piece:
            joined.append(piece)
    return joined


def _split_after(text: str, marks: re.Pattern) -> list[str]:
    parts, start = [], 0
    for match in marks.finditer(text):
        parts.append(text[start : match.end()])
        start = match.end()
    parts.append(text[start:])
    return [part for part in parts if part.strip()]


# ----- writing -------------------------------------------------------------------------------------------------


def _playable(cues: list[Cue]) -> list[Cue]:
    """Cues as players need them: in order, times in whole milliseconds, each at least 1 ms long, none before
    the end of the one before."""
    fixed, previous_end = [], 0
    for cue in sorted(cues, key=lambda cue: cue.start_seconds):
        start = max(round(cue.start_seconds * 1000), previous_end)
        end = max(round(cue.end_seconds * 1000), start + 1)
        fixed.append(Cue(start / 1000, end / 1000, cue.text))
        previous_end = end
    return fixed


def _timestamp(seconds: float, decimal_mark: str) -> str:
    milliseconds = round(seconds * 1000)
    hours, milliseconds = divmod(milliseconds, 3_600_000)
    minutes, milliseconds = divmod(milliseconds, 60_000)
    whole_seconds, milliseconds = divmod(milliseconds, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole_seconds:02d}{decimal_mark}{milliseconds:03d}"


def _one_line(text: str) -> str:
    """No line breaks inside a cue's text: an empty line would end the cue."""
    return " ".join(text.split())


def _vtt_text(text: str) -> str:
    return _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
