"""Which words of a text the front end left out, so that the user can be told.

The official front end drops what its languages cannot speak, silently: in zh / all_zh / auto, words with accented
or Cyrillic letters vanish ('naïve café' becomes '.'), English words inside a Chinese run vanish in all_zh
('PyTorch GPU 加速检测' becomes '加速检测'). We give the same phones (that is the compatibility contract) and say
which words were not spoken. (Symbols nobody speaks, such as emoji, are noted by `validation.target_text_warnings`.)

    dropped_words("hello мир", phonemize("hello мир", "zh", "v2").runs) -> ["мир"]

A word counts as spoken when its letters, without accents and case, appear in what the runs normalised to. Left
alone, so that nothing spoken is reported: words with digits (numbers become words); Chinese, Japanese and Korean
characters and symbols such as ℃ (their normalisers rewrite them); and plain ASCII words wherever an English run
exists (its normaliser expands abbreviations: "e.g.", "Dr.").
"""

import re
import unicodedata

from gpt_sovits.text.types import TextRun

# A word: letters and combining marks, of any script.
_WORD = re.compile(r"[^\W\d_]+")
# Scripts whose normalisers rewrite characters: never reported.
_CJK = re.compile(r"[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff]")


def _folded(text: str) -> str:
    """Lower case, accents removed, spaces left out: 'Café Noir' -> 'cafenoir'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char) and not char.isspace())


def dropped_words(text: str, runs: list[TextRun]) -> list[str]:
    """The words of `text` that none of `runs` (what the front end made of it) speaks, in order, each
    once. Punctuation is not reported (it becomes pauses or is normalised)."""
    spoken = _folded("".join(run.normalized_text for run in runs))
    has_english = any(run.language == "en" for run in runs)
    dropped = []
    for word in _WORD.findall(text):
        if word in dropped or _CJK.search(word) or (word.isascii() and (has_english or len(word) == 1)):
            continue
        if _folded(word) not in spoken:
            dropped.append(word)
    return dropped
