"""Open JTalk full-context labels -> phones with prosody marks (the scheme upstream takes from ESPnet's
`pyopenjtalk_g2p_prosody`, after Kurihara et al., "Prosodic features control by symbols as input of
sequence-to-sequence acoustic modeling for neural TTS", IEICE 2021).

Per label, the current phoneme is kept (an unvoiced vowel "A I U E O" as its voiced letter), a pause becomes
"_", and after the phoneme one mark may follow, read from the accent fields of this label and the next:

    "#"  accent-phrase border: last mora of its accent phrase, and the next phoneme starts a new phrase
    "]"  pitch falls after this mora (the accent nucleus)
    "["  pitch rises after the first mora of the phrase

Label fields used (HTS full-context format of Open JTalk): p3 the phoneme (between "-" and "+"); in /A: a1 the
mora's position relative to the accent nucleus, a2 its position from the start of the accent phrase, a3 from the
end; /F: f1 the morae in the accent phrase; /E: e3 whether the phrase before the final silence is a question.
"""

import re

_PHONEME = re.compile(r"-(.*?)\+")
_A1 = re.compile(r"/A:([0-9\-]+)\+")
_A2 = re.compile(r"\+(\d+)\+")
_A3 = re.compile(r"\+(\d+)/")
_F1 = re.compile(r"/F:(\d+)_")
_E3 = re.compile(r"!(\d+)_")

_UNVOICED_VOWELS = frozenset("AEIOU")
# Phonemes that can end a mora, so an accent-phrase border can follow them.
_MORA_ENDS = frozenset(["a", "e", "i", "o", "u", "A", "E", "I", "O", "U", "N", "cl"])
_MISSING = -50  # a field that is absent or "xx" (ESPnet's placeholder value)


def _number(pattern: re.Pattern, label: str) -> int:
    match = pattern.search(label)
    return int(match.group(1)) if match else _MISSING


def phones_with_prosody(labels: list[str]) -> list[str]:
    """Phones and prosody marks of one utterance, without its leading and trailing silence."""
    phones = []
    for index, label in enumerate(labels):
        phoneme = _PHONEME.search(label).group(1)
        if phoneme in _UNVOICED_VOWELS:
            phoneme = phoneme.lower()
        if phoneme == "sil":
            # Only the first and last labels are silences: the start "^" and the end "$" (or "?" for a question)
            # are dropped again below, as upstream slices them off.
            if index == 0:
                phones.append("^")
            elif _number(_E3, label) in (0, 1):
                phones.append("$" if _number(_E3, label) == 0 else "?")
            continue
        if phoneme == "pau":
            phones.append("_")
            continue
        phones.append(phoneme)

        a1, a2, a3 = _number(_A1, label), _number(_A2, label), _number(_A3, label)
        next_a2 = _number(_A2, labels[index + 1])
        if a3 == 1 and next_a2 == 1 and phoneme in _MORA_ENDS:
            phones.append("#")
        elif a1 == 0 and next_a2 == a2 + 1 and a2 != _number(_F1, label):
            phones.append("]")
        elif a2 == 1 and next_a2 == 2:
            phones.append("[")
    return phones[1:-1]
