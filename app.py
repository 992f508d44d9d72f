"""Entry point: `python app.py` serves the web UI (and, beside it, the HTTP API) over one engine.

    python app.py [--weights-dir weights] [--gpt FILE] [--sovits FILE] [--host 0.0.0.0] [--port 7860] [--share]

With no models in the weights folder the app still starts, says which files go where, and offers to download them.
On Hugging Face ZeroGPU Spaces (where the `spaces` package exists) synthesis runs inside `spaces.GPU`.
"""

import argparse
import os
import shutil
import threading

# OpenMP threads that spin while they wait for work take the CPU from each other whenever two computations run at
# once (two requests, or T2S ahead of SoVITS in one) or the machine is shared: T2S ran up to 8x slower so on 2
# cores. Waiting passively costs about 10 % on an idle machine. It must be set before torch loads; yours wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import gradio as gr  # noqa: E402

from gpt_sovits.cli import add_model_arguments  # noqa: E402
from gpt_sovits.service import EngineHolder  # noqa: E402
from gpt_sovits.ui import VoiceCloningUI, build_ui, i18n  # noqa: E402

try:  # only present on Hugging Face Spaces: borrow a ZeroGPU for each synthesis
    import spaces

    run_on_gpu = spaces.GPU(duration=120)
except ImportError:

    def run_on_gpu(function):
        return function


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GPT-SoVITS voice cloning web UI.")
    add_model_arguments(parser)
    environment = os.environ.get
    parser.add_argument(
        "--host", default=environment("GPT_SOVITS_HOST"), help="default 127.0.0.1 (env GPT_SOVITS_HOST)"
    )
    parser.add_argument(
        "--port", type=int, default=environment("GPT_SOVITS_PORT"), help="default 7860 (env GPT_SOVITS_PORT)"
    )
    parser.add_argument("--share", action="store_true", help="also serve on a temporary public gradio.live link")
    parser.add_argument(
        "--concurrency", type=int, default=int(environment("GPT_SOVITS_CONCURRENCY", 2)),
        help="requests synthesized at the same time; more wait in a queue (env GPT_SOVITS_CONCURRENCY)",
    )  # fmt: skip
    parser.add_argument(
        "--model-pool", type=int, default=int(environment("GPT_SOVITS_MODEL_POOL", 2)),
        help="how many GPT/SoVITS pairs stay loaded for visitors who pick different models (env GPT_SOVITS_MODEL_POOL)",
    )  # fmt: skip
    return parser.parse_args(argv)


def create(args: argparse.Namespace) -> tuple[VoiceCloningUI, gr.Blocks]:
    """Build the engine and the page (queue configured, not yet serving)."""
    holder = EngineHolder(args.weights_dir, args.gpt, args.sovits, model_pool_size=args.model_pool)
    if holder.startup_error:
        print(f"Starting without models: {holder.startup_error}")
    else:
        threading.Thread(target=holder.engine.warm_up, name="warm-up", daemon=True).start()
    # Gradio encodes a live audio stream with the ffmpeg program (Hugging Face Spaces have it; elsewhere
    # `apt install ffmpeg` / `brew install ffmpeg`). Without it, results play once they are complete.
    live_audio = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
    if not live_audio:
        print("No ffmpeg/ffprobe on PATH: results will play when complete, not while they are made.")
    ui = VoiceCloningUI(holder, live_audio)
    demo = build_ui(ui, run_on_gpu)
    demo.queue(max_size=64, default_concurrency_limit=args.concurrency)
    return ui, demo


def main(argv=None) -> None:
    args = parse_args(argv)
    _, demo = create(args)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, i18n=i18n)


if __name__ == "__main__":
    main()
