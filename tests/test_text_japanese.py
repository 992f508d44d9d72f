"""The Japanese front end (`gpt_sovits/text/japanese/`): the dictionary it runs on, and every Japanese segment of
the reference vectors (tests/data/text-multilingual/, made with the official `text/japanese.py`)."""

import hashlib
import json
from pathlib import Path

from gpt_sovits.text import japanese, symbols
from text_vectors import multilingual_records

VECTORS = Path(__file__).parent / "data" / "text-multilingual"


def test_the_dictionary_is_the_standard_open_jtalk_one():
    """Byte for byte the files of open_jtalk_dic_utf_8-1.11 the vectors were made with (not a modified one)."""
    expected = json.loads((VECTORS / "meta.json").read_text(encoding="utf-8"))["japanese_dictionary"]["sha256"]
    folder = japanese.dictionary_path()
    assert folder.name == "open_jtalk_dic_utf_8-1.11" == japanese.DICTIONARY_NAME
    for name, sha256 in expected.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha256, name


def _japanese_segments():
    seen = {}
    for record in multilingual_records():
        for segment in record["segments"]:
            if segment["lang"] == "ja":
                seen.setdefault((segment["text"], record["version"]), (record["id"], segment))
    return list(seen.values())


def test_every_japanese_segment_of_the_vectors():
    segments = _japanese_segments()
    assert len(segments) > 700
    mismatches = []
    for record_id, segment in segments:
        version = record_id.split("/")[1]
        normalized = japanese.normalize(segment["text"])
        phones, word2ph = japanese.g2p(normalized, version)
        phones = symbols.known_or_unknown(phones, version)
        assert word2ph is None
        if normalized != segment["norm_text"] or phones != segment["phones"]:
            mismatches.append(f"{record_id} {segment['text']!r}\n  ours {' '.join(phones)}\n  them {' '.join(segment['phones'])}")
    assert not mismatches, "\n".join(mismatches[:10])


def test_prosody_marks_and_punctuation():
    phones, _ = japanese.g2p(japanese.normalize("こんにちは。元気ですか？"), "v2")
    # "[" pitch rise, "]" fall, "#" accent-phrase border; 。 -> "." and ？ -> "?"
    assert phones[:10] == ["k", "o", "[", "N", "n", "i", "ch", "i", "w", "a"]
    assert "." in phones and phones[-1] == "?"
    assert japanese.normalize("えっ！！？") == "えっ！！？" and japanese.normalize("えっ!!?") == "えっ!"


def test_percent_and_latin_letters():
    percent, _ = japanese.g2p("５０％", "v2")
    assert "p" in percent and "s" in percent  # パーセント
    # Latin letters glued to Japanese text are read by Open JTalk's dictionary (no English user dictionary):
    # letter by letter, in katakana readings.
    letters, _ = japanese.g2p("ｇｐｕ", "v2")
    assert letters[:2] == ["j", "i"]


def test_runs_longer_than_open_jtalk_takes_are_cut_not_crashed():
    # Open JTalk would overrun its 8 KiB input buffer here (the official app crashes the process).
    phones, _ = japanese.g2p("あ" * 2800, "v2")
    assert phones.count("a") == 2800
