"""Entry point: `python app.py` serves the web UI and, beside it, the HTTP API, over one engine.

    python app.py [--weights-dir weights] [--host 127.0.0.1] [--port 7860] [--api-key KEY] [--voices-dir voices]

`python app.py --help` lists every option; gpt_sovits/server/launch.py builds and starts the server. With no
models in the weights folder the app still starts, says which files go where, and offers to download them.
"""

import os

# OpenMP threads that spin while they wait for work take the CPU from each other whenever two computations run at
# once (two requests, or T2S ahead of SoVITS in one) or the machine is shared: T2S ran up to 8x slower so on 2
# cores. Waiting passively costs about 10 % on an idle machine. It must be set before torch loads; yours wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from gpt_sovits.server.launch import main  # noqa: E402

if __name__ == "__main__":
    main()
