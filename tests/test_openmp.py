"""The entry points' OpenMP waiting (gpt_sovits/openmp.py): set where unset, never over the user's own."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from gpt_sovits import openmp
from gpt_sovits.engine.pipeline import TokensAhead

REPOSITORY = Path(__file__).resolve().parents[1]


def test_waiting_is_set_where_unset_and_yours_wins():
    assert openmp.wait_briefly({}) == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "10000"}
    assert openmp.wait_briefly({"GOMP_SPINCOUNT": "0"}) == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0"}


def test_the_command_line_entry_point_sets_it_before_torch_loads():
    # `python -m gpt_sovits` runs __main__.py; torch must not be imported before the call (OpenMP reads the
    # variables once, when it starts).
    script = (
        "import os, runpy, sys\n"
        "sys.argv = ['gpt_sovits', '--help']\n"
        "import builtins\n"
        "real_import = builtins.__import__\n"
        "def spy(name, *args, **kwargs):\n"
        "    if name == 'torch' and 'torch' not in sys.modules:\n"
        "        print('torch with', os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))\n"
        "    return real_import(name, *args, **kwargs)\n"
        "builtins.__import__ = spy\n"
        "try:\n"
        "    runpy.run_module('gpt_sovits', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "import torch  # if the entry point did not load it, this is the first import\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], cwd=REPOSITORY, env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert "torch with PASSIVE 10000" in result.stdout, result.stdout + result.stderr


def _threads_of_this_process() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(openmp._libgomp_pause() is None or torch.get_num_threads() < 2,
                    reason="needs torch on libgomp (Linux wheels) and 2 or more threads")  # fmt: skip
def test_a_thread_lets_its_openmp_team_go_and_computes_again_afterwards():
    # libgomp keeps a team per thread that ran a parallel region; a released thread's workers exit, and its next
    # region starts a new team, with the same result.
    seen = {}

    def work():
        values = torch.arange(4_000_000, dtype=torch.float32)  # far above torch's grain size: a parallel region
        seen["before"] = (values * 2).sum().item()
        seen["with team"] = _threads_of_this_process()
        openmp.release_threads()
        seen["released"] = _threads_of_this_process()
        seen["after"] = (values * 2).sum().item()
        seen["team again"] = _threads_of_this_process()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen["released"] < seen["with team"] == seen["team again"]
    assert seen["before"] == seen["after"]


def test_a_reader_lets_its_team_go_only_when_it_has_to_wait(monkeypatch):
    released = []
    monkeypatch.setattr(openmp, "release_threads", lambda: released.append(threading.current_thread().name))
    first_stored, tokens_made = threading.Event(), threading.Event()

    def work(cancel):
        yield 0, "first"
        first_stored.set()  # resumed: the thread has stored the first result
        tokens_made.wait(10)
        yield 1, "second"

    ahead = TokensAhead(work)
    assert first_stored.wait(10)
    assert ahead.take_first_ready([0]) == (0, "first") and released == []  # ready: no wait, team kept
    threading.Timer(0.2, tokens_made.set).start()
    assert ahead.take_first_ready([1]) == (1, "second") and released == [threading.current_thread().name]
