"""Mandarin tone sandhi on dictionary pinyin: the tone changes a speaker makes that a dictionary does not show.

Two stages, as in the front end GPT-SoVITS models were trained with (PaddleSpeech's rules):

1. `merge_words` joins jieba words so each sandhi rule sees its whole context: 不/一 with the word after them,
   reduplications (看/看), short runs of third tones, and 儿 with the word before it.
2. `apply_tone_sandhi` rewrites one word's tones: 不 (bu4 -> bu2 before a fourth tone), 一 (yi1 -> yi2/yi4/yi5),
   the neutral tone (particles, suffixes, reduplications, a word list) and third-tone chains (33 -> 23).

Finals are pypinyin TONE3 strings such as 'ao3' (tone 5 = neutral); punctuation passes through as itself.
Rule quirks are kept on purpose: the models learned from their output.
"""

from collections.abc import Callable
from functools import cache
from importlib import resources

from pypinyin import Style, lazy_pinyin

Word = tuple[str, str]  # (word, jieba part-of-speech tag)

# Reduplications and X子 words that keep their full tone.
_KEEP_FULL_TONE = frozenset(
    "男子 女子 分子 原子 量子 莲子 石子 瓜子 电子 人人 虎虎 幺幺 干嘛 学子 哈哈 数数 袅袅 局地 以下 娃哈哈 花花草草 留得 耕地 想想 "
    "熙熙 攘攘 卵子 死死 冉冉 恳恳 佼佼 吵吵 打打 考考 整整 莘莘 落地 算子 家家户户 青青".split()
)
_SENTENCE_PARTICLES = "吧呢哈啊呐噻嘛吖嗨呐哦哒额滴哩哟喽啰耶喔诶"
# Marks after which 一 keeps its first tone (一，). The list misses … and -, as trained.
_PUNCTUATION = "：，；。？！“”‘’':,;.?!"


@cache
def _neutral_tone_words() -> frozenset[str]:
    """About 420 words whose last syllable is neutral (麻烦, 东西, 先生 ...)."""
    data = resources.files("gpt_sovits.text") / "data" / "zh_neutral_tone_words.txt"
    lines = data.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def dictionary_finals(word: str) -> list[str]:
    """pypinyin's finals with tone numbers, used to find third tones when merging (always pypinyin, even when a
    polyphone model supplies the readings)."""
    return lazy_pinyin(word, neutral_tone_with_five=True, style=Style.FINALS_TONE3)


def _with_tone(final: str, tone: str) -> str:
    return final[:-1] + tone


def _all_third_tone(finals: list[str]) -> bool:
    return all(final[-1] == "3" for final in finals)


def _is_reduplication(word: str) -> bool:
    return len(word) == 2 and word[0] == word[1]


# ---------------------------------------------------------------------------------------------------------------
# Stage 1: merging words


def _merge_bu(words: list[Word]) -> list[Word]:
    """不 joins the word after it (a final 不 stays alone, tagged as an adverb)."""
    merged = []
    previous = ""
    for word, pos in words:
        if previous == "不":
            word = "不" + word
        if word != "不":
            merged.append((word, pos))
        previous = word
    if previous == "不":
        merged.append(("不", "d"))
    return merged


def _merge_yi(words: list[Word]) -> list[Word]:
    """V一V reduplications become one verb (听/一/听 -> 听一听); then a lone 一 joins the word after it."""
    merged: list[Word] = []
    i = 0
    while i < len(words):
        word, pos = words[i]
        if i >= 1 and word == "一" and i + 1 < len(words):
            last_word, last_pos = merged[-1]
            next_word, next_pos = words[i + 1]
            if last_word == next_word and last_pos == "v" and next_pos == "v":
                merged[-1] = (last_word + "一" + next_word, last_pos)
                i += 2
                continue
        merged.append((word, pos))
        i += 1

    joined: list[Word] = []
    for word, pos in merged:
        if joined and joined[-1][0] == "一":
            joined[-1] = ("一" + word, joined[-1][1])
        else:
            joined.append((word, pos))
    return joined


def _merge_reduplication(words: list[Word]) -> list[Word]:
    merged: list[Word] = []
    for word, pos in words:
        if merged and word == merged[-1][0]:
            merged[-1] = (merged[-1][0] + word, merged[-1][1])
        else:
            merged.append((word, pos))
    return merged


def _merge_third_tones(words: list[Word], meets: Callable[[list[str], list[str]], bool]) -> list[Word]:
    """Join a word to the one before it when `meets(previous finals, finals)` says the two form a third-tone chain,
    they total at most three characters, and the previous word is no reduplication (that one needs the neutral
    tone instead). A word that was joined is not joined again."""
    finals = [dictionary_finals(word) for word, _ in words]
    merged: list[Word] = []
    joined_previous = False
    for i, (word, pos) in enumerate(words):
        joins = (
            i >= 1
            and not joined_previous
            and meets(finals[i - 1], finals[i])
            and not _is_reduplication(words[i - 1][0])
            and len(words[i - 1][0]) + len(word) <= 3
        )
        if joins:
            merged[-1] = (merged[-1][0] + word, merged[-1][1])
        else:
            merged.append((word, pos))
        joined_previous = joins
    return merged


def _both_all_third_tone(previous: list[str], current: list[str]) -> bool:
    return _all_third_tone(previous) and _all_third_tone(current)


def _third_tone_at_boundary(previous: list[str], current: list[str]) -> bool:
    return previous[-1][-1] == "3" and current[0][-1] == "3"


def _merge_er(words: list[Word]) -> list[Word]:
    """儿 joins the word before it (花/儿 -> 花儿)."""
    merged: list[Word] = []
    for word, pos in words:
        if merged and word == "儿" and merged[-1][0] != "#":
            merged[-1] = (merged[-1][0] + word, merged[-1][1])
        else:
            merged.append((word, pos))
    return merged


def merge_words(words: list[Word]) -> list[Word]:
    words = _merge_bu(words)
    words = _merge_yi(words)
    words = _merge_reduplication(words)
    for meets in (_both_all_third_tone, _third_tone_at_boundary):
        try:
            words = _merge_third_tones(words, meets)
        except IndexError:
            # A syllabic nasal (噷 'hm') has an empty final; the official code skips the step then. Such text
            # has no phones anyway, and g2p reports it.
            pass
    return _merge_er(words)


# ---------------------------------------------------------------------------------------------------------------
# Stage 2: changing tones inside one word


def _split_in_two(word: str, search_cut: Callable[[str], list[str]]) -> tuple[str, str]:
    """Split a word where its shortest sub-word (from jieba's search mode) sits: at the start, else at the end."""
    shortest = sorted(search_cut(word), key=len)[0]
    if word.find(shortest) == 0:
        return shortest, word[len(shortest) :]
    return word[: -len(shortest)], shortest


def _bu_sandhi(word: str, finals: list[str]) -> list[str]:
    if len(word) == 3 and word[1] == "不":  # 看不懂: 不 is neutral
        finals[1] = _with_tone(finals[1], "5")
        return finals
    for i, char in enumerate(word):
        if char == "不" and i + 1 < len(word) and finals[i + 1][-1] == "4":  # 不怕: bu2
            finals[i] = _with_tone(finals[i], "2")
    return finals


def _yi_sandhi(word: str, finals: list[str]) -> list[str]:
    if "一" in word and all(char.isnumeric() for char in word if char != "一"):
        return finals  # a number (一零一) keeps yi1
    if len(word) == 3 and word[1] == "一" and word[0] == word[-1]:  # 看一看: yi5
        finals[1] = _with_tone(finals[1], "5")
    elif word.startswith("第一"):  # ordinal: yi1
        finals[1] = _with_tone(finals[1], "1")
    else:
        for i, char in enumerate(word):
            if char == "一" and i + 1 < len(word):
                if finals[i + 1][-1] == "4":  # 一段: yi2
                    finals[i] = _with_tone(finals[i], "2")
                elif word[i + 1] not in _PUNCTUATION:  # 一天: yi4
                    finals[i] = _with_tone(finals[i], "4")
    return finals


def _neutral_sandhi(word: str, pos: str, finals: list[str], search_cut: Callable[[str], list[str]]) -> list[str]:
    neutral_words = _neutral_tone_words()
    # Reduplicated nouns, verbs and adjectives: 奶奶, 试试, 旺旺
    for j in range(1, len(word)):
        if word[j] == word[j - 1] and pos[0] in "nva" and word not in _KEEP_FULL_TONE:
            finals[j] = _with_tone(finals[j], "5")

    measure_index = word.find("个")
    last = word[-1]
    if last in _SENTENCE_PARTICLES or last in "的地得":
        finals[-1] = _with_tone(finals[-1], "5")
    elif len(word) == 1 and word in "了着过" and pos in {"ul", "uz", "ug"}:  # 走了, 看着, 去过
        finals[-1] = _with_tone(finals[-1], "5")
    elif len(word) > 1 and last in "们子" and pos in {"r", "n"} and word not in _KEEP_FULL_TONE:
        finals[-1] = _with_tone(finals[-1], "5")
    elif len(word) > 1 and last in "上下里" and pos in {"s", "l", "f"}:  # 桌上, 地下, 家里
        finals[-1] = _with_tone(finals[-1], "5")
    elif len(word) > 1 and last in "来去" and word[-2] in "上下进出回过起开":  # 上来, 下去
        finals[-1] = _with_tone(finals[-1], "5")
    elif word == "个" or (
        measure_index >= 1 and (word[measure_index - 1].isnumeric() or word[measure_index - 1] in "几有两半多各整每做是")
    ):  # 个 as a measure word
        finals[measure_index] = _with_tone(finals[measure_index], "5")
    elif word in neutral_words or word[-2:] in neutral_words:
        finals[-1] = _with_tone(finals[-1], "5")

    # The word list also applies to each half of a longer word.
    halves = _split_in_two(word, search_cut)
    split = len(halves[0])
    parts = [finals[:split], finals[split:]]
    for half, part in zip(halves, parts):
        if half in neutral_words or half[-2:] in neutral_words:
            part[-1] = _with_tone(part[-1], "5")
    return parts[0] + parts[1]


def _third_tone_sandhi(word: str, finals: list[str], search_cut: Callable[[str], list[str]]) -> list[str]:
    if len(word) == 2 and _all_third_tone(finals):  # 你好: ni2 hao3
        finals[0] = _with_tone(finals[0], "2")
    elif len(word) == 3:
        halves = _split_in_two(word, search_cut)
        if _all_third_tone(finals):
            if len(halves[0]) == 2:  # 蒙古/包: 2 2 3
                finals[0] = _with_tone(finals[0], "2")
                finals[1] = _with_tone(finals[1], "2")
            elif len(halves[0]) == 1:  # 纸/老虎: 3 2 3
                finals[1] = _with_tone(finals[1], "2")
        else:
            split = len(halves[0])
            first, second = finals[:split], finals[split:]
            if _all_third_tone(first) and len(first) == 2:  # 所有/人
                first[0] = _with_tone(first[0], "2")
            if _all_third_tone(second) and len(second) == 2:
                second[0] = _with_tone(second[0], "2")
            elif second and not _all_third_tone(second) and second[0][-1] == "3" and first[-1][-1] == "3":
                first[-1] = _with_tone(first[-1], "2")  # 好/喜欢
            finals = first + second
    elif len(word) == 4:  # an idiom, read as two words of two
        first, second = finals[:2], finals[2:]
        for part in (first, second):
            if _all_third_tone(part):
                part[0] = _with_tone(part[0], "2")
        finals = first + second
    return finals


def apply_tone_sandhi(word: str, pos: str, finals: list[str], search_cut: Callable[[str], list[str]]) -> list[str]:
    """Finals of one merged word after sandhi. `search_cut` is jieba's search-mode cut (all dictionary sub-words)."""
    finals = list(finals)
    finals = _bu_sandhi(word, finals)
    finals = _yi_sandhi(word, finals)
    finals = _neutral_sandhi(word, pos, finals, search_cut)
    return _third_tone_sandhi(word, finals, search_cut)
