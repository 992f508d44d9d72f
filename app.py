"""Entry point: `python app.py` serves the web UI and, beside it, the HTTP API, over one engine.

    python app.py [--weights-dir weights] [--host 127.0.0.1] [--port 7860] [--api-key KEY] [--voices-dir voices]

`python app.py --help` lists every option; gpt_sovits/server/launch.py builds and starts the server. With no
models in the weights folder the app still starts, says which files go where, and offers to download them.
"""

from gpt_sovits import openmp

openmp.wait_briefly()  # before torch loads: see gpt_sovits/openmp.py

from gpt_sovits.server.launch import main  # noqa: E402

if __name__ == "__main__":
    main()
