"""The entry points' OpenMP waiting (gpt_sovits/openmp.py): set where unset, never over the user's own."""

import subprocess
import sys
from pathlib import Path

from gpt_sovits import openmp

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
