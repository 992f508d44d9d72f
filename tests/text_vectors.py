"""Running one record of the official text front end's vectors (tests/data/text*/g2p.jsonl) through ours."""

import collections
import json
import os
from pathlib import Path

from gpt_sovits.errors import TextError
from gpt_sovits.text import PhonemizedText, phonemize


def compare_record(record: dict, fields) -> tuple[str, str]:
    """(outcome, detail) of one record; `fields(result)` gives (name, ours, upstream's) triples to compare.

    Outcomes: "match"; "mismatch" (a field differs, or we raised TextError on text upstream read); "upstream
    error" (upstream raised: we must raise TextError or give a result); "rejected input" (blank text, which is a
    TextError for us).
    """
    try:
        result: PhonemizedText = phonemize(record["text"], record["language_mode"], record["version"])
    except TextError as error:
        if record["error"]:
            return "upstream error", f"we: TextError ({error}); upstream: {record['error']}"
        if not record["text"].strip():
            return "rejected input", str(error)
        return "mismatch", f"we raised TextError: {error}"
    if record["error"]:
        return "upstream error", f"we: a result; upstream: {record['error']}"
    differences = [name for name, ours, theirs in fields(result) if ours != theirs]
    if not differences:
        return "match", ""
    return "mismatch", (
        f"differs in {', '.join(differences)}\n      ours:     {result.normalized_text!r} {' '.join(result.phones)}"
        f"\n      upstream: {record['norm_text']!r} {' '.join(record['phones'])}"
    )


MULTILINGUAL_VECTORS = Path(__file__).parent / "data" / "text-multilingual" / "g2p.jsonl"


def multilingual_records() -> list[dict]:
    """The official front end's multilingual records, plus `$GPT_SOVITS_EXTRA_TEXT_VECTORS/g2p.jsonl` when that
    variable names a directory of the same layout."""
    paths = [MULTILINGUAL_VECTORS]
    if os.environ.get("GPT_SOVITS_EXTRA_TEXT_VECTORS"):
        paths.append(Path(os.environ["GPT_SOVITS_EXTRA_TEXT_VECTORS"]) / "g2p.jsonl")
    records = []
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            records.extend(json.loads(line) for line in lines if line.strip())
    return records


def check_v2_segments(language: str, module, name: str, at_least: int, required_rate: float = 0.995) -> None:
    """Every v2 segment of `language` in the records through `module.normalize` and `module.g2p`: the reliable
    records must give the official normalized text, phones and word2ph in `required_rate` of at least `at_least`
    segments. Prints the counts and every difference."""
    from gpt_sovits.text.symbols import known_or_unknown

    outcomes = []  # (reliable, identical, description)
    for record in multilingual_records():
        for segment in record["segments"]:
            if segment["lang"] == language and record["version"] == "v2":
                normalized = module.normalize(segment["text"])
                phones, word2ph = module.g2p(normalized, "v2")
                ours = (normalized, known_or_unknown(phones, "v2"), word2ph)
                identical = ours == (segment["norm_text"], segment["phones"], segment["word2ph"])
                detail = f"{record['id']} {segment['text']!r}\n    ours:     {ours[0]!r} {' '.join(ours[1])}"
                detail += f"\n    official: {segment['norm_text']!r} {' '.join(segment['phones'])}"
                outcomes.append((record["reliable"], identical, detail))
    counts = collections.Counter((reliable, identical) for reliable, identical, _ in outcomes)
    for reliable in (True, False):
        compared = counts[reliable, True] + counts[reliable, False]
        print(f"\n{name} segments, {'reliable' if reliable else 'unreliable'} records: {counts[reliable, True]}/{compared}")
    for reliable, identical, detail in outcomes:
        if not identical:
            print(f"  [{'reliable' if reliable else 'unreliable'}] {detail}")
    reliable_compared = counts[True, True] + counts[True, False]
    assert reliable_compared > at_least
    assert counts[True, True] / reliable_compared >= required_rate
