"""SECURITY.md lists every limit with its current default, so the page never drifts from the code."""

import re
from pathlib import Path

import pytest

from gpt_sovits import audio, validation, voices
from gpt_sovits.server import launch, openai_api, xtts_api
from gpt_sovits.ui import handlers

SECURITY = (Path(__file__).resolve().parent.parent / "SECURITY.md").read_text(encoding="utf-8")
LIMIT_CONSTANTS = [
    (validation, name) for name in dir(validation) if re.fullmatch(r"(MAX|MIN)_[A-Z_]+", name)
    and name not in ("MIN_SYLLABLES_PER_SECOND", "MAX_SYLLABLES_PER_SECOND")  # a warning's thresholds, not limits
] + [
    (audio, "MAX_SINC_KERNEL_TAPS"), (voices, "MAX_CLIP_BYTES"), (voices, "MAX_EXTRA_CLIPS"), (voices, "MAX_VOICES"),
    (voices, "MAX_NAME_CHARACTERS"), (voices, "MAX_IMPORT_BYTES"), (openai_api, "UPLOAD_LIMIT"),
    (openai_api, "JSON_LIMIT"), (xtts_api, "MAX_CALLERS"), (launch, "UI_QUEUE_SIZE"), (handlers, "KEEP_RESULTS_SECONDS"),
]  # fmt: skip
LIMIT_OPTIONS = ["concurrency", "queue_size", "client_limit", "time_budget", "model_pool"]


def _row(key: str) -> str:
    rows = [line for line in SECURITY.splitlines() if line.startswith("|") and f"`{key}`" in line]
    assert len(rows) == 1, f"SECURITY.md's limit table needs one row for `{key}`"
    return rows[0]


@pytest.mark.parametrize("module, name", LIMIT_CONSTANTS, ids=[name for _, name in LIMIT_CONSTANTS])
def test_each_limit_constant_is_in_the_table_with_its_value(module, name):
    default = _row(name).rsplit("|", 2)[-2]
    assert str(getattr(module, name)) in default.split(), (name, getattr(module, name), default)


@pytest.mark.parametrize("option", LIMIT_OPTIONS)
def test_each_limit_option_is_in_the_table_with_its_default(option, monkeypatch):
    flag, variable = "--" + option.replace("_", "-"), "GPT_SOVITS_" + option.upper()
    monkeypatch.delenv(variable, raising=False)
    row = _row(flag)
    assert f"`{variable}`" in row
    assert str(getattr(launch.parse_args([]), option)) in row.rsplit("|", 2)[-2].split()
