"""Cantonese text -> phones, as the official GPT-SoVITS front end does it (v2 symbol table and later only).

    normalize(text) -> text                           the Chinese normalizer, then Cantonese punctuation rules
    g2p(normalized, symbol_version) -> (phones, word2ph)

normalize: the same normalizer as Mandarin (numbers, dates, units spelled out in Mandarin characters; traditional
characters made simplified), then marks mapped to ! ? … , . - and everything else that is not a CJK character of
U+4E00..U+9FA5 dropped (Latin letters, quotes, brackets, rarer CJK characters such as 㗎 or 𡃉).

g2p: each character's Jyutping from ToJyutping (word by word, so 行 in 銀行 is hong4), each syllable split into an
initial and a final with its tone, both marked with a leading "Y" to keep them apart from Mandarin phones:
    佢 keoi5 -> Yk Yeoi5        啊 aa3 -> Yaa Ya3        唔 m4 -> Ym Ym4        , -> ,
word2ph[i] is 2 for a character and 1 for a punctuation mark. Phones are returned before the mapping to "UNK":
a few splits give finals that the table lacks (五 ng5 -> Yng Yg5).
"""

import re
from functools import cache

from ...errors import TextError
from ..symbols import PUNCTUATION, check_symbol_version
from ..zh_normalization import normalize_sentences

# Marks that become one of the six punctuation phones. Quotes and brackets are dropped (the official table maps
# them to ' first, which the next step drops like any other character outside CJK and the six marks).
_MARKS = {"：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?", "\n": ".", "·": ",", "、": ",",
          "...": "…", "$": ".", "—": "-", "～": "-", "~": "-"}  # fmt: skip
_MARK = re.compile("|".join(re.escape(mark) for mark in _MARKS))
_NOT_SPEAKABLE = re.compile(r"[^\u4e00-\u9fa5" + re.escape("".join(PUNCTUATION)) + r"]+")

# Jyutping onsets in the order the official front end tries them: the first that begins a syllable is its initial,
# the rest (or, when nothing is left, the onset's last letter) its final. The list also holds vowel starts such as
# aa, ou or ung, so that a syllable without a consonant splits too (aai -> aa + i, ou -> ou + u).
_ONSETS = ("aa aai aak aap aat aau ai au ap at ak a p b e ts t dz d kw k gw g f h l m ng n s y w c z j "
           "ong on ou oi ok o uk ung").split()  # fmt: skip
# One Jyutping syllable, or a few for one character (卅 saa1 aa6): those are split as one syllable with the last tone
# (Ys + "Yaa1 aa6", which becomes "UNK"), as in the official front end.
_JYUTPING = re.compile("(?:[a-z]+[1-6]+ )*[a-z]+[1-6]+")


def normalize(text: str) -> str:
    """Cantonese text as the model reads it: CJK characters of U+4E00..U+9FA5 and ! ? … , . - ('' if none)."""
    if not isinstance(text, str):
        raise TextError("The text to speak must be a string.")
    return "".join(_keep_speakable(sentence) for sentence in normalize_sentences(text))


def _keep_speakable(sentence: str) -> str:
    sentence = _MARK.sub(lambda match: _MARKS[match.group()], sentence)
    return _NOT_SPEAKABLE.sub("", sentence)


@cache
def _jyutping_list():
    import ToJyutping  # builds its dictionary trie when imported (seconds), so only when Cantonese is spoken

    return ToJyutping.get_jyutping_list


def _initial_and_final(char: str, jyutping: str | None) -> list[str]:
    if jyutping is None or not _JYUTPING.fullmatch(jyutping):
        raise TextError(f"No Cantonese reading is known for {char!r}; write the word with other characters.")
    letters, tone = jyutping[:-1], jyutping[-1]
    onset = next((onset for onset in _ONSETS if letters.startswith(onset)), None)
    if onset is None:
        raise TextError(f"The Jyutping {jyutping!r} of {char!r} has no initial the Cantonese phone set knows.")
    final = letters[len(onset) :] or onset[-1]
    return ["Y" + onset, "Y" + final + tone]


def g2p(normalized: str, symbol_version: str) -> tuple[list[str], list[int]]:
    """Normalized Cantonese text -> (phones, word2ph), one word2ph count per character of `normalized`."""
    check_symbol_version(symbol_version)
    if symbol_version == "v1":
        raise TextError("Cantonese needs a v2 model or later (v2, v2Pro, v3, v4): v1 models have no Cantonese phones.")
    phones, word2ph = [], []
    for char, jyutping in _jyutping_list()(normalized):
        char_phones = [char] if char in PUNCTUATION else _initial_and_final(char, jyutping)
        phones += char_phones
        word2ph.append(len(char_phones))
    return phones, word2ph
