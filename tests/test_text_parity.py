"""The whole text front end against the official one, on the reference vectors in tests/data/text/.

g2p.jsonl holds what the official `get_phones_and_bert` returned for 454 sentences x language modes x v1/v2
(see tests/data/text/README.md). For every record marked reliable we compare phones, phone ids, word2ph and
the normalized text. Outcomes:

- match: all four identical.
- rejected by design: upstream returned only punctuation/silence phones (for example for "。。。", "😀", or
  Chinese text in English mode) and we raise TextError instead of synthesizing nothing-but-pauses. This is the
  documented contract of `phonemize`; such records are listed and left out of the rate.
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

VECTORS = Path(__file__).parent / "data" / "text" / "g2p.jsonl"
REQUIRED_RATES = {"all_zh": 0.995, "zh": 0.98, "en": 0.98}
NOT_SPEECH = {"!", "?", "…", ",", ".", "-", "SP", "SP2", "SP3", "UNK", "_"}


def _records():
    with VECTORS.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _outcome(record) -> tuple[str, str]:
    """(outcome, detail) for one record."""
    try:
        result = phonemize(record["text"], record["language_mode"], record["version"])
    except TextError as error:
        if record["error"]:
            return "upstream error", f"we: TextError ({error}); upstream: {record['error']}"
        if all(phone in NOT_SPEECH for phone in record["phones"]):
            return "rejected by design", str(error)
        return "mismatch", f"we raised TextError: {error}"
    if record["error"]:
        return "upstream error", f"we: a result; upstream: {record['error']}"
    word2ph = list(result.word2ph) if result.word2ph is not None else None
    differences = [
        name
        for name, ours, theirs in (
            ("normalized text", result.normalized_text, record["norm_text"]),
            ("phones", list(result.phones), record["phones"]),
            ("phone ids", list(result.phone_ids), record["phone_ids"]),
            ("word2ph", word2ph, record["word2ph"]),
        )
        if ours != theirs
    ]
    if not differences:
        return "match", ""
    return "mismatch", (
        f"differs in {', '.join(differences)}\n      ours:     {result.normalized_text!r} {' '.join(result.phones)}"
        f"\n      upstream: {record['norm_text']!r} {' '.join(record['phones'])}"
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


def test_rejections_are_only_for_text_without_speech(outcomes):
    # Rejected-by-design records must be a small, edge-case set: never ordinary sentences.
    rejected = [record for record, outcome, _ in outcomes if outcome == "rejected by design"]
    assert all(record["category"] == "edge" or record["language_mode"] == "en" for record in rejected)


def test_upstream_errors_become_text_errors_or_results(outcomes):
    # Reaching here means no other exception escaped; empty input in particular must be a TextError.
    for record, outcome, detail in outcomes:
        if outcome == "upstream error" and not record["text"].strip():
            assert detail.startswith("we: TextError"), record["id"]
