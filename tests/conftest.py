"""Shared test fixtures: the rebuilt tiny checkpoints and the parity vector cases.

Vector cases live in tests/data/vectors/ (v1 - v2ProPlus) and tests/data/vectors-v34/ (v3 / v4), each
<case>.npz + <case>.json sidecar, each directory with the tiny_ckpt/ recipe its cases were made with. More cases
can be added without touching the repository by pointing GPT_SOVITS_EXTRA_VECTORS at a directory of the same
layout (or several, separated by os.pathsep); if such a directory has tiny_ckpt/recipe.json(.gz) beside the cases,
its cases use weights rebuilt from that recipe, otherwise the repository's recipe for their model family.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

from tiny_weights import DEFAULT_RECIPE_DIR, tiny_checkpoints_dir

TESTS_DIR = Path(__file__).resolve().parent
PUBLIC_VECTORS_DIR = TESTS_DIR / "data" / "vectors"
V34_VECTORS_DIR = TESTS_DIR / "data" / "vectors-v34"
V34_RECIPE_DIR = V34_VECTORS_DIR / "tiny_ckpt"
EXTRA_VECTORS_ENV = "GPT_SOVITS_EXTRA_VECTORS"
V34_MODEL_VERSIONS = ("v3", "v4")


@dataclass(frozen=True)
class VectorCase:
    """One recorded run of the official pipeline: where its files are and which tiny weights it needs."""

    name: str
    sidecar_path: Path  # <case>.json: inputs, settings, stop reason, array list
    arrays_path: Path  # <case>.npz: every intermediate array
    recipe_dir: Path  # tiny_ckpt directory whose recipe rebuilds the weights this case was made with
    source: str  # "public" or "extra"
    model_version: str  # the sidecar's: "v1" ... "v2ProPlus", "v3", "v4"

    @property
    def is_v3_v4(self) -> bool:
        return self.model_version in V34_MODEL_VERSIONS

    def load(self) -> tuple[dict, dict[str, np.ndarray]]:
        return load_case(self)


def _cases_in(directory: Path, source: str, recipe_dir: Path | None) -> list[VectorCase]:
    """Cases of one directory; recipe_dir None: the repository's recipe for each case's model family."""
    cases = []
    for sidecar_path in sorted(directory.glob("*.json")):
        arrays_path = sidecar_path.with_suffix(".npz")
        if arrays_path.is_file():
            version = json.loads(sidecar_path.read_text(encoding="utf-8"))["model_version"]
            recipe = recipe_dir or (V34_RECIPE_DIR if version in V34_MODEL_VERSIONS else DEFAULT_RECIPE_DIR)
            cases.append(VectorCase(sidecar_path.stem, sidecar_path, arrays_path, recipe, source, version))
    return cases


def _has_recipe(directory: Path) -> bool:
    return (directory / "recipe.json").is_file() or (directory / "recipe.json.gz").is_file()


@lru_cache(maxsize=None)
def _all_cases() -> tuple[VectorCase, ...]:
    cases = _cases_in(PUBLIC_VECTORS_DIR, "public", DEFAULT_RECIPE_DIR) + _cases_in(V34_VECTORS_DIR, "public", V34_RECIPE_DIR)
    for extra_dir in filter(None, os.environ.get(EXTRA_VECTORS_ENV, "").split(os.pathsep)):
        extra_dir = Path(extra_dir)
        if not extra_dir.is_dir():
            raise pytest.UsageError(f"{EXTRA_VECTORS_ENV}: {extra_dir} is not a directory")
        own_recipe = extra_dir / "tiny_ckpt"
        taken = {c.name for c in cases}
        for case in _cases_in(extra_dir, "extra", own_recipe if _has_recipe(own_recipe) else None):
            # keep names unique in test ids even if an extra case shares a public case's name
            name = case.name if case.name not in taken else f"extra-{case.name}"
            cases.append(VectorCase(name, case.sidecar_path, case.arrays_path, case.recipe_dir, "extra", case.model_version))
    return tuple(cases)


def vector_cases() -> list[VectorCase]:
    """Every v1 - v2ProPlus parity case: the repository's, plus those in $GPT_SOVITS_EXTRA_VECTORS when set."""
    return [case for case in _all_cases() if not case.is_v3_v4]


def v34_vector_cases() -> list[VectorCase]:
    """Every v3 / v4 parity case: the repository's, plus those in $GPT_SOVITS_EXTRA_VECTORS when set."""
    return [case for case in _all_cases() if case.is_v3_v4]


@lru_cache(maxsize=4)
def _load_cached(case: VectorCase) -> tuple[dict, dict[str, np.ndarray]]:
    sidecar = json.loads(case.sidecar_path.read_text(encoding="utf-8"))
    with np.load(case.arrays_path) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return sidecar, arrays


def load_case(case: VectorCase) -> tuple[dict, dict[str, np.ndarray]]:
    """(sidecar dict, {array name: numpy array}) of one case. Cached; treat the result as read-only."""
    return _load_cached(case)


REPETITION_PENALTY = 1.35  # upstream's sample() default, applied even with top_k=1


def sampling_args(sidecar: dict) -> dict:
    """The T2S sampling settings a case's official run used (all public cases: greedy, top_k=1), as keyword
    arguments of SamplingParams / InferenceSettings."""
    args = sidecar["get_tts_wav_args"]
    return {
        "top_k": int(args["top_k"]),
        "top_p": float(args["top_p"]),
        "temperature": float(args["temperature"]),
        "repetition_penalty": float(sidecar["t2s"].get("repetition_penalty", REPETITION_PENALTY)),
    }


def tiny_checkpoints_for(case: VectorCase) -> Path:
    """The rebuilt tiny checkpoint set a case was recorded with (built on first use, then cached on disk)."""
    return tiny_checkpoints_dir(case.recipe_dir)


@pytest.fixture(scope="session")
def tiny_checkpoints() -> Path:
    """Directory of the full tiny set: v1|v2|v2ProPlus/{t2s.ckpt,sovits.pth}, hubert/, bert/,
    sv/pretrained_eres2netv2w24s4ep4.ckpt (random weights; built from tests/data/tiny_ckpt on first use)."""
    return tiny_checkpoints_dir(DEFAULT_RECIPE_DIR)


# ----------------------------------------------------------------------------------------------------------------
# Parity report: test_parity.py records per case and stage what it compared; at the end of the session it is
# printed as a table and, when GPT_SOVITS_PARITY_REPORT names a file, written there as JSON.

PARITY_REPORT_ENV = "GPT_SOVITS_PARITY_REPORT"
_parity_results_key = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def parity_results(request) -> dict:
    """{case: {stage: {"status": ..., "arrays": {name: {...}}}}}, filled by the parity tests."""
    return request.config.stash.setdefault(_parity_results_key, {})


def _worst_float_error(stage_result: dict):
    errors = [a["max_abs_error"] for a in stage_result["arrays"].values() if a.get("max_abs_error") is not None]
    return max(errors) if errors else None


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    results = config.stash.get(_parity_results_key, None)
    if not results:
        return
    terminalreporter.section("parity with the official implementation (max abs error per stage)")
    for case, stages in results.items():
        cells = []
        for stage, result in stages.items():
            worst = _worst_float_error(result)
            if worst:
                worst_text = f"{worst:.1e}"
            else:  # no float error: all compared arrays equal, or nothing got compared
                worst_text = "exact" if result["status"] == "passed" else "-"
            cells.append(f"{stage}={result['status']}({worst_text})")
        terminalreporter.write_line(f"{case}: " + "  ".join(cells))


def pytest_sessionfinish(session, exitstatus):
    report_path = os.environ.get(PARITY_REPORT_ENV)
    results = session.config.stash.get(_parity_results_key, None)
    if report_path and results is not None:
        Path(report_path).write_text(json.dumps(results, indent=1, sort_keys=False), encoding="utf-8")


@contextmanager
def torch_threads(count: int):
    """Run the block with `count` torch threads, then restore the previous number."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@pytest.fixture
def single_thread():
    """The vectors were recorded with one torch thread; with one thread reductions run in the same order."""
    with torch_threads(1):
        yield
