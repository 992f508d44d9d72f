"""Cutting a long target text into the pieces that are synthesized one after another.

The six methods are the official ones (web UI "how to cut" menu) and give the same pieces, including their
quirks (kept on purpose: a voice that was tuned against the official app should sound the same here):

- cut0  "No slice": the text as it is.
- cut1  "Slice once every 4 sentences": groups of 4 sentences; the last group takes 5-8.
- cut2  "Slice per 50 characters": groups of sentences just over 50 characters; a short tail joins the previous one.
- cut3  "Slice by Chinese punct": split on "。" (the mark is dropped).
- cut4  "Slice by English punct": split on "." that is not between two digits (the mark is dropped).
- cut5  "Slice by every punct": cut after every clause mark, which stays attached.

`cut_text` returns the pieces exactly as the official method's "\\n"-joined output split on "\\n" (empty pieces
included). What is synthesized is decided by `prepare_target_segments` in `frontend.py`, which cleans them up.
"""

import re

from gpt_sovits.errors import TextError
from gpt_sovits.messages import Message, joined
from gpt_sovits.settings import CUT_METHODS

# A sentence ends after any of these (official `splits`, 13 characters).
SENTENCE_ENDS = frozenset("，。？！,.?!~:：—…")

_SENTENCE_END_CLASS = re.escape("".join(sorted(SENTENCE_ENDS)))

# Pieces made only of these characters (ASCII marks and space) are dropped by cut0..cut4.
_SPOKEN_NOTHING = frozenset("!?…,.- ")

# cut5 cuts after these; note the official list has ASCII ";" (twice) but no full-width "；".
_CLAUSE_MARKS = frozenset(",.;?!、，。？！：…")


def _is_only_marks(piece: str, marks=_SPOKEN_NOTHING) -> bool:
    return set(piece) <= marks  # true for "" as well


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, each ending with its mark (the official `split`).

    "……" and "——" are first turned into "。" and "，", and a "。" is added when the text does not end with a mark,
    so every sentence ends with one. Needs a non-empty text.
    """
    text = text.replace("……", "。").replace("——", "，")
    if text[-1] not in SENTENCE_ENDS:
        text += "。"
    sentences, start = [], 0
    for index, char in enumerate(text):
        if char in SENTENCE_ENDS:
            sentences.append(text[start : index + 1])
            start = index + 1
    return sentences


def _cut0(text: str) -> str:
    return "\n" if _is_only_marks(text) else text


def _cut1(text: str) -> str:
    text = text.strip("\n")
    if not text:
        return ""  # the official code fails here (IndexError); nothing to cut is the sensible answer
    sentences = split_sentences(text)
    # Group starts every 4 sentences; the last start is dropped, so the last group gets the remaining 5-8.
    starts = list(range(0, len(sentences), 4))
    if len(starts) > 1:
        bounds = starts[:-1] + [len(sentences)]
        groups = ["".join(sentences[a:b]) for a, b in zip(bounds, bounds[1:])]
    else:
        groups = [text]  # up to 4 sentences: the original text, without the "……"/"——" rewrite
    return "\n".join(group for group in groups if not _is_only_marks(group))


def _cut2(text: str) -> str:
    text = text.strip("\n")
    if not text:
        return ""  # official: IndexError
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return text
    groups, current = [], ""
    for sentence in sentences:
        current += sentence
        if len(current) > 50:
            groups.append(current)
            current = ""
    if current:
        groups.append(current)
    if len(groups) > 1 and len(groups[-1]) < 50:  # a short tail joins the group before it
        tail = groups.pop()
        groups[-1] += tail
    return "\n".join(group for group in groups if not _is_only_marks(group))


def _cut3(text: str) -> str:
    pieces = text.strip("\n").strip("。").split("。")
    return "\n".join(piece for piece in pieces if not _is_only_marks(piece))


def _cut4(text: str) -> str:
    pieces = re.split(r"(?<!\d)\.(?!\d)", text.strip("\n").strip("."))
    return "\n".join(piece for piece in pieces if not _is_only_marks(piece))


def _cut5(text: str) -> str:
    text = text.strip("\n")
    pieces, current = [], ""
    for index, char in enumerate(text):
        current += char
        decimal_point = char == "." and 0 < index < len(text) - 1 and text[index - 1].isdigit() and text[index + 1].isdigit()
        if char in _CLAUSE_MARKS and not decimal_point:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return "\n".join(piece for piece in pieces if not _is_only_marks(piece, _CLAUSE_MARKS))


_METHODS = {"cut0": _cut0, "cut1": _cut1, "cut2": _cut2, "cut3": _cut3, "cut4": _cut4, "cut5": _cut5}
assert tuple(_METHODS) == CUT_METHODS


def cut_text(text: str, method: str) -> list[str]:
    """The pieces the official cutting `method` ("cut0".."cut5") makes of `text`, empty pieces included."""
    if method not in _METHODS:
        raise TextError(Message(
            "Unknown cutting method {method!r}; choose one of {choices}.", method=method, choices=joined(CUT_METHODS)
        ))
    if not isinstance(text, str):
        raise TextError(Message("The text to cut must be a string."))
    return _METHODS[method](text).split("\n")


def split_long_segment(text: str, max_length: int = 510) -> list[str]:
    """Pack the sentences of `text` into chunks of at most `max_length` characters (BERT's limit).

    Like the official `split_big_text`, but each mark stays with its sentence, and a single sentence longer
    than `max_length` is cut every `max_length` characters (the official code keeps it whole, which overflows
    BERT's 512 positions, and can emit an empty chunk).
    """
    sentences = re.findall("[^" + _SENTENCE_END_CLASS + "]*(?:[" + _SENTENCE_END_CLASS + "]|$)", text)
    pieces = []
    for sentence in filter(None, sentences):
        pieces.extend(sentence[start : start + max_length] for start in range(0, len(sentence), max_length))
    chunks = [""]
    for piece in pieces:
        if len(chunks[-1]) + len(piece) > max_length:
            chunks.append("")
        chunks[-1] += piece
    return [chunk for chunk in chunks if chunk]
