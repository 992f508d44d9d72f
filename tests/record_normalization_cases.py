"""Record what the English and Chinese normalizers give for generated number-heavy texts (for a differential test).

    PYTHONPATH=<checkout of the code to record> python tests/record_normalization_cases.py > cases.jsonl
    gzip -9 -n cases.jsonl && mv cases.jsonl.gz tests/data/text/normalization_cases.jsonl.gz

`tests/test_text_linear_time.py` checks that today's normalizers give exactly the recorded outputs. The cases in
the repository were recorded from the code before its patterns were rewritten to run in linear time (commit
4280858), so the test proves the rewrite changed no output. Each line: {"text", "en", "zh"}, where a value is the
normalized text or {"error": exception class name} when that code raised.

Texts are glued from pieces that the number, money, date, unit and arithmetic rules react to, kept short enough
(at most a few hundred characters) for the old, super-linear patterns to finish.
"""

import json
import random
import sys

from gpt_sovits.text import chinese, english

PIECES = (
    list("0123456789") * 3
    + ["١", "٣", "0", "00", "12", "2024", "1999", "13812345678", "010-", "400-123-4567", "86 ", "+86"]
    + list(".,-+~/%£$()=×÷:²ˣ") * 2
    + [" ", "  ", "\t", "\n", "a", "x", "A", "I", "st", "nd", "rd", "th", "m", "km", "km/h", "m2", "m3", "cm2", "cm³",
       "s", "min", "h", "°C", "℃", "度", "个", "年", "月", "日", "号", "多", "你好", "一", "two", "i.e.", "e.g.",
       "，", "。", "！", "～", "、", "—", "点", "百", "元", "吨", "%"]
)  # fmt: skip


def generated_texts(count: int, seed: int = 0):
    rng = random.Random(seed)
    for _ in range(count):
        pieces = rng.choices(PIECES, k=rng.randint(1, 40))
        if rng.random() < 0.2:  # some runs of one piece, where the old patterns backtracked
            pieces = pieces[:3] + [rng.choice(PIECES)] * rng.randint(5, 60) + pieces[3:]
        yield "".join(pieces)


def _outcome(normalize, text):
    try:
        return normalize(text)
    except Exception as error:  # recorded as data: the old code raised ValueError on some money amounts
        return {"error": type(error).__name__}


def main(count: int = 3000) -> None:
    for text in generated_texts(count):
        record = {"text": text, "en": _outcome(english.normalize, text), "zh": _outcome(chinese.normalize, text)}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
