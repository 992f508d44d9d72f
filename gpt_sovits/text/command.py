"""`python -m gpt_sovits phonemize`: show what the text front end makes of a text, as JSON.

    python -m gpt_sovits phonemize --lang zh --version v2 "今天天气不错, let's go."
    python -m gpt_sovits phonemize --lang all_ja "今日はいい天気ですね。"
    python -m gpt_sovits phonemize --jsonl cases.jsonl      # one {"text", "language_mode", "version"} per line

With --jsonl, every input line gives exactly one output line, in order; a line that cannot be phonemized gives
{"error": "..."} (plus the input fields) and the run goes on.
"""

import argparse
import json
import sys

from gpt_sovits.errors import TextError
from gpt_sovits.text.frontend import PhonemizedText, phonemize
from gpt_sovits.text.languages import LANGUAGE_MODES
from gpt_sovits.text.symbols import SYMBOL_VERSIONS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="?", help="the text to phonemize (or use --jsonl)")
    parser.add_argument("--lang", default="all_zh", choices=tuple(LANGUAGE_MODES), help="language mode (default all_zh)")
    parser.add_argument("--version", default="v2", choices=SYMBOL_VERSIONS, help="symbol table version (default v2)")
    parser.add_argument(
        "--jsonl",
        metavar="FILE",
        help="read one JSON object per line (fields text, language_mode, version; '-' for stdin) and print one "
        "result line each; --lang / --version fill in missing fields",
    )


def result_json(result: PhonemizedText) -> dict:
    """A JSON-ready description of a phonemized text: the whole, and each language run."""
    return {
        "language_mode": result.language_mode,
        "version": result.symbol_version,
        "normalized_text": result.normalized_text,
        "phones": list(result.phones),
        "phone_ids": list(result.phone_ids),
        "word2ph": list(result.word2ph) if result.word2ph is not None else None,
        "runs": [
            {
                "language": run.language,
                "normalized_text": run.normalized_text,
                "phones": list(run.phones),
                "phone_ids": list(run.phone_ids),
                "word2ph": list(run.word2ph) if run.word2ph is not None else None,
            }
            for run in result.runs
        ],
    }


def _line_result(line: str, default_mode: str, default_version: str) -> dict:
    try:
        case = json.loads(line)
    except ValueError as error:
        return {"error": f"Not a JSON object: {error}."}
    if not isinstance(case, dict):
        return {"error": "Each line must be a JSON object with a 'text' field."}
    echo = {key: case[key] for key in ("id", "text", "language_mode", "version") if key in case}
    text = case.get("text")
    if not isinstance(text, str):
        return {**echo, "error": "The 'text' field is missing or not a string."}
    language_mode = case.get("language_mode", default_mode)
    version = case.get("version", default_version)
    try:
        return {**echo, **result_json(phonemize(text, language_mode, version))}
    except TextError as error:
        return {**echo, "error": str(error)}


def _print_json(value: dict) -> None:
    # UTF-8 whatever the terminal's locale; a lone surrogate from undecodable input is written as its \u escape.
    line = json.dumps(value, ensure_ascii=False) + "\n"
    sys.stdout.buffer.write(line.encode("utf-8", "backslashreplace"))
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    if args.jsonl is None:
        if args.text is None:
            raise TextError("Give a text to phonemize, or --jsonl FILE.")
        _print_json({"text": args.text, **result_json(phonemize(args.text, args.lang, args.version))})
        return 0
    try:
        lines = sys.stdin if args.jsonl == "-" else open(args.jsonl, encoding="utf-8", errors="surrogateescape")
    except OSError as error:
        raise TextError(f"Cannot read {args.jsonl}: {error.strerror}.") from None
    with lines:
        for line in lines:
            if line.strip():
                _print_json(_line_result(line, args.lang, args.version))
            else:
                _print_json({"error": "Empty line: expected a JSON object with a 'text' field."})
    return 0
