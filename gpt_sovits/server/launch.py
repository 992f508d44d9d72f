"""One process, one engine: the FastAPI app with the HTTP API, and the Gradio UI mounted beside it at `/`.

    python app.py [--host 127.0.0.1] [--port 7860] [--api-key KEY] [--voices-dir voices] [--auth user:password]

    /                      the web UI (Gradio; its own API under /gradio_api, MCP under /gradio_api/mcp/)
    /docs, /openapi.json   the HTTP API, documented
    /health                whether it answers and how busy it is (no key needed)
    /v1/...                OpenAI shape (speech, models, voices)   see openai_api.py
    /speakers, /tts_*      XTTS shape (SillyTavern)                see xtts_api.py
    /tts, /set_*_weights   official api_v2 shape                   see api_v2.py

Operator actions (downloads, reloading model lists, /set_*_weights) exist on a public bind only with --admin and a
login (--auth); see SECURITY.md for every limit and how to deploy in public.

`--share` opens a temporary public gradio.live tunnel to this whole server (UI and API), the way Gradio's own
launch does it; so it counts as a public bind and needs the API key. It is not available on Hugging Face Spaces.
"""

import argparse
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import uvicorn
from fastapi import FastAPI
from gradio import networking

from gpt_sovits import voices as voice_library
from gpt_sovits import zerogpu
from gpt_sovits.cli import add_model_arguments, engine_options
from gpt_sovits.errors import DeviceError
from gpt_sovits.messages import Message, say, terminal_text
from gpt_sovits.server import api_v2, openai_api, xtts_api
from gpt_sovits.server.mcp_tools import McpTools, add_mcp_tools
from gpt_sovits.server.security import ApiCors, ApiKey, check_admin_bind, check_bind, is_loopback, parse_origins
from gpt_sovits.server.speech import SpeechService, install_error_handlers
from gpt_sovits.service import EngineHolder, SynthesisGate, TimeBudget
from gpt_sovits.ui import PAGE_CSS, VoiceCloningUI, build_ui, i18n

API_PREFIXES = ("/v1/", "/speakers", "/tts", "/set_")
UI_QUEUE_SIZE = 64  # web UI visitors who may wait for a turn; more are told the queue is full
DEFAULT_VOICES_DIR = Path(__file__).resolve().parent.parent.parent / "voices"

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GPT-SoVITS voice cloning: web UI and HTTP API in one server.")
    add_model_arguments(parser)
    environment = os.environ.get
    add = parser.add_argument
    add("--host", default=environment("GPT_SOVITS_HOST") or environment("GRADIO_SERVER_NAME") or "127.0.0.1",
        help="address to listen on (env GPT_SOVITS_HOST); beyond loopback the API needs --api-key")
    add("--port", type=int, default=int(environment("GPT_SOVITS_PORT") or environment("GRADIO_SERVER_PORT") or 7860),
        help="default 7860 (env GPT_SOVITS_PORT)")
    add("--share", action="store_true", help="also serve UI and API on a temporary public gradio.live link")
    add("--api-key", default=environment("GPT_SOVITS_API_KEY"),
        help="key the HTTP API requires (Authorization: Bearer KEY); needed beyond loopback (env GPT_SOVITS_API_KEY)")
    add("--auth", action="append", default=_auth_from_environment(),
        help="USER:PASSWORD for the web UI, repeatable (env GPT_SOVITS_AUTH='user:password,user2:password2')")
    add("--voices-dir", type=Path, default=Path(environment("GPT_SOVITS_VOICES_DIR") or DEFAULT_VOICES_DIR),
        help="folder of saved voices (env GPT_SOVITS_VOICES_DIR)")
    add("--concurrency", type=int, default=int(environment("GPT_SOVITS_CONCURRENCY", 2)),
        help="requests synthesized at the same time; more wait in a queue (env GPT_SOVITS_CONCURRENCY)")
    add("--queue-size", type=int, default=int(environment("GPT_SOVITS_QUEUE_SIZE", 32)),
        help="API requests that may wait for a turn; more get 429 (env GPT_SOVITS_QUEUE_SIZE)")
    add("--client-limit", type=int, default=int(environment("GPT_SOVITS_CLIENT_LIMIT", 4)),
        help="API requests one client address may have running or waiting (env GPT_SOVITS_CLIENT_LIMIT)")
    add("--cors-origins", default=environment("GPT_SOVITS_CORS_ORIGINS"),
        help="web origins allowed to call the API from a browser, comma-separated ('*': any); default: this machine's")
    add("--no-mcp", dest="mcp", action="store_false", default=environment("GPT_SOVITS_MCP", "1") != "0",
        help="do not serve the MCP tools (speak, list_voices) at /gradio_api/mcp/ (env GPT_SOVITS_MCP=0)")
    add("--time-budget", type=float, default=float(environment("GPT_SOVITS_TIME_BUDGET", 300)),
        help="seconds one synthesis may run before it is stopped with a message (env GPT_SOVITS_TIME_BUDGET)")
    add("--admin", action="store_true", default=environment("GPT_SOVITS_ADMIN", "0") == "1",
        help="on a public server, let logged-in users download models, reload the model lists and switch the API's "
             "default models (needs --auth; always on for 127.0.0.1) (env GPT_SOVITS_ADMIN=1)")
    add("--monitoring", action="store_true", default=environment("GPT_SOVITS_MONITORING", "0") == "1",
        help="serve Gradio's traffic monitoring page (/monitoring) (env GPT_SOVITS_MONITORING=1)")
    add("--model-pool", type=int, default=int(environment("GPT_SOVITS_MODEL_POOL", 2)),
        help="how many GPT/SoVITS pairs stay loaded for visitors who pick different models (env GPT_SOVITS_MODEL_POOL)")
    return parser.parse_args(argv)  # fmt: skip


def _auth_from_environment() -> list[str]:
    return [pair for pair in (os.environ.get("GPT_SOVITS_AUTH") or "").split(",") if pair]


def device_options(args: argparse.Namespace) -> dict:
    """The engine's device and dtype from --device / --dtype; one this machine cannot use stops the start, saying
    why and what to use instead."""
    try:
        return engine_options(args)
    except DeviceError as error:
        raise SystemExit(terminal_text(error)) from None


def _auth_pairs(values: list[str]) -> list[tuple[str, str]] | None:
    pairs = []
    for value in values:
        user, colon, password = value.partition(":")
        if not colon or not user or not password:
            raise SystemExit(terminal_text(Message("--auth / GPT_SOVITS_AUTH takes USER:PASSWORD, got '{value}'.", value=value)))
        pairs.append((user, password))
    return pairs or None


@dataclass
class Server:
    """Everything `create` builds; `app` is what uvicorn serves."""

    app: FastAPI
    ui: VoiceCloningUI
    demo: gr.Blocks
    service: SpeechService | None  # None: the API is off (a public Space without a key)
    admin: bool  # whether administrative actions (downloads, model lists, the API's default models) exist here

    def close(self) -> None:
        """Remove this server's temporary folders now (they are removed at exit anyway)."""
        self.ui.close()
        if self.service is not None:
            self.service.close()


def create(args: argparse.Namespace) -> Server:
    """Build the engine, the voice library, the API and the page (not yet serving). Refuses (SystemExit) to serve
    the API beyond this machine without a key."""
    public = args.share or not is_loopback(args.host)
    api_on = True
    if public and not args.api_key and os.environ.get("SPACE_ID"):
        # A Space must come up; without a key its visitors get the UI only.
        say(Message("!! The HTTP API is OFF: this Space has no API key. Add the secret GPT_SOVITS_API_KEY to turn it on."))
        api_on = False
    else:
        check_bind(args.host, args.share, args.api_key)
    auth = _auth_pairs(args.auth)
    admin = check_admin_bind(public, args.admin, auth is not None)

    # One gate for the UI and the API: at most `concurrency` syntheses at once, whoever asks.
    gate = SynthesisGate(args.concurrency, args.queue_size, args.client_limit)
    holder = EngineHolder(
        args.weights_dir, args.gpt, args.sovits, gate=gate, time_budget=TimeBudget(args.time_budget),
        model_pool_size=args.model_pool, **(zerogpu.engine_options() or device_options(args)),
    )  # fmt: skip
    if holder.startup_detail:
        say(Message("Starting without models: {detail}", detail=holder.startup_detail))
    else:
        threading.Thread(target=holder.engine.warm_up, name="warm-up", daemon=True).start()
    voices = voice_library.VoiceLibrary(args.voices_dir)
    # Gradio encodes a live audio stream with the ffmpeg program (Hugging Face Spaces have it; elsewhere
    # `apt install ffmpeg` / `brew install ffmpeg`). Without it, results play once they are complete.
    live_audio = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
    if not live_audio:
        say(Message("No ffmpeg/ffprobe on PATH: results will play when complete, not while they are made."))
    # On a public page without a login, visitors may use the saved voices but not change the library.
    ui = VoiceCloningUI(holder, live_audio, voices, voices_editable=not public or auth is not None, admin=admin)
    demo = build_ui(ui, zerogpu.run_on_gpu)
    if args.mcp:
        add_mcp_tools(demo, McpTools(holder, voices, ui.output_dir))
    demo.queue(max_size=UI_QUEUE_SIZE, default_concurrency_limit=args.concurrency)

    app = FastAPI(
        title="GPT-SoVITS voice cloning API",
        description="OpenAI-compatible speech, XTTS-compatible (SillyTavern) and api_v2-compatible routes over one "
        "engine, with saved voices. Send the API key as 'Authorization: Bearer KEY' when the server has one.",
        version="1",
    )

    @app.get("/health", tags=["server"])
    async def health() -> dict:
        """Whether the server answers and has models, and how busy it is (no key needed; says nothing private)."""
        return {"status": "ok" if holder.engine is not None else "no_models", "syntheses_running": gate.running,
                "api_requests_admitted": gate.admitted}  # fmt: skip

    service = None
    if api_on:
        install_error_handlers(app, holder)
        key = ApiKey(args.api_key, admin=admin)
        service = SpeechService(holder, voices)
        app.include_router(openai_api.router(service, key.check))
        app.include_router(xtts_api.router(service, key.check))
        app.include_router(api_v2.router(service, key.check, key.check_admin))
        app.add_middleware(ApiCors, api_prefixes=API_PREFIXES, origins=parse_origins(args.cors_origins))
    gr.mount_gradio_app(
        app, demo, path="/", auth=auth, i18n=i18n, css=PAGE_CSS, mcp_server=args.mcp, ssr_mode=False,
        max_file_size=voice_library.MAX_CLIP_BYTES, run_history=False,  # the page keeps its own history
        enable_monitoring=args.monitoring,
        server_name=args.host, server_port=args.port,
    )  # fmt: skip
    return Server(app, ui, demo, service, admin)


class Running:
    """A server serving in a background thread (tests, notebooks); `close()` stops it."""

    def __init__(self, server: Server, host: str, port: int):
        self.server = server
        # Open streams (a page's event stream, a keep-alive client) would hold a graceful shutdown: 2 s, then close.
        config = uvicorn.Config(server.app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
        self.uvicorn = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.uvicorn.run, name="server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.uvicorn.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The server did not start on {host}:{port}.")
            time.sleep(0.05)
        self.url = f"http://{host}:{port}/"

    def close(self) -> None:
        self.uvicorn.should_exit = True
        self.thread.join(timeout=30)
        self.server.close()


def main(argv=None) -> None:
    args = parse_args(argv)
    server = create(args)
    where = f"http://{args.host}:{args.port}"
    say(Message("* Web UI on {where}/  ·  HTTP API documented on {where}/docs", where=where))
    if args.share:
        running = Running(server, args.host, args.port)
        share_url = networking.setup_tunnel(args.host, args.port, secrets.token_urlsafe(32), None, None)
        say(Message("* Public share link (UI and API, API key required): {url}", url=share_url))
        running.thread.join()
    else:
        uvicorn.run(server.app, host=args.host, port=args.port, log_level="info")
