"""The whole text front end against the official one, on the reference vectors in tests/data/text/.

g2p.jsonl holds what the official `get_phones_and_bert` returned for 454 sentences x language modes x v1/v2
(see tests/data/text/README.md). For every record marked reliable we compare phones, phone ids, word2ph and
the normalized text. Outcomes:

- match: all four identical.
- rejected input: empty or whitespace-only text. The issue's contract is a clear TextError for it (upstream's
  English mode returns ", ." for it); such records are listed and left out of the rate.
- Text with nothing to pronounce ("。。。", "😀", Chinese in English mode) still gets upstream's punctuation
  phones from `phonemize`, so it counts like any other record; synthesis refuses it (`require_speech`).
- upstream error: the official code raised (IndexError on empty input, ...). We must raise TextError or give a
  result; anything else fails.
- mismatch: everything else; listed, and counted against the rate.

Required rates (matches / compared): all_zh >= 99.5 %, zh >= 98 %, en >= 98 %. auto is reported only: our auto
mode treats every CJK run as Chinese, where the official detector sometimes says Japanese.
"""

import collections
import json
from pathlib import Path

import pytest

from gpt_sovits.errors import TextError
from gpt_sovits.text import phonemize
from text_vectors import compare_record

VECTORS = Path(__file__).parent / "data" / "text" / "g2p.jsonl"
REQUIRED_RATES = {"all_zh": 0.995, "zh": 0.98, "en": 0.98}
NOT_SPEECH = {"!", "?", "…", ",", ".", "-", "SP", "SP2", "SP3", "UNK", "_"}


def _records():
    with VECTORS.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _outcome(record) -> tuple[str, str]:
    """(outcome, detail) for one record: phones, phone ids, word2ph and the normalized text must all match."""
    return compare_record(
        record,
        lambda result: (
            ("normalized text", result.normalized_text, record["norm_text"]),
            ("phones", list(result.phones), record["phones"]),
            ("phone ids", list(result.phone_ids), record["phone_ids"]),
            ("word2ph", list(result.word2ph) if result.word2ph is not None else None, record["word2ph"]),
        ),
    )


@pytest.fixture(scope="module")
def outcomes():
    results = []
    for record in _records():
        if record["reliable"]:
            results.append((record, *_outcome(record)))
    return results


def _report(outcomes) -> dict[str, float]:
    """Print rates per mode and per category, and every non-match; return the rate per mode."""
    by_mode = collections.defaultdict(collections.Counter)
    by_category = collections.defaultdict(collections.Counter)
    for record, outcome, _ in outcomes:
        by_mode[record["language_mode"]][outcome] += 1
        by_category[(record["language_mode"], record["category"])][outcome] += 1

    def rate(counts):
        compared = counts["match"] + counts["mismatch"]
        return counts["match"] / compared if compared else 1.0

    print("\nText front end parity (reliable records):")
    for (mode, category), counts in sorted(by_category.items()):
        print(f"  {mode:6} {category:20} {rate(counts):7.2%}  {dict(counts)}")
    for mode, counts in sorted(by_mode.items()):
        print(f"  {mode:6} {'ALL':20} {rate(counts):7.2%}  {dict(counts)}")
    for record, outcome, detail in outcomes:
        if outcome != "match":
            print(f"  [{outcome}] {record['id']} {record['text'][:50]!r}: {detail}")
    return {mode: rate(counts) for mode, counts in by_mode.items()}


def test_front_end_matches_the_official_one(outcomes):
    rates = _report(outcomes)
    for mode, required in REQUIRED_RATES.items():
        assert rates[mode] >= required, f"{mode}: {rates[mode]:.2%} identical, need {required:.1%}"


def test_text_without_speech_keeps_upstream_phones_but_cannot_be_synthesized(outcomes):
    silent = [record for record, outcome, _ in outcomes if outcome == "match" and set(record["phones"]) <= NOT_SPEECH]
    assert silent, "the vectors hold punctuation-only records"
    for record in silent:
        with pytest.raises(TextError, match="cannot be spoken|Nothing to pronounce"):
            phonemize(record["text"], record["language_mode"], record["version"]).require_speech(record["text"])


def test_upstream_errors_become_text_errors_or_results(outcomes):
    # Reaching here means no other exception escaped; empty input in particular must be a TextError.
    for record, outcome, detail in outcomes:
        if outcome == "upstream error" and not record["text"].strip():
            assert detail.startswith("we: TextError"), record["id"]


# ---------------------------------------------------------------------------------------------------------------
# The contract of `phonemize` itself (what the engine relies on).


def test_mixed_text_gives_ordered_language_runs():
    result = phonemize("我喜欢用ChatGPT写代码，very good!", "zh", "v2")
    assert [run.language for run in result.runs] == ["zh", "en", "zh", "en"]
    assert [run.normalized_text for run in result.runs] == ["我喜欢用", "Chat G P T", "写代码,", "very good!"]
    assert result.phones == tuple(phone for run in result.runs for phone in run.phones)
    assert result.phone_ids == tuple(i for run in result.runs for i in run.phone_ids)
    assert result.normalized_text == "我喜欢用Chat G P T写代码,very good!"
    assert result.word2ph is None  # only all-Chinese text has a joint word2ph
    assert all((run.word2ph is not None) == (run.language == "zh") for run in result.runs)


def test_chinese_mode_keeps_english_words_english():
    result = phonemize("打开GPU加速", "all_zh", "v1")
    assert [run.language for run in result.runs] == ["zh", "en", "zh"]


def test_short_text_is_retried_with_a_leading_period():
    result = phonemize("好", "all_zh", "v2")
    assert result.normalized_text == ".好" and result.phones == (".", "h", "ao3")
    assert result.word2ph == (1, 2)


def test_caret_and_yen_become_silences():
    assert "SP3" in phonemize("你好^我是小明", "all_zh", "v2").phones
    assert "SP2" in phonemize("你好￥我是小明", "all_zh", "v2").phones


@pytest.mark.parametrize(
    "text, mode, message",
    [
        ("", "zh", "empty"),
        (" \n\t ", "all_zh", "empty"),
        ("你好", "jp", "Unknown language mode"),
    ],
)
def test_rejected_text(text, mode, message):
    with pytest.raises(TextError, match=message):
        phonemize(text, mode, "v2")


def test_v1_models_have_no_korean_or_cantonese_modes():
    with pytest.raises(TextError, match="needs a v2 or later model"):
        phonemize("안녕하세요", "all_ko", "v1")
    # auto mode still meets Korean: upstream reads it as a pause, which synthesis refuses with a message
    result = phonemize("안녕하세요", "auto", "v1")
    assert result.phones == (",",) and result.runs[0].language == "ko"
    with pytest.raises(TextError, match="Korean text cannot be spoken by a v1 model"):
        result.require_speech("안녕하세요")


@pytest.mark.parametrize(
    "text, mode, message",
    [
        ("😀👍", "zh", "Nothing to pronounce"),
        ("。。。！！", "all_zh", "Nothing to pronounce"),
        ("你好", "en", "Nothing to pronounce"),
        ("😀", "auto", "Nothing to pronounce"),
        ("こんにちは", "all_zh", "Japanese"),
        ("안녕하세요", "zh", "Korean"),
    ],
)
def test_text_without_speech_is_refused_for_synthesis(text, mode, message):
    result = phonemize(text, mode, "v2")  # the official punctuation phones, for parity
    assert not result.has_speech
    with pytest.raises(TextError, match=message) as caught:
        result.require_speech(text)
    assert "no Chinese or English words" not in str(caught.value)  # "你好" and "hi" are: the mode cannot read them


def test_unknown_symbol_version():
    with pytest.raises(TextError, match="v1, v2"):
        phonemize("你好世界", "zh", "v4")


# ---------------------------------------------------------------------------------------------------------------
# The same through the command line: `python -m gpt_sovits phonemize`.


def test_cli_jsonl_gives_one_line_per_input_line(tmp_path, capsys):
    from gpt_sovits.cli import main

    records = [record for record in _records() if record["reliable"] and not record["error"]][:40:4]
    lines = [json.dumps({key: record[key] for key in ("text", "language_mode", "version")}) for record in records]
    lines += ["", "not json", json.dumps({"text": " ", "language_mode": "zh", "version": "v2"}), "[1, 2]"]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert main(["phonemize", "--jsonl", str(cases)]) == 0
    output = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(output) == len(lines)
    for record, result in zip(records, output):
        assert result["phones"] == record["phones"] and result["phone_ids"] == record["phone_ids"]
        assert result["normalized_text"] == record["norm_text"]
    assert all(set(result) <= {"text", "language_mode", "version", "error"} for result in output[len(records) :])
    assert all(result["error"] for result in output[len(records) :])


def test_cli_single_text(capsys):
    from gpt_sovits.cli import main

    assert main(["phonemize", "--lang", "zh", "--version", "v1", "你好, world"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [run["language"] for run in result["runs"]] == ["zh", "en"]
    assert result["runs"][0]["word2ph"] == [2, 2, 1]
    assert main(["phonemize", "--lang", "zh", "  "]) == 2  # a one-line error message, no traceback
    assert capsys.readouterr().err.startswith("error: The text is empty")
