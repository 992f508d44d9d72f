"""Chinese (Mandarin) text -> phones, as the official GPT-SoVITS front end does it.

    normalize(text)                      numbers, dates, symbols ... spelled out; only CJK and ! ? … , . - remain
    g2p(normalized_text, symbol_version) -> (phones, word2ph)

g2p, one sentence piece at a time:
    jieba words with part-of-speech tags
    -> tone_sandhi.merge_words                 (不/一/儿/third-tone words joined)
    -> readings per word                       (a PinyinResolver; default: pypinyin's dictionary)
    -> tone_sandhi.apply_tone_sandhi           (不, 一, neutral tone, third-tone chains)
    -> erhua                                   (v2 symbol set only)
    -> opencpop table: each syllable -> [initial, final+tone], each punctuation mark -> [mark]

Every Chinese character becomes exactly two phones and every punctuation mark one, so word2ph[i] (phones of
character i of the normalized text) is 2 or 1 and len(word2ph) == len(normalized_text).

Official v1 (`chinese.py`) and v2 (`chinese2.py`) differ only in erhua and in v2's optional G2PW polyphone
model. The output here matches v2 with G2PW switched off (its pypinyin branch); a neural polyphone model can be
plugged in through `PinyinResolver`.
"""

import logging
import math
import re
from functools import cache
from importlib import resources
from typing import Literal, Protocol

import jieba
import jieba.finalseg
import jieba.posseg
from pypinyin import Style, lazy_pinyin

from ..errors import TextError
from ..messages import Message
from . import tone_sandhi
from .zh_normalization import normalize_sentences

SymbolVersion = Literal["v1", "v2"]

PUNCTUATION = "!?…,.-"  # the only marks that survive normalization; each is its own phone
_MARKS = frozenset(PUNCTUATION)
_FULL_WIDTH_MARKS = {"：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?", "\n": ".", "·": ",", "、": ",",
                     "...": "…", "$": ".", "/": ",", "—": "-", "~": "…", "～": "…"}  # fmt: skip
_MARKS_PATTERN = re.compile("|".join(re.escape(mark) for mark in _FULL_WIDTH_MARKS))
_NOT_SPEAKABLE = re.compile(r"[^\u4e00-\u9fa5" + re.escape(PUNCTUATION) + r"]+")
_REPEATED_MARKS = re.compile(f"([{re.escape(PUNCTUATION)}])[{re.escape(PUNCTUATION)}]+")
_AFTER_MARK = re.compile(f"(?<=[{re.escape(PUNCTUATION)}])\\s*")
_LATIN_LETTERS = re.compile("[a-zA-Z]+")


# ---------------------------------------------------------------------------------------------------------------
# Normalization


def _keep_speakable(sentence: str) -> str:
    # 嗯 and 呣 have syllabic-nasal readings (n, m) that the phone table lacks; read them as 恩 and 母.
    sentence = sentence.replace("嗯", "恩").replace("呣", "母")
    sentence = _MARKS_PATTERN.sub(lambda match: _FULL_WIDTH_MARKS[match.group()], sentence)
    return _NOT_SPEAKABLE.sub("", sentence)  # Latin letters, leftover digits, quotes, spaces ... are dropped


def normalize(text: str) -> str:
    """Chinese text as the model reads it: every character CJK or one of ! ? … , . - ('' if nothing is left)."""
    if not isinstance(text, str):
        raise TextError(Message("The text to speak must be a string."))
    normalized = "".join(_keep_speakable(sentence) for sentence in normalize_sentences(text))
    # A run of marks is said as its first one (repeated marks made models leak the reference audio).
    return _REPEATED_MARKS.sub(r"\1", normalized)


# ---------------------------------------------------------------------------------------------------------------
# Readings


Word = tuple[str, str]  # (word, jieba part-of-speech tag)


class PinyinResolver(Protocol):
    """Chooses each character's reading: the place where a polyphone model (G2PW) plugs in.

    Given one sentence piece and its merged words (they concatenate to the piece), return for each word its
    initials and its finals in pypinyin's strict style ('' for no initial; finals with tone digits, 5 = neutral,
    e.g. 'ian1'), one entry per character; a punctuation mark is returned as itself in both lists.
    """

    def initials_and_finals(self, sentence: str, words: list[Word]) -> list[tuple[list[str], list[str]]]: ...


class DictionaryPinyin:
    """pypinyin's dictionary readings, word by word: the official v1 front end, and v2 without G2PW."""

    def initials_and_finals(self, sentence: str, words: list[Word]) -> list[tuple[list[str], list[str]]]:
        return [
            (
                lazy_pinyin(word, neutral_tone_with_five=True, style=Style.INITIALS),
                lazy_pinyin(word, neutral_tone_with_five=True, style=Style.FINALS_TONE3),
            )
            for word, _ in words
        ]


# ---------------------------------------------------------------------------------------------------------------
# Erhua (v2)

# Words whose 儿 is a full syllable with its own tone (女儿 nv3 er2), unless listed in _ALWAYS_ERHUA.
_NOT_ERHUA = frozenset(
    "虐儿 为儿 护儿 瞒儿 救儿 替儿 有儿 一儿 我儿 俺儿 妻儿 拐儿 聋儿 乞儿 患儿 幼儿 孤儿 婴儿 婴幼儿 连体儿 脑瘫儿 流浪儿 体弱儿 "
    "混血儿 蜜雪儿 舫儿 祖儿 美儿 应采儿 可儿 侄儿 孙儿 侄孙儿 女儿 男儿 红孩儿 花儿 虫儿 马儿 鸟儿 猪儿 猫儿 狗儿 少儿".split()
)
_ALWAYS_ERHUA = frozenset("小院儿 胡同儿 范儿 老汉儿 撒欢儿 寻老礼儿 妥妥儿 媳妇儿".split())


def _erhua(word: str, pos: str, finals: list[str]) -> list[str]:
    """A word-final 儿 takes the tone of the syllable before it (那儿: na4 er4). It stays its own syllable."""
    finals = list(finals)
    if finals and len(finals) <= len(word) and word[len(finals) - 1] == "儿" and finals[-1] == "er1":
        finals[-1] = "er2"
    if word not in _ALWAYS_ERHUA and (word in _NOT_ERHUA or pos in {"a", "j", "nr"}):
        return finals  # adjectives, abbreviations, person names keep a full 儿
    if len(finals) != len(word) or len(word) < 2:
        return finals
    if word[-1] == "儿" and finals[-1] in {"er2", "er5"} and word[-2:] not in _NOT_ERHUA:
        finals[-1] = "er" + finals[-2][-1]
    return finals


# ---------------------------------------------------------------------------------------------------------------
# Syllables -> phones


@cache
def _syllable_phones() -> dict[str, tuple[str, str]]:
    """opencpop-strict table: pinyin without tone -> (initial phone, final phone), e.g. 'yan' -> ('y', 'En')."""
    data = resources.files("gpt_sovits.text") / "data" / "opencpop-strict.txt"
    table = {}
    for line in data.read_text(encoding="utf-8").splitlines():
        syllable, phones = line.split("\t")
        initial, final = phones.split(" ")
        table[syllable] = (initial, final)
    return table


# pypinyin's strict finals -> the spelling the table uses
_AFTER_INITIAL = {"uei": "ui", "iou": "iu", "uen": "un"}
_WHOLE_SYLLABLE = {"ing": "ying", "i": "yi", "in": "yin", "u": "wu"}
_FIRST_LETTER = {"v": "yu", "e": "e", "i": "y", "u": "w"}


def _syllable_to_phones(initial: str, final: str, sentence: str) -> list[str]:
    tone = final[-1:]
    final = final[:-1]
    if tone not in ("1", "2", "3", "4", "5"):
        raise TextError(Message(
            "Cannot read the Chinese text '{text}': a syllable has no tone ({syllable}).",
            text=sentence, syllable=initial + final + tone,
        ))
    if initial:
        syllable = initial + _AFTER_INITIAL.get(final, final)
    elif final in _WHOLE_SYLLABLE:
        syllable = _WHOLE_SYLLABLE[final]
    elif final[:1] in _FIRST_LETTER:
        syllable = _FIRST_LETTER[final[0]] + final[1:]
    else:
        syllable = final
    phones = _syllable_phones().get(syllable)
    if phones is None:
        raise TextError(Message(
            "Cannot read the Chinese text '{text}': the syllable '{syllable}' has no phones in the model's "
            "phone set. Replace the character that reads like this (for example an interjection such as 哼 'hng').",
            text=sentence, syllable=syllable,
        ))
    return [phones[0], phones[1] + tone]


# ---------------------------------------------------------------------------------------------------------------
# g2p


@cache
def _jieba_quiet() -> None:
    # jieba logs "Building prefix dict ..." to stderr at debug level when it first loads its dictionary.
    logging.getLogger("jieba").setLevel(logging.WARNING)


def _cut_with_pos(sentence: str) -> list[Word]:
    _jieba_quiet()
    return [(pair.word, pair.flag) for pair in jieba.posseg.lcut(sentence)]


# jieba's search-mode cut (a word and its dictionary sub-words), used by tone sandhi to split a word in two.
# The official front end runs jieba_fast, whose C code breaks ties differently from jieba's Python code:
# between equally likely dictionary paths it keeps the shorter word, and in the HMM that guesses unknown words
# a score that falls below the floor stays at the floor. Both matter for rare characters, so the cut is
# rebuilt here on jieba's dictionary (the same file jieba_fast ships) with jieba_fast's rules.
_HAN_OR_WORD = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%]+)")
_WHITESPACE = re.compile(r"(\r\n|\s)")
_HAN = re.compile(r"([\u4E00-\u9FD5]+)")
_LATIN_OR_NUMBER = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_SCORE_FLOOR = -3.14e100
_PREVIOUS_STATES = {"B": "ES", "M": "MB", "S": "SE", "E": "BM"}  # B/M/E: begin/middle/end of a word, S: single


def _best_dictionary_ends(sentence: str, frequencies: dict[str, int], log_total: float) -> list[int]:
    """For each position, where the first word of the most likely dictionary segmentation from there ends."""
    n = len(sentence)
    candidates = []
    for start in range(n):
        ends = []
        end = start
        while end < n and sentence[start : end + 1] in frequencies and len(ends) < 12:
            if frequencies[sentence[start : end + 1]]:
                ends.append(end)
            end += 1
        candidates.append(ends or [start])
    score_after = [0.0] * (n + 1)
    best_end = [0] * n
    for start in range(n - 1, -1, -1):
        best = float(-(2**31))
        for end in candidates[start]:
            score = math.log(frequencies.get(sentence[start : end + 1]) or 1) - log_total + score_after[end + 1]
            if score > best:  # strict: on a tie the shorter word stays
                best, best_end[start] = score, end
        score_after[start] = best
    return best_end


def _hmm_states(text: str) -> list[str]:
    """Most likely B/M/E/S tag per character under jieba's HMM, with jieba_fast's arithmetic and tie rules."""
    start_p, trans_p, emit_p = jieba.finalseg.start_P, jieba.finalseg.trans_P, jieba.finalseg.emit_P
    scores = {state: emit_p[state].get(text[0], _SCORE_FLOOR) + start_p[state] for state in "BMES"}
    back_pointers = [{state: state for state in "BMES"}]
    for char in text[1:]:
        new_scores, pointers = {}, {}
        for state in "BMES":
            emission = emit_p[state].get(char, _SCORE_FLOOR)
            best, best_previous = _SCORE_FLOOR, None
            for previous in _PREVIOUS_STATES[state]:
                score = emission + scores[previous] + trans_p[previous].get(state, _SCORE_FLOOR)
                if score > best:
                    best, best_previous = score, previous
            new_scores[state] = best
            pointers[state] = best_previous or max(_PREVIOUS_STATES[state])
        scores = new_scores
        back_pointers.append(pointers)
    state = "S" if scores["S"] > scores["E"] else "E"
    states = []
    for pointers in reversed(back_pointers):
        states.append(state)
        state = pointers[state]
    return states[::-1]


def _hmm_words(text: str):
    """Unknown words guessed by the HMM, Chinese stretches only."""
    for block in _HAN.split(text):
        if not _HAN.match(block):
            yield from (piece for piece in _LATIN_OR_NUMBER.split(block) if piece)
            continue
        begin = next_start = 0
        for i, state in enumerate(_hmm_states(block)):
            if state == "B":
                begin = i
            elif state == "E":
                yield block[begin : i + 1]
                next_start = i + 1
            elif state == "S":
                yield block[i]
                next_start = i + 1
        if next_start < len(block):
            yield block[next_start:]


def _single_characters(run: str, frequencies: dict[str, int]) -> list[str]:
    """A run of characters the dictionary cut left single: one unknown word for the HMM to split, unless the
    run itself is a dictionary word (then it stays as single characters)."""
    if len(run) == 1:
        return [run]
    if not frequencies.get(run):
        return list(_hmm_words(run))
    return list(run)


def _cut_block(block: str, frequencies: dict[str, int], log_total: float) -> list[str]:
    best_end = _best_dictionary_ends(block, frequencies, log_total)
    words, singles = [], ""
    i = 0
    while i < len(block):
        word = block[i : best_end[i] + 1]
        if len(word) == 1:
            singles += word
        else:
            if singles:
                words += _single_characters(singles, frequencies)
                singles = ""
            words.append(word)
        i = best_end[i] + 1
    if singles:
        words += _single_characters(singles, frequencies)
    return words


def _search_cut(word: str) -> list[str]:
    """jieba_fast's `cut_for_search`: each word of the cut, preceded by its 2- and 3-character dictionary parts."""
    _jieba_quiet()
    jieba.dt.check_initialized()
    frequencies, log_total = jieba.dt.FREQ, math.log(jieba.dt.total)
    words = []
    for block in _HAN_OR_WORD.split(word):
        if not block:
            continue
        if _HAN_OR_WORD.match(block):
            words += _cut_block(block, frequencies, log_total)
        else:
            for piece in _WHITESPACE.split(block):
                words += [piece] if _WHITESPACE.match(piece) else list(piece)
    result = []
    for w in words:
        if len(w) > 2:
            result += [w[i : i + 2] for i in range(len(w) - 1) if frequencies.get(w[i : i + 2])]
        if len(w) > 3:
            result += [w[i : i + 3] for i in range(len(w) - 2) if frequencies.get(w[i : i + 3])]
        result.append(w)
    return result


def _sentence_phones(
    sentence: str, symbol_version: SymbolVersion, resolver: PinyinResolver
) -> tuple[list[str], list[int]]:
    words = tone_sandhi.merge_words(_cut_with_pos(sentence))
    readings = resolver.initials_and_finals(sentence, words)
    for (word, _), (_, finals) in zip(words, readings):
        if not all(finals):  # no vowel: a syllabic nasal such as 噷 'hm', or a character without a reading
            raise TextError(Message(
                "Cannot read '{word}' in the Chinese text '{text}': the model's phone set has no sound for "
                "it (a syllabic nasal such as 噷, or a character without a known reading). Replace or remove it.",
                word=word, text=sentence,
            ))
    phones: list[str] = []
    word2ph: list[int] = []
    for (word, pos), (initials, finals) in zip(words, readings):
        finals = tone_sandhi.apply_tone_sandhi(word, pos, finals, _search_cut)
        if symbol_version == "v2":
            finals = _erhua(word, pos, finals)
        for initial, final in zip(initials, finals):
            if initial == final:  # a punctuation mark
                if initial not in _MARKS:
                    if _NOT_SPEAKABLE.fullmatch(initial):
                        problem = Message("normalize the text first (gpt_sovits.text.chinese.normalize)")
                    else:
                        problem = Message("no pronunciation is known for this character; replace it")
                    raise TextError(Message(
                        "Cannot read '{word}' in the Chinese text '{text}': {problem}.",
                        word=initial, text=sentence, problem=problem,
                    ))
                phones.append(initial)
                word2ph.append(1)
            else:
                phones += _syllable_to_phones(initial, final, sentence)
                word2ph.append(2)
    return phones, word2ph


def g2p(
    normalized_text: str, symbol_version: SymbolVersion, resolver: PinyinResolver | None = None
) -> tuple[list[str], list[int]]:
    """Phones of normalized Chinese text, and how many phones each character became.

    `normalized_text` is the output of `normalize`. An empty text gives ([], []): a run that normalizes to
    nothing (only brackets, say) simply adds no phones; the caller decides whether the whole input is empty.
    `symbol_version` "v2" adds erhua; `resolver` picks readings (default: pypinyin, as the official reference).
    """
    if symbol_version not in ("v1", "v2"):
        raise TextError(Message("Unknown symbol version '{version}': use 'v1' or 'v2'.", version=symbol_version))
    if not isinstance(normalized_text, str):
        raise TextError(Message("The text to speak must be a string."))
    resolver = resolver or DictionaryPinyin()
    phones: list[str] = []
    word2ph: list[int] = []
    for piece in _AFTER_MARK.split(normalized_text):  # one piece per sentence mark, the mark kept at its end
        piece = _LATIN_LETTERS.sub("", piece)  # as official: letters belong to English runs
        if piece.strip():
            piece_phones, piece_word2ph = _sentence_phones(piece, symbol_version, resolver)
            phones += piece_phones
            word2ph += piece_word2ph
    return phones, word2ph
