"""English normalization and G2P: the official rules, offline."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gpt_sovits.text import english, phonemize

VECTORS = Path(__file__).parent / "data" / "text" / "g2p.jsonl"
REPO = Path(__file__).resolve().parent.parent


def _english_segments():
    """Every distinct English segment the official front end produced in the reference vectors."""
    segments = {}
    with VECTORS.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            for segment in record["segments"] if not record["error"] else []:
                if segment["lang"] == "en" and record["version"] == "v2":
                    segments[segment["text"]] = (segment["norm_text"], segment["phones"])
    return segments


def test_every_english_segment_of_the_vectors():
    # Includes out-of-vocabulary words (neural model), names, possessives, compounds, numbers and money.
    segments = _english_segments()
    assert len(segments) > 200
    wrong = []
    for text, (normalized, phones) in segments.items():
        ours = english.normalize(text)
        if ours != normalized or english.g2p(ours) != phones:
            wrong.append((text, ours, normalized))
    assert not wrong


@pytest.mark.parametrize(
    "text, normalized",
    [
        ("I have $250.", "I have two hundred fifty dollars."),
        ("It costs £3.50", "It costs three pounds and fifty pence"),
        ("Meet at 13:30", "Meet at one thirty p.m."),
        ("Run 5km", "Run five kilometers"),
        ("In 1998 and 2005", "In nineteen ninety-eight and two thousand five"),
        ("3/4 of 22nd", "three fourths of twenty-second"),
        ("ChatGPT on my iPhone", "Chat G P T on my i Phone"),
        ("Wait!!! What???", "Wait! What?"),
        ("你好。", "."),
    ],
)
def test_normalization(text, normalized):
    assert english.normalize(text) == normalized


def test_dictionary_names_spelling_and_prediction():
    assert english.g2p("hello") == ["HH", "AH0", "L", "OW1"]
    assert english.g2p("JSON") == ["JH", "EY1", "S", "AH0", "N"]  # hot-fix dictionary
    assert english.g2p("ai") == [",", "EY1", "AY1"]  # removed from the dictionary so it is spelled (and padded)
    assert english.g2p("the cat's toy") == ["DH", "AH0", "K", "AE1", "T", "S", "T", "OY1"]
    predicted = english.g2p("blorptastic")  # not in any dictionary: the GRU model
    assert len(predicted) >= 6 and all(phone[0].isupper() for phone in predicted)
    assert english.g2p("blorptastic") == predicted  # deterministic


def test_homographs_follow_the_word_before():
    record_noun = ["R", "EH1", "K", "ER0", "D"]
    record_verb = ["R", "IH0", "K", "AO1", "R", "D"]
    assert english.g2p("the record") == ["DH", "AH0"] + record_noun
    assert english.g2p("to record") == ["T", "UW1"] + record_verb
    assert english.g2p("I read")[-3:] == ["R", "IY1", "D"]
    assert english.g2p("he read")[-3:] == ["R", "EH1", "D"]
    assert english.g2p("we have read")[-3:] == ["R", "EH1", "D"]
    assert english.g2p("they have used it")[-5:-2] == ["UW1", "Z", "D"]


def test_short_results_get_a_leading_comma():
    assert english.g2p("a") == [",", "AH0"]


def test_english_runs_without_network_or_nltk_data():
    # g2p_en downloads NLTK data when imported; we must never import it, and need no NLTK data at all.
    code = (
        "import sys; from gpt_sovits.text import phonemize;"
        "r = phonemize('Hello there, supercalifragilistic times.', 'en', 'v2');"
        "assert r.phones and 'g2p_en' not in sys.modules, sys.modules.keys(); print('ok')"
    )
    env = {"NLTK_DATA": "/nonexistent", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def test_english_mode_phonemize():
    result = phonemize("Good morning!", "en", "v1")
    assert [run.language for run in result.runs] == ["en"]
    assert result.phones == ("G", "UH1", "D", "M", "AO1", "R", "N", "IH0", "NG", "!")
    assert result.word2ph is None
