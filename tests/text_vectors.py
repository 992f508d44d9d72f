"""Running one record of the official text front end's vectors (tests/data/text*/g2p.jsonl) through ours."""

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
