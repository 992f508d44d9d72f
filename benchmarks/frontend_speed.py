"""Sentences per second through the text front end (`phonemize`), on the reference-vector sentences.

Every distinct (text, language mode) pair with symbol version v2 of tests/data/text/g2p.jsonl (Chinese, English)
and tests/data/text-multilingual/g2p.jsonl (Japanese, Korean, Cantonese, mixed) is phonemized once to warm up
(loading jieba, pypinyin, the English dictionaries, Open JTalk, BudouX, ...), then timed for `--repeats` passes;
the best pass counts. Sentences that are rejected (TextError) are timed too: rejecting is work the front end
does. Figures are reported per language mode, per language (its single-language mode: all_zh, en, all_ja,
all_ko, all_yue) and overall, plus the one-time warm-up.

    python benchmarks/frontend_speed.py [--repeats 3] [--json]
"""

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from gpt_sovits.errors import TextError
from gpt_sovits.text import LANGUAGE_MODES, phonemize

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
VECTORS = (DATA / "text" / "g2p.jsonl", DATA / "text-multilingual" / "g2p.jsonl")


def _sentences() -> list[tuple[str, str]]:
    pairs = {}
    for path in VECTORS:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record["version"] == "v2":
                    pairs[(record["text"], record["language_mode"])] = None
    return list(pairs)


def _phonemize_all(sentences) -> dict[str, float]:
    """Seconds spent per language mode for one pass."""
    seconds = defaultdict(float)
    for text, mode in sentences:
        start = time.perf_counter()
        try:
            phonemize(text, mode, "v2")
        except TextError:
            pass
        seconds[mode] += time.perf_counter() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()

    sentences = _sentences()
    counts = defaultdict(int)
    for _, mode in sentences:
        counts[mode] += 1
    characters = sum(len(text) for text, _ in sentences)

    start = time.perf_counter()
    _phonemize_all(sentences)
    warm_up = time.perf_counter() - start
    passes = [_phonemize_all(sentences) for _ in range(args.repeats)]
    best = min(passes, key=lambda seconds: sum(seconds.values()))
    total = sum(best.values())

    figures = {
        "sentences": len(sentences),
        "characters": characters,
        "first_pass_seconds": round(warm_up, 3),
        "seconds": round(total, 3),
        "sentences_per_second": round(len(sentences) / total, 1),
        "characters_per_second": round(characters / total, 1),
        "per_mode": {
            mode: {"sentences": counts[mode], "sentences_per_second": round(counts[mode] / best[mode], 1)}
            for mode in sorted(best)
        },
        "per_language": {
            mode.language: {
                "mode": code,
                "sentences": counts[code],
                "sentences_per_second": round(counts[code] / best[code], 1),
            }
            for code, mode in LANGUAGE_MODES.items()
            if mode.splitting in ("single", "whole") and code in best
        },
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{figures['sentences']} sentences ({characters} characters), best of {args.repeats} passes")
    print(f"  first pass (includes loading): {warm_up:.2f} s")
    print(f"  overall: {figures['sentences_per_second']} sentences/s, {figures['characters_per_second']} characters/s")
    for mode, mode_figures in figures["per_mode"].items():
        print(f"  {mode:8}: {mode_figures['sentences_per_second']:8.1f} sentences/s ({mode_figures['sentences']} sentences)")
    for language, language_figures in figures["per_language"].items():
        rate = language_figures["sentences_per_second"]
        print(f"  language {language:3} ({language_figures['mode']}): {rate:8.1f} sentences/s")


if __name__ == "__main__":
    main()
