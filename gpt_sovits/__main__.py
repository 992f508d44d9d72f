from gpt_sovits import openmp

openmp.wait_briefly()  # before torch loads: see gpt_sovits/openmp.py

from gpt_sovits.cli import main  # noqa: E402

raise SystemExit(main())
