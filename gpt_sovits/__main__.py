import os

# OpenMP threads that spin while they wait for work take the CPU from each other whenever two computations run at
# once (two requests, or T2S ahead of SoVITS in one) or the machine is shared: T2S ran up to 8x slower so on 2
# cores. Waiting passively costs about 10 % on an idle machine. It must be set before torch loads; yours wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from gpt_sovits.cli import main  # noqa: E402

raise SystemExit(main())
