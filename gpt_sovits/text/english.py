"""English: normalize a text (numbers, units, money, ...) and turn it into ARPAbet phones.

This follows the official front end (`text/english.py` + `en_normalization/expend.py`) rule for rule, including
its quirks, because the official models were trained on its output. Everything runs offline:

- pronunciations come from `data/en_cmudict.txt` (CMUdict 0.7b + the official extra words and hot fixes, merged
  the way the official code merges them) and `data/en_names.txt` (the official name dictionary);
- words that are in neither are split into known words with `wordsegment` (its data ships in the pip package) or
  else predicted by the small g2p_en GRU model, whose weights (`checkpoint20.npz`) ship inside the g2p_en pip
  package. We read that file with numpy and never import g2p_en itself, because importing it tries to download
  NLTK data;
- the official code picks the reading of a homograph ("read", "live", "record") from NLTK's part-of-speech
  tagger, whose data would have to be downloaded. We guess the part of speech from the neighbouring words
  instead (`_guess_part_of_speech`), which gets the common cases ("to record", "the record") right.
"""

import importlib.util
import math
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
import wordsegment
from nltk.tokenize import TweetTokenizer

from gpt_sovits.text import symbols as symbol_tables

_DATA = Path(__file__).parent / "data"

# ---------------------------------------------------------------------------------------------------------------
# Normalization: written text -> words that can be looked up ("$5" -> "five dollars").
# ---------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _number_words():
    """The inflect engine (spells numbers), loaded on first use: importing inflect takes seconds."""
    import inflect

    return inflect.engine()


_DIGIT_NAMES = "zero one two three four five six seven eight nine".split()
# inflect spells numbers below 10**36 and refuses larger ones, which the official code then reads digit by digit.
# We decide on the digit string before anything converts it: Python refuses to turn more than 4300 digits into an
# int, and a long run costs no more than reading it out.
_MAX_SPELLED_DIGITS = 36


def _value_digits(digits: str) -> str:
    """The integer a digit string stands for, as digits: what str(int(digits)) gives, for any length."""
    return digits.lstrip("0") or "0"


def _read_digit_by_digit(text: str) -> str:
    return " ".join(_DIGIT_NAMES[int(char)] if char.isdigit() else char for char in text)


@lru_cache(maxsize=4096)  # inflect takes about 0.3 ms a number, and texts repeat the same small numbers
def _spell_number(number: int | str, **options) -> str:
    """inflect's words for a number or a digit string ("21", "21st"); one too large for inflect is read digit by
    digit (leading zeros and suffix included, as the official fallback reads them)."""
    text = str(number)
    digits = text.rstrip("stndrh")
    value = _value_digits(digits)
    if len(value) > _MAX_SPELLED_DIGITS:
        return _read_digit_by_digit(text)
    return _number_words().number_to_words(value + text[len(digits) :], **options)  # leading zeros change nothing


# Full-width sentence marks become ASCII ones. (The official map also lists ";:，；" and quote characters, but
# as escaped literal strings, so they never match; those characters are deleted further down instead.)
_FULL_WIDTH_MARKS = {"。": ".", "！": "!", "？": "?"}

_UNITS = {  # unit -> (singular, plural)
    "m": ("meter", "meters"),
    "km": ("kilometer", "kilometers"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "ft": ("feet", "feet"),
    "L": ("liter", "liters"),
    "tbsp": ("tablespoon", "tablespoons"),
    "tsp": ("teaspoon", "teaspoons"),
    "h": ("hour", "hours"),
    "min": ("minute", "minutes"),
    "s": ("second", "seconds"),
    "°C": ("degree celsius", "degrees celsius"),
    "°F": ("degree fahrenheit", "degrees fahrenheit"),
}

# The patterns are the official ones, with one kind of change that keeps every match the same: where the official
# pattern starts with a run of digits (or spaces), a look-behind lets a match start only where that run starts.
# Python's regex engine would otherwise retry the pattern from every digit inside a long run, each time reading to
# the run's end and back: 2,000 digits took 50 s in the official `([0-9\.\,]*[0-9]+)£`. A match that fails from the
# first digit of a run fails from every later one too (the same characters follow), and no match of these patterns
# ends inside a run, so the later starts never find anything.
_ARITHMETIC_WORDS = {"+": " plus ", "-": " minus ", "×": " times ", "÷": " divided by ", "=": " Equals "}
_OPERAND = r"((-|(?<!\d))((\d+)(\.\d+)?[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*)|(\.\d+[⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*)|([A-Za-z][⁰¹²³⁴⁵⁶⁷⁸⁹ˣʸⁿ]*))"
_ARITHMETIC = re.compile(_OPERAND + r"\s+([\+\-\×÷=])\s+" + _OPERAND)  # "3 + 4", "x = 5"

_LIST_NUMBER = re.compile(r"\b([0-9]+)\. ")  # "1. " at the start of a list item
_NEGATIVE = re.compile(r"(?:^|(?<!\s)\s+)(-)(\d+)")
_GROUPED_NUMBER = re.compile(r"([0-9][0-9\,]+[0-9])")  # 12,000
_CLOCK_TIME = re.compile(r"\b([01]?[0-9]|2[0-3]):([0-5][0-9])\b")
_MEASUREMENT = re.compile(r"\b([0-9]+(\.[0-9]+)?(m|km|km/h|ft|L|tbsp|tsp|h|min|s|°C|°F))\b")
_POUNDS_BEFORE = re.compile(r"£([0-9\.\,]*[0-9]+)")
# Official: ([0-9\.\,]*[0-9]+)£ -- the same text as [0-9.,]*[0-9] before the sign, but with one way to split it.
_POUNDS_AFTER = re.compile(r"(?<![0-9\.\,])([0-9\.\,]*[0-9])£")
_DOLLARS_BEFORE = re.compile(r"\$([0-9\.\,]*[0-9]+)")
_DOLLARS_AFTER = re.compile(r"(?<![(0-9\.\,])([(0-9\.\,]*[0-9])\$")  # official: ([(0-9\.\,]*[0-9]+)\$
_DECIMAL = re.compile(r"(?<![0-9])([0-9]+\.\s*[0-9]+)")
_FRACTION = re.compile(r"(?<![0-9])([0-9]+/[0-9]+)")
_ORDINAL = re.compile(r"(?<![0-9])[0-9]+(st|nd|rd|th)")
_INTEGER = re.compile(r"[0-9]+")

# After normalization a character that is a mark or a space swallows the marks that follow it (",,," -> ",",
# " ," -> " "): repeated punctuation makes the model leak the reference audio into the output.
_PHONE_MARKS = "".join(re.escape(mark) for mark in symbol_tables.PUNCTUATION)
_REPEATED_MARKS = re.compile(f"([{_PHONE_MARKS}\\s])([{_PHONE_MARKS}])+")


def _say_list_number(match) -> str:
    """"1. " -> "1st, " (spelled out later). The suffix depends on the last two digits only."""
    number = match.group(1)
    return number + _number_words().ordinal(number[-2:])[len(number[-2:]) :] + ", "


def _say_arithmetic(match) -> str:
    return match.group(1) + _ARITHMETIC_WORDS[match.group(8)] + match.group(9)


def _say_negative(match) -> str:
    # The official code drops the whitespace before the minus sign ("is -5" -> "isnegative 5"); kept for parity.
    return f"negative {match.group(2)}"


def _say_clock_time(match) -> str:
    hours, minutes = int(match.group(1)), int(match.group(2))
    period = "a.m." if hours < 12 else "p.m."
    if hours > 12:
        hours -= 12
    if minutes == 0:
        return f"{_spell_number(hours)} o'clock {period}"
    return f"{_spell_number(hours)} {_spell_number(minutes)} {period}"


def _say_measurement(match) -> str:
    unit = match.group(3)
    # Any decimal counts as plural ("1.2 seconds"); only a bare 1 is singular.
    singular = match.group(2) is None and _value_digits(match.group(1).removesuffix(unit)) == "1"
    return match.group(1).replace(unit, " " + _UNITS[unit][0 if singular else 1])


def _say_money(amount: str, major: tuple[str, str], minor: tuple[str, str]) -> str:
    """"12.5" with ("dollar", "dollars"), ("cent", "cents") -> "12 dollars and 50 cents" (digits spelled later).

    Numbers are handled as digit strings, so a run of any length costs no more than reading it. Commas and
    brackets left inside the amount ("£,5", "(5$") are ignored (the official code raises ValueError on them).
    """
    parts = amount.split(".")
    if len(parts) > 2:
        return amount + " " + major[1]
    whole = _value_digits(re.sub(r"[^0-9]", "", parts[0]))
    fraction = _value_digits(re.sub(r"[^0-9]", "", parts[1]).ljust(2, "0")) if len(parts) > 1 else "0"
    major_word = major[0] if whole == "1" else major[1]
    minor_word = minor[0] if fraction == "1" else minor[1]
    if whole != "0" and fraction != "0":
        return f"{whole} {major_word} and {fraction} {minor_word}"
    if whole != "0":
        return f"{whole} {major_word}"
    if fraction != "0":
        return f"{fraction} {minor_word}"
    return "zero " + major[1]


def _say_pounds(match) -> str:
    return _say_money(match.group(1), ("pound", "pounds"), ("penny", "pence"))


def _say_dollars(match) -> str:
    return _say_money(match.group(1), ("dollar", "dollars"), ("cent", "cents"))


def _say_decimal(match) -> str:
    whole, fraction = match.group(1).split(".")[:2]
    return whole + " point " + " ".join(fraction)  # "3.14" -> "3 point 1 4"


def _say_fraction(match) -> str:
    numerator, denominator = (_value_digits(part) for part in match.group(0).split("/"))
    numerator_words = _spell_number(numerator)
    if denominator == "1":
        return numerator_words
    if denominator == "2":
        return f"{numerator_words} {'half' if numerator == '1' else 'halves'}"
    denominator_words = _number_words().ordinal(_spell_number(denominator))
    return f"{numerator_words} {denominator_words}{'s' if numerator not in ('0', '1') else ''}"


def _say_ordinal(match) -> str:
    return _spell_number(match.group(0))


def _say_integer(match) -> str:
    digits = _value_digits(match.group(0))
    if len(digits) > _MAX_SPELLED_DIGITS:
        return _read_digit_by_digit(digits)
    number = int(digits)
    if 1000 < number < 3000:  # read like a year
        if number == 2000:
            return "two thousand"
        if 2000 < number < 2010:
            return "two thousand " + _spell_number(number % 100)
        if number % 100 == 0:
            return _spell_number(number // 100) + " hundred"
        return _spell_number(number, andword="", zero="oh", group=2).replace(", ", " ")
    return _spell_number(number, andword="")


def _expand(text: str) -> str:
    """Numbers, times, units and money to words; then keep only letters, spaces and `'.,?!-`."""
    text = _LIST_NUMBER.sub(_say_list_number, text)
    while _ARITHMETIC.search(text):
        text = _ARITHMETIC.sub(_say_arithmetic, text)
    text = _NEGATIVE.sub(_say_negative, text)
    text = _GROUPED_NUMBER.sub(lambda match: match.group(1).replace(",", ""), text)
    text = _CLOCK_TIME.sub(_say_clock_time, text)
    text = _MEASUREMENT.sub(_say_measurement, text)
    text = _POUNDS_BEFORE.sub(_say_pounds, text)
    text = _POUNDS_AFTER.sub(_say_pounds, text)
    text = _DOLLARS_BEFORE.sub(_say_dollars, text)
    text = _DOLLARS_AFTER.sub(_say_dollars, text)
    text = _DECIMAL.sub(_say_decimal, text)
    text = _FRACTION.sub(_say_fraction, text)
    text = _ORDINAL.sub(_say_ordinal, text)
    text = _INTEGER.sub(_say_integer, text)
    # Strip accents ("café" -> "cafe"), then drop every character that has no English reading.
    text = "".join(char for char in unicodedata.normalize("NFD", text) if unicodedata.category(char) != "Mn")
    text = text.replace("%", " percent")
    text = re.sub(r"[^ A-Za-z'.,?!\-]", "", text)
    text = re.sub(r"(?i)i\.e\.", "that is", text)
    text = re.sub(r"(?i)e\.g\.", "for example", text)
    # A capital inside a word starts a new word, so acronyms are spelled: "GPU" -> "G P U", "iPhone" -> "i Phone".
    return re.sub(r"(?<!^)(?<![\s])([A-Z])", r" \1", text)


def normalize(text: str) -> str:
    """The official English text normalization (what `TextRun.normalized_text` holds for an English run)."""
    for full_width, ascii_mark in _FULL_WIDTH_MARKS.items():
        text = text.replace(full_width, ascii_mark)
    return _REPEATED_MARKS.sub(r"\1", _expand(text))


# ---------------------------------------------------------------------------------------------------------------
# Letters to sounds.
# ---------------------------------------------------------------------------------------------------------------

# Abbreviations that the CMU dictionary reads as words, while they should be spelled (A I, O S, ...).
_SPELLED_ABBREVIATIONS = ("ae", "ai", "ar", "ios", "hud", "os")

# Phones the g2p step produces that are not phones of the model: word separators and the OOV model's markers.
_DROPPED_PHONES = frozenset({" ", "<pad>", "UW", "</s>", "<s>"})

_VOICELESS_ENDINGS = frozenset({"P", "T", "K", "F", "TH", "HH"})  # "cat's" -> S
_SIBILANT_ENDINGS = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})  # "boss's" -> AH0 Z

_tokenize = TweetTokenizer().tokenize


def _read_pronunciations(path: Path) -> dict[str, tuple[str, ...]]:
    """A "word PH PH ..." file -> {word: phones}."""
    pronunciations = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, *phones = line.split(" ")
        pronunciations[word] = tuple(phones)
    return pronunciations


def _g2p_en_file(name: str) -> Path:
    """A data file shipped in the g2p_en pip package, found without importing the package."""
    spec = importlib.util.find_spec("g2p_en")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The g2p_en package is not installed (pip install g2p_en).")
    return Path(list(spec.submodule_search_locations)[0]) / name


class OutOfVocabularyModel:
    """g2p_en's letters-to-phones model: a GRU encoder over letters, a GRU decoder emitting phones greedily.

    Weights: `checkpoint20.npz` from the g2p_en package (embedding 64, hidden 128).
    """

    LETTERS = ["<pad>", "<unk>", "</s>"] + list("abcdefghijklmnopqrstuvwxyz")
    PHONES = ["<pad>", "<unk>", "<s>", "</s>"] + (
        "AA0 AA1 AA2 AE0 AE1 AE2 AH0 AH1 AH2 AO0 AO1 AO2 AW0 AW1 AW2 AY0 AY1 AY2 B CH D DH EH0 EH1 EH2 ER0 ER1 ER2 "
        "EY0 EY1 EY2 F G HH IH0 IH1 IH2 IY0 IY1 IY2 JH K L M N NG OW0 OW1 OW2 OY0 OY1 OY2 P R S SH T TH UH0 UH1 "
        "UH2 UW UW0 UW1 UW2 V W Y Z ZH"
    ).split()
    START, END = 2, 3  # <s>, </s> in PHONES
    MAX_PHONES = 20

    def __init__(self, weights_path: Path):
        with np.load(weights_path) as weights:
            self.weights = {name: weights[name] for name in weights.files}
        self.letter_ids = {letter: index for index, letter in enumerate(self.LETTERS)}

    @staticmethod
    def _gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
        """One GRU step (PyTorch gate order r, z, n). x: [1, in], h: [1, hidden] -> [1, hidden]."""
        gates_x = x @ w_ih.T + b_ih  # [1, 3*hidden]
        gates_h = h @ w_hh.T + b_hh
        hidden = h.shape[-1]
        rz = 1 / (1 + np.exp(-(gates_x[:, : 2 * hidden] + gates_h[:, : 2 * hidden])))
        reset, update = rz[:, :hidden], rz[:, hidden:]
        candidate = np.tanh(gates_x[:, 2 * hidden :] + reset * gates_h[:, 2 * hidden :])
        return (1 - update) * candidate + update * h

    def __call__(self, word: str) -> list[str]:
        w = self.weights
        letters = [self.letter_ids.get(char, self.letter_ids["<unk>"]) for char in word] + [self.letter_ids["</s>"]]
        h = np.zeros((1, w["enc_w_hh"].shape[-1]), np.float32)
        for letter in letters:
            h = self._gru_step(w["enc_emb"][[letter]], h, w["enc_w_ih"], w["enc_w_hh"], w["enc_b_ih"], w["enc_b_hh"])
        phones, previous = [], self.START
        for _ in range(self.MAX_PHONES):
            h = self._gru_step(w["dec_emb"][[previous]], h, w["dec_w_ih"], w["dec_w_hh"], w["dec_b_ih"], w["dec_b_hh"])
            previous = int((h @ w["fc_w"].T + w["fc_b"]).argmax())
            if previous == self.END:
                break
            phones.append(self.PHONES[previous])
        return phones


def _read_homographs() -> dict[str, tuple[tuple[str, ...], tuple[str, ...], str]]:
    """word -> (reading for part of speech `tag`, other reading, tag), from g2p_en's `homographs.en`."""
    homographs = {}
    for line in _g2p_en_file("homographs.en").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        word, first, second, tag = line.strip().split("|")
        homographs[word.lower()] = (tuple(first.split()), tuple(second.split()), tag)
    # Official fixes: "read" is "reed" in the present tense, "complex" is stressed on the second syllable as an
    # adjective.
    homographs["read"] = (("R", "IY1", "D"), ("R", "EH1", "D"), "VBP")
    homographs["complex"] = (("K", "AH0", "M", "P", "L", "EH1", "K", "S"), ("K", "AA1", "M", "P", "L", "EH0", "K", "S"), "JJ")
    return homographs


# Words after which a homograph is a verb ("to record", "they live") or a noun/adjective ("the record").
_BEFORE_BASE_VERB = frozenset(
    "to will would can could shall should may might must do does did not n't don't doesn't didn't won't can't "
    "cannot couldn't wouldn't shouldn't please let's".split()
)
_SUBJECT_PRONOUNS = frozenset("i you we they".split())
_THIRD_PERSON = frozenset("he she it".split())
_PERFECT_AUXILIARIES = frozenset("has have had having 've 's".split())


def _guess_part_of_speech(previous_word: str | None) -> str:
    """A Penn Treebank tag for a homograph, guessed from the word before it (NLTK's tagger needs a download).

    "to read" -> VB (base verb), "they read" -> VBP (present), "he read" -> VBD (past: present would be
    "reads"), "has read" -> VBN (participle); anything else -> NN, which is also what an untagged reading of
    the official code gives.
    """
    previous = (previous_word or "").lower()
    if previous in _BEFORE_BASE_VERB:
        return "VB"
    if previous in _PERFECT_AUXILIARIES:
        return "VBN"
    if previous in _SUBJECT_PRONOUNS:
        return "VBP"
    if previous in _THIRD_PERSON:
        return "VBD"
    return "NN"


def _segment_compound(text: str) -> list[str]:
    """`wordsegment.segment(text)`: the same words, found without recursion and without copying word lists.

    wordsegment finds the most likely split of a letter string into words (unigram/bigram counts, words of at most
    24 letters), 250 letters at a time, each piece starting with the last five words of the previous one. Its
    search recurses once per word and copies the word list at every step: a 250-letter piece of one-letter words
    went past Python's recursion limit (RecursionError), and 1,000 letters took seconds. `_best_split` runs the
    same search as a loop.
    """
    segmenter = wordsegment._segmenter
    cleaned = segmenter.clean(text)
    words, carried = [], ""
    for offset in range(0, len(cleaned), 250):
        piece_words = _best_split(carried + cleaned[offset : offset + 250], segmenter)
        carried = "".join(piece_words[-5:])
        words += piece_words[:-5]
    return words + _best_split(carried, segmenter)


def _best_split(text: str, segmenter) -> list[str]:
    """wordsegment's `search(text)`: the split maximising the sum of log10 word scores, each word scored after the
    word before it ("<s>" before the first).

    Worked from the end: for each start position and each length of the word before it, the best score of the rest
    and where its first word ends. The sums are the same floating-point additions in the same order. wordsegment
    takes the `max` of (score, word list) pairs, so on equal scores the greater list wins; the candidates from one
    start differ in their first word, and a longer first word has the shorter one as its prefix, so the greater list
    is the one with the longer first word: the later candidate here.

    A word's score depends on the word before it only through a bigram count, which exists only after a word in the
    unigram table; for every other previous word the word's own (unigram) score is used, computed once per word.
    """
    n, limit, bigrams = len(text), segmenter.limit, segmenter.bigrams
    # alone[start][k]: log10 score of the word text[start:start + k + 1] with no bigram.
    alone = [[math.log10(segmenter.score(text[start:end])) for end in range(start + 1, min(n, start + limit) + 1)]
             for start in range(n)]  # fmt: skip
    best_score = [[0.0] * (limit + 1) for _ in range(n + 1)]  # [start][previous word length]; [n][*] = 0: nothing left
    best_end = [[n] * (limit + 1) for _ in range(n + 1)]
    for start in range(n - 1, -1, -1):
        for previous_length in range(1, min(start, limit) + 1) if start else (0,):
            previous = text[start - previous_length : start] if previous_length else "<s>"
            with_bigrams = previous in segmenter.unigrams
            winner_score, winner_end = -math.inf, start
            for k, word_score in enumerate(alone[start]):
                end = start + k + 1
                if with_bigrams and previous + " " + text[start:end] in bigrams:
                    word_score = math.log10(segmenter.score(text[start:end], previous))
                score = word_score + best_score[end][k + 1]
                if score >= winner_score:
                    winner_score, winner_end = score, end
            best_score[start][previous_length], best_end[start][previous_length] = winner_score, winner_end
    words, start, previous_length = [], 0, 0
    while start < n:
        end = best_end[start][previous_length]
        words.append(text[start:end])
        start, previous_length = end, end - start
    return words


class EnglishG2P:
    """Normalized English text -> ARPAbet phones (with the punctuation marks kept as phones)."""

    def __init__(self):
        self.dictionary = _read_pronunciations(_DATA / "en_cmudict.txt")
        for word in _SPELLED_ABBREVIATIONS:
            self.dictionary.pop(word, None)
        self.names = _read_pronunciations(_DATA / "en_names.txt")
        self.homographs = _read_homographs()
        self.predict = OutOfVocabularyModel(_g2p_en_file("checkpoint20.npz"))
        wordsegment.load()  # reads the unigram/bigram counts shipped in the package

    def _homograph(self, word: str, previous_word: str | None) -> tuple[str, ...]:
        reading_for_tag, other_reading, tag = self.homographs[word]
        pos = _guess_part_of_speech(previous_word)
        # The official test: the tag starts with the entry's tag, or is a prefix of it ("VB" for "VBP").
        if pos.startswith(tag) or (len(pos) < len(tag) and tag.startswith(pos)):
            return reading_for_tag
        return other_reading

    def word_phones(self, original: str) -> list[str]:
        """Phones of one word, as written (capitals matter for names)."""
        word = original.lower()
        if len(word) > 1 and word in self.dictionary:
            return list(self.dictionary[word])
        if original.istitle() and word in self.names:
            return list(self.names[word])
        if len(word) <= 3:  # short unknown words are spelled letter by letter
            phones = []
            for letter in word:
                if letter == "a":
                    phones.append("EY1")  # the letter A, not the article
                elif not letter.isalpha() or letter not in self.dictionary:
                    phones.append(letter)  # an apostrophe or hyphen stays (and becomes "-" or is dropped)
                else:
                    phones.extend(self.dictionary[letter])
            return phones
        if re.match(r"^([a-z]+)('s)$", word):  # possessive: the word, then S / AH0 Z / Z by its last sound
            phones = self.word_phones(word[:-2])
            if phones and phones[-1] in _VOICELESS_ENDINGS:
                return phones + ["S"]
            if phones and phones[-1] in _SIBILANT_ENDINGS:
                return phones + ["AH0", "Z"]
            return phones + ["Z"]
        parts = _segment_compound(word)  # compounds: "deeplearning" -> deep + learning
        if len(parts) <= 1:
            return self.predict(word)
        return [phone for part in parts for phone in self.word_phones(part)]

    def __call__(self, normalized_text: str) -> list[str]:
        phones = []
        tokens = _tokenize(normalized_text)
        for index, original in enumerate(tokens):
            word = original.lower()
            if re.search("[a-z]", word) is None:
                phones.append(word)  # punctuation is its own phone
            elif len(word) == 1:
                phones.extend(["EY1"] if original == "A" else self.dictionary.get(word, ()))
            elif word in self.homographs:
                phones.extend(self._homograph(word, tokens[index - 1] if index else None))
            else:
                phones.extend(self.word_phones(original))
        return [phone for phone in phones if phone not in _DROPPED_PHONES]


@lru_cache(maxsize=1)
def _english_g2p() -> EnglishG2P:
    return EnglishG2P()  # loaded once: about 0.5 s for the dictionaries and the model


def g2p(normalized_text: str) -> list[str]:
    """Phones of an English text that went through `normalize`, as the official cleaner returns them.

    Unknown-word markers become "UNK", an apostrophe becomes "-", anything else outside the (v2) phone table is
    dropped, and a result shorter than 4 phones gets a leading "," (the official models expect it).
    """
    table = symbol_tables.symbol_to_id("v2")
    phones = []
    for phone in _english_g2p()(normalized_text):
        phone = "UNK" if phone == "<unk>" else "-" if phone == "'" else phone
        if phone in table:
            phones.append(phone)
    if len(phones) < 4:
        phones.insert(0, ",")
    return phones
